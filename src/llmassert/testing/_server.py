"""The local OpenAI/Anthropic-compatible LLM test server: lifecycle, state, scripting API.

The server runs aiohttp on its own event loop in a background thread, so synchronous tests,
async tests and other processes can all talk to it over real HTTP. The request pipeline lives in
:mod:`llmassert.testing._handlers`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from llmassert._errors import ConfigError
from llmassert.testing._fault import Fault
from llmassert.testing._request import ServerRequest
from llmassert.testing._rules import ReplySpec, Rule

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["DEMO_MODELS", "LLMServer", "PublicInterfaceWarning", "is_loopback"]

#: Always listed by ``GET /v1/models`` (the models of the ``demo:`` endpoint).
DEMO_MODELS = ("prompted", "finetuned")

#: How long ``stop()`` waits for in-flight handlers before closing their connections.
_SHUTDOWN_GRACE_S = 0.5


class PublicInterfaceWarning(UserWarning):
    """The test server was bound to an address other machines can reach."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _as_rule(rule: Rule | ReplySpec) -> Rule:
    return rule if isinstance(rule, Rule) else Rule(rule)


class LLMServer:
    """A real HTTP server speaking the OpenAI and Anthropic wire formats, scripted by rules.

    ::

        with LLMServer([Rule("Paris", prompt_regex="capital of France")]) as server:
            client = OpenAI(base_url=server.openai_base_url, api_key="test")

    ``rules`` are tried in order; the first match answers; no match echoes the prompt.
    ``fault`` applies to every request not matched by a rule with its own fault.
    ``require_api_key`` makes the server answer 401 (in each provider's shape) unless the
    request carries that key (``Authorization: Bearer``, ``x-api-key`` or ``api-key``).
    ``on_request`` is called with every :class:`ServerRequest` as it arrives (on the server's
    thread; keep it quick).
    ``request_log_limit`` bounds the request log (and the rule-error list): only the most
    recent that many are kept, so a long-lived server's memory stays flat (``None``, the
    default: keep everything until :meth:`reset`).
    Binding a non-loopback ``host`` exposes the scripted server to the network: don't, unless
    you mean it.
    """

    def __init__(
        self,
        rules: Iterable[Rule | ReplySpec] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        fault: Fault | None = None,
        require_api_key: str | None = None,
        backlog: int = 2048,
        on_request: Callable[[ServerRequest], None] | None = None,
        request_log_limit: int | None = None,
    ) -> None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(f"LLMServer: port must be 0 (any free port) to 65535, got {port!r}")
        if request_log_limit is not None and (
            not isinstance(request_log_limit, int)
            or isinstance(request_log_limit, bool)
            or request_log_limit < 0
        ):
            raise ConfigError(
                "LLMServer: request_log_limit must be a whole number >= 0 (how many recent "
                f"requests to keep) or None (keep all), got {request_log_limit!r}"
            )
        if fault is not None and not isinstance(fault, Fault):
            raise ConfigError(f"LLMServer: fault must be a Fault, got {type(fault).__name__}")
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self.require_api_key = require_api_key
        self.backlog = backlog
        #: Called (on the server's thread) with every request as it arrives, e.g. to log it.
        self.on_request = on_request
        self._lock = threading.RLock()
        self._lifecycle = threading.Lock()
        self._rules: list[Rule] = [_as_rule(r) for r in rules or ()]
        self._fault = fault
        self._global_failures = 0
        self._rngs: dict[int, tuple[Fault, random.Random]] = {}
        # Faults whose hold_until_in_flight count was reached: id -> (fault, counter generation).
        self._gates: dict[int, tuple[Fault, int]] = {}
        # Held replies waiting for the in-flight count to grow (server thread only).
        self._flight_waiters: list[asyncio.Future[None]] = []
        self.request_log_limit = request_log_limit
        self._requests: deque[ServerRequest] = deque(maxlen=request_log_limit)
        self._errors: deque[str] = deque(maxlen=request_log_limit)
        self._seen_models: dict[str, None] = {}
        self._request_count = 0
        self._in_flight = 0
        self._max_in_flight = 0
        # Bumped by reset() / reset_counters(): requests that arrived before no longer count.
        self._generation = 0
        self._held = False
        # Set while running; used from the server thread only (except through call_soon_*).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> LLMServer:
        """Start serving (in a background thread). Idempotent and thread-safe; returns self."""
        with self._lifecycle:
            if self._thread is not None:
                return self
            started = threading.Event()
            failure: list[BaseException] = []
            loop = asyncio.new_event_loop()

            def run() -> None:
                asyncio.set_event_loop(loop)
                try:
                    loop.run_until_complete(self._open())
                except BaseException as exc:  # reported to start()'s caller
                    failure.append(exc)
                    started.set()
                    loop.close()
                    return
                started.set()
                try:
                    loop.run_forever()
                finally:
                    loop.close()

            thread = threading.Thread(
                target=run, name=f"llmassert-server-{id(self):x}", daemon=True
            )
            self._loop = loop
            thread.start()
            started.wait()
            if failure:
                thread.join()
                self._loop = None
                exc = failure[0]
                if isinstance(exc, OSError):
                    raise ConfigError(
                        f"LLMServer: cannot listen on {self.host}:{self._requested_port}: {exc}. "
                        "Pick another port (or port=0 for any free one)."
                    ) from None
                raise exc
            self._thread = thread
        if not is_loopback(self.host):
            warnings.warn(
                f"the llmassert test server listens on {self.host}:{self.port}, which is not a "
                "loopback address: anyone who can reach this machine can use it. Use "
                "host='127.0.0.1' unless you really mean it.",
                PublicInterfaceWarning,
                stacklevel=2,
            )
        return self

    async def _open(self) -> None:
        from aiohttp import web

        from llmassert.testing._handlers import build_app

        self._release = asyncio.Event()
        if not self._held:
            self._release.set()
        self._stopping = asyncio.Event()
        runner = web.AppRunner(
            build_app(self),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=_SHUTDOWN_GRACE_S,
        )
        await runner.setup()
        site = web.TCPSite(
            runner,
            self.host,
            self._requested_port,
            backlog=self.backlog,
            reuse_address=True,
        )
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        self._port = sockets[0].getsockname()[1] if sockets else self._requested_port

    async def _close(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def stop(self) -> None:
        """Stop serving; hung or held requests get their connection closed. Idempotent."""
        with self._lifecycle:
            thread, loop = self._thread, self._loop
            if thread is None or loop is None:
                return
            future = asyncio.run_coroutine_threadsafe(self._close(), loop)
            try:
                future.result(timeout=30)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=30)
                self._thread = None
                self._loop = None
                self._port = None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LLMServer is not running: call start() (or use `with`) first")
        return self._port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (IPv6 hosts bracketed; a wildcard bind gives the loopback
        address, which is what a local client should connect to)."""
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """What ``OpenAI(base_url=...)`` / ``OPENAI_BASE_URL`` take: ``{url}/v1``."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """What ``Anthropic(base_url=...)`` / ``ANTHROPIC_BASE_URL`` take: ``{url}``."""
        return self.url

    def env(self, *, api_keys: bool = True) -> dict[str, str]:
        """Environment variables that point both SDKs at this server.

        ``OPENAI_BASE_URL`` and ``ANTHROPIC_BASE_URL``, plus (with ``api_keys``) placeholder
        ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` (``require_api_key`` when set), so an
        application that builds ``OpenAI()`` / ``Anthropic()`` from the environment talks to the
        server unchanged::

            for name, value in llm_server.env().items():
                monkeypatch.setenv(name, value)
        """
        values = {
            "OPENAI_BASE_URL": self.openai_base_url,
            "ANTHROPIC_BASE_URL": self.anthropic_base_url,
        }
        if api_keys:
            key = self.require_api_key or "llmassert-test-key"
            values.update(OPENAI_API_KEY=key, ANTHROPIC_API_KEY=key)
        return values

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<LLMServer {where} rules={len(self._rules)}>"

    # ----------------------------------------------------------------- scripting

    def add_rule(self, rule: Rule | ReplySpec = None, /, **conditions: Any) -> Rule:
        """Append a rule (tried after the existing ones) and return it.

        Either a :class:`Rule`, or its arguments: ``server.add_rule("Paris", prompt_regex=...)``.
        """
        if not isinstance(rule, Rule):
            rule = Rule(rule, **conditions)
        elif conditions:
            raise ConfigError("add_rule: pass either a Rule or a reply with conditions, not both")
        with self._lock:
            self._rules.append(rule)
            if rule.model is not None:
                self._seen_models.setdefault(rule.model, None)
        return rule

    def set_rules(self, rules: Iterable[Rule | ReplySpec]) -> None:
        """Replace every rule."""
        new_rules = [_as_rule(r) for r in rules]
        with self._lock:
            self._rules = new_rules

    def clear_rules(self) -> None:
        with self._lock:
            self._rules = []

    @property
    def rules(self) -> list[Rule]:
        """The rules, in the order they are tried (a copy)."""
        with self._lock:
            return list(self._rules)

    @property
    def fault(self) -> Fault | None:
        """The global fault (applies to requests not matched by a rule with its own fault)."""
        return self._fault

    @fault.setter
    def fault(self, value: Fault | None) -> None:
        if value is not None and not isinstance(value, Fault):
            raise ConfigError(f"LLMServer.fault must be a Fault or None, got {value!r}")
        with self._lock:
            self._fault = value
            self._global_failures = 0

    def reset(self) -> None:
        """Back to a fresh server: no rules, no global fault, empty request log, counters zero,
        replies not held."""
        with self._lock:
            self._rules = []
            self._fault = None
            self._global_failures = 0
            self._rngs.clear()
            self._gates.clear()
            self._requests.clear()
            self._errors.clear()
            self._seen_models = {}
            self._restart_counters()
        self.release()

    # ----------------------------------------------------------------- holding replies

    def hold(self) -> None:
        """Hold every reply (requests are received, counted and wait) until :meth:`release`."""
        with self._lock:
            self._held = True
            loop, event = self._loop, self._release
        if loop is None or event is None or not self.running:
            return
        if threading.current_thread() is self._thread:  # from a rule callable: no waiting
            event.clear()
        else:
            asyncio.run_coroutine_threadsafe(_clear(event), loop).result(timeout=10)

    def release(self) -> None:
        """Let held replies go (and stop holding new ones)."""
        with self._lock:
            self._held = False
            loop, event = self._loop, self._release
        if loop is not None and event is not None:
            loop.call_soon_threadsafe(event.set)

    def wait_for_in_flight(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests are in flight; ``False`` on timeout."""
        return _wait_until(lambda: self._in_flight >= count, timeout)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests have arrived; ``False`` on timeout."""
        return _wait_until(lambda: self._request_count >= count, timeout)

    # ----------------------------------------------------------------- request log

    @property
    def requests(self) -> list[ServerRequest]:
        """Every request received, in arrival order (a snapshot copy); with
        ``request_log_limit``, only the most recent that many."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> ServerRequest | None:
        """The most recent request, or ``None`` before the first."""
        with self._lock:
            return self._requests[-1] if self._requests else None

    @property
    def errors(self) -> list[str]:
        """Errors raised by rule callables (``when`` / reply functions), answered as 500s, and
        ``Fault.hold_until_in_flight`` holds that timed out."""
        with self._lock:
            return list(self._errors)

    @property
    def request_count(self) -> int:
        """Requests received (since start or the last reset)."""
        return self._request_count

    @property
    def in_flight(self) -> int:
        """Requests received and not yet answered (since start or the last reset)."""
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests ever in flight at once (since start or the last reset)."""
        return self._max_in_flight

    def reset_counters(self) -> None:
        """Zero ``request_count``, ``in_flight`` and ``max_in_flight``: requests still running
        from before (e.g. a hung one a client gave up on) no longer count."""
        with self._lock:
            self._restart_counters()

    def _restart_counters(self) -> None:
        self._generation += 1
        self._request_count = 0
        self._in_flight = 0
        self._max_in_flight = 0

    @property
    def models(self) -> list[str]:
        """What ``GET /v1/models`` lists: rules' models, the demo models, every model seen."""
        with self._lock:
            names = dict.fromkeys(r.model for r in self._rules if r.model is not None)
            names.update(dict.fromkeys(DEMO_MODELS))
            names.update(self._seen_models)
        return list(names)

    # ----------------------------------------------------------------- used by the handlers

    def _enter(self) -> int:
        """Count a request in (on the server's thread); returns the token to give to
        :meth:`_leave`."""
        with self._lock:
            self._request_count += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            generation = self._generation
        self._wake_flight_waiters()
        return generation

    def _wake_flight_waiters(self) -> None:
        waiters, self._flight_waiters = self._flight_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _gate_open(self, fault: Fault) -> bool:
        """Whether ``fault``'s ``hold_until_in_flight`` count was reached (this generation);
        opens it when the count is reached now. Call with the lock held."""
        gate = self._gates.get(id(fault))
        if gate is not None and gate[0] is fault and gate[1] == self._generation:
            return True
        count = fault.hold_until_in_flight
        if count is None or self._in_flight >= count:
            self._gates[id(fault)] = (fault, self._generation)
            return True
        return False

    async def _wait_in_flight(self, fault: Fault) -> bool:
        """Hold the reply until ``fault.hold_until_in_flight`` requests are in flight at once
        (or ``hold_timeout_s`` passed); ``False`` if the server is stopping."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + fault.hold_timeout_s
        stopping = self._stopping
        while True:
            with self._lock:
                opened = self._gate_open(fault)
                in_flight = self._in_flight
                timed_out = not opened and loop.time() >= deadline
                if timed_out:  # let the rest go too: one timeout per count, not per request
                    self._gates[id(fault)] = (fault, self._generation)
            if opened or timed_out:
                self._wake_flight_waiters()  # the others see the open gate
                if timed_out:
                    self._record_error(
                        f"llmassert test server: Fault(hold_until_in_flight="
                        f"{fault.hold_until_in_flight}) let replies go after hold_timeout_s="
                        f"{fault.hold_timeout_s:g} with only {in_flight} requests in flight"
                    )
                return not (stopping is not None and stopping.is_set())
            if stopping is not None and stopping.is_set():
                return False
            waiter: asyncio.Future[None] = loop.create_future()
            self._flight_waiters.append(waiter)
            waiters: set[asyncio.Future[Any]] = {waiter}
            if stopping is not None:
                waiters.add(asyncio.ensure_future(stopping.wait()))
            try:
                await asyncio.wait(
                    waiters,
                    timeout=max(deadline - loop.time(), 0.0),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                for pending in waiters:
                    pending.cancel()

    def _leave(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._in_flight -= 1

    def _record(self, request: ServerRequest) -> None:
        with self._lock:
            self._requests.append(request)
            if request.model and request.api != "models":
                self._seen_models.setdefault(request.model, None)
        if self.on_request is not None:
            try:
                self.on_request(request)
            except Exception as exc:  # a broken logger must not break the server
                self._record_error(f"llmassert test server: on_request raised {exc!r}")

    def _record_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def _select(self, request: ServerRequest) -> tuple[Rule | None, Fault | None, bool]:
        """The rule answering ``request`` (or ``None``: echo), the fault that applies, and
        whether this request is one of the fault's injected failures. Counts the use."""
        with self._lock:
            rules = list(self._rules)
            global_fault = self._fault
        for rule in rules:
            if rule.exhausted() or not rule.matches(request):
                continue
            fault = rule.fault if rule.fault is not None else global_fault
            if rule.fault is not None:
                failing = rule._take_failure(rule.fault.fail_times)
            else:
                failing = self._take_global_failure(global_fault)
            if not failing and not rule._take_use():
                continue
            return rule, fault, failing
        return None, global_fault, self._take_global_failure(global_fault)

    def _take_global_failure(self, fault: Fault | None) -> bool:
        if fault is None or fault.fail_times == 0:
            return False
        with self._lock:
            if self._global_failures < fault.fail_times:
                self._global_failures += 1
                return True
            return False

    def _latency(self, fault: Fault) -> float:
        if fault.latency_jitter_s <= 0:
            return fault.latency_s
        with self._lock:
            entry = self._rngs.get(id(fault))
            if entry is None or entry[0] is not fault:
                entry = (fault, random.Random(fault.seed))
                self._rngs[id(fault)] = entry
            jitter = entry[1].uniform(0.0, fault.latency_jitter_s)
        return fault.latency_s + jitter

    async def _wait_released(self) -> bool:
        """Wait while replies are held; ``False`` if the server is stopping."""
        release, stopping = self._release, self._stopping
        if release is None or stopping is None or release.is_set():
            return not (stopping is not None and stopping.is_set())
        waiters = {asyncio.ensure_future(release.wait()), asyncio.ensure_future(stopping.wait())}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return not stopping.is_set()

    async def _wait_stopping(self, delay: float | None = None) -> bool:
        """Sleep ``delay`` seconds (forever when ``None``) or until the server stops; ``True``
        when the server is stopping."""
        stopping = self._stopping
        if stopping is None:
            if delay:
                await asyncio.sleep(delay)
            return False
        if delay is not None and delay <= 0:
            return stopping.is_set()
        try:
            await asyncio.wait_for(stopping.wait(), timeout=delay)
        except asyncio.TimeoutError:
            return False
        return True


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` every 2 ms until it holds (``True``) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)
    return True


async def _clear(event: asyncio.Event) -> None:
    event.clear()
