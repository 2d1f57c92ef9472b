"""ue-magic: DigitalRoute Usage Engine APIs from Jupyter, IPython and plain Python.

``%load_ext ue_magic`` registers the magics; ``Credentials`` and ``UsageEngineClient`` work
without IPython. Imports are lazy so that loading the extension stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import UsageEngineClient
    from .credentials import Credentials, Secret
    from .token import TokenInfo, TokenManager

__version__ = "0.1.0"
__all__ = [
    "Credentials",
    "Secret",
    "TokenInfo",
    "TokenManager",
    "UsageEngineClient",
    "client",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_LAZY = {
    "Credentials": ".credentials",
    "Secret": ".credentials",
    "TokenInfo": ".token",
    "TokenManager": ".token",
    "UsageEngineClient": "._client",
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
    magics = shell.magics_manager.registry.get("UsageEngineMagics") if shell else None
    if magics is None:
        raise UsageError("Run %load_ext ue_magic and %ue_login first.")
    return magics.client_for(profile)  # type: ignore[no-any-return,unused-ignore]


def load_ipython_extension(ipython: Any) -> None:
    """%load_ext ue_magic: register the magics (settings come from the shell's config)."""
    from .completer import register
    from .magics import UsageEngineMagics

    magics = UsageEngineMagics(ipython)
    ipython.register_magics(magics)
    register(ipython, magics)  # tab completion of %ue_call lines and cells


def unload_ipython_extension(ipython: Any) -> None:
    """%unload_ext ue_magic: close every connection and take the magics away."""
    from .completer import unregister

    unregister(ipython)
    manager = ipython.magics_manager
    magics = manager.registry.pop("UsageEngineMagics", None)
    if magics is None:
        return
    magics.close_all()
    for kind, names in magics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
