"""A list of objects as a table: the rows and columns chosen once, drawn as HTML (ids never
wrap, no JavaScript) and as text that fits the terminal (with pandas when it is there). Pure: no
IPython."""

from __future__ import annotations

import html
import json
from itertools import islice
from typing import Any

from ..core._visible import visible

__all__ = ["Table", "find_records", "html_cell"]

_CELL_CHARS = 120  # characters of one table cell shown
MAX_COLUMNS = 100  # table columns shown
_NOWRAP = " style='white-space:nowrap'"  # inline, so it holds where style sheets are stripped


def html_cell(text: str, tag: str = "td") -> str:
    """One table cell; a value without spaces (an id, a UUID, a date) is never wrapped."""
    nowrap = _NOWRAP if text and not any(c.isspace() for c in text) else ""
    return f"<{tag}{nowrap}>{html.escape(text, quote=False)}</{tag}>"


def find_records(body: object, limit: int) -> tuple[str | None, list[Any]] | None:
    """A list of objects: the body itself, or the first such value of a top-level object."""

    def is_records(value: object) -> bool:
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(row, dict) for row in islice(value, limit))
        )

    if is_records(body):
        return None, body  # type: ignore[return-value]
    if isinstance(body, dict):
        for key, value in islice(body.items(), 1000):
            if is_records(value):
                return str(key), value
    return None


def _cell(value: object) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    else:
        text = (
            json.dumps(value)
            if value is None or isinstance(value, (bool, int, float))
            else str(value)
        )
    text = visible(text, one_line=True)  # a newline or an escape sequence would break the rows
    return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…"


_TEXT_CELL = 40  # characters of one cell in a terminal table
NAMED_COLUMNS = 30  # columns named in the note about a --columns name the rows do not have


def _clip(text: str, size: int = _TEXT_CELL) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


class Table:
    """Rows and columns chosen once, drawn as HTML and text (with pandas when it is there)."""

    def __init__(
        self, rows: list[Any], limit: int, budget: int, columns: tuple[str, ...] | None = None
    ) -> None:
        self.total = len(rows)
        seen: dict[str, None] = {}
        cells: list[dict[str, str]] = []
        size = 0
        wide = False
        for row in islice(rows, max(1, limit)):
            pairs = islice(row.items(), MAX_COLUMNS)
            line = {visible(str(k), one_line=True): _cell(v) for k, v in pairs}
            size += sum(len(c) + 24 for c in line.values()) + 24  # a cell's markup ~ 24 bytes
            if cells and size > budget * 0.6:
                break
            cells.append(line)
            seen.update(dict.fromkeys(line))
            wide = wide or len(row) > MAX_COLUMNS
        self.unknown: list[str] = []
        self.available = list(seen)  # every column of the rows shown, to name in a note
        if columns:
            self.unknown = [c for c in columns if c not in seen]
            self.columns = [c for c in columns if c in seen] or list(seen)[:MAX_COLUMNS]
            self.some_columns_hidden = False
        else:
            self.columns = list(seen)[:MAX_COLUMNS]
            self.some_columns_hidden = wide or len(seen) > MAX_COLUMNS
        self.picked = bool(columns)
        self.cells = cells

    def html(self) -> str:
        """Our own table, not pandas': ids must not wrap, and no JavaScript or styles needed."""
        head = "".join(html_cell(c, "th") for c in self.columns)
        body = "".join(
            f"<tr><th>{i}</th>" + "".join(html_cell(row.get(c, "")) for c in self.columns) + "</tr>"
            for i, row in enumerate(self.cells)
        )
        return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"

    def text(self, width: int) -> tuple[str, int]:
        """The table within ``width`` columns: the leading columns that fit (all those picked
        with --columns), and how many were left out."""
        if self.picked:
            return self._draw(self.columns), 0
        shown = self._fitting(width)
        drawn = self._draw(shown)
        while len(shown) > 1 and max(map(len, drawn.splitlines())) > width:
            shown = shown[:-1]  # pandas pads a little differently: measure, not guess
            drawn = self._draw(shown)
        return drawn, len(self.columns) - len(shown)

    def _fitting(self, width: int) -> list[str]:
        used = len(str(max(0, len(self.cells) - 1)))
        shown: list[str] = []
        for column in self.columns:
            cell = max((len(_clip(row.get(column, ""))) for row in self.cells), default=0)
            need = 2 + max(len(_clip(column)), cell)
            if shown and used + need > width:
                break
            shown.append(column)
            used += need
        return shown

    def _draw(self, columns: list[str]) -> str:
        try:
            import pandas as pd
        except ImportError:
            return self._plain_text(columns)
        rows = [[row.get(c, "") for c in columns] for row in self.cells]
        frame = pd.DataFrame(rows, columns=columns)
        return str(frame.to_string(max_colwidth=_TEXT_CELL))

    def _plain_text(self, columns: list[str]) -> str:
        grid = [["", *map(_clip, columns)]]
        grid += [
            [str(i), *(_clip(row.get(c, "")) for c in columns)] for i, row in enumerate(self.cells)
        ]
        widths = [max(len(line[j]) for line in grid) for j in range(len(grid[0]))]
        return "\n".join(
            "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
            for line in grid
        )
