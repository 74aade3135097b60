"""Every exception llmassert raises, in one place.

The tree::

    LLMAssertError                      base of every llmassert error (not of assertion failures)
    ├── UsageError (ValueError)         bad arguments or configuration: fix the call or the file
    │   ├── ModelSpecError              malformed model spec, unknown provider or endpoint
    │   ├── ConfigError                 bad option / ini / pyproject value, bad rules or case file
    │   ├── MissingAPIKeyError          the environment variable holding the key is not set
    │   └── UnsupportedParameterError   a generation parameter the provider does not support
    ├── ProviderError                   a call to a model endpoint failed
    │   ├── EndpointUnreachableError    connection refused / DNS / reset (shows the URL)
    │   ├── ModelTimeoutError           the endpoint did not answer in time
    │   ├── AuthenticationError         401 / 403
    │   ├── ModelNotFoundError          404 for the model
    │   ├── ContextLengthError          the prompt does not fit the model's context window
    │   ├── RateLimitError              429 that stayed after retries
    │   │   └── QuotaExceededError      429 insufficient_quota: never retried
    │   └── ServerError                 5xx / 529 that stayed after retries
    ├── BudgetExceededError             --llm-max-cost / --llm-max-calls reached
    ├── JudgeError                      the judge model's verdict could not be read
    └── RecordingError                  record & replay store
        ├── RecordingMissingError       record mode "none" and no stored response
        └── CorruptRecordingError       a stored recording cannot be read (also a UsageError)

    LLMAssertionError (AssertionError)  raised by every ``assert_*`` helper

Bad input always raises a :class:`UsageError` (a ``ValueError``), never an ``AssertionError``:
a typo in a test is not a model failure.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BudgetExceededError",
    "ConfigError",
    "ContextLengthError",
    "CorruptRecordingError",
    "EndpointUnreachableError",
    "JudgeError",
    "LLMAssertError",
    "LLMAssertionError",
    "MissingAPIKeyError",
    "ModelNotFoundError",
    "ModelSpecError",
    "ModelTimeoutError",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitError",
    "RecordingError",
    "RecordingMissingError",
    "ServerError",
    "UnsupportedParameterError",
    "UsageError",
]


class LLMAssertError(Exception):
    """Base class of every error llmassert raises (assertion failures excepted)."""


class UsageError(LLMAssertError, ValueError):
    """Bad arguments or configuration. The message names the argument, file or field and the fix."""


class ModelSpecError(UsageError):
    """A model spec is malformed or names an unknown provider or endpoint."""


class ConfigError(UsageError):
    """A configuration value (option, ini key, pyproject table, rules or case file) is invalid."""


class MissingAPIKeyError(UsageError):
    """The environment variable that should hold an API key is not set."""


class UnsupportedParameterError(UsageError):
    """A generation parameter is not supported by the provider; it is never silently dropped."""


class ProviderError(LLMAssertError):
    """A call to a model endpoint failed.

    ``endpoint`` names the endpoint (spec or URL), ``status`` is the HTTP status when there was
    one, ``request_id`` the provider's request id when it sent one. The message is one short
    block (endpoint, status, request id, the provider's message with known secrets masked, what
    to do).

    ``sdk_error`` is the ``openai`` / ``anthropic`` SDK exception behind a live failure, for
    debugging (``None`` for a replayed error and for checks llmassert makes itself). It is
    deliberately not chained (``raise ... from None``): the SDK's message may echo the API key,
    and its frames would bury the message, so it is never printed with this error. A replayed
    error (a recorded 400, 404, 413, 422, ...) has the same type, message and status as the
    live one. ``attempts`` is how many times the call was sent (more than 1 when the retry layer
    gave up after retrying; 0 when it failed at once without a request, e.g. an endpoint known
    to be unreachable).
    """

    attempts: int = 1

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        sdk_error: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.request_id = request_id
        self.sdk_error = sdk_error


class EndpointUnreachableError(ProviderError):
    """The endpoint could not be reached (connection refused, reset, DNS failure)."""


class ModelTimeoutError(ProviderError):
    """The endpoint did not answer within the configured timeout."""


class AuthenticationError(ProviderError):
    """The endpoint rejected the API key (401/403)."""


class ModelNotFoundError(ProviderError):
    """The endpoint does not know the model (404)."""


class ContextLengthError(ProviderError):
    """The request does not fit the model's context window."""


class RateLimitError(ProviderError):
    """Rate limited (429) and retries did not help."""


class QuotaExceededError(RateLimitError):
    """The account's quota is exhausted (429 ``insufficient_quota``); retrying cannot help."""


class ServerError(ProviderError):
    """The endpoint failed (5xx, Anthropic 529 overloaded) and retries did not help."""


class BudgetExceededError(LLMAssertError):
    """A spending guard (``--llm-max-cost`` / ``--llm-max-calls``) stopped a live call."""


class JudgeError(LLMAssertError):
    """The judge model answered, but no readable verdict came out of it, even after retries
    (not JSON, no score, a score outside the declared range).

    Not an assertion failure: nothing is known about the output under test. ``judge`` is the
    judge's spec, ``attempts`` how many verdicts were asked for, ``answers`` the judge's raw
    answers (as received, secrets masked in the message) and ``problems`` why each one was
    rejected.
    """

    def __init__(
        self,
        message: str,
        *,
        judge: str = "",
        attempts: int = 0,
        answers: tuple[str, ...] = (),
        problems: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.judge = judge
        self.attempts = attempts
        self.answers = answers
        self.problems = problems


class RecordingError(LLMAssertError):
    """Base class of record & replay store errors."""


class RecordingMissingError(RecordingError):
    """Record mode ``none`` and no stored response for the request."""


class CorruptRecordingError(RecordingError, UsageError):
    """A stored recording file cannot be read; the message names the file and the fix.

    Also a :class:`UsageError`: the fix is in the project's files (delete or re-record), not in
    the model.
    """


class LLMAssertionError(AssertionError):
    """Raised by every ``assert_*`` helper: the model output did not meet the expectation.

    ``result`` carries the check result (``passed``, ``score``, ``reason``) when there is one.
    """

    def __init__(self, message: str, *, result: object | None = None) -> None:
        super().__init__(message)
        self.result = result


# Show the public path in tracebacks and reprs (``llmassert.LLMAssertionError``), not this module.
for _name in __all__:
    globals()[_name].__module__ = "llmassert"
del _name
