"""The :class:`Check` type, negation, and the registry of check names used by case files."""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from llmassert._checks._output import describe_type
from llmassert._checks._result import CheckResult
from llmassert._errors import UsageError
from llmassert._observe import note_check

__all__ = [
    "Check",
    "Outcome",
    "build_check",
    "check",
    "check_names",
    "register",
    "require_limits",
]

_F = TypeVar("_F", bound=Callable[..., "Check"])


@dataclass(frozen=True)
class Outcome:
    """What a check observed, before negation. ``summary`` is one sentence about the output;
    ``notes`` are the extra lines of a failure message."""

    passed: bool
    summary: str
    notes: tuple[str, ...] = ()
    focus: tuple[int, int] | None = None
    score: float | None = None
    value: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)


class Check:
    """A reusable judgement of one model output.

    Build it once (arguments are validated then), call it on outputs::

        c = contains("Paris")
        c("Paris is the capital")    # CheckResult(passed=True, ...)
        (~c)("Lyon")                 # negation: not_contains

    Subclasses set ``name``, implement :meth:`evaluate` and :meth:`expectation`.
    """

    #: The name in case files and in ``assert_<name>``.
    name: str = "check"
    #: What the expectation is about, e.g. ``"the output"`` or ``"the latency"``.
    subject: str = "the output"

    def __init__(self) -> None:
        self._args: str = ""

    # -- to implement ---------------------------------------------------------------------
    def evaluate(self, output: object) -> Outcome:
        raise NotImplementedError

    def expectation(self) -> str:
        """The expected behaviour after the subject, e.g. ``"to contain 'Paris'"``."""
        raise NotImplementedError

    def negated_expectation(self) -> str:
        return f"not {self.expectation()}"

    # -- using it -------------------------------------------------------------------------
    def __call__(self, output: object) -> CheckResult:
        __tracebackhide__ = True  # a check's error shows the test's line, not ours
        result = self._result(self.evaluate(output), negated=False)
        note_check(result)  # for run reports (nothing outside an observed test)
        return result

    def negate(self) -> Check:
        """The opposite check (``not_<name>``)."""
        return Negated(self)

    def __invert__(self) -> Check:
        return self.negate()

    def describe(self, *, negated: bool = False) -> str:
        phrase = self.negated_expectation() if negated else self.expectation()
        return f"expected {self.subject} {phrase}"

    def _result(self, outcome: Outcome, *, negated: bool) -> CheckResult:
        passed = outcome.passed != negated
        score = outcome.score
        if negated and score is not None and 0.0 <= score <= 1.0:
            score = 1.0 - score
        return CheckResult(
            passed=passed,
            reason=outcome.summary,
            check=f"not_{self.name}" if negated else self.name,
            score=score,
            expected=self.describe(negated=negated),
            notes=outcome.notes,
            focus=outcome.focus,
            value=outcome.value,
            details=outcome.details,
        )

    def __repr__(self) -> str:
        return f"{self.name}({self._args})"


class Negated(Check):
    """``not_<name>``: passes exactly when the inner check fails."""

    def __init__(self, inner: Check) -> None:
        super().__init__()
        self.inner = inner
        self.name = f"not_{inner.name}"
        self.subject = inner.subject

    def evaluate(self, output: object) -> Outcome:
        return self.inner.evaluate(output)

    def __call__(self, output: object) -> CheckResult:
        __tracebackhide__ = True
        result = self.inner._result(self.inner.evaluate(output), negated=True)
        note_check(result)
        return result

    def expectation(self) -> str:
        return self.inner.negated_expectation()

    def negated_expectation(self) -> str:
        return self.inner.expectation()

    def negate(self) -> Check:
        return self.inner

    def __repr__(self) -> str:
        return f"~{self.inner!r}"


# -- registry ----------------------------------------------------------------------------
_REGISTRY: dict[str, Callable[..., Check]] = {}


def register(name: str) -> Callable[[_F], _F]:
    """Register a check constructor under ``name`` (for case files and ``assert_<name>``)."""

    def deco(factory: _F) -> _F:
        if name.startswith("not_"):
            raise ValueError(f"check names cannot start with 'not_': {name!r}")
        _REGISTRY[name] = factory
        return factory

    return deco


def check_names() -> list[str]:
    """Every registered check name (without the ``not_`` forms)."""
    _load_all()
    return sorted(_REGISTRY)


def _load_all() -> None:
    # The modules register their checks when imported.
    from llmassert._checks import (  # noqa: F401
        _custom,
        _json,
        _judge,
        _length,
        _pii,
        _refusal,
        _runtime,
        _schema,
        _similarity,
        _text,
        _tools,
    )


#: The module that registers each built-in check: a lookup imports only that one (the
#: refusal rules alone compile some 200 patterns); ``tests/test_checks_misc.py`` keeps it true.
HOME_MODULES: dict[str, str] = {
    **dict.fromkeys(
        (
            "contains",
            "contains_all",
            "contains_any",
            "ends_with",
            "equals",
            "icontains",
            "regex",
            "starts_with",
        ),
        "_text",
    ),
    **dict.fromkeys(("cost", "finish_reason", "latency", "tokens"), "_runtime"),
    "custom": "_custom",
    "json": "_json",
    "json_value": "_json",
    "judge": "_judge",
    "semantic_similar": "_judge",
    "length": "_length",
    "matches_schema": "_schema",
    "pii": "_pii",
    "refusal": "_refusal",
    "similar": "_similarity",
    "tool_call": "_tools",
}


