"""IPython's own ``{name}`` and ``$name`` in a request, and path templates' ``{name}``.

``%ue_call`` uses ``@no_var_expand``, so IPython does not expand them and they would go out as
written (``?meterTypeId={meter_type_id}`` finds nothing, ``/meter-types/{id}`` is sent as
``%7Bid%7D``). Both are refused here, before sending, pointing at the line and column: a name
that is a variable of the notebook (the user almost surely meant its value: write
``{{name}}``), and a ``{name}`` in the path with no such variable (a segment copied from a path
template: give the value).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..._constants import METHODS
from ...errors import RequestSyntaxError
from ..magic_line import word_spans

__all__ = ["refuse_ipython_names"]

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_FOREIGN = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)\}(?!\})|\$\{?([A-Za-z_]\w*)\}?")


def refuse_ipython_names(
    line: str,
    words: Iterable[str],
    path: str | None,
    cell: str,
    namespace: Mapping[str, Any],
) -> None:
    """Raise RequestSyntaxError (line 0 for the magic line, with its column and a caret) for
    the first ``{name}`` or ``$name`` whose name is defined in ``namespace``, or ``{name}`` in
    the path whose name is not.

    ``line``: the magic line; ``words``: those of its words to look at (the request line,
    ``-H`` values); ``path``: the PATH word of the line, or None when the cell is an HTTP
    message (its request line has the path); ``cell``: the cell. Comment lines (``#``, ``//``)
    and ``{{ }}`` placeholders are not looked at.
    """
    wanted = set(words)
    for word, start, end in word_spans(line):
        if word in wanted:
            written = line[start:end]
            path_end = len(written.split("?")[0]) if word == path else 0
            _check(written, path_end, 0, start + 1, line, namespace)
    request_line = path is None
    for number, text in enumerate(cell.splitlines(), 1):
        stripped = text.strip()
        if not stripped or stripped.startswith(("#", "//")):
            continue
        path_start = path_end = 0
        if request_line:  # the first line that is not a comment: METHOD URL [HTTP/1.1]
            request_line = False
            first, _, rest = stripped.partition(" ")
            url = rest.strip().split(" ")[0] if first.upper() in METHODS else first
            path_start = text.find(url)
            path_end = path_start + len(url.split("?")[0])
        _check(text, path_end, number, 1, text, namespace, path_start)


def _check(
    text: str,
    path_end: int,
    line: int,
    column: int,
    source: str,
    namespace: Mapping[str, Any],
    path_start: int = 0,
) -> None:
    """Refuse the first offending name in ``text`` (at ``column`` of ``line``; its path is
    ``text[path_start:path_end]``)."""
    blanked = _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)  # offsets kept
    for found in _FOREIGN.finditer(blanked):
        name = found.group(1) or found.group(2)
        at = column + found.start()
        if name in namespace and not name.startswith("_"):
            raise RequestSyntaxError(
                f"{found.group(0)} is IPython's syntax, which %ue_call does not expand: it "
                f"would be sent as written. Write {{{{{name}}}}} to send the value of {name}.",
                line,
                at,
                source,
            )
        if found.group(1) and path_start <= found.start() < path_end:
            raise RequestSyntaxError(
                f"{found.group(0)} in the path is a path template's placeholder, not filled in "
                f"(no variable {name} is defined), so it would be sent as written. Give the "
                f"value here, or write {{{{{name}}}}} to use a notebook variable {name}.",
                line,
                at,
                source,
            )
