"""The :class:`Model`: one interface for every provider, sync and async."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

from llmassert._errors import LLMAssertError, LLMAssertionError, ProviderError, UsageError
from llmassert._models import _anthropic, _openai
from llmassert._models._budget import Budget
from llmassert._models._clients import (
    AsyncClientScope,
    api_key,
    base_url_of,
    mask_secrets,
    reset_scope,
    set_scope,
)
from llmassert._models._endpoints import (
    Endpoint,
    find_pyproject,
    load_endpoints,
    load_project_config,
)
from llmassert._models._error_map import CallTarget, status_error
from llmassert._models._health import OPTIONAL_FIELDS, EndpointHealth, get_health
from llmassert._models._limits import EndpointLimiter, get_limiter
from llmassert._models._occurrence import default_context
from llmassert._models._params import GenParams, make_params
from llmassert._models._pricing import cost_usd, set_prices
from llmassert._models._retry import RetryPolicy, acall_with_retries, call_with_retries
from llmassert._models._sampling import note_response, sample_scope, with_sample
from llmassert._models._spec import ModelSpec, parse_spec
from llmassert._models._transport import asend_once, error_reply, request_url, send_once
from llmassert._models._wire import (
    Interceptor,
    WireRequest,
    WireResponse,
    default_interceptors,
    set_default_interceptors,
)
from llmassert._observe import note_call
from llmassert._response import Response

if TYPE_CHECKING:
    from llmassert._templates._template import PromptTemplate

__all__ = ["Model", "load_project", "model", "set_default_interceptors"]

log = logging.getLogger("llmassert")

#: Generation parameters ``complete`` accepts (anything else is a usage error, never dropped).
PARAMS = (
    "system",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "stop",
    "response_format",
    "json_schema",
    "tools",
    "tool_choice",
    "reasoning_effort",
    "thinking",
    "stream",
    "extra_body",
)
_OVERRIDE_ALIASES = {"timeout": "timeout_s", "attempt_timeout": "attempt_timeout_s"}

_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+\S+|(?i:api[-_]?key)\"?\s*[:=]\s*\"?[^\s\",]+)"
)

Prompt: TypeAlias = str | Sequence[Mapping[str, Any]]


def _mask(text: str) -> str:
    return _SECRET.sub("***", mask_secrets(text))


class Model:
    """A model behind a spec, e.g. ``Model("openai:gpt-4o-mini")`` or ``llmassert.model(...)``.

    ``complete`` / ``acomplete`` take a prompt string or a list of chat messages plus generation
    parameters and return a :class:`llmassert.Response` with text, refusal, finish reason, tool
    calls, parsed JSON (when structured output was requested), usage, latency, cost and request
    id. Endpoint settings can be overridden per model (``timeout=``, ``max_tokens=``,
    ``max_retries=``, ``api=``, ...).
    """

    #: What this model's calls are for (``Response.purpose``): ``"model"`` for the model under
    #: test; a judge sets ``"judge"``, an embeddings model ``"embedding"``.
    purpose: str = "model"

    def __init__(
        self,
        spec: str | ModelSpec,
        *,
        endpoints: Mapping[str, Endpoint] | None = None,
        interceptors: Sequence[Interceptor] | None = None,
        context: str | Callable[[], str | None] | None = None,
        budget: Budget | None = None,
        concurrency: int | None = None,
        **overrides: Any,
    ) -> None:
        parsed = spec if isinstance(spec, ModelSpec) else parse_spec(spec, endpoints)
        endpoint = parsed.endpoint
        if overrides:
            fixed = {_OVERRIDE_ALIASES.get(k, k): v for k, v in overrides.items()}
            endpoint = endpoint.with_overrides(**fixed)
        if endpoint.provider == "demo":
            from llmassert._models._demo import demo_base_url

            endpoint = replace(endpoint, base_url=demo_base_url(parsed.model))
        if endpoint.wire == "anthropic" and endpoint.api != "chat":
            raise UsageError(f"{parsed.spec}: anthropic endpoints speak the Messages API only")
        self.spec = parsed.spec
        self.model = parsed.model
        self.endpoint = endpoint
        #: ``None``: the defaults of the moment (see :func:`set_default_interceptors`).
        self.interceptors: list[Interceptor] | None = (
            None if interceptors is None else list(interceptors)
        )
        self.context = context
        self.budget = budget
        self.concurrency = concurrency or endpoint.max_concurrency
        self._base_url = base_url_of(endpoint)
        #: The prompt template the endpoint was trained with (``template`` on the endpoint), or
        #: None. Every prompt sent is checked against it; :meth:`render_prompt` builds one.
        self.template: PromptTemplate | None = None
        if endpoint.template is not None:
            from llmassert._models._binding import MISMATCH_MODES, load_bound

            where = f"{parsed.spec}: template"
            self.template = load_bound(endpoint.template, where, endpoint.api)
            if endpoint.template_mismatch not in MISMATCH_MODES:
                raise UsageError(
                    f"{parsed.spec}: template_mismatch: expected one of "
                    f"{', '.join(MISMATCH_MODES)}, got {endpoint.template_mismatch!r}"
                )

    def __repr__(self) -> str:
        return f"Model({self.spec!r})"

    @property
    def provider(self) -> str:
        return self.endpoint.provider

    # ------------------------------------------------------------------ building

    def _interceptors(self) -> list[Interceptor]:
        if self.interceptors is None:
            return default_interceptors()
        return self.interceptors

    def _context(self) -> str | None:
        return self.context() if callable(self.context) else self.context

    def _body_model(self) -> str:
        if self.endpoint.provider == "azure" and self.endpoint.deployment:
            return self.endpoint.deployment
        return self.model

    def _prepare(self, prompt: Prompt, params: dict[str, Any]) -> tuple[WireRequest, GenParams]:
        unknown = sorted(set(params) - set(PARAMS) - {"timeout"})
        if unknown:
            raise UsageError(
                f"{self.spec}: unknown parameter(s) {', '.join(unknown)}; known: "
                f"{', '.join(PARAMS)}, timeout"
            )
        gen = make_params(prompt, **{k: v for k, v in params.items() if k != "timeout"})
        if self.endpoint.wire == "anthropic":
            path, body = _anthropic.build(self.endpoint, self._body_model(), gen, self.spec)
        else:
            path, body = _openai.build(self.endpoint, self._body_model(), gen, self.spec)
        request = WireRequest(
            provider=self.endpoint.wire,
            spec=self.spec,
            path=path,
            body=body,
            base_url=self._base_url,
            context=with_sample(self._context() or default_context()),
            local=self.endpoint.provider == "demo",
        )
        return request, gen

    def _guard(self, gen: GenParams) -> LLMAssertionError | None:
        """The bound template's verdict on a prompt (None: no template, or it matches)."""
        if self.template is None:
            return None
        from llmassert._models._binding import guard

        return guard(self.spec, self.template, self.endpoint.template_mismatch, gen)

    def render_prompt(self, input: str, **variables: Any) -> str | list[dict[str, str]]:
        """The prompt for ``input`` (and any other template variables) rendered with the
        endpoint's bound template: exactly what training used (chat messages without the
        answer, or the completion prompt). A usage error when the endpoint has no template."""
        if self.template is None:
            raise UsageError(
                f"{self.spec}: the endpoint has no template; bind one with template = "
                f'"FILE.yaml" under [tool.llmassert.endpoints.NAME]'
            )
        return self.template.render_prompt(input, **variables)

    def _timeout(self, params: Mapping[str, Any]) -> float:
        value = params.get("timeout")
        if value is None:
            return self.endpoint.timeout_s
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise UsageError(f"timeout: expected seconds > 0, got {value!r}")
        return float(value)

    def _target(self, timeout: float) -> CallTarget:
        return CallTarget(
            label=self.spec,
            url=self._base_url,
            model=self.model,
            timeout_s=timeout,
            key_env=self.endpoint.key_env(),
        )

    def _policy(self, timeout: float, probe: bool = False) -> RetryPolicy:
        """The retry policy of one call: ``timeout`` is its deadline, retries included; a probe
        of an endpoint found unreachable makes one attempt."""
        e = self.endpoint
        policy = RetryPolicy(
            max_retries=e.max_retries,
            initial_s=e.retry_initial_s,
            max_wait_s=e.retry_max_wait_s,
            total_wait_s=e.retry_total_wait_s,
            label=self.spec,
            deadline_s=timeout,
        )
        return policy.single_attempt() if probe else policy

    @staticmethod
    def _ours(gen: GenParams) -> frozenset[str]:
        """Optional body fields llmassert adds on its own (not given in ``extra_body``)."""
        return frozenset(OPTIONAL_FIELDS) - set(gen.extra_body or ())

    def _limiter_key(self) -> tuple[str, str, str]:
        return (self.endpoint.name, self.endpoint.provider, self._base_url)

    def _tokens(self, request: WireRequest) -> int:
        body = request.body
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or 0
        limit = limit or body.get("max_output_tokens") or 0
        return len(json.dumps(body, default=str)) // 4 + int(limit)

    def _first_token(self) -> Callable[[Mapping[str, Any]], bool]:
        return _anthropic.first_token if self.endpoint.wire == "anthropic" else _openai.first_token

    def _price_provider(self) -> str:
        if self.endpoint.provider == "demo":  # a named demo endpoint too: the demo prices
            return "demo"
        if self.endpoint.name not in ("openai", "anthropic", "azure", "demo"):
            # A self-hosted server's model names are not the provider's: no built-in price.
            return f"endpoint:{self.endpoint.name}" if self.endpoint.base_url else self.provider
        return self.provider

    # ------------------------------------------------------------------ live sending

    def _log_request(self, request: WireRequest) -> None:
        if log.isEnabledFor(logging.DEBUG):
            body = _mask(json.dumps(request.body, default=str))
            log.debug(
                "llmassert -> %s POST %s %s",
                self.spec,
                request_url(self.endpoint, self._base_url, request.path),
                body[:4000] + ("..." if len(body) > 4000 else ""),
            )

    def _log_response(self, wire: WireResponse) -> None:
        if log.isEnabledFor(logging.DEBUG):
            shown = json.dumps(wire.body if wire.events is None else list(wire.events), default=str)
            log.debug(
                "llmassert <- %s HTTP %s in %.3f s (retries %d, request id %s) %s",
                self.spec,
                wire.status,
                wire.latency_s or 0.0,
                wire.retries,
                wire.headers.get("x-request-id") or wire.headers.get("request-id"),
                _mask(shown)[:4000],
            )

    def _before_live(
        self, request: WireRequest, timeout: float
    ) -> tuple[EndpointLimiter, CallTarget]:
        """Checks and bookkeeping before a live call: the key (fails early, and is masked in
        logs from now on), the spending guard, the request log; the endpoint's limiter."""
        api_key(self.endpoint, self.spec)
        if self.budget is not None:
            self.budget.before_call(self.spec, demo=self.endpoint.provider == "demo")
        e = self.endpoint
        limiter = get_limiter(self._limiter_key(), self.concurrency, e.rpm, e.tpm)
        self._log_request(request)
        return limiter, self._target(timeout)

    def _after_live(self, wire: WireResponse, retries: int) -> WireResponse:
        wire = replace(wire, retries=retries)
        self._log_response(wire)
        if self.budget is not None and wire.status < 400:
            self.budget.add_cost(self._finish(wire).cost_usd)
        return wire

    @staticmethod
    def _final_error(exc: ProviderError) -> WireResponse:
        """The final outcome of a live call that failed: a deterministic 4xx becomes its answer
        (returned through the interceptors, so record & replay store it, then raised again by
        :meth:`_finish`); anything else is raised as it is. Whatever llmassert retries itself
        (transient failures, a resend without an optional field it added) stays inside the
        ``try`` this is called from, so only the final outcome of a live call is stored."""
        reply = error_reply(exc)
        if reply is None:
            raise exc
        return reply

    def _health(self) -> EndpointHealth:
        return get_health(self._limiter_key())

    def _sendable(
        self, request: WireRequest, health: EndpointHealth, ours: frozenset[str]
    ) -> WireRequest:
        """The request as sent: without the optional fields of ours this endpoint rejected
        (the interceptors above, record & replay included, still see the request as built)."""
        dropped = health.rejected & ours
        if not dropped or not dropped & set(request.body):
            return request
        return replace(request, body={k: v for k, v in request.body.items() if k not in dropped})

    def _fallback(
        self, exc: ProviderError, sent: WireRequest, health: EndpointHealth, ours: frozenset[str]
    ) -> WireRequest | None:
        """On a 400 naming an optional field llmassert added itself, the request without it
        (remembered for the endpoint); ``None`` for any other failure."""
        name = health.rejected_field(exc, {k: v for k, v in sent.body.items() if k in ours})
        if name is None:
            return None
        health.reject(name)
        log.info(
            "llmassert: %s rejected the optional field %s that llmassert adds (HTTP %s); "
            "retrying without it and no longer sending it to this endpoint "
            "(set stream_usage = false on the endpoint to skip this first try)",
            self.spec,
            name,
            exc.status,
        )
        return replace(sent, body={k: v for k, v in sent.body.items() if k != name})

    def _attempt(
        self, target: CallTarget, left: float | None, timeout: float
    ) -> tuple[float, CallTarget]:
        """The time one attempt may take (what is left of the call's timeout, at most the
        endpoint's ``attempt_timeout``) and the target its errors name."""
        bound = left if left is not None else timeout
        cap = self.endpoint.attempt_timeout_s
        if cap is not None and cap < bound:
            return cap, replace(target, timeout_s=cap)
        return bound, target

    def _live(self, request: WireRequest, timeout: float, ours: frozenset[str]) -> WireResponse:
        health = self._health()
        probe = health.before_call(self.spec)
        limiter, target = self._before_live(request, timeout)
        e, first = self.endpoint, self._first_token()
        policy = self._policy(timeout, probe)
        sent = self._sendable(request, health, ours)
        limiter.acquire(self._tokens(request))
        try:
            while True:

                def attempt(left: float | None, sending: WireRequest = sent) -> WireResponse:
                    bound, aimed = self._attempt(target, left, timeout)
                    return send_once(e, aimed, sending, bound, first)

                try:
                    wire, retries = call_with_retries(policy, attempt)
                    break
                except ProviderError as exc:
                    retry = self._fallback(exc, sent, health, ours)
                    if retry is None:
                        raise
                    sent = retry
            health.after_success()
        except ProviderError as exc:
            health.after_failure(exc, self.spec, request.context)
            wire, retries = self._final_error(exc), exc.attempts - 1
        finally:
            limiter.release()
        return self._after_live(wire, retries)

    async def _alive(
        self, request: WireRequest, timeout: float, ours: frozenset[str]
    ) -> WireResponse:
        health = self._health()
        probe = health.before_call(self.spec)
        limiter, target = self._before_live(request, timeout)
        e, first = self.endpoint, self._first_token()
        policy = self._policy(timeout, probe)
        sent = self._sendable(request, health, ours)
        await limiter.aacquire(self._tokens(request))
        try:
            while True:

                async def attempt(left: float | None, sending: WireRequest = sent) -> WireResponse:
                    bound, aimed = self._attempt(target, left, timeout)
                    return await asend_once(e, aimed, sending, bound, first)

                try:
                    wire, retries = await acall_with_retries(policy, attempt)
                    break
                except ProviderError as exc:
                    retry = self._fallback(exc, sent, health, ours)
                    if retry is None:
                        raise
                    sent = retry
            health.after_success()
        except ProviderError as exc:
            health.after_failure(exc, self.spec, request.context)
            wire, retries = self._final_error(exc), exc.attempts - 1
        finally:
            limiter.release()
        return self._after_live(wire, retries)

    # ------------------------------------------------------------------ parsing

    def _finish(self, wire: WireResponse, gen: GenParams | None = None) -> Response:
        if wire.status >= 400:
            # A recorded (or just received) error answer: the same mapping as a live failure.
            target = self._target(self.endpoint.timeout_s)
            raise status_error(
                target, wire.status, wire.headers, wire.body, sdk_error=wire.sdk_error
            )
        if self.endpoint.wire == "anthropic":
            response = _anthropic.parse(self.model, wire)
        else:
            response = _openai.parse(self.endpoint.api, self.model, wire)
        response.provider = self.provider
        response.spec = self.spec
        response.purpose = self.purpose
        response.latency_s = wire.latency_s
        response.ttft_s = wire.ttft_s
        response.retries = wire.retries
        response.replayed = wire.replayed
        response.request_id = wire.headers.get("x-request-id") or wire.headers.get("request-id")
        response.cost_usd = cost_usd(
            self._price_provider(), self.model, response.usage, self.endpoint.prices
        )
        if gen is not None and gen.structured and response.text:
            try:
                response.parsed = json.loads(response.text)
            except ValueError:
                response.parsed = None
        return response

    # ------------------------------------------------------------------ public API

    def complete(self, prompt: Prompt, **params: Any) -> Response:
        """Call the model. ``prompt``: a string or a list of ``{"role", "content"}`` messages.

        Parameters: ``system``, ``temperature``, ``top_p``, ``max_tokens``, ``seed``, ``stop``,
        ``response_format`` (``"json"``, an OpenAI response_format dict or a pydantic model),
        ``json_schema``, ``tools``, ``tool_choice``, ``reasoning_effort``, ``thinking``
        (Anthropic budget tokens), ``stream``, ``timeout`` (seconds), ``extra_body``.
        """
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        request, gen = self._prepare(prompt, params)
        if self.template is not None and (mismatch := self._guard(gen)):
            raise mismatch
        timeout = self._timeout(params)

        ours = self._ours(gen)

        def innermost(req: WireRequest) -> WireResponse:
            return self._live(req, timeout, ours)

        send: Callable[[WireRequest], WireResponse] = innermost
        for interceptor in reversed(self._interceptors()):
            send = _wrap(interceptor, send)
        try:
            response = note_response(self._finish(send(request), gen))
        except LLMAssertError as exc:
            raise _from_here(exc)  # noqa: B904 (its own cause, if any, is kept)
        note_call(response, prompt, params.get("system"))
        return response

    async def acomplete(self, prompt: Prompt, **params: Any) -> Response:
        """The async form of :meth:`complete` (safe on any event loop, e.g. per-test loops)."""
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        request, gen = self._prepare(prompt, params)
        if self.template is not None and (mismatch := self._guard(gen)):
            raise mismatch
        timeout = self._timeout(params)

        ours = self._ours(gen)

        async def innermost(req: WireRequest) -> WireResponse:
            return await self._alive(req, timeout, ours)

        send: Callable[[WireRequest], Awaitable[WireResponse]] = innermost
        for interceptor in reversed(self._interceptors()):
            send = _awrap(interceptor, send)
        try:
            response = note_response(self._finish(await send(request), gen))
        except LLMAssertError as exc:
            raise _from_here(exc)  # noqa: B904 (its own cause, if any, is kept)
        note_call(response, prompt, params.get("system"))
        return response

    @overload
    def batch(
        self,
        prompts: Iterable[Prompt],
        *,
        concurrency: int | None = None,
        return_exceptions: Literal[False] = False,
        **params: Any,
    ) -> list[Response]: ...

    @overload
    def batch(
        self,
        prompts: Iterable[Prompt],
        *,
        concurrency: int | None = None,
        return_exceptions: Literal[True],
        **params: Any,
    ) -> list[Response | Exception]: ...

    def batch(
        self,
        prompts: Iterable[Prompt],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = False,
        **params: Any,
    ) -> list[Response] | list[Response | Exception]:
        """Run many prompts concurrently (threads; the endpoint's limit still applies).
        Results are in input order. ``return_exceptions=True`` returns errors in place."""
        items = list(prompts)
        workers = max(1, min(concurrency or self.concurrency, len(items) or 1))

        def one(prompt: Prompt) -> Response | Exception:
            try:
                return self.complete(prompt, **params)
            except Exception as exc:
                if not return_exceptions:
                    raise
                return exc

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmassert") as pool:
            return list(pool.map(one, items))

    @overload
    async def abatch(
        self,
        prompts: Iterable[Prompt],
        *,
        concurrency: int | None = None,
        return_exceptions: Literal[False] = False,
        **params: Any,
    ) -> list[Response]: ...

    @overload
    async def abatch(
        self,
        prompts: Iterable[Prompt],
        *,
        concurrency: int | None = None,
        return_exceptions: Literal[True],
        **params: Any,
    ) -> list[Response | Exception]: ...

    async def abatch(
        self,
        prompts: Iterable[Prompt],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = False,
        **params: Any,
    ) -> list[Response] | list[Response | Exception]:
        """The async form of :meth:`batch`: one set of connections for the whole batch."""
        items = list(prompts)
        gate = asyncio.Semaphore(max(1, concurrency or self.concurrency))
        scope = AsyncClientScope()
        token = set_scope(scope)

        async def one(prompt: Prompt) -> Response:
            async with gate:
                return await self.acomplete(prompt, **params)

        try:
            results = await asyncio.gather(
                *(one(p) for p in items), return_exceptions=return_exceptions
            )
        finally:
            reset_scope(token)
            await scope.aclose()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
        return [r for r in results if not isinstance(r, BaseException) or isinstance(r, Exception)]

    # ------------------------------------------------------------------ sampling

    def _sample_workers(self, n: object, concurrency: int | None) -> int:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"{self.spec}: sample(n=...) must be an integer >= 1, got {n!r}")
        if concurrency is not None and (
            isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
        ):
            raise UsageError(
                f"{self.spec}: concurrency must be an integer >= 1, got {concurrency!r}"
            )
        return max(1, min(concurrency or self.concurrency, n))

    def _checked_once(
        self, prompt: Prompt, params: Mapping[str, Any]
    ) -> Callable[[], AbstractContextManager[object]]:
        """For :meth:`sample`: the prompt checked once against the bound template (a mismatch
        raises, or warns once, here), and the context in which its samples skip that check."""
        __tracebackhide__ = True
        if self.template is None:
            return nullcontext
        from llmassert._models._binding import skip_guard

        gen = make_params(prompt, **{k: v for k, v in params.items() if k in PARAMS})
        mismatch = self._guard(gen)
        if mismatch is not None:
            raise mismatch

        @contextmanager
        def checked() -> Iterator[object]:
            token = skip_guard.set(True)
            try:
                yield None
            finally:
                skip_guard.reset(token)

        return checked

    def sample(
        self, prompt: Prompt, *, n: int, concurrency: int | None = None, **params: Any
    ) -> list[Response]:
        """``n`` responses to the same prompt, fetched concurrently (threads, within the
        endpoint's in-flight limit), in sample order. Each response is its own sample for
        record & replay (sample ``i`` replays its own recording), inside a repeated test too.
        The first error is raised once every sample has finished (none is left running)::

            assert_pass_rate(llm.sample("Capital of France?", n=10), 0.9, check=contains("Paris"))
        """
        workers = self._sample_workers(n, concurrency)
        checked = self._checked_once(prompt, params)

        def one(index: int) -> Response:
            with sample_scope(index), checked():
                return self.complete(prompt, **params)

        if workers == 1:
            return [one(index) for index in range(1, n + 1)]
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmassert-sample")
        try:
            futures = [
                pool.submit(contextvars.copy_context().run, one, index) for index in range(1, n + 1)
            ]
            wait(futures)
            return [future.result() for future in futures]
        finally:
            # Ctrl-C while waiting: samples not started are dropped, running ones finish
            pool.shutdown(wait=True, cancel_futures=True)

    async def asample(
        self, prompt: Prompt, *, n: int, concurrency: int | None = None, **params: Any
    ) -> list[Response]:
        """The async form of :meth:`sample`: ``n`` responses as tasks on the running loop,
        sharing one set of connections. The first error is raised once every sample has
        finished; a cancelled ``asample`` cancels and awaits its samples."""
        workers = self._sample_workers(n, concurrency)
        checked = self._checked_once(prompt, params)
        gate = asyncio.Semaphore(workers)
        scope = AsyncClientScope()
        token = set_scope(scope)

        async def one(index: int) -> Response:
            async with gate:
                with sample_scope(index), checked():
                    return await self.acomplete(prompt, **params)

        try:
            results = await asyncio.gather(
                *(one(index) for index in range(1, n + 1)), return_exceptions=True
            )
        finally:
            reset_scope(token)
            await scope.aclose()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if isinstance(r, Response)]


