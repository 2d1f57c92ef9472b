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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ue_magic' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


def client(profile: str | None = None) -> UsageEngineClient:
    """The client that ``%ue_login`` (with this profile) logged in, for use from code cells."""
    from IPython import get_ipython
    from IPython.core.error import UsageError

    shell = get_ipython()
    if shell is None:
        raise UsageError(
            "ue_magic.client() gives the client of %ue_login, which needs IPython or Jupyter; in "
            "plain Python use UsageEngineClient(Credentials.from_env()) instead."
        )
    magics = shell.magics_manager.registry.get("UsageEngineMagics")
    if magics is None:
        raise UsageError("Run %load_ext ue_magic and %ue_login first.")
    return magics.client_for(profile)  # type: ignore[no-any-return,unused-ignore]


def load_ipython_extension(ipython: Any) -> None:
    """%load_ext ue_magic: register the magics (settings come from the shell's config).

    After ``%reload_ext ue_magic`` the new magics take over the logins of the old ones.
    """
    from .ipython.completer import register
    from .ipython.magics import UsageEngineMagics

    magics = UsageEngineMagics(ipython)
    old = ipython.magics_manager.registry.get("UsageEngineMagics")
    if old is not None:  # left in place by the unload half of %reload_ext
        kept = magics.adopt(old)
        _remove(ipython, old)
        if kept:
            print(f"Reloaded ue_magic; kept {kept} login{'s' if kept > 1 else ''}.")
    ipython.register_magics(magics)
    register(ipython, magics)  # tab completion of %ue_call lines and cells (replaces the old one)


def unload_ipython_extension(ipython: Any) -> None:
    """%unload_ext ue_magic: close every connection and take the magics away.

    Within %reload_ext the magics and their logins are left for load_ipython_extension.
    """
    from .ipython.completer import unregister

    magics = ipython.magics_manager.registry.get("UsageEngineMagics")
    if magics is None or _reloading():
        return
    unregister(ipython)
    _remove(ipython, magics)
    magics.close_all()


def _remove(ipython: Any, magics: Any) -> None:
    manager = ipython.magics_manager
    manager.registry.pop("UsageEngineMagics", None)
    for kind, names in magics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)


def _reloading() -> bool:
    """True inside IPython's ExtensionManager.reload_extension, which calls unload, reloads
    the module, then calls load: the one way to keep logins across %reload_ext."""
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "reload_extension" and code.co_filename.endswith("extensions.py"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False
