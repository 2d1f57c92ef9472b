"""Checks before sending: which operation a request is, and whether its JSON body fits.

An unknown path or method is a warning (the description can be older than the service); a body
that does not fit the schema is a ``BodyCheckError`` with the line and column in the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import BodyCheckError, RequestSyntaxError
from ..request import json_standin
from ._index import TooManyTemplates
from ._model import Description
from ._operation import Operation
from ._validate import BodyValidator, available, locate


@dataclass(frozen=True)
class Checked:
    """The operation a request matched (None: none), and a warning to show (or "")."""

    operation: Operation | None
    warning: str = ""


class RequestChecker:
    """Matches requests to operations of one description and validates their bodies."""

    def __init__(self, description: Description) -> None:
        self.description = description
        self.validates = available()
        self._validator = BodyValidator(description) if self.validates else None

    def warm_up(self) -> None:
        """Make the body checks ready in a background thread (see ``BodyValidator.warm_up``)."""
        if self._validator is not None:
            self._validator.warm_up()

    def match(self, method: str, path: str, *, hint: bool = True) -> Checked:
        """The operation, or a warning naming the closest one (``hint=False``: not named)."""
        try:
            operation = self.description.index.match(method, path)
        except TooManyTemplates as exc:
            return Checked(
                None, f"API description: {self.description.source} has {exc}; sent unchecked."
            )
        if operation is None:
            return Checked(None, self.description.index.closest(method, path, hint=hint))
        return Checked(operation)

    def check_body(
        self,
        operation: Operation,
        body: Any,
        text: str,
        cell: str | None = None,
        body_line: int = 1,
    ) -> None:
        """Raise BodyCheckError if ``body`` (decoded from ``text``) does not fit the schema.

        ``cell`` and ``body_line`` (1-based line of the body's first line in the cell) let the
        error point at the value; without them it names the JSON path only.
        """
        if self._validator is None:
            return
        problem = self._validator.check(operation, body)
        if problem is None:
            return
        line = column = 0
        source = ""
        if cell is not None:
            lines = cell.split("\n")
            written = _as_written("\n".join(lines[body_line - 1 :]), text)
            offset = locate(written, problem.location)
            before = written[:offset]
            line = body_line + before.count("\n")
            column = offset - (before.rfind("\n") + 1) + 1
            source = lines[line - 1] if 0 < line <= len(lines) else ""
        raise BodyCheckError(problem.path, problem.expected, line, column, source)


def _as_written(source: str, rendered: str) -> str:
    """The body as the cell spells it, placeholders kept at their width (so offsets are the
    cell's, however wide their values); the rendered body if that cannot be had."""
    try:
        return json_standin(source)
    except RequestSyntaxError:
        return rendered


def body_line(cell: str, message: bool) -> int:
    """The 1-based line where the body starts in a %%ue_call cell.

    ``message`` is True for the HTTP-message form (request line, ?/& lines, headers, blank
    line, body), False when METHOD PATH are on the magic line and the whole cell is the body.
    """
    if not message:
        return 1
    lines = cell.split("\n")
    index = 0
    while index < len(lines) and (
        not lines[index].strip() or lines[index].lstrip().startswith(("#", "//", "@"))
    ):
        index += 1  # blank, comment and @name = value lines
    index += 1  # the request line
    while index < len(lines) and lines[index].strip():
        index += 1  # ?/& lines and headers
    return index + 2  # the blank line, then the body (1-based)
