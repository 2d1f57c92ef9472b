"""IPython's own ``{expr}`` and ``$name`` in a request, and path templates' ``{name}``.

``%ue_call`` uses ``@no_var_expand``, so IPython does not expand them and they would go out as
written (``?meterTypeId={meter_type_id}`` finds nothing, ``/meter-types/{id}`` is sent as
``%7Bid%7D``). Both are refused here, before sending, pointing at the line and column: a name
that is a variable of the notebook (the user almost surely meant its value: write
``{{name}}``), and a ``{name}`` in the path with no such variable (a segment copied from a path
template: give the value). The same for any ``{expr}`` IPython would evaluate that starts
with such a variable (``{row['id']}``, ``$obj.id``) or calls a builtin (``{len(ids)}``): the
hint is the ``{{row['id']}}`` that holds it, or a variable computed first where a placeholder
cannot (``{price+1}``).

Who means the text as written has a way out that needs no new syntax, and the refusal names the
one for where the text stands: in the URL or a form body, percent-encoding (``%7Bname%7D``,
``%24name``), which the server decodes; in a JSON body, JSON's own escape (``\\u007bname}``,
``\\u0024name``), the same JSON string. A header or any other body has no escape: the text goes
in a variable, sent with ``{{variable}}``.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..._constants import METHODS
from ...errors import RequestSyntaxError
from ..magic_line import word_spans
from ._body import FORM, JSON
from ._placeholders import is_placeholder_expression

__all__ = ["refuse_ipython_names"]

#: IPython's forms, each with the name it starts with and the expression: ``${expr}``,
#: ``$name`` with ``.attr``/``[key]`` steps, ``{expr}`` (not ``{{``). A name is taken whole
#: (``\w*(?!\w)``: Python 3.10 has no possessive ``*+``), so the scan stays linear.
_FOREIGN = re.compile(
    r"\$\{[ \t]*(?P<dollar_brace>[A-Za-z_]\w*(?!\w))(?P<dollar_brace_rest>[^{}\n]*)\}"
    r"|\$(?P<dollar>[A-Za-z_]\w*(?!\w))(?P<dollar_rest>(?:\.[A-Za-z_]\w*(?!\w)|\[[^\]\n]*\])*)"
    r"|(?<!\{)\{(?!\{)[ \t]*(?P<brace>[A-Za-z_]\w*(?!\w))(?P<brace_rest>[^{}\n]*)\}(?!\})"
)
_FILE_VARIABLE = re.compile(r"\s*@[\w.-]+\s*=")  # ``@name = value`` before the request line

#: where the text stands -> how it is written to be sent as written (None: no escape there)
URL, HEADER, TEXT, VARIABLE = "url", "header", "text", "variable"
_PERCENT = {"{": "%7B", "}": "%7D", "$": "%24"}
_ESCAPES: dict[str, tuple[dict[str, str], str] | None] = {
    URL: (_PERCENT, ""),
    FORM: (_PERCENT, ""),
    JSON: ({"{": "\\u007b", "$": "\\u0024"}, " (JSON's escape)"),
    HEADER: None,
    TEXT: None,
    VARIABLE: None,
}
_NO_ESCAPE = {HEADER: "a header", TEXT: "this body", VARIABLE: "a file variable"}


def refuse_ipython_names(
    line: str,
    request_line: Sequence[str],
    headers: Sequence[str],
    cell: str,
    namespace: Mapping[str, Any],
    body_mode: str | None = JSON,
) -> None:
    """Raise RequestSyntaxError (line 0 for the magic line, with its column and a caret) for
    the first ``{name}`` or ``$name`` whose name is defined in ``namespace``, or ``{name}`` in
    the path whose name is not; its message says how to send the text as written there.

    ``line``: the magic line; ``request_line``: its METHOD PATH words (empty when the cell is an
    HTTP message, whose request line has the path); ``headers``: the ``-H`` values; ``cell``:
    the cell; ``body_mode``: how its body is read (``_body.JSON``, ``FORM``...; None when not
    known before sending). Comment lines (``#``, ``//``) and ``{{ }}`` placeholders are not
    looked at.
    """
    if not any(mark in text for text in (line, cell) for mark in "{$"):
        return  # most calls: nothing that could be a name (and no re-reading of the line)
    path = request_line[-1] if request_line else None
    for word, start, end in word_spans(line):
        if word in request_line or word in headers:
            written = line[start:end]
            path_end = len(written.split("?")[0]) if word == path else 0
            where = URL if word in request_line else HEADER
            _check(written, where, (0, path_end), 0, start + 1, line, namespace)
    lines = _cell_lines(cell, body_mode or TEXT) if path is None else _body_lines(cell, body_mode)
    for number, text, where, path_span in lines:
        _check(text, where, path_span, number, 1, text, namespace)


def _body_lines(
    cell: str, body_mode: str | None
) -> Iterator[tuple[int, str, str, tuple[int, int]]]:
    """The cell as a body (METHOD PATH on the magic line)."""
    where = body_mode if body_mode in (JSON, FORM) else TEXT
    for number, text in enumerate(cell.splitlines(), 1):
        if text.strip() and not text.strip().startswith(("#", "//")):
            yield number, text, where, (0, 0)


def _cell_lines(cell: str, body_mode: str) -> Iterator[tuple[int, str, str, tuple[int, int]]]:
    """The cell as an HTTP message: each line that is not a comment, with where it stands (the
    URL: request line, indented ``/`` continuations, ``?``/``&`` lines; then headers; after a
    blank line, the body) and the span of the path in it."""
    stage = ""  # before the request line, then URL, HEADER, the body
    body = body_mode if body_mode in (JSON, FORM) else TEXT
    for number, text in enumerate(cell.splitlines(), 1):
        stripped = text.strip()
        if stage in (URL, HEADER) and not stripped:
            stage = body
        if not stripped or stripped.startswith(("#", "//")):
            continue
        span = (0, 0)
        if not stage and _FILE_VARIABLE.match(text):
            yield number, text, VARIABLE, span
            continue
        if not stage:  # the request line: METHOD URL [HTTP/1.1]
            stage = URL
            first, _, rest = stripped.partition(" ")
            url = rest.strip().split(" ")[0] if first.upper() in METHODS else first
            start = text.find(url)
            span = (start, start + len(url.split("?")[0]))
        elif stage == URL and text[:1] in (" ", "\t") and stripped.startswith("/"):
            span = (0, len(text.split("?")[0]))  # the path continues
        elif stage == URL and stripped[:1] in ("?", "&"):
            pass
        elif stage == URL:
            stage = HEADER
        yield number, text, stage, span


def _check(
    text: str,
    where: str,
    path_span: tuple[int, int],
    line: int,
    column: int,
    source: str,
    namespace: Mapping[str, Any],
) -> None:
    """Refuse the first offending name in ``text`` (at ``column`` of ``line``), which stands
    in ``where``; its path is ``text[path_span[0]:path_span[1]]``."""
    blanked = _blank_placeholders(text)
    for found in _FOREIGN.finditer(blanked):
        rest = found.lastgroup or ""  # the last group that matched: one form's ..._rest
        name = found.group(rest.removesuffix("_rest"))
        expression = (name + found.group(rest)).strip()
        written, at = found.group(0), column + found.start()
        if _evaluated(name, found.group(rest), namespace):
            raise RequestSyntaxError(
                f"{written} is IPython's syntax, which %ue_call does not expand: "
                f"{_instead(expression)}{_as_written(written, where)}.",
                line,
                at,
                source,
            )
        if written == f"{{{name}}}" and path_span[0] <= found.start() < path_span[1]:
            raise RequestSyntaxError(
                f"{written} in the path is a path template's placeholder, not filled in "
                f"(no variable {name} is defined): give the value here, write {{{{{name}}}}} to "
                f"use a notebook variable {name}{_as_written(written, URL)}.",
                line,
                at,
                source,
            )


def _evaluated(name: str, rest: str, namespace: Mapping[str, Any]) -> bool:
    """Would IPython evaluate this: a notebook variable first, or a builtin called
    (``{len(ids)}``; a bare ``{id}`` or ``{type}`` is a path template's)."""
    if name.startswith("_"):
        return False
    return name in namespace or (rest.lstrip().startswith("(") and hasattr(builtins, name))


def _instead(expression: str) -> str:
    """What to write for IPython's ``{expression}``: ``{{expression}}`` where the placeholder
    grammar takes it (a name, ``.attr``, ``[key]``), else a variable computed first."""
    if is_placeholder_expression(expression):
        return f"write {{{{{expression}}}}} to send the value of {expression}"
    try:
        ast.parse(expression, mode="eval")
        computed = f" (value = {expression})"
    except SyntaxError:
        computed = ""
    return (
        f"{{{{ }}}} holds only a name with .attr and [key] steps, so compute the value in a "
        f"Python cell first{computed} and write {{{{value}}}} to send it"
    )


def _blank_placeholders(text: str) -> str:
    """``text`` with each ``{{...}}`` (up to the first ``}}`` after it, line breaks included)
    replaced by as many spaces, so offsets are kept. ``str.find`` from the last one, not a lazy
    pattern that would scan to the end from every ``{{`` of a long unclosed run."""
    pieces: list[str] = []
    pos = 0
    while (start := text.find("{{", pos)) >= 0 and (end := text.find("}}", start + 2)) >= 0:
        pieces += (text[pos:start], " " * (end + 2 - start))
        pos = end + 2
    pieces.append(text[pos:])
    return "".join(pieces)


def _as_written(written: str, where: str) -> str:
    """How to send ``written`` as it stands, for the end of a refusal."""
    escape = _ESCAPES[where]
    if escape is None:
        return (
            f"; {_NO_ESCAPE[where]} has no escape, so to send {written} as written put it in a "
            f"variable (text = '{written}') and write {{{{text}}}}"
        )
    table, note = escape
    escaped = "".join(table.get(char, char) for char in written)
    return f", or {escaped}{note} to send {written} as written"