def _from_here(exc: LLMAssertError) -> LLMAssertError:
    """An llmassert error as raised by ``complete`` itself: without the frames of llmassert's
    internals (interceptors, retries, transport), so pytest shows the test's line and the
    message, one short block (the SDK's exception, if any, is the error's ``sdk_error``)."""
    return exc.with_traceback(None)


def _wrap(
    interceptor: Interceptor, send: Callable[[WireRequest], WireResponse]
) -> Callable[[WireRequest], WireResponse]:
    return lambda request: interceptor.call(request, send)


def _awrap(
    interceptor: Interceptor, send: Callable[[WireRequest], Awaitable[WireResponse]]
) -> Callable[[WireRequest], Awaitable[WireResponse]]:
    return lambda request: interceptor.acall(request, send)


_project_cache: dict[tuple[str, float], dict[str, Endpoint]] = {}


def load_project(pyproject: Path | None) -> dict[str, Endpoint]:
    """Named endpoints (and price overrides) of a pyproject.toml, cached by path and mtime."""
    if pyproject is None:
        return {}
    try:
        stamp = pyproject.stat().st_mtime
    except OSError:
        return {}
    key = (str(pyproject), stamp)
    if key not in _project_cache:
        endpoints = load_endpoints(pyproject)
        prices = load_project_config(pyproject).get("prices")
        if prices is not None:
            if not isinstance(prices, Mapping):
                raise UsageError(
                    f"{pyproject}: [tool.llmassert.prices] must map 'PROVIDER:MODEL' to "
                    "{ input = ..., output = ... } (USD per 1M tokens)"
                )
            set_prices(prices)
        _project_cache[key] = endpoints
    return _project_cache[key]


def model(spec: str, *, pyproject: str | Path | None = None, **options: Any) -> Model:
    """A :class:`Model` for a spec (``openai:gpt-4o-mini``, ``demo:prompted``, ``ft-support``).

    Named endpoints are read from ``pyproject.toml`` (``pyproject=`` or the nearest one from the
    current directory upwards). ``options`` are :class:`Model` options (``interceptors``,
    ``budget``, ``concurrency``, ``context``) or endpoint overrides (``timeout``,
    ``max_tokens``, ``max_retries``, ``api``, ``base_url``, ...).
    """
    path = Path(pyproject) if pyproject is not None else find_pyproject()
    return Model(spec, endpoints=load_project(path), **options)
