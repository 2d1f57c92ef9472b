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


class HttpStatusError(UsageEngineError):
    """The API answered 4xx or 5xx (raised by %%ue_call after showing the answer)."""


class DescriptionError(UsageEngineError):
    """The API description (openapi.json) cannot be read, parsed or resolved; ue-magic goes on
    without it. The message names the file or URL and the problem."""


class BodyCheckError(UsageEngineError):
    """A JSON body does not match the operation's request schema; nothing was sent.

    ``path`` is a JSON path (``$.thresholds[0].name``), ``expected`` says what the schema wants,
    ``line`` and ``column`` (1-based, in the cell; 0 when unknown) point at the value.
    """

    def __init__(
        self, path: str, expected: str, line: int = 0, column: int = 0, source_line: str = ""
    ) -> None:
        where = f"Line {line}, column {column}: " if line else ""
        text = f"{where}{path}: {expected} (--no-validate sends it anyway)."
        if line and source_line:
            text += f"\n    {source_line.rstrip()}\n    {' ' * max(column - 1, 0)}^"
        super().__init__(text)
        self.path = path
        self.expected = expected
        self.line = line
        self.column = column
        self.source_line = source_line
