"""A DataFrame made of an answer, shown with the server's control characters escaped.

``--df`` and ``BulkResult.to_frame()`` hold what the server sent, unchanged: the values are the
data. pandas shows a frame's text as it is, so an ESC sequence in a column name or a value (OSC 52
writes the clipboard, others clear the screen) would reach the terminal raw, in ``Out[n]`` too.
An ``AnswerFrame`` is a pandas DataFrame whose text and HTML forms go through ``visible``; a frame
made from it is a plain DataFrame again (``_constructor``, as pandas documents for subclasses;
pandas before 2.2 keeps the subclass for some operations). Imported only with pandas (the
explore extra).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._visible import visible

__all__ = ["AnswerFrame", "shown_safely"]


class AnswerFrame(pd.DataFrame):
    """A pandas DataFrame of an answer whose shown forms (``repr``, HTML) escape control
    characters; its data are the answer's, unchanged."""

    @property
    def _constructor(self) -> Any:
        return pd.DataFrame

    def __repr__(self) -> str:
        return visible(super().__repr__())

    def _repr_html_(self) -> str | None:
        html = super()._repr_html_()
        return None if html is None else visible(html)


def shown_safely(frame: Any) -> Any:
    """``frame`` (a DataFrame) as an ``AnswerFrame``, sharing its data."""
    return frame if isinstance(frame, AnswerFrame) else AnswerFrame(frame)
