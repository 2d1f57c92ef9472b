"""Exceptions raised by ue-magic.

Every message is one short sentence of what happened and what to do. No message, repr or
cause chain may carry a client secret or an access token: raise ``from None`` where the cause
would carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class UsageEngineError(Exception):
    """Base class of every error ue-magic raises on purpose."""


class ConfigurationError(UsageEngineError):
    """The settings (environment, .env file, options) are missing or wrong."""


class MissingCredentialsError(ConfigurationError):
    """The client id or secret was found nowhere; ``missing`` names the variables."""

    def __init__(self, message: str, missing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.missing = missing


class TokenError(UsageEngineError):
    """The token endpoint did not give a token."""


class InvalidClientError(TokenError):
    """Wrong client id or secret, or an audience the server does not know: not retried."""


class TokenRateLimitedError(TokenError):
    """The token endpoint kept answering 429."""


class TokenServerError(TokenError):
    """The token endpoint failed (5xx, connection error, timeout, unreadable answer)."""


class OriginError(UsageEngineError):
    """A request would carry the token to another origin, or over plain http off loopback."""


class ApiConnectionError(UsageEngineError):
    """The API could not be reached (after the retries allowed)."""


class AnswerTooLargeError(UsageEngineError):
    """An answer was bigger than the size limit (``max_bytes``); it is not retried."""


class ClientClosedError(ApiConnectionError):
    """The client was used after ``close()`` (a logout, or a new login replaced it)."""


@dataclass(frozen=True)
class DeferredError:
    """An error kept as data, raised later outside any ``except`` block.

    Raised there, the exception has no ``__context__`` and no traceback frame that held a
    secret or a token. ``message`` may hold ``{attempts}`` (-> " (4 attempts)") or ``{after}``
    (-> " after 4 attempts"), both empty after one attempt. ``retry``: a failure without an
    answer that may be tried again; ``status`` and ``retry_after`` (the header, unparsed) come
    from an answer, if there was one; ``reason`` is a short "what happened" for log lines.
    """

    error: type[UsageEngineError]
    message: str
    retry: bool = False
    status: int | None = None
    retry_after: str | None = None
    reason: str = "failed"

    def exception(self, attempts: int = 1) -> UsageEngineError:
        """The exception to raise after ``attempts`` tries."""
        counted = f" ({attempts} attempts)" if attempts > 1 else ""
        after = f" after {attempts} attempts" if attempts > 1 else ""
        return self.error(self.message.replace("{attempts}", counted).replace("{after}", after))


class HttpStatusError(UsageEngineError):
    """The API answered 4xx or 5xx (raised by %%ue_call after showing the answer).

    ``response``: the ``httpx.Response`` (its Authorization header masked), or None.
    """

    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response
