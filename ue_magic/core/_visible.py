"""``visible`` for the HTTP core and above; it lives in the base layer (``ue_magic._visible``)
so that an error's quoted line can use it too."""

from __future__ import annotations

from .._visible import HIDDEN, visible

__all__ = ["HIDDEN", "visible"]
