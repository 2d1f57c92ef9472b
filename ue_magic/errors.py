"""Exceptions raised by ue-magic.

Every message is one short sentence of what happened and what to do. No message, repr or
cause chain may carry a client secret or an access token: raise ``from None`` where the cause
would carry them.
"""

from __future__ import annotations


class UsageEngineError(Exception):
    """Base class of every error ue-magic raises on purpose."""


class ConfigurationError(UsageEngineError):
    """The settings (environment, .env file, options) are missing or wrong."""


class MissingCredentialsError(ConfigurationError):
    """The client id or secret was found nowhere; ``missing`` names the variables and
    ``looked_in`` says where they were looked for (for prompts and front-end messages)."""

    def __init__(self, message: str, missing: tuple[str, ...], looked_in: str = "") -> None:
        super().__init__(message)
        self.missing = missing
        self.looked_in = looked_in


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


class HttpStatusError(UsageEngineError):
    """The API answered 4xx or 5xx (raised by %%ue_call after showing the answer)."""
