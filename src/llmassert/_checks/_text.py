"""Text checks: equals, contains, icontains, contains_any, contains_all, starts_with, ends_with,
regex."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from llmassert._checks._base import (
    Check,
    Outcome,
    args_repr,
    register,
    require_bool,
    require_str,
    require_strs,
)
from llmassert._checks._format import quote
from llmassert._checks._output import text_of
from llmassert._errors import UsageError

__all__ = [
    "contains",
    "contains_all",
    "contains_any",
    "ends_with",
    "equals",
    "icontains",
    "regex",
    "starts_with",
]

#: Outputs longer than this get no "closest match" hint (it would cost too much time).
_HINT_MAX_CHARS = 200_000


def _case(ignore_case: bool) -> str:
    return "case-insensitive" if ignore_case else "case-sensitive"


def _find(text: str, value: str, ignore_case: bool) -> int:
    if ignore_case:
        return text.casefold().find(value.casefold()) if text.isascii() else _ifind(text, value)
    return text.find(value)


def _ifind(text: str, value: str) -> int:
    # casefold() can change lengths (ß -> ss); a regex keeps positions in the original text.
    m = re.search(re.escape(value), text, re.IGNORECASE)
    return m.start() if m else -1


def _near_miss(text: str, value: str, ignore_case: bool) -> tuple[str, tuple[int, int] | None]:
    """A note about the closest thing to ``value`` in ``text`` (different case, or similar)."""
    if not ignore_case:
        at = _ifind(text, value)
        if at >= 0:
            found = text[at : at + len(value)]
            return f"note: found {found!r} with different case at char {at}", (at, at + len(value))
    if not text or len(text) > _HINT_MAX_CHARS:
        return "", None
    words = value.split()
    if words:
        # The same words with other whitespace (two spaces, a no-break space, a line break).
        flags = re.IGNORECASE if ignore_case else 0
        spaced = re.search(r"\s+".join(map(re.escape, words)), text, flags)
        if spaced:
            return (
                f"note: found {spaced.group(0)!r} at char {spaced.start()}: it differs only in "
                "whitespace",
                spaced.span(),
            )
    norm_text, norm_value = unicodedata.normalize("NFC", text), unicodedata.normalize("NFC", value)
    if (norm_text, norm_value) != (text, value) and _find(norm_text, norm_value, ignore_case) >= 0:
        return (
            "note: the output contains it in another Unicode normalization form (composed vs "
            "decomposed accents); compare NFC-normalized text",
            None,
        )
    if len(value) < 3:
        return "", None
    from rapidfuzz import fuzz

    a, b = (text.lower(), value.lower()) if ignore_case else (text, value)
    al = fuzz.partial_ratio_alignment(b, a, score_cutoff=60)
    if al is None:
        return "", None
    start, end = al.dest_start, al.dest_end
    return (
        f"note: closest match {text[start:end]!r} at char {start} ({al.score:.0f}% similar)",
        (start, end),
    )


class _Contains(Check):
    def __init__(self, name: str, value: object, ignore_case: object) -> None:
        super().__init__()
        self.name = name
        self.value = require_str(name, "value", value)
        self.ignore_case = require_bool(name, "ignore_case", ignore_case)
        self._args = (
            args_repr(value)
            if name == "icontains"
            else args_repr(value, **({"ignore_case": True} if self.ignore_case else {}))
        )

    def expectation(self) -> str:
        return f"to contain {quote(self.value)} ({_case(self.ignore_case)})"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        at = _find(text, self.value, self.ignore_case)
        if at >= 0:
            span = (at, at + len(self.value))
            return Outcome(True, f"found {quote(self.value)} at char {at}", focus=span)
        note, focus = _near_miss(text, self.value, self.ignore_case)
        return Outcome(
            False,
            f"{quote(self.value)} not found" + (f" ({note[6:]})" if note else ""),
            notes=(note,) if note else (),
            focus=focus,
        )


@register("contains")
def contains(value: str, *, ignore_case: bool = False) -> Check:
    """The output contains ``value`` (case-sensitive unless ``ignore_case``)."""
    return _Contains("contains", value, ignore_case)


@register("icontains")
def icontains(value: str) -> Check:
    """The output contains ``value``, ignoring case."""
    return _Contains("icontains", value, True)


class _ContainsSome(Check):
    def __init__(self, name: str, values: object, ignore_case: object, need_all: bool) -> None:
        super().__init__()
        self.name = name
        self.values = require_strs(name, "values", values)
        self.ignore_case = require_bool(name, "ignore_case", ignore_case)
        self.need_all = need_all
        self._args = args_repr(list(self.values), ignore_case=self.ignore_case or None)

    def expectation(self) -> str:
        which = "all" if self.need_all else "at least one"
        listed = ", ".join(quote(v, 40) for v in self.values)
        return f"to contain {which} of [{listed}] ({_case(self.ignore_case)})"

    def negated_expectation(self) -> str:
        listed = ", ".join(quote(v, 40) for v in self.values)
        if self.need_all:
            return f"to miss at least one of [{listed}] ({_case(self.ignore_case)})"
        return f"to contain none of [{listed}] ({_case(self.ignore_case)})"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        found: dict[str, int] = {}
        for v in self.values:
            at = _find(text, v, self.ignore_case)
            if at >= 0:
                found[v] = at
        missing = [v for v in self.values if v not in found]
        score = len(found) / len(self.values)
        passed = not missing if self.need_all else bool(found)
        parts = []
        if found:
            parts.append(
                "found " + ", ".join(f"{quote(v, 40)} at char {at}" for v, at in found.items())
            )
        if missing:
            parts.append("missing " + ", ".join(quote(v, 40) for v in missing))
        first = min(found.values()) if found else None
        focus = None
        if first is not None:
            v = next(k for k, at in found.items() if at == first)
            focus = (first, first + len(v))
        notes: list[str] = []
        if not passed:
            for v in missing:
                note, f = _near_miss(text, v, self.ignore_case)
                if note:
                    notes.append(f"{note} (for {quote(v, 40)})")
                    focus = focus or f
        return Outcome(
            passed,
            "; ".join(parts),
            notes=(f"reason: {'; '.join(parts)}", *notes),
            focus=focus,
            score=score,
            details={"found": sorted(found), "missing": missing},
        )


@register("contains_any")
def contains_any(values: Sequence[str], *, ignore_case: bool = False) -> Check:
    """The output contains at least one of ``values``."""
    return _ContainsSome("contains_any", values, ignore_case, need_all=False)


@register("contains_all")
def contains_all(values: Sequence[str], *, ignore_case: bool = False) -> Check:
    """The output contains every one of ``values`` (score: the fraction found)."""
    return _ContainsSome("contains_all", values, ignore_case, need_all=True)


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _around(text: str, i: int) -> str:
    """``text`` near position ``i`` (10 chars before, 20 after), ``...`` where it was cut."""
    start, end = max(0, i - 10), i + 20
    part = repr(text[start:end])
    return ("..." if start > 0 else "") + part + ("..." if end < len(text) else "")


class _Equals(Check):
    name = "equals"

    def __init__(self, value: object, ignore_case: object, strip: object) -> None:
        super().__init__()
        self.value = require_str("equals", "value", value, empty=True)
        self.ignore_case = require_bool("equals", "ignore_case", ignore_case)
        self.strip = require_bool("equals", "strip", strip)
        self._args = args_repr(
            value, ignore_case=self.ignore_case or None, strip=None if self.strip else False
        )

    def expectation(self) -> str:
        how = [_case(self.ignore_case)]
        if self.strip:
            how.append("ignoring surrounding whitespace")
        return f"to equal {quote(self.value, 80)} ({', '.join(how)})"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        offset = 0
        got = text
        if self.strip:
            got = text.strip()
            offset = len(text) - len(text.lstrip())
        want = self.value.strip() if self.strip else self.value
        a, b = (got.casefold(), want.casefold()) if self.ignore_case else (got, want)
        if a == b:
            return Outcome(True, "the output equals the expected text", score=1.0)
        i = _first_difference(a, b)
        at = offset + i
        notes: tuple[str, ...] = (
            f"note: first difference at char {at}: expected {_around(want, i)}, got "
            f"{_around(got, i)}",
            f"note: expected {len(want):,} chars, got {len(got):,}",
        )
        if not self.ignore_case and got.casefold() == want.casefold():
            notes = ("note: the texts differ only in case (use ignore_case=True to allow it)",)
        elif " ".join(a.split()) == " ".join(b.split()):
            notes = (
                *notes,
                "note: the texts differ only in whitespace (spaces, line breaks, no-break spaces)",
            )
        elif unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b):
            notes = (
                *notes,
                "note: the texts differ only in Unicode normalization form (composed vs "
                "decomposed accents)",
            )
        return Outcome(
            False,
            f"the output differs from the expected text at char {at}",
            notes=notes,
            focus=(at, at + 1),
        )


@register("equals")
def equals(value: str, *, ignore_case: bool = False, strip: bool = True) -> Check:
    """The output equals ``value`` (surrounding whitespace ignored unless ``strip=False``)."""
    return _Equals(value, ignore_case, strip)


class _Affix(Check):
    def __init__(self, name: str, value: object, ignore_case: object, strip: object) -> None:
        super().__init__()
        self.name = name
        self.value = require_str(name, "value", value)
        self.ignore_case = require_bool(name, "ignore_case", ignore_case)
        self.strip = require_bool(name, "strip", strip)
        self.start = name == "starts_with"
        self._args = args_repr(
            value, ignore_case=self.ignore_case or None, strip=None if self.strip else False
        )

    def expectation(self) -> str:
        verb = "start" if self.start else "end"
        how = [_case(self.ignore_case)]
        if self.strip:
            how.append("ignoring " + ("leading" if self.start else "trailing") + " whitespace")
        return f"to {verb} with {quote(self.value)} ({', '.join(how)})"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        if self.start:
            body = text.lstrip() if self.strip else text
            at = len(text) - len(body)
            part = body[: len(self.value)]
        else:
            body = text.rstrip() if self.strip else text
            at = max(0, len(body) - len(self.value))
            part = body[at:]
        a, b = (part.casefold(), self.value.casefold()) if self.ignore_case else (part, self.value)
        focus = (at, at + len(part))
        where = "starts" if self.start else "ends"
        if a == b:
            return Outcome(True, f"the output {where} with {quote(self.value)}", focus=focus)
        shown_len = max(len(self.value), 20)
        shown = body[:shown_len] if self.start else body[-shown_len:]
        cut = len(body) > shown_len
        shown_q = repr(shown)
        if cut:
            shown_q = (
                f"{shown_q[:-1]} ...{shown_q[-1]}"
                if self.start
                else f"{shown_q[0]}... {shown_q[1:]}"
            )
        return Outcome(False, f"the output {where} with {shown_q}", focus=focus)


@register("starts_with")
def starts_with(value: str, *, ignore_case: bool = False, strip: bool = True) -> Check:
    """The output starts with ``value`` (leading whitespace ignored unless ``strip=False``)."""
    return _Affix("starts_with", value, ignore_case, strip)


@register("ends_with")
def ends_with(value: str, *, ignore_case: bool = False, strip: bool = True) -> Check:
    """The output ends with ``value`` (trailing whitespace ignored unless ``strip=False``)."""
    return _Affix("ends_with", value, ignore_case, strip)


_FLAG_LETTERS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def _flags(value: object) -> int:
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        return value
    elif isinstance(value, str):
        bad = [c for c in value if c not in _FLAG_LETTERS]
        if not bad:
            out = 0
            for c in value:
                out |= _FLAG_LETTERS[c]
            return out
    raise UsageError(
        f"check 'regex': argument 'flags' must be re flags (e.g. re.I | re.M) or a string of "
        f"the letters i, m, s, x, got {value!r}"
    )


class _Regex(Check):
    name = "regex"

    def __init__(self, pattern: object, flags: object, fullmatch: object) -> None:
        super().__init__()
        self.pattern = require_str("regex", "pattern", pattern)
        self.fullmatch = require_bool("regex", "fullmatch", fullmatch)
        try:
            self.regex = re.compile(self.pattern, _flags(flags))
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise UsageError(
                f"check 'regex': invalid pattern {self.pattern!r}: {exc.msg}{where}; "
                "fix the pattern (use a raw string r'...' for backslashes)"
            ) from None
        self._args = args_repr(pattern, flags=flags or None, fullmatch=self.fullmatch or None)

    def expectation(self) -> str:
        how = "fully match" if self.fullmatch else "match"
        return f"to {how} the pattern {quote(self.pattern, 80)}"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        m = self.regex.fullmatch(text) if self.fullmatch else self.regex.search(text)
        if m:
            where = (
                "the whole output" if self.fullmatch else f"{quote(m.group(0))} at char {m.start()}"
            )
            return Outcome(True, f"matched {where}", focus=m.span(), value=m)
        if self.fullmatch:
            part = self.regex.match(text)
            if part:
                return Outcome(
                    False,
                    f"the pattern matches only the first {part.end():,} of {len(text):,} chars",
                    focus=(part.end(), part.end() + 1),
                )
            found = self.regex.search(text)
            if found:
                return Outcome(
                    False,
                    f"the pattern matches {quote(found.group(0))} at char {found.start()}, "
                    "not the whole output",
                    focus=found.span(),
                )
        return Outcome(False, "no match anywhere in the output")


@register("regex")
def regex(pattern: str, *, flags: int | str = 0, fullmatch: bool = False) -> Check:
    """The output matches ``pattern`` (``re.search``; the whole output with ``fullmatch=True``).

    ``flags``: ``re`` flags or letters, e.g. ``"i"`` (ignore case), ``"ms"``.
    """
    return _Regex(pattern, flags, fullmatch)
