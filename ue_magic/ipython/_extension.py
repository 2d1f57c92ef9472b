"""Loading and unloading the extension, with the logins kept across ``%reload_ext``.

IPython's ``%reload_ext`` unloads the extension, reloads the module, then loads it, all within
one cell. So an unload inside a cell does not close the logins at once: it takes the magics
away and closes the logins when the cell ends, unless the same cell loaded the extension again
(``%reload_ext``), which then takes the registry over. An unload outside a cell (code calling
``run_line_magic``) has no reload to wait for: the logins close at once.

Whether a cell is running is asked of IPython when the unload happens (``in_a_cell``), not
tracked with the ``pre_run_cell`` events: those do not fire for silent cells (``ipython
script.ipy`` runs the whole file as one), nor for the cell that loaded the extension. The end of
the cell is IPython's ``post_execute`` event, which every cell fires, silent or not.
"""

from __future__ import annotations

import sys
from typing import Any

from ..cells.logins import Logins
from .completer import register, unregister
from .magics import UsageEngineMagics

__all__ = ["in_a_cell", "load", "magics_of", "unload"]

KEY = "UsageEngineMagics"  # the class name: IPython's magics registry is keyed by it
UNLOADED = "%unload_ext ue_magic"


def in_a_cell(ipython: Any) -> bool:
    """Whether ``ipython`` is running a cell's code now (silent cells and scripts included).

    IPython installs its display hook as ``sys.displayhook`` (its ``display_trap``) exactly
    while it runs a cell, nested runs included, and puts the previous hook back after; not
    public API, pinned by tests/package/test_ipython_internals.py.
    """
    return sys.displayhook is ipython.displayhook


def magics_of(ipython: Any) -> Any:
    """The registered ``UsageEngineMagics`` of this shell, or None."""
    return ipython.magics_manager.registry.get(KEY)


def load(ipython: Any) -> None:
    """Register the magics; after an unload in the same cell, take over its logins."""
    old = magics_of(ipython)
    if old is not None and isinstance(getattr(old, "logins", None), Logins):
        logins = old.logins
        _remove(ipython, old)
    else:
        logins = Logins()
    magics = UsageEngineMagics(ipython, logins=logins)
    ipython.register_magics(magics)
    register(ipython, magics)  # tab completion of %ue_call lines and cells (replaces the old one)
    kept = len(logins)
    if old is not None and kept:
        print(f"Reloaded ue_magic; kept {kept} login{'s' if kept > 1 else ''}.")


def unload(ipython: Any) -> None:
    """Take the magics away; close the logins now, or when the cell ends (see the module doc)."""
    magics = magics_of(ipython)
    if magics is None:
        return
    unregister(ipython)
    _remove_magics(ipython, magics)
    if in_a_cell(ipython):
        ipython.events.register("post_execute", _CloseWhenCellEnds(ipython, magics))
    else:
        _close(ipython, magics)


class _CloseWhenCellEnds:
    """A one-shot ``post_execute`` callback: close the logins unless a load took them over."""

    def __init__(self, ipython: Any, magics: Any) -> None:
        self.ipython = ipython
        self.magics = magics

    def __call__(self, *_: Any) -> None:
        self.ipython.events.unregister("post_execute", self)
        if magics_of(self.ipython) is self.magics:
            _close(self.ipython, self.magics)


def _close(ipython: Any, magics: Any) -> None:
    ipython.magics_manager.registry.pop(KEY, None)
    magics.logins.close(UNLOADED, wait=magics.timeout)


def _remove_magics(ipython: Any, magics: Any) -> None:
    """The magic names and the configurable go; the registry entry stays until closed."""
    manager = ipython.magics_manager
    for kind, names in magics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)


def _remove(ipython: Any, magics: Any) -> None:
    _remove_magics(ipython, magics)
    ipython.magics_manager.registry.pop(KEY, None)
