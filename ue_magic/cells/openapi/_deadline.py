"""A body check's deadline (``Deadline``), and ``TooComplex``, raised past it.

Why a module of its own: the keywords of ``_bounded`` and of ``_evaluated`` share them.
"""

from __future__ import annotations

import functools
import reprlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from ...errors import DescriptionError
from ._pattern_size import refusal

CHECK_SECONDS = 0.5  # one body's check; with what follows it, within the 1 s promised
_PATTERN_CACHE = 256


class TooComplex(DescriptionError):
    """The schema takes longer to check than the budget allows."""


class Deadline:
    """When the current check must end (``time.monotonic()``), shared by one validator's
    keywords; ``start()`` before each check."""

    def __init__(self, seconds: float = CHECK_SECONDS) -> None:
        self.seconds = seconds
        self.ends = float("inf")

    def start(self, seconds: float | None = None) -> None:
        """Start a check of ``seconds`` (default: ``self.seconds``, a body's)."""
        self.ends = time.monotonic() + (
            self.seconds if seconds is None else min(seconds, self.seconds)
        )

    def left(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TooComplex(f"it takes over {self.seconds:g} s to check")
        return left

    def search(self, pattern: str, text: str) -> bool:
        """``re.search`` semantics, stopped when the deadline passes."""
        compiled = _compiled(pattern)
        try:
            return compiled.search(text, timeout=self.left()) is not None
        except TimeoutError:
            shown = pattern if len(pattern) <= 40 else pattern[:39] + "…"
            raise TooComplex(
                f"its pattern {shown!r} takes over {self.seconds:g} s to match "
                f"a value of {len(text):,} characters"
            ) from None


@functools.lru_cache(maxsize=_PATTERN_CACHE)
def _compiled(pattern: str) -> Any:
    """``pattern`` compiled by ``regex``; TooComplex when compiling it could run away. Raises
    what ``regex.compile`` raises for a broken one (a TypeError for a pattern not a string)."""
    import regex

    why = refusal(pattern) if isinstance(pattern, str) else None
    if why:
        raise TooComplex(why)
    return regex.compile(pattern)


Keyword = Callable[[Any, Any, Any, Any], "Iterator[Any] | None"]


_REPR = reprlib.Repr()
(_REPR.maxlevel, _REPR.maxstring, _REPR.maxlong, _REPR.maxother) = (40, 200, 200, 200)
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 40


def short(value: Any) -> str:
    """``repr(value)`` up to 60 characters, made without writing the whole of a big value."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
