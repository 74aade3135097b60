"""Which kind of behaviour each check tests: the one table the reports group checks by.

A run report counts check results per *kind* ("compliance by kind of check"): did the model
keep to the required format, refuse what it should (and only that), say the right things, stay
within the runtime limits, satisfy the judge. The kind of a check is decided by its name
(the registry name, without ``not_``), here and nowhere else:

========  ==========================================================================
kind      checks
========  ==========================================================================
format    ``json``, ``json_value``, ``matches_schema``, ``regex``, ``starts_with``,
          ``ends_with``, ``length``, ``tool_call``
refusal   ``refusal``
content   ``contains``, ``icontains``, ``contains_any``, ``contains_all``, ``equals``,
          ``similar``, ``semantic_similar``, ``pii``
runtime   ``latency``, ``cost``, ``tokens``, ``finish_reason``
judge     ``judge``
custom    ``custom`` and every name not listed (a user's own check)
========  ==========================================================================

``regex``, ``starts_with`` and ``ends_with`` count as *format*: they are how tests pin the shape
of an answer (a leading ``{``, a code, a line pattern); a check about the words of the answer is
``contains`` / ``equals``. A negated check (``not_contains``) has the kind of its positive form.
"""

from __future__ import annotations

__all__ = ["CHECK_KINDS", "KINDS", "check_kind"]

#: Every kind, in the order reports show them.
KINDS = ("format", "refusal", "content", "runtime", "judge", "custom")

#: Check name (without ``not_``) -> kind. Names missing here are ``custom``.
CHECK_KINDS: dict[str, str] = {
    "json": "format",
    "json_value": "format",
    "matches_schema": "format",
    "regex": "format",
    "starts_with": "format",
    "ends_with": "format",
    "length": "format",
    "tool_call": "format",
    "refusal": "refusal",
    "contains": "content",
    "icontains": "content",
    "contains_any": "content",
    "contains_all": "content",
    "equals": "content",
    "similar": "content",
    "semantic_similar": "content",
    "pii": "content",
    "latency": "runtime",
    "cost": "runtime",
    "tokens": "runtime",
    "finish_reason": "runtime",
    "judge": "judge",
    "custom": "custom",
}


def check_kind(name: str) -> str:
    """The kind of the check called ``name`` (``not_`` prefix allowed); ``custom`` if unknown."""
    base = name[4:] if name.startswith("not_") else name
    return CHECK_KINDS.get(base, "custom")
