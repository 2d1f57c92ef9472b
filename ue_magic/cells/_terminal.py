"""How wide the reader's screen is, asked in one place so every text form agrees."""

from __future__ import annotations

import shutil

FALLBACK_COLUMNS = 80
MIN_COLUMNS = 40


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` wins; 80 where there is none, as in a kernel)."""
    columns = shutil.get_terminal_size((FALLBACK_COLUMNS, 24)).columns
    return max(MIN_COLUMNS, columns)


def fit_width(width: int | None) -> int:
    """``width``, or the terminal's when None; never narrower than ``MIN_COLUMNS``."""
    return terminal_width() if width is None else max(MIN_COLUMNS, width)
