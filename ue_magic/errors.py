"""Exceptions raised by ue-magic.

Every message is one short sentence of what happened and what to do. No message, repr or
cause chain may carry a client secret or an access token: raise ``from None`` where the cause
would carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._visible import visible

if TYPE_CHECKING:
    import httpx


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


class SecretInRequestError(UsageEngineError):
    """A request would carry a login's client secret, or an access token outside its
    Authorization header (a placeholder or a value reached it); nothing was sent."""


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


_QUOTE_WIDTH = 76  # characters of the offending line quoted around the column


class RequestSyntaxError(UsageEngineError, ValueError):
    """A mistake in the cell or the magic line, found before anything is sent.

    ``line`` is 1-based in the cell (0 means the magic line), ``column`` is 1-based, and
    ``source_line`` is the line as written, so the message can point at the mistake.
    """

    def __init__(
        self, message: str, line: int = 1, column: int = 1, source_line: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line

    def __str__(self) -> str:
        where = "Magic line" if self.line == 0 else f"Line {self.line}"
        text = f"{where}, column {self.column}: {self.message}"
        if self.source_line is None:
            return text
        shown, caret = _window(self.source_line, self.column)
        return f"{text}\n    {shown}\n    {' ' * caret}^"


class UnknownNameError(RequestSyntaxError):
    """``{{ name }}`` names nothing in the namespace; ``name`` is the missing root name,
    ``close`` the nearest defined name (``api_calls`` for ``api_call``), or None."""

    def __init__(
        self,
        name: str,
        line: int,
        column: int,
        source_line: str | None,
        close: str | None = None,
    ) -> None:
        hint = (
            f"did you mean {close!r}?" if close else "run the cell that sets it, or fix the name."
        )
        super().__init__(
            f"{name!r} is not defined; {hint}",
            line,
            column,
            source_line,
        )
        self.name = name
        self.close = close


def _window(source: str, column: int) -> tuple[str, int]:
    """A slice of a long line around the column, and the caret offset in that slice; control
    characters in it shown as escapes (``visible``), the caret still under its character."""
    source = source.replace("\t", " ")
    start = max(0, min(column - 1 - _QUOTE_WIDTH // 2, len(source) - _QUOTE_WIDTH))
    prefix = "…" if start else ""
    end = start + _QUOTE_WIDTH
    suffix = "…" if end < len(source) else ""
    piece, before = source[start:end], source[start : max(start, column - 1)]
    caret = len(visible(before, one_line=True)) + max(0, column - 1 - start - len(before))
    return prefix + visible(piece, one_line=True) + suffix, caret + len(prefix)


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
            shown, caret = _window(source_line.rstrip(), max(column, 1))
            text += f"\n    {shown}\n    {' ' * caret}^"
        super().__init__(text)
        self.path = path
        self.expected = expected
        self.line = line
        self.column = column
        self.source_line = source_line
