"""Fault injection for the test server: latency, failures, hangs, resets, broken bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

from llmassert._errors import ConfigError
from llmassert.testing._reply import ErrorReply

__all__ = ["Fault"]


@dataclass(frozen=True)
class Fault:
    """What goes wrong with a reply, per rule (``Rule(..., fault=...)``) or for the whole server
    (``LLMServer(fault=...)`` / ``server.fault = ...``). A rule's fault replaces the global fault
    for the requests that rule matches.

    - ``latency_s`` (+ a uniform random ``0..latency_jitter_s``, drawn from a generator seeded
      with ``seed``): wait before answering (before the headers, streamed or not).
    - ``ttft_s``: streams only, extra wait before the first event; ``token_delay_s``: wait
      between stream events.
    - ``fail_times``: the first N requests fail with ``fail_with``, later ones succeed (counted
      per rule, or per server for the global fault; ``server.reset()`` restarts the count).
    - ``hang``: never answer (a client timeout fires; server shutdown is not blocked).
    - ``reset_connection``: abort the TCP connection without an answer.
    - ``malformed_json``: answer 200 with a truncated JSON body (streams: a truncated event).
    - ``stream_error_after``: streams only, send N events, then the provider's error event
      (built from ``fail_with``) and end the stream. Combined with ``hang`` the stream stalls
      after N events instead (a client read timeout fires); with ``reset_connection`` the
      connection drops after N events.
    - ``hold_until_in_flight``: hold each reply until that many requests are in flight at the
      server at once (the count ``server.in_flight`` reports), then let them all go; once the
      count was reached, later requests are not held (until ``server.reset_counters()`` /
      ``reset()``). After ``hold_timeout_s`` a held reply goes anyway and the server notes it in
      ``server.errors``. A concurrency test then proves N requests were in flight together
      without depending on a latency being long enough.
    """

    latency_s: float = 0.0
    latency_jitter_s: float = 0.0
    ttft_s: float = 0.0
    token_delay_s: float = 0.0
    fail_times: int = 0
    fail_with: ErrorReply = field(default_factory=lambda: ErrorReply(status=500))
    hang: bool = False
    reset_connection: bool = False
    malformed_json: bool = False
    stream_error_after: int | None = None
    seed: int | None = None
    hold_until_in_flight: int | None = None
    hold_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("latency_s", "latency_jitter_s", "ttft_s", "token_delay_s", "hold_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"Fault.{name}: expected seconds >= 0, got {value!r}")
        if not isinstance(self.fail_times, int) or self.fail_times < 0:
            raise ConfigError(
                f"Fault.fail_times: expected a whole number >= 0, got {self.fail_times!r}"
            )
        if self.stream_error_after is not None and (
            not isinstance(self.stream_error_after, int) or self.stream_error_after < 0
        ):
            raise ConfigError(
                "Fault.stream_error_after: expected a whole number >= 0 (events before the "
                f"error) or None, got {self.stream_error_after!r}"
            )
        count = self.hold_until_in_flight
        if count is not None and (
            not isinstance(count, int) or isinstance(count, bool) or count < 1
        ):
            raise ConfigError(
                "Fault.hold_until_in_flight: expected a whole number >= 1 (requests in flight at "
                f"once) or None, got {count!r}"
            )
        if not isinstance(self.fail_with, ErrorReply):
            raise ConfigError(
                f"Fault.fail_with: expected an ErrorReply, got {type(self.fail_with).__name__}"
            )
