"""The ``.http`` message grammar: request line, ``?``/``&`` query lines, headers, blank line, body.

Also the pieces the magic-line form shares: the method, the path and a ``Name: value`` header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from ..._constants import METHODS
from ...errors import RequestSyntaxError
from ._placeholders import Origin, Token, position, source_line, tokenize
from ._values import (
    Part,
    Parts,
    header_text,
    header_value_problem,
    one_line,
    parts_of,
    path_text,
    url_text,
    whole_path,
)

#: methods of the .http references that are refused, with why
_REFUSED_METHODS = {
    "TRACE": "the server would echo the request's headers, the login's token included",
    "CONNECT": "it opens a tunnel, not an API request",
}


def check_method(word: str, origin: Origin, column: int) -> str:
    method = word.upper()
    if method in _REFUSED_METHODS:
        raise RequestSyntaxError(
            f"{method} is not sent: {_REFUSED_METHODS[method]}; use one of {', '.join(METHODS)}.",
            origin.line,
            column,
            source_line(origin, origin.line),
        )
    if method not in METHODS:
        import difflib

        close = difflib.get_close_matches(method, METHODS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? Methods: " if close else "use one of "
        raise RequestSyntaxError(
            f"unknown method {word!r}; {hint}{', '.join(METHODS)}.",
            origin.line,
            column,
            source_line(origin, origin.line),
        )
    return method


def compile_path(text: str, origin: Origin) -> Parts:
    tokens, placeholders = tokenize(text, origin)
    if not tokens:
        raise RequestSyntaxError(
            "the request has no path; write e.g. GET /usage-metering/v1/meters.",
            origin.line,
            origin.column,
            source_line(origin, origin.line),
        )
    for kind, value, start, _end in tokens:
        if kind != "lit":
            continue
        for i, char in enumerate(value):
            if char.isspace() or ord(char) < 0x20 or char == "\x7f":
                line, col, src = position(text, origin, start + i)
                raise RequestSyntaxError(
                    "the path has a space or control character; URL-encode it (%20 for a space).",
                    line,
                    col,
                    src,
                )
    if len(tokens) == 1 and tokens[0][0] == "ph":
        return parts_of(tokens, placeholders, whole_path)
    out: list[Part] = []
    seen = ""  # the target so far, a placeholder written as X
    for kind, value, start, _end in tokens:
        if kind == "ph":
            out.append((placeholders[start], url_text if _URL_HEAD.fullmatch(seen) else path_text))
            seen += "X"
        elif out and isinstance(out[-1], str):
            out[-1] += value
            seen += value
        else:
            out.append(value)
            seen += value
    return tuple(out)


#: where a placeholder is URL text: at the start, or in the scheme and authority
_URL_HEAD = re.compile(r"X*|[A-Za-z][\w+.-]*:(?://)?[^/?#]*")


_HEADER_NAME = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*")


def split_header(text: str) -> tuple[str, str, int] | None:
    """``(name, value, offset of the value)`` of a ``Name: value`` line (the value without the
    blanks around it), or None. The value is cut with string methods, not a pattern that would
    backtrack over a long run of blanks inside it."""
    match = _HEADER_NAME.match(text)
    if match is None or "\n" in text:
        return None
    return match.group(1), text[match.end() :].rstrip(" \t"), match.end()


#: Headers the client sets itself; a wrong one would break the request in confusing ways.
_MANAGED_HEADERS = {
    "authorization": "ue-magic sends the login's token (use --profile for another login).",
    "host": "it comes from the URL.",
    "content-length": "it is computed from the body.",
    "transfer-encoding": "the body is sent whole.",
    "connection": "the connection pool manages it.",
}


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


def compile_header(text: str, origin: Origin, hint: str = "") -> tuple[str, Parts]:
    split = split_header(text)
    if split is None:
        raise RequestSyntaxError(
            f"not a header line (Name: value).{hint}",
            origin.line,
            origin.column,
            source_line(origin, origin.line),
        )
    name, value, value_at = split
    reason = _MANAGED_HEADERS.get(name.lower())
    if reason is not None:
        # an Authorization line may hold a token: the error points at it but never quotes it
        quoted = None if name.lower() in _SECRET_HEADERS else source_line(origin, origin.line)
        raise RequestSyntaxError(
            f"leave out the {name} header: {reason}",
            origin.line,
            origin.column,
            quoted,
        )
    sub = Origin(origin.lines, origin.line, origin.column + value_at)
    tokens, placeholders = tokenize(value, sub)
    for kind, text, start, _end in tokens:
        problem = header_value_problem(text) if kind == "lit" else None
        if problem is not None:
            raise RequestSyntaxError(
                problem[1],
                origin.line,
                sub.column + start + problem[0],
                source_line(origin, origin.line),
            )
    return name, parts_of(tokens, placeholders, header_text)


def _compile_query_line(text: str, origin: Origin) -> list[tuple[Parts, Parts]]:
    """``a=1&b={{ x }}``: literal parts are decoded as a URL's query is (``%XX``, and ``+`` is a
    space, as on the request line), placeholder values are text."""
    tokens, placeholders = tokenize(text, origin)
    pairs: list[tuple[Parts, Parts]] = []
    key: list[Token] = []
    val: list[Token] = []
    current = key

    def flush() -> None:
        if key or val:
            pairs.append(
                (
                    parts_of(_decoded(key), placeholders, one_line),
                    parts_of(_decoded(val), placeholders, one_line),
                )
            )

    for kind, value, start, end in tokens:
        if kind != "lit":
            current.append((kind, value, start, end))
            continue
        piece_start = 0
        for i, char in enumerate(value):
            if char == "&":
                current.append(("lit", value[piece_start:i], start + piece_start, start + i))
                flush()
                key, val = [], []
                current = key
                piece_start = i + 1
            elif char == "=" and current is key:
                current.append(("lit", value[piece_start:i], start + piece_start, start + i))
                current = val
                piece_start = i + 1
        current.append(("lit", value[piece_start:], start + piece_start, end))
    flush()
    return pairs


def _decoded(tokens: list[Token]) -> list[Token]:
    return [
        (kind, unquote_plus(value) if kind == "lit" else value, start, end)
        for kind, value, start, end in tokens
        if not (kind == "lit" and not value)
    ]


_HTTP_VERSION = re.compile(r"HTTP/\d+(?:\.\d+)?", re.IGNORECASE)


def without_version(line: str) -> str:
    """A stripped request line without its last word when that is ``HTTP/1.1`` (or the like).
    The last word is split off first: a pattern searched from every blank of a long run of
    blanks would be quadratic."""
    words = line.rsplit(None, 1)
    if len(words) == 2 and _HTTP_VERSION.fullmatch(words[1]):
        return words[0]
    return line


_METHOD_WORD = re.compile(r"([A-Za-z]+)([ \t]+)(?=\S)")


@dataclass(frozen=True)
class Message:
    """A request's parts as compiled from the cell, before the body is compiled.

    ``body`` is the body's text (None without a blank line and text after it) and ``body_line``
    the 1-based line of the cell where it starts, for error positions.
    """

    method: str
    path: Parts
    params: tuple[tuple[Parts, Parts], ...]
    headers: tuple[tuple[str, Parts], ...]
    body: str | None
    body_line: int


def _is_comment(line: str) -> bool:
    """``# ...`` and ``// ...`` lines: comments where ``.http`` files allow them (before the
    request line, among the query lines and headers; never in a body)."""
    return line.lstrip().startswith(("#", "//"))


def _one_request(lines: list[str], start: int) -> list[str]:
    """The lines up to a ``###`` separator after the request line; a second request after it
    is refused (comments and blank lines may follow)."""
    for sep in range(start, len(lines)):
        if lines[sep].startswith("###"):
            break
    else:
        return lines
    for number in range(sep + 1, len(lines)):
        line = lines[number]
        if line.strip() and not _is_comment(line):
            raise RequestSyntaxError(
                f"a cell sends one request; put the one after ### on line {sep + 1} in a cell"
                " of its own.",
                number + 1,
                len(line) - len(line.lstrip()) + 1,
                line,
            )
    return lines[:sep]


def _continues(line: str) -> bool:
    return line.strip().startswith("/")


def compile_message(cell: str) -> Message:
    """The ``.http`` form: request line, ``?``/``&`` lines, headers, blank line, body; ``###``
    ends the request, and ``#`` or ``//`` comment lines may stand before the body."""
    lines = cell.split("\n")
    index = 0
    while index < len(lines) and (not lines[index].strip() or _is_comment(lines[index])):
        index += 1
    if index == len(lines):
        raise RequestSyntaxError(
            "the cell has no request line; start it with e.g. GET /usage-metering/v1/meters.",
            1,
            1,
            lines[0] if lines else "",
        )
    lines = _one_request(lines, index + 1)
    raw = lines[index].rstrip("\r")
    origin = Origin(lines, index + 1, 1)
    indent = len(raw) - len(raw.lstrip())
    line = without_version(raw.strip())
    if line.upper() in METHODS:
        raise RequestSyntaxError(
            f"give a PATH after {line}, e.g. {line.upper()} /usage-metering/v1/meters.",
            index + 1,
            indent + len(line) + 1,
            raw,
        )
    word = _METHOD_WORD.match(line)
    if word:
        method = check_method(word.group(1), origin, indent + 1)
        path_col = indent + 1 + word.end()
        path_text = line[word.end() :]
    else:
        method, path_col, path_text = "GET", indent + 1, line
    request_number = index + 1
    index += 1
    while index < len(lines) and lines[index][:1] in (" ", "\t") and _continues(lines[index]):
        path_text += lines[index].strip()  # JetBrains: indented /path lines continue the target
        index += 1
    path = compile_path(path_text, Origin(lines, request_number, path_col))
    params: list[tuple[Parts, Parts]] = []
    while index < len(lines) and (
        lines[index].lstrip()[:1] in ("?", "&") or _is_comment(lines[index])
    ):
        raw = lines[index].rstrip()
        if _is_comment(raw):
            index += 1
            continue
        col = len(raw) - len(raw.lstrip()) + 2
        params += _compile_query_line(raw.lstrip()[1:], Origin(lines, index + 1, col))
        index += 1
    headers: list[tuple[str, Parts]] = []
    while index < len(lines) and lines[index].strip():
        raw = lines[index].rstrip("\r")
        if _is_comment(raw):
            index += 1
            continue
        hint = ""
        if raw.lstrip()[:1] in ("{", "[", '"'):
            hint = " Put a blank line between the headers and the body."
        elif raw.lstrip()[:1] in ("?", "&"):
            hint = " Query lines (?a=1, &b=2) go right after the request line."
        headers.append(compile_header(raw, Origin(lines, index + 1, 1), hint))
        index += 1
    body = "\n".join(lines[index + 1 :]) if index + 1 < len(lines) else None
    return Message(method, path, tuple(params), tuple(headers), body, index + 2)
