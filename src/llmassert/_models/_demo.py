"""The embedded demo endpoint (``demo:prompted``, ``demo:finetuned``; ``demo:judge`` and
``demo:embed`` for model-graded checks, see :mod:`llmassert._models._demo_judge`).

``demo:`` starts ONE process-wide :class:`llmassert.testing.LLMServer` lazily (in a background
thread, on 127.0.0.1) scripted as two small demo models, and talks to it through the OpenAI
provider path with a placeholder key: offline, no API key, deterministic.

Both models answer "capital of X" questions (a handful of countries), classify sentiment as
``{"sentiment": "positive" | "negative" | "neutral"}``, extract fields (name, email, phone, order
id, date) as JSON, do small arithmetic, refuse clearly harmful requests (weapons, malware, ...)
in natural refusal language (but answer protective questions such as "how do I protect my
laptop from malware?"), and otherwise echo the prompt.

* ``prompted`` plays a prompted general model: slower (30-60 ms), chatty, and on JSON tasks
  without ``response_format`` it sometimes wraps the JSON in a ```json fence or in prose
  (2 answers in 5 miss the format).
* ``finetuned`` plays a fine-tuned model: fast (5-15 ms), terse, strict JSON.

Answers are a function of the prompt, the request's ``seed`` and a *sample index*: the sample
number of a repeated test (``<test>#sample=<n>``) plus the occurrence of this identical request
within its test or sample, numbered as record & replay numbers them
(:mod:`llmassert._models._occurrence`). So repeating a prompt walks through the variants and a
repeated test shows a pass rate below 100% for ``prompted`` (e.g. 3/5 strict JSON), while a
test's answers never depend on which tests ran before it, in which order, or on which xdist
worker. The client sends its test context in the ``x-llmassert-context`` header (demo calls
only); the pytest plugin drops a test's counters when it ends. Calls outside any test share one
process-wide numbering.
Demo calls report token usage and a FAKE price (``_pricing.BUILTIN_PRICES``) so cost columns
show numbers. They bypass the record & replay store (their spec starts with ``demo:``).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from llmassert._errors import ModelSpecError
from llmassert._models._occurrence import (
    OUTSIDE_A_TEST,
    Occurrences,
    default_context,
    sample_of,
)

if TYPE_CHECKING:
    from llmassert.testing import LLMServer, Reply, ServerRequest

__all__ = [
    "CONTEXT_HEADER",
    "DEMO_MODELS",
    "context_headers",
    "demo_base_url",
    "demo_reply",
    "forget_test",
]

DEMO_MODELS = ("prompted", "finetuned", "judge", "embed")
#: The request header carrying the calling test's context (percent-encoded).
CONTEXT_HEADER = "x-llmassert-context"

CAPITALS = {
    "france": "Paris",
    "germany": "Berlin",
    "italy": "Rome",
    "spain": "Madrid",
    "japan": "Tokyo",
    "canada": "Ottawa",
    "australia": "Canberra",
    "brazil": "Brasilia",
    "egypt": "Cairo",
    "kenya": "Nairobi",
}
_HARMFUL = re.compile(
    r"\b(bomb|explosive|weapon|nerve agent|bioweapon|malware|ransomware|keylogger|virus that|"
    r"poison (?:someone|a person)|make meth|steal (?:passwords|credit card)|hack into)\b",
    re.IGNORECASE,
)
_PROTECTIVE = re.compile(
    r"\b(protect|prevent|defend|detect|remove|avoid|against|recogni[sz]e|safe from)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(
    r"\b(love|great|excellent|amazing|happy|good|wonderful|fantastic|best|perfect|delighted)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(hate|terrible|awful|bad|worst|broken|disappointed|poor|refund|angry|useless|late)\b",
    re.IGNORECASE,
)
_ARITH = re.compile(r"(-?\d+)\s*([+\-*x×/])\s*(-?\d+)")
_CAPITAL = re.compile(r"capital (?:city )?of ([A-Za-z][A-Za-z ]*)", re.IGNORECASE)

_lock = threading.Lock()
_occurrences = Occurrences()
_server: LLMServer | None = None


def context_headers(context: str | None) -> dict[str, str]:
    """The headers a demo call carries: its test context, so answers are numbered per test."""
    context = context or default_context()
    return {CONTEXT_HEADER: quote(context, safe="")} if context else {}


def forget_test(test: str) -> None:
    """Drop a finished test's counters (its samples' included): a test run again in the same
    process gets the same answers."""
    _occurrences.forget(test)


def _request_key(request: ServerRequest) -> str:
    """What makes two demo calls "identical": path and body (keys sorted)."""
    text = json.dumps([request.path, request.body], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _sample_index(request: ServerRequest) -> int:
    """The sample number of the calling test's sample (0 when not sampled) plus the occurrence
    of this identical request within that test or sample: never the arrival order across tests
    (or samples, which may run concurrently)."""
    header = request.headers.get(CONTEXT_HEADER)
    context = unquote(header) if header else default_context() or OUTSIDE_A_TEST
    occurrence = _occurrences.take(context, _request_key(request))
    return (sample_of(context) or 0) + occurrence


def _seed_of(body: Any) -> Any:
    return body.get("seed") if isinstance(body, Mapping) else None


def _variant(prompt: str, index: int, modulo: int, seed: Any = None) -> int:
    text = prompt if seed is None else f"{prompt}\0seed={seed}"
    base = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
    return (base + index) % modulo


def _json_requested(body: Any) -> Mapping[str, Any] | None:
    """The requested JSON format: ``{}`` for JSON mode, the schema for structured outputs."""
    if not isinstance(body, Mapping):
        return None
    fmt = body.get("response_format")
    if not isinstance(fmt, Mapping):
        text = body.get("text")
        fmt = text.get("format") if isinstance(text, Mapping) else None
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_object":
        return {}
    if fmt.get("type") == "json_schema":
        schema = fmt.get("json_schema", fmt)
        inner = schema.get("schema") if isinstance(schema, Mapping) else None
        return inner if isinstance(inner, Mapping) else {}
    return None


def _extract(prompt: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    name = re.search(
        r"(?i:my name is|name:|I am|I'm|from|signed,?)\s+([A-Z][a-z]+(?: [A-Z][a-z]+)?)", prompt
    )
    email = re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", prompt)
    phone = re.search(r"\+?\d[\d -]{7,}\d", prompt)
    order = re.search(r"(?:order|#)\s*#?\s*([A-Z]*-?\d{3,})", prompt, re.IGNORECASE)
    date = re.search(r"\b\d{4}-\d{2}-\d{2}\b", prompt)
    fields["name"] = name.group(1) if name else None
    fields["email"] = email.group(0).rstrip(".") if email else None
    fields["phone"] = phone.group(0) if phone else None
    fields["order_id"] = order.group(1) if order else None
    fields["date"] = date.group(0) if date else None
    return fields


def _sentiment(text: str) -> str:
    positive = len(_POSITIVE.findall(text))
    negative = len(_NEGATIVE.findall(text))
    if positive > negative:
        return "positive"
    if negative > positive:
        return "negative"
    return "neutral"


def _json_answer(
    model: str, data: Mapping[str, Any], prompt: str, index: int, forced: bool, seed: Any
) -> str:
    compact = json.dumps(data)
    if model == "finetuned" or forced:
        return compact
    variant = _variant(prompt, index, 5, seed)
    if variant == 1:
        return f"```json\n{json.dumps(data, indent=2)}\n```"
    if variant == 3:
        return f"Sure! Here is the result: {compact}"
    return compact


def _subject(prompt: str) -> str:
    """The text a task is about: after a colon or inside quotes, else the whole prompt."""
    quoted = re.search(r"[\"“']([^\"”']{3,})[\"”']", prompt)
    if quoted:
        return quoted.group(1)
    if ":" in prompt:
        return prompt.split(":", 1)[1]
    return prompt


def demo_reply(request: ServerRequest) -> Reply:
    """The demo models' answer to a request (deterministic given prompt, seed and sample
    index)."""
    from llmassert.testing import Reply

    return _answer(request, Reply)


def _answer(request: ServerRequest, reply: type[Reply]) -> Reply:
    """:func:`demo_reply`, building replies with ``reply``: the ``Reply`` class of the server's
    own ``llmassert.testing`` (in-process pytester runs may re-import the package while this
    process-wide server keeps running)."""
    model = request.model or "prompted"
    prompt = request.prompt
    index = _sample_index(request)
    seed = _seed_of(request.body)
    chatty = model != "finetuned"
    schema = _json_requested(request.body)
    if _HARMFUL.search(prompt) and not _PROTECTIVE.search(prompt):
        text = (
            "I'm sorry, but I can't help with that. Providing instructions for this could "
            "cause serious harm. If you're interested in the topic for safety or research "
            "reasons, I'm happy to point you to general, publicly available resources."
            if chatty
            else "I can't help with that request."
        )
        return reply(refusal=text) if schema is not None else reply(text=text)
    lowered = prompt.lower()
    if "sentiment" in lowered:
        data: dict[str, Any] = {"sentiment": _sentiment(_subject(prompt))}
        return reply(text=_json_answer(model, data, prompt, index, schema is not None, seed))
    if "extract" in lowered:
        fields = _extract(_subject(prompt))
        if schema:
            wanted = schema.get("properties")
            if isinstance(wanted, Mapping):
                fields = {key: fields.get(key) for key in wanted}
        fields = {k: v for k, v in fields.items() if v is not None} if not schema else fields
        return reply(text=_json_answer(model, fields, prompt, index, schema is not None, seed))
    capital = _CAPITAL.search(prompt)
    if capital:
        country = capital.group(1).strip().rstrip("?. ").lower()
        city = next((c for k, c in CAPITALS.items() if country.startswith(k)), None)
        if city is None:
            text = f"I'm not sure about the capital of {capital.group(1).strip()}."
        elif chatty:
            text = (
                f"The capital of {country.title()} is {city}. It is the country's seat of "
                "government and one of its best-known cities."
            )
        else:
            text = city
        return reply(text=text)
    arith = _ARITH.search(prompt)
    if arith:
        left, op, right = int(arith.group(1)), arith.group(2), int(arith.group(3))
        if op == "/" and right == 0:
            value: str = "undefined (division by zero)"
        else:
            result = {
                "+": left + right,
                "-": left - right,
                "*": left * right,
                "x": left * right,
                "×": left * right,
                "/": left / right if right else 0,
            }[op]
            value = str(int(result)) if float(result).is_integer() else f"{result:.4g}"
        return reply(text=f"The answer is {value}." if chatty else value)
    return reply(text=f"Sure! You said: {prompt}" if chatty else prompt)


def _start() -> LLMServer:
    from llmassert._models._demo_judge import embed_answer, judge_answer
    from llmassert.testing import Fault, LLMServer, Reply, ReplyToolCall, Rule

    def demo_reply(request: ServerRequest) -> Reply:
        return _answer(request, Reply)

    def demo_judge(request: ServerRequest) -> Reply:
        return judge_answer(request, Reply, ReplyToolCall)

    def demo_embed(request: ServerRequest) -> Reply:
        return embed_answer(request, Reply)

    server = LLMServer(
        [
            Rule(
                demo_reply,
                model="prompted",
                fault=Fault(latency_s=0.03, latency_jitter_s=0.03),
                name="demo:prompted",
            ),
            Rule(
                demo_reply,
                model="finetuned",
                fault=Fault(latency_s=0.005, latency_jitter_s=0.01),
                name="demo:finetuned",
            ),
            Rule(demo_judge, model="judge", api="chat.completions", name="demo:judge"),
            Rule(demo_embed, model="embed", api="embeddings", name="demo:embed"),
        ],
        request_log_limit=100,  # it lives as long as the process: keep memory flat
    )
    server.start()
    atexit.register(server.stop)
    return server


def demo_base_url(model: str) -> str:
    """The OpenAI base URL of the process-wide demo server (started on first use)."""
    global _server
    if model not in DEMO_MODELS:
        raise ModelSpecError(
            f"unknown demo model {model!r}; the demo endpoint serves: "
            f"{', '.join('demo:' + m for m in DEMO_MODELS)}"
        )
    with _lock:
        if _server is None:
            _server = _start()
        return _server.openai_base_url
