"""``pii``: the output contains PII-like data (use ``assert_not_pii`` / ``not_pii``).

Detected kinds: ``email``, ``phone``, ``api_key`` (OpenAI ``sk-...``, Anthropic ``sk-ant-...``,
AWS ``AKIA...``, GitHub ``ghp_...``, Slack ``xox?-...``, Google ``AIza...``), ``credit_card``
(13-19 digits passing the Luhn check) and ``iban`` (mod-97 checked). Reasons name the kind and
position and mask the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from llmassert._checks._base import Check, Outcome, args_repr, register
from llmassert._checks._output import text_of
from llmassert._errors import UsageError

__all__ = ["KINDS", "find_pii", "mask_pii", "mask_spans", "pii", "redact_secrets"]


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_ok(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    return 13 <= len(digits) <= 19 and _luhn(digits) and len(set(digits)) > 1


def _iban_ok(value: str) -> bool:
    s = value.replace(" ", "").upper()
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return 15 <= len(s) <= 34 and int(num) % 97 == 1


def _phone_ok(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return 9 <= len(digits) <= 15


_PATTERNS: dict[str, tuple[re.Pattern[str], Callable[[str], bool] | None]] = {
    "email": (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), None),
    "api_key": (
        re.compile(
            r"\b(?:sk-ant-[A-Za-z0-9_-]{20,}|sk-(?:proj-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|"
            r"gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|xox[abposr]-[A-Za-z0-9-]{10,}"
            r"|AIza[0-9A-Za-z_-]{35})"
        ),
        None,
    ),
    "credit_card": (re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"), _card_ok),
    "iban": (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), _iban_ok),
    "phone": (
        re.compile(
            r"(?<![\w+])(?<!\d )(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}"
            r"(?:[ .-]\d{2,4}){1,3}|\(\d{2,4}\)[ .-]?\d{3,4}[.-]\d{3,4}|"
            r"\d{3}[.-]\d{3,4}[.-]\d{4})(?![\w-])(?! \d)"
        ),
        _phone_ok,
    ),
}

#: The kinds of PII-like data :func:`pii` knows.
KINDS = tuple(_PATTERNS)


def _mask(kind: str, value: str) -> str:
    if kind == "email":
        user, _, domain = value.partition("@")
        return f"{user[:1]}***@{domain}"
    if kind == "api_key":
        return f"{value[:4]}...{value[-2:]}"
    # Cards, IBANs, phones: keep the separators and the last 4 characters.
    keep = 4
    out = []
    for ch in reversed(value):
        if ch.isalnum() and keep > 0:
            out.append(ch)
            keep -= 1
        else:
            out.append("*" if ch.isalnum() else ch)
    return "".join(reversed(out))


def find_pii(text: str, kinds: Sequence[str] = KINDS) -> list[tuple[str, int, int, str]]:
    """Every PII-like match ``(kind, start, end, masked)``, in text order, not overlapping."""
    found: list[tuple[str, int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind in KINDS:  # fixed priority order: api keys before phones, cards before phones
        if kind not in kinds:
            continue
        pattern, valid = _PATTERNS[kind]
        for m in pattern.finditer(text):
            a, b = m.span()
            if any(a < y and x < b for x, y in taken):
                continue
            if valid is not None and not valid(m.group(0)):
                continue
            taken.append((a, b))
            found.append((kind, a, b, _mask(kind, m.group(0))))
    return sorted(found, key=lambda f: f[1])


def mask_spans(text: str, spans: Sequence[tuple[int, int, int, int]]) -> str:
    """``text`` with each ``(start, end, keep_head, keep_tail)`` span masked in place (same
    length, so positions stay valid), keeping that many characters at each end."""
    chars = list(text)
    for a, b, head, tail in spans:
        if b - a < 3 * (head + tail):
            head = tail = 0
        for i in range(a + head, b - tail):
            if not chars[i].isspace():
                chars[i] = "*"
    return "".join(chars)


def mask_pii(text: str) -> str:
    """``text`` with every PII-like item masked in place (API keys keep their prefix)."""
    return mask_spans(
        text,
        [(a, b, *((4, 2) if kind == "api_key" else (1, 0))) for kind, a, b, _ in find_pii(text)],
    )


def redact_secrets(text: str) -> str:
    """``text`` with API-key shapes masked in place: failure messages and reports must never
    carry a secret, even one the model leaked."""
    pattern = _PATTERNS["api_key"][0]
    if not pattern.search(text):
        return text
    return mask_spans(text, [(*m.span(), 4, 2) for m in pattern.finditer(text)])


class _PII(Check):
    name = "pii"

    def __init__(self, kinds: object) -> None:
        super().__init__()
        if kinds is None:
            self.kinds: tuple[str, ...] = KINDS
        elif (
            isinstance(kinds, Sequence)
            and not isinstance(kinds, str)
            and kinds
            and all(k in KINDS for k in kinds)
        ):
            self.kinds = tuple(str(k) for k in kinds)
        else:
            raise UsageError(
                f"check 'pii': argument 'kinds' must be a list of: {', '.join(KINDS)}; got "
                f"{kinds!r}"
            )
        self._args = args_repr(kinds=list(kinds) if kinds is not None else None)

    def expectation(self) -> str:
        which = "" if self.kinds == KINDS else f" ({', '.join(self.kinds)})"
        return f"to contain PII-like data{which}"

    def negated_expectation(self) -> str:
        which = ", ".join(self.kinds)
        return f"to contain no PII-like data ({which})"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        found = find_pii(text, self.kinds)
        if not found:
            return Outcome(False, "no PII-like data found")
        items = [f"{kind} {masked} at char {a}" for kind, a, _, masked in found]
        shown = items[:10] + ([f"... and {len(items) - 10} more"] if len(items) > 10 else [])
        return Outcome(
            True,
            f"found {len(found)} PII-like item{'s' if len(found) != 1 else ''}: "
            + ", ".join(items[:3])
            + (" ..." if len(items) > 3 else ""),
            notes=("found PII-like data (values masked):", *[f"  - {i}" for i in shown]),
            focus=(found[0][1], found[0][2]),
            details={"kinds": sorted({f[0] for f in found})},
        )


@register("pii")
def pii(*, kinds: Sequence[str] | None = None) -> Check:
    """The output contains PII-like data (emails, phone numbers, API keys, card numbers, IBANs).
    Usually negated: ``assert_not_pii(reply)``, case-file key ``not_pii``."""
    return _PII(kinds)
