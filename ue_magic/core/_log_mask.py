"""No secret in a log record: httpx logs each answer's reason phrase (INFO), httpcore its headers
(DEBUG), and ue-magic its retries, all before any answer is scrubbed; a token endpoint or an API
that echoes what it was sent puts the client secret or the token there, URL-encoded, in base64,
JSON-escaped. A filter on each of those loggers masks every such form (``_forms.secret_forms``)
of the live tokens and the client secret, in the message, its arguments, the exception's text
and the stack text, for a user who turns logging on.
"""

from __future__ import annotations

import functools
import logging
import weakref
from typing import Any, Protocol

from ._forms import scrub, secret_forms

__all__ = ["live_holders", "mask_in_logs"]

# httpx logs on "httpx"; httpcore on one logger per module, and a filter on a parent logger
# does not see its children's records: so each one, and any child that exists when a login starts
_PREFIXES = ("httpx", "httpcore", "ue_magic")
_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "ue_magic",
)


class SecretHolder(Protocol):
    def _secrets(self) -> tuple[str, ...]: ...


@functools.lru_cache(maxsize=64)
def _forms(value: str) -> tuple[str, ...]:
    return secret_forms(value)


class _LogMask(logging.Filter):
    """Masks the secrets of every registered holder in a record (then final)."""

    def __init__(self) -> None:
        super().__init__()
        self.holders: weakref.WeakSet[SecretHolder] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        values = {v for h in list(self.holders) for v in h._secrets() if v}
        if not values:
            return True
        forms = sorted({f for v in values for f in _forms(v)}, key=len, reverse=True)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: shown as written
            message = f"{record.msg} {record.args!r}"
        arguments = repr(record.args) if record.args else ""
        masked = scrub(message, *forms)
        if masked != message or scrub(arguments, *forms) != arguments:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and (masked := scrub(record.exc_text, *forms)) != record.exc_text:
            # the text is kept, masked; the exception object (its frames hold the values) is not
            record.exc_text, record.exc_info = masked, None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, *forms)
        return True


_LOG_MASK = _LogMask()


def live_holders() -> list[Any]:
    """The holders registered and still alive (the logins' token managers)."""
    return list(_LOG_MASK.holders)


def mask_in_logs(holder: SecretHolder) -> None:
    """From now on (while ``holder`` lives) its ``_secrets()`` (live tokens, the client secret)
    are shown as ``***``, in every encoding, in httpx's, httpcore's and ue-magic's log records."""
    _LOG_MASK.holders.add(holder)
    names = set(_LOGGERS)
    names |= {
        name for name in list(logging.Logger.manager.loggerDict) if name.split(".")[0] in _PREFIXES
    }
    for name in sorted(names):
        logger = logging.getLogger(name)
        if _LOG_MASK not in logger.filters:
            logger.addFilter(_LOG_MASK)
