"""Scripted behaviour of the test server: which reply (and fault) a request gets."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TypeAlias

from llmassert._errors import ConfigError
from llmassert.testing._fault import Fault
from llmassert.testing._reply import ErrorReply, Reply
from llmassert.testing._request import ServerRequest

__all__ = ["ReplySpec", "Rule", "RuleFailure", "resolve_reply"]

#: What a rule answers: a :class:`Reply`, a plain string (``Reply(text=...)``), an
#: :class:`ErrorReply`, or a callable computing one of those from the request.
ReplySpec: TypeAlias = (
    Reply | str | ErrorReply | Callable[[ServerRequest], Reply | str | ErrorReply] | None
)

_APIS = ("chat.completions", "completions", "embeddings", "models", "responses", "messages")
_PROVIDERS = ("openai", "anthropic")


class RuleFailure(Exception):
    """A rule's ``when`` predicate raised (the server answers 500 and reports it)."""

    def __init__(self, rule: Rule, error: BaseException) -> None:
        super().__init__(f"{rule!r}: {error!r}")
        self.rule = rule
        self.error = error


class Rule:
    """Answer matching requests with ``reply``.

    Every condition given must hold: ``model`` (exact model name), ``prompt`` (exact text of
    :attr:`ServerRequest.prompt`, the last user message), ``prompt_regex`` (``re.search`` on
    it), ``when`` (a predicate on the :class:`ServerRequest`), ``api`` (e.g.
    ``"chat.completions"``), ``provider`` (``"openai"`` / ``"anthropic"``). The server uses the
    first matching rule, in the order added. ``times`` limits how often the rule answers (injected
    failures do not count), after which later rules (or the echo fallback) take over.

    ``reply`` may be a :class:`Reply`, a string (``Reply(text=...)``), an :class:`ErrorReply`, a
    callable ``(ServerRequest) -> Reply | str | ErrorReply``, or ``None`` (echo the prompt: useful
    for a rule that only injects a ``fault``).
    """

    def __init__(
        self,
        reply: ReplySpec = None,
        *,
        model: str | None = None,
        prompt: str | None = None,
        prompt_regex: str | re.Pattern[str] | None = None,
        when: Callable[[ServerRequest], bool] | None = None,
        api: str | None = None,
        provider: str | None = None,
        fault: Fault | None = None,
        times: int | None = None,
        name: str | None = None,
    ) -> None:
        where = f"Rule {name!r}" if name else "Rule"
        if not (reply is None or isinstance(reply, (Reply, str, ErrorReply)) or callable(reply)):
            raise ConfigError(
                f"{where}: reply must be a Reply, a str, an ErrorReply or a callable, "
                f"got {type(reply).__name__}"
            )
        if isinstance(prompt_regex, str):
            try:
                prompt_regex = re.compile(prompt_regex)
            except re.error as exc:
                raise ConfigError(
                    f"{where}: invalid prompt_regex {prompt_regex!r}: {exc}"
                ) from None
        if api is not None and api not in _APIS:
            raise ConfigError(f"{where}: unknown api {api!r}; expected one of {', '.join(_APIS)}")
        if provider is not None and provider not in _PROVIDERS:
            raise ConfigError(
                f"{where}: unknown provider {provider!r}; expected one of {', '.join(_PROVIDERS)}"
            )
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ConfigError(f"{where}: times must be a whole number >= 1, got {times!r}")
        if fault is not None and not isinstance(fault, Fault):
            raise ConfigError(f"{where}: fault must be a Fault, got {type(fault).__name__}")
        if when is not None and not callable(when):
            raise ConfigError(f"{where}: when must be a callable taking the ServerRequest")
        self.reply = reply
        self.model = model
        self.prompt = prompt
        self.prompt_regex: re.Pattern[str] | None = prompt_regex
        self.when = when
        self.api = api
        self.provider = provider
        self.fault = fault
        self.times = times
        self.name = name
        self._lock = threading.Lock()
        self._uses = 0
        self._failures = 0

    def __repr__(self) -> str:
        parts = [f"{self.reply!r}"]
        for key in ("model", "prompt", "api", "provider", "times", "name"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={value!r}")
        if self.prompt_regex is not None:
            parts.append(f"prompt_regex={self.prompt_regex.pattern!r}")
        return f"Rule({', '.join(parts)})"

    @property
    def uses(self) -> int:
        """How many requests this rule answered with its reply."""
        return self._uses

    def matches(self, request: ServerRequest) -> bool:
        """Whether every condition of the rule holds for ``request`` (ignores ``times``)."""
        if self.api is not None and request.api != self.api:
            return False
        if self.provider is not None and request.provider != self.provider:
            return False
        if self.model is not None and request.model != self.model:
            return False
        if self.prompt is not None and request.prompt != self.prompt:
            return False
        if self.prompt_regex is not None and not self.prompt_regex.search(request.prompt):
            return False
        if self.when is None:
            return True
        try:
            return bool(self.when(request))
        except Exception as exc:
            raise RuleFailure(self, exc) from exc

    def exhausted(self) -> bool:
        return self.times is not None and self._uses >= self.times

    def _take_failure(self, fail_times: int) -> bool:
        """Count one request against the rule's fault; ``True`` when it must fail."""
        with self._lock:
            if self._failures < fail_times:
                self._failures += 1
                return True
            return False

    def _take_use(self) -> bool:
        """Count one answered request; ``False`` if the rule is used up."""
        with self._lock:
            if self.times is not None and self._uses >= self.times:
                return False
            self._uses += 1
            return True

    def _reset(self) -> None:
        with self._lock:
            self._uses = 0
            self._failures = 0


def resolve_reply(spec: ReplySpec, request: ServerRequest) -> Reply | ErrorReply:
    """Turn a rule's ``reply`` into a concrete :class:`Reply` or :class:`ErrorReply`."""
    value = spec(request) if callable(spec) else spec
    if value is None:
        return Reply(text=request.prompt)
    if isinstance(value, str):
        return Reply(text=value)
    if isinstance(value, (Reply, ErrorReply)):
        return value
    raise ConfigError(
        "a rule's reply callable must return a Reply, a str or an ErrorReply, "
        f"got {type(value).__name__}"
    )