def _lookup(name: str, where: str) -> Callable[..., Check]:
    factory = _REGISTRY.get(name)
    if factory is None and name in HOME_MODULES:
        import importlib

        importlib.import_module(f"llmassert._checks.{HOME_MODULES[name]}")
        factory = _REGISTRY.get(name)
    if factory is not None:
        return factory
    _load_all()
    factory = _REGISTRY.get(name)
    if factory is None:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(
            f"{where}unknown check {name!r}: {hint}known checks are {', '.join(known)} "
            "(each also as not_<name>)"
        )
    return factory


#: Arguments that may name a file; build_check resolves them against ``base_dir``.
_PATH_ARGS = frozenset({"schema"})
_PATH_SUFFIXES = (".json", ".yaml", ".yml")


def build_check(
    name: str,
    args: object = None,
    *,
    where: str = "",
    base_dir: str | os.PathLike[str] | None = None,
) -> Check:
    """Build a check by name, as case files do: ``build_check("contains", {"value": "Paris"})``.

    ``name`` may be ``not_<name>`` for the negation. ``args`` is a mapping of keyword arguments
    (when a key names a parameter of the check), a list of positional arguments, ``None`` /
    ``True`` for no arguments, or a single value for the first parameter. ``where`` (e.g.
    ``"cases/llm_x.yaml, case 'capital': "``) prefixes every error message. ``base_dir`` (the
    case file's folder) anchors relative file arguments such as ``matches_schema``'s schema
    file (``matches_schema: schemas/reply.json``).
    """
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where}a check name must be a non-empty string, got {name!r}")
    negated = name.startswith("not_")
    base = name[4:] if negated else name
    try:
        factory = _lookup(base, where)
    except UsageError as exc:
        if negated:
            raise UsageError(
                str(exc).replace(
                    f"check {base!r}: did you mean '", f"check {name!r}: did you mean 'not_"
                )
            ) from None
        raise
    params = inspect.signature(factory).parameters
    positional: Sequence[Any] = ()
    keywords: dict[str, Any] = {}
    if args is None or args is True:
        pass
    elif isinstance(args, Mapping) and args and any(k in params for k in args):
        keywords = dict(args)
    elif isinstance(args, list | tuple) and not _takes_sequence(params):
        positional = tuple(args)
    else:
        positional = (args,)
    try:
        bound = inspect.signature(factory).bind(*positional, **keywords)
    except TypeError as exc:
        names = ", ".join(params)
        raise UsageError(
            f"{where}check {name!r}: bad arguments {args!r} ({exc}); its arguments are: {names}"
        ) from None
    if base_dir is not None:
        for arg, value in bound.arguments.items():
            if (
                arg in _PATH_ARGS
                and isinstance(value, str)
                and value.lower().endswith(_PATH_SUFFIXES)
                and not os.path.isabs(value)
            ):
                bound.arguments[arg] = os.path.join(os.fspath(base_dir), value)
    try:
        built = factory(*bound.args, **bound.kwargs)
    except UsageError as exc:
        raise UsageError(f"{where}{exc}") from None
    return built.negate() if negated else built


def check(name: str, /, *args: Any, **kwargs: Any) -> Check:
    """A check by name: ``check("contains", "Paris")``, ``check("not_regex", r"\\d")``."""
    if not isinstance(name, str) or not name:
        raise UsageError(f"a check name must be a non-empty string, got {name!r}")
    negated = name.startswith("not_")
    factory = _lookup(name[4:] if negated else name, "")
    try:
        inspect.signature(factory).bind(*args, **kwargs)
    except TypeError as exc:
        names = ", ".join(inspect.signature(factory).parameters)
        raise UsageError(
            f"check {name!r}: bad arguments ({exc}); its arguments are: {names}"
        ) from None
    built = factory(*args, **kwargs)
    return built.negate() if negated else built


def _takes_sequence(params: Mapping[str, inspect.Parameter]) -> bool:
    first = next(iter(params.values()), None)
    return first is not None and first.name in {"values", "kinds"}


# -- argument validation -----------------------------------------------------------------
def require_str(check: str, arg: str, value: object, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise UsageError(
            f"check {check!r}: argument {arg!r} must be a str, got {describe_type(value)} {value!r}"
        )
    if not value and not empty:
        raise UsageError(f"check {check!r}: argument {arg!r} must not be empty")
    return value


def require_strs(check: str, arg: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
        raise UsageError(
            f"check {check!r}: argument {arg!r} must be a list of strings, got "
            f"{describe_type(value)} {value!r}"
        )
    items = tuple(value)
    if not items:
        raise UsageError(f"check {check!r}: argument {arg!r} must not be empty")
    for item in items:
        require_str(check, arg, item)
    return items


def require_number(
    check: str, arg: str, value: object, *, minimum: float | None = 0.0, integer: bool = False
) -> float:
    ok_types = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_types):
        kind = "an int" if integer else "a number"
        raise UsageError(
            f"check {check!r}: argument {arg!r} must be {kind}, got {describe_type(value)} "
            f"{value!r}"
        )
    if minimum is not None and value < minimum:
        raise UsageError(f"check {check!r}: argument {arg!r} must be >= {minimum}, got {value}")
    return float(value)


def require_limits(check: str, limits: Mapping[str, object]) -> dict[str, int]:
    """The whole-number bounds given (``None`` means not given); at least one is required."""
    given = {
        arg: int(require_number(check, arg, value, integer=True))
        for arg, value in limits.items()
        if value is not None
    }
    if not given:
        raise UsageError(f"check {check!r}: give at least one of {', '.join(limits)}")
    return given


def require_bool(check: str, arg: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"check {check!r}: argument {arg!r} must be True or False, got {value!r}")
    return value


def args_repr(*args: object, **kwargs: object) -> str:
    parts = [repr(a) for a in args]
    parts += [f"{k}={v!r}" for k, v in kwargs.items() if v is not None]
    return ", ".join(parts)
