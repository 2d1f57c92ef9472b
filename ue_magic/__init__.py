"""ue-magic: DigitalRoute Usage Engine APIs from Jupyter, IPython and plain Python.

``%load_ext ue_magic`` registers the magics; ``Credentials`` and ``UsageEngineClient`` work
without IPython. Imports are lazy so that loading the extension stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# the exception roof, imported at once (errors.py imports nothing): every error ue-magic raises is
# a UsageEngineError; a failed HTTP status from the magics is HttpStatusError, with its response
from .errors import (
    AnswerTooLargeError,
    ApiConnectionError,
    BodyCheckError,
    ClientClosedError,
    ConfigurationError,
    DescriptionError,
    HttpStatusError,
    InvalidClientError,
    MissingCredentialsError,
    OriginError,
    RequestSyntaxError,
    SecretInRequestError,
    TokenError,
    TokenRateLimitedError,
    TokenServerError,
    UnknownNameError,
    UsageEngineError,
)

if TYPE_CHECKING:
    from .core._client import UsageEngineClient
    from .core.credentials import Credentials, Secret
    from .core.token import TokenInfo, TokenManager

__version__ = "0.1.0"
__all__ = [
    "AnswerTooLargeError",
    "ApiConnectionError",
    "BodyCheckError",
    "ClientClosedError",
    "ConfigurationError",
    "Credentials",
    "DescriptionError",
    "HttpStatusError",
    "InvalidClientError",
    "MissingCredentialsError",
    "OriginError",
    "RequestSyntaxError",
    "Secret",
    "SecretInRequestError",
    "TokenError",
    "TokenInfo",
    "TokenManager",
    "TokenRateLimitedError",
    "TokenServerError",
    "UnknownNameError",
    "UsageEngineClient",
    "UsageEngineError",
    "client",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_LAZY = {
    "Credentials": ".core.credentials",
    "Secret": ".core.credentials",
    "TokenInfo": ".core.token",
    "TokenManager": ".core.token",
    "UsageEngineClient": ".core._client",
}


def __dir__() -> list[str]:
    """The public names, the lazy ones too (what Tab offers after ``ue_magic.``); not the
    module's own helpers (``Any``, ``TYPE_CHECKING``)."""
    return sorted([*__all__, "__version__"])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ue_magic' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


def client(profile: str | None = None) -> UsageEngineClient:
    """The client that ``%ue_login`` (with this profile) logged in, for use from code cells.

    It reads the kernel's logins (``cells.logins.Logins``); raises IPython's UsageError when
    there is no IPython, no extension loaded, or no login of that profile.
    """
    from IPython import get_ipython
    from IPython.core.error import UsageError

    shell = get_ipython()
    if shell is None:
        raise UsageError(
            "ue_magic.client() gives the client of %ue_login, which needs IPython or Jupyter; in "
            "plain Python use UsageEngineClient(Credentials.from_env()) instead."
        )
    from .cells.logins import NotLoggedInError
    from .ipython._extension import magics_of

    magics = magics_of(shell)
    if magics is None:
        raise UsageError("Run %load_ext ue_magic and %ue_login first.")
    try:
        return magics.logins.client(profile)  # type: ignore[no-any-return,unused-ignore]
    except NotLoggedInError as error:
        raise UsageError(str(error)) from None


def load_ipython_extension(ipython: Any) -> None:
    """%load_ext ue_magic: register the magics (settings come from the shell's config).

    After ``%reload_ext ue_magic`` the new magics take over the logins of the old ones.
    """
    from .ipython._extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """%unload_ext ue_magic: close every login, its connections and sandbox; take the magics away.

    Within a cell the logins close when the cell ends, unless it loads the extension again
    (``%reload_ext`` keeps them).
    """
    from .ipython._extension import unload

    unload(ipython)
