"""``demo:judge`` and ``demo:embed``: offline, deterministic stand-ins for a judge model and an
embeddings model on the embedded demo endpoint.

They are heuristics, not models: ``demo:judge`` reads the judge prompt llmassert builds
(criterion, reference, context, input and output between tags) and scores word overlap and a
few cue words; ``demo:embed`` embeds a text as a hashed bag of words, so texts sharing words
are close. Good enough to run examples and CI offline, useless as a measure of quality.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmassert.testing import Reply, ServerRequest

__all__ = ["EMBED_DIMENSIONS", "demo_embedding", "embed_answer", "judge_answer"]

EMBED_DIMENSIONS = 256
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an and are as at be by can could do does for from has have how i if in is it its "
    "me my no not of on or our so that the their them there this to us was we were what "
    "when where which who will with would you your output answer answers should must"
)
_STOP = frozenset(_STOP_WORDS.split())
_RUDE = re.compile(
    r"\b(stupid|idiot|dumb|shut up|figure it out|your (?:own )?fault|whatever|ridiculous|"
    r"not my problem|obviously|useless|read the manual)\b",
    re.IGNORECASE,
)
_POLITE = re.compile(
    r"\b(please|thank|thanks|sorry|happy to|glad to|apologi[sz]e|appreciate|kindly)\b",
    re.IGNORECASE,
)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def demo_embedding(text: str) -> tuple[float, ...]:
    """A hashed bag of (stemmed) words, normalised: shared words make texts close."""
    vector = [0.0] * EMBED_DIMENSIONS
    for word in _words(text):
        digest = hashlib.sha256(_stem(word).encode()).digest()
        index = int.from_bytes(digest[:4], "big") % EMBED_DIMENSIONS
        vector[index] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    return tuple(v / norm for v in vector) if norm else tuple(vector)


def _tag(text: str, tag: str) -> str | None:
    found = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", text, re.DOTALL)
    return found.group(1) if found else None


def _recall(needles: str, haystack: str) -> float:
    want = {_stem(w) for w in _words(needles)}
    if not want:
        return 1.0
    have = {_stem(w) for w in _words(haystack)}
    return len(want & have) / len(want)


def _grade(prompt: str) -> tuple[float, str]:
    """``(fraction of the criterion met, reason)`` from the judge prompt."""
    criterion = _tag(prompt, "criterion") or ""
    output = _tag(prompt, "output") or ""
    reference = _tag(prompt, "reference")
    context = _tag(prompt, "context")
    question = _tag(prompt, "input")
    lowered = criterion.lower()
    if not output.strip():
        return 0.0, "the output is empty"
    if "refusal" in lowered or "declines" in lowered:
        from llmassert._checks._refusal import is_refusal

        verdict = is_refusal(output)
        return verdict.score, f"refusal cues: {verdict.reason}"
    if "polite" in lowered or "tone" in lowered:
        rude = _RUDE.search(output)
        if rude:
            return 0.1, f"dismissive wording {rude.group(0)!r}"
        if _POLITE.search(output):
            return 0.95, "courteous wording and no dismissive phrases"
        return 0.7, "neutral wording, no dismissive phrases"
    if reference is not None:
        share = _recall(reference, output)
        return share, f"{share:.0%} of the reference's key words appear in the output"
    if context is not None:
        share = _recall(output, context)
        return share, f"{share:.0%} of the output's words are found in the context"
    if question is not None and "input" in lowered:
        share = _recall(question, output)
        return min(1.0, share * 1.5), f"the output shares {share:.0%} of the input's key words"
    share = _recall(criterion, output)
    return share, f"the output has {share:.0%} of the criterion's key words"


def _scale_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The score's schema in the request: structured output, tool parameters, or the prompt."""
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        return (schema.get("properties") or {}).get("score") or {}
    for tool in body.get("tools") or ():
        params = (tool.get("function") or {}).get("parameters") or {}
        if params:
            return (params.get("properties") or {}).get("score") or {}
    return {}


def _system_scale(system: str) -> Mapping[str, Any]:
    found = re.search(r"an integer from (-?\d+) to (-?\d+)", system)
    if found:
        return {"minimum": int(found.group(1)), "maximum": int(found.group(2))}
    labels = re.search(r"one of the labels (.*?) \(", system)
    if labels:
        return {"enum": re.findall(r'"([^"]*)"', labels.group(1))}
    return {"minimum": 1, "maximum": 5}


def judge_answer(request: ServerRequest, reply: type[Reply], tool_call: type[Any]) -> Reply:
    """The demo judge's verdict, in the form the request asks for."""
    body = request.body if isinstance(request.body, Mapping) else {}
    system = next((m["content"] for m in request.messages if m.get("role") == "system"), "")
    scale = _scale_of(body) or _system_scale(system)
    fraction, why = _grade(request.prompt)
    fraction = max(0.0, min(1.0, fraction))
    score: Any
    if scale.get("enum"):
        labels = list(scale["enum"])
        score = labels[round(fraction * (len(labels) - 1))]
    else:
        low, high = int(scale.get("minimum", 1)), int(scale.get("maximum", 5))
        score = low + round(fraction * (high - low))
    verdict = {"reason": f"demo judge (a heuristic, not a model): {why}.", "score": score}
    if body.get("tools"):
        return reply(tool_calls=(tool_call("submit_verdict", verdict),))
    return reply(text=json.dumps(verdict))


def embed_answer(request: ServerRequest, reply: type[Reply]) -> Reply:
    inputs = request.body.get("input") if isinstance(request.body, Mapping) else None
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs or ()]
    return reply(embeddings=tuple(demo_embedding(t) for t in texts))
