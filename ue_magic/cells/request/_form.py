"""A form body (``application/x-www-form-urlencoded``) as the ``.http`` references send it.

httpyac and REST Client let a form be written for reading: a field per line, joined by an ``&``
at the end of a line or the start of the next (``grant_type=password&`` then ``username=foo``),
spaces around ``=`` and ``&`` (``key1 = value1 &``), and plain text in values (``name=John
Doe``). What is sent is the form as a server reads it: the lines joined, the spaces around
separators dropped, and what a URL cannot hold percent-encoded (``John%20Doe``), while what the
author encoded already (``%20``, ``+`` for a space, ``&`` and ``=``) stays as written.

A line break that no ``&`` joins is refused: the references disagree on it (httpyac runs the
lines together, ``a=1b=2``; REST Client sends the line break inside the value) and neither is a
field the author wrote. A ``{{name}}`` value is form-encoded whole (``_values.form_text``), so a
value never adds a field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from ...errors import RequestSyntaxError
from ._placeholders import Origin, position, tokenize
from ._values import Part, Parts, form_text

#: ``=`` or ``&``; the whitespace (line breaks included) on either side of it is walked from it
#: (a pattern with ``\s*`` first would be tried from every blank of a long run: quadratic).
_SEPARATOR = re.compile(r"[=&]")
#: What a URL cannot hold as is: anything outside printable ASCII, the six printable characters
#: URLs leave out (space aside), and a ``%`` that does not start a ``%XX`` escape.
_UNSAFE = re.compile(r"[^!-~]|[\"<>`{}]|%(?![0-9A-Fa-f]{2})")

_LINE_BREAK = (
    "a line break in a form body is not a separator: end the line before with & (or start"
    " this one with &) to add a field, or write %0A for a line break in a value."
)


def compile_form_body(text: str, origin: Origin) -> Parts:
    """The form's parts: literal text tidied and encoded, each ``{{name}}`` form-encoded.

    Raises RequestSyntaxError (with the user's line and column) for a line break no ``&``
    joins, or a placeholder that does not parse."""
    tokens, placeholders = tokenize(text, origin)
    out: list[Part] = []
    last = len(tokens) - 1
    for index, (kind, value, start, _end) in enumerate(tokens):
        if kind == "ph":
            out.append((placeholders[start], form_text))
            continue
        if kind == "lit":
            lead = len(value) - len(value.lstrip()) if index == 0 else 0
            value = value[lead:].rstrip() if index == last else value[lead:]
            value = _tidy(value, text, origin, start + lead)
        else:  # a \{{ escape: literal braces
            value = _encode(value)
        if out and isinstance(out[-1], str):
            out[-1] += value
        elif value:
            out.append(value)
    return tuple(out)


def _tidy(value: str, text: str, origin: Origin, start: int) -> str:
    """Separators without the whitespace around them; the text between them encoded."""
    pieces: list[str] = []
    pos = 0
    for before, separator, after in separators(value):
        pieces += (_plain(value[pos:before], text, origin, start + pos), separator)
        pos = after
    pieces.append(_plain(value[pos:], text, origin, start + pos))
    return "".join(pieces)


def separators(value: str) -> Iterator[tuple[int, str, int]]:
    """``(start, "=" or "&", end)`` of each separator with the whitespace around it."""
    pos = 0
    for match in _SEPARATOR.finditer(value):
        before, after = match.start(), match.end()
        while before > pos and value[before - 1].isspace():
            before -= 1
        while after < len(value) and value[after].isspace():
            after += 1
        yield before, match[0], after
        pos = after


def _plain(piece: str, text: str, origin: Origin, start: int) -> str:
    """Field text between separators: refused across a line break, else encoded."""
    newline = piece.find("\n")
    if newline >= 0:
        at = start + newline + 1
        at += len(text[at:]) - len(text[at:].lstrip(" \t"))
        line, column, source = position(text, origin, at)
        raise RequestSyntaxError(_LINE_BREAK, line, column, source)
    return _encode(piece)


def _encode(piece: str) -> str:
    return _UNSAFE.sub(lambda m: quote(m[0], safe="", errors="replace"), piece)
