"""A body as the ``.http`` references read it, then compiled by the mode its Content-Type says.

In the message form (a cell or a ``.http`` file), as REST Client and httpyac do: whole-line
``#`` and ``//`` comments are dropped; whitespace at either end is trimmed; a multipart body's
line breaks are CRLF, as the format needs. Then a JSON body is checked with the user's line and
column, a form body is read as the references send it (``_form``: lines joined by ``&``, spaces
around separators dropped, text percent-encoded), and any other body is text.
"""

from __future__ import annotations

import re

from ..._constants import METHODS
from ...core._media import is_json, media_type
from ...errors import RequestSyntaxError
from ._form import compile_form_body
from ._json import compile_json_body
from ._placeholders import Origin, tokenize
from ._values import Parts, as_text, parts_of

_COMMENT_LINE = re.compile(r"^[ \t]*(?:#|//).*(?:\n|\Z)", re.MULTILINE)
_LINE_BREAK = re.compile(r"\r?\n")

JSON, FORM, MULTIPART, TEXT = "json", "form", "multipart", "text"


def body_mode(content_type: str | None) -> str:
    """How a body under this Content-Type is read (None: no header, so JSON)."""
    if content_type is None:
        return JSON
    media = media_type(content_type)
    if is_json(media):
        return JSON
    if media == "application/x-www-form-urlencoded":
        return FORM
    if media.startswith("multipart/"):
        return MULTIPART
    return TEXT


def drop_comment_lines(body: str) -> str:
    """The body without its whole-line ``#`` and ``//`` comments."""
    if "#" not in body and "//" not in body:
        return body
    return _COMMENT_LINE.sub("", body).rstrip("\n")


_NOT_READ = (
    (
        re.compile(r"(?:<|<@[\w-]*)[ \t]+\S"),
        "a body read from a file (< path) is not read; paste its content",
    ),
    (
        re.compile(r">>?!?[ \t]+(?:\{%|\S+\.js\b)|<>[ \t]+\S"),
        "response handlers and references are not run",
    ),
    (
        re.compile(rf"(?:{'|'.join(METHODS)})[ \t]+\S+[ \t]+HTTP/\d", re.IGNORECASE),
        "this is a second request; put a ### line before it, in a cell of its own",
    ),
)


def check_http_body(body: str, first_line: int) -> str:
    """The body of a ``.http`` request as the references send it: whitespace at either end
    trimmed, as httpyac does. Lines the references read as other than body text (a ``< file``
    body, a ``> {% script %}`` handler, a second request line) are refused, not sent as text."""
    lines = body.split("\n")
    for number, line in enumerate(lines):
        for pattern, why in _NOT_READ:
            if pattern.match(line):
                raise RequestSyntaxError(f"{why}.", first_line + number, 1, line)
    return body.strip()


def compile_body(text: str, origin: Origin, mode: str) -> Parts:
    """The body's parts for ``mode``; raises RequestSyntaxError for JSON that is not valid."""
    if mode == JSON:
        return compile_json_body(text, origin)
    if mode == FORM:
        return compile_form_body(text, origin)
    if mode == MULTIPART:
        text = _LINE_BREAK.sub("\r\n", text)
    tokens, placeholders = tokenize(text, origin)
    return parts_of(tokens, placeholders, as_text)
