"""``similar``: the output is close to a reference text (via ``rapidfuzz``, imported lazily)."""

from __future__ import annotations

from typing import Any

from llmassert._checks._base import (
    Check,
    Outcome,
    args_repr,
    register,
    require_bool,
    require_number,
    require_str,
)
from llmassert._checks._format import quote
from llmassert._checks._output import text_of
from llmassert._errors import UsageError

__all__ = ["METRICS", "similar"]

#: Similarity metrics: name -> what it measures.
METRICS = {
    "ratio": "normalised Indel similarity of the whole texts",
    "levenshtein": "normalised Levenshtein similarity of the whole texts",
    "partial": "best match of the reference against any part of the output",
    "token_sort": "similarity after sorting the words",
    "token_set": "similarity of the word sets",
}


def _score(metric: str, a: str, b: str) -> float:
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    fn: Any = {
        "ratio": fuzz.ratio,
        "partial": fuzz.partial_ratio,
        "token_sort": fuzz.token_sort_ratio,
        "token_set": fuzz.token_set_ratio,
    }.get(metric)
    if fn is None:
        return float(Levenshtein.normalized_similarity(a, b))
    return float(fn(a, b)) / 100.0


class _Similar(Check):
    name = "similar"

    def __init__(
        self,
        reference: object,
        min_ratio: object,
        max_distance: object,
        metric: object,
        ignore_case: object,
    ) -> None:
        super().__init__()
        self.reference = require_str("similar", "reference", reference, empty=True)
        if not isinstance(metric, str) or metric not in METRICS:
            raise UsageError(
                f"check 'similar': unknown metric {metric!r}; use one of {', '.join(METRICS)}"
            )
        self.metric = metric
        self.ignore_case = require_bool("similar", "ignore_case", ignore_case)
        self.max_distance: int | None = None
        if max_distance is not None:
            if min_ratio is not None:
                raise UsageError("check 'similar': give min_ratio or max_distance, not both")
            self.max_distance = int(
                require_number("similar", "max_distance", max_distance, integer=True)
            )
            self.min_ratio = 0.0
        else:
            ratio = 0.8 if min_ratio is None else min_ratio
            self.min_ratio = require_number("similar", "min_ratio", ratio)
            if self.min_ratio > 1.0:
                raise UsageError(
                    f"check 'similar': min_ratio is a fraction between 0 and 1, got {ratio!r}"
                )
        self._args = args_repr(
            reference,
            min_ratio=min_ratio,
            max_distance=max_distance,
            metric=None if metric == "ratio" else metric,
        )

    def expectation(self) -> str:
        ref = quote(self.reference, 60)
        if self.max_distance is not None:
            return f"to be within Levenshtein distance {self.max_distance} of {ref}"
        return f"to be similar to {ref} ({self.metric} >= {self.min_ratio:.0%})"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        a, b = (
            (text.casefold(), self.reference.casefold())
            if self.ignore_case
            else (text, self.reference)
        )
        a, b = a.strip(), b.strip()
        if self.max_distance is not None:
            from rapidfuzz.distance import Levenshtein

            dist = int(Levenshtein.distance(a, b))
            score = float(Levenshtein.normalized_similarity(a, b))
            return Outcome(
                dist <= self.max_distance,
                f"Levenshtein distance {dist} (limit {self.max_distance})",
                score=score,
                value=dist,
            )
        score = _score(self.metric, a, b)
        return Outcome(
            score >= self.min_ratio,
            f"{self.metric} similarity {score:.0%} (required {self.min_ratio:.0%})",
            score=score,
        )


@register("similar")
def similar(
    reference: str,
    *,
    min_ratio: float | None = None,
    max_distance: int | None = None,
    metric: str = "ratio",
    ignore_case: bool = False,
) -> Check:
    """The output is similar to ``reference``: ``metric`` (``ratio``, ``levenshtein``,
    ``partial``, ``token_sort``, ``token_set``) at least ``min_ratio`` (default 0.8), or at most
    ``max_distance`` Levenshtein edits. Surrounding whitespace is ignored; the score is the
    similarity in ``[0, 1]``."""
    return _Similar(reference, min_ratio, max_distance, metric, ignore_case)
