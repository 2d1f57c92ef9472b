"""Cell text -> request: the pure parser behind ``%%ue_call`` (no IPython, no network).

Two cell forms. With METHOD and PATH on the magic line the cell is the body. Otherwise the cell is
an HTTP message as in ``.http`` files::

    # comments before the request line
    POST /usage-metering/v1/meters?limit=10
    &name={{ type_name }}
    Content-Type: application/json

    {"meterTypeId": "{{ t.id }}", "userId": "u-1", "meterKey": "k", "customFields": {{ fields }}}

``{{ name }}`` takes a value from the notebook namespace: a name, then ``.attr`` (a mapping's key
first, else the attribute) and ``[0]`` / ``['key']`` steps; nothing is called or computed. Where it
stands decides how the value is written:

- a whole JSON value in a JSON body: ``json.dumps`` of the value (dates as ISO text, Decimal as a
  number, sets and tuples as lists, numpy/pandas scalars and arrays through ``tolist()``);
- inside a JSON string: the value's text, JSON-escaped;
- a header or query value, or a text body: its text (``str``; dates in ISO format); newlines are
  refused in headers and query values (header injection); a form body gets it URL-encoded;
- the path: its text URL-encoded (``/`` too), except when the placeholder is the whole path (a URL
  kept in a variable), which is used as it is.

A body is JSON unless a Content-Type header names a non-JSON type; a JSON body is checked when the
template is compiled (positions are the user's), and gets ``Content-Type: application/json`` when it
has none. ``\\{{`` writes a literal ``{{``. Compile once, render many times: ``--each`` renders one
template for thousands of items before sending anything.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import enum
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from ._media import is_json, media_type

__all__ = [
    "METHODS",
    "RequestSpec",
    "RequestSyntaxError",
    "RequestTemplate",
    "UnknownNameError",
    "compile_request",
    "parse_request",
]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

_QUOTE_WIDTH = 76  # characters of the offending line quoted around the column


class RequestSyntaxError(ValueError):
    """A mistake in the cell, found before anything is sent.

    ``line`` is 1-based in the cell (0 means the magic line), ``column`` is 1-based, and
    ``source_line`` is the line as written, so the message can point at the mistake.
    """

    def __init__(
        self, message: str, line: int = 1, column: int = 1, source_line: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line

    def __str__(self) -> str:
        where = "Magic line" if self.line == 0 else f"Line {self.line}"
        text = f"{where}, column {self.column}: {self.message}"
        if self.source_line is None:
            return text
        shown, caret = _window(self.source_line, self.column)
        return f"{text}\n    {shown}\n    {' ' * caret}^"


class UnknownNameError(RequestSyntaxError):
    """``{{ name }}`` names nothing in the namespace; ``name`` is the missing root name."""

    def __init__(self, name: str, line: int, column: int, source_line: str | None) -> None:
        super().__init__(
            f"`{name}` is not defined; run the cell that sets it, or fix the name.",
            line,
            column,
            source_line,
        )
        self.name = name


def _a(noun: str) -> str:
    """'a dict', 'an int': messages read as sentences."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _window(source: str, column: int) -> tuple[str, int]:
    """A slice of a long line around the column, and the caret offset in that slice."""
    source = source.replace("\t", " ")
    if len(source) <= _QUOTE_WIDTH:
        return source, column - 1
    start = max(0, min(column - 1 - _QUOTE_WIDTH // 2, len(source) - _QUOTE_WIDTH))
    prefix = "…" if start else ""
    end = start + _QUOTE_WIDTH
    suffix = "…" if end < len(source) else ""
    return prefix + source[start:end] + suffix, column - 1 - start + len(prefix)


@dataclass(frozen=True)
class RequestSpec:
    """One request ready to send: the body is encoded, the path is relative or absolute."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    json_body: object = None
    has_json: bool = False

    def request_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``UsageEngineClient.request`` / ``build_request``."""
        return {
            "params": list(self.params) or None,
            "headers": list(self.headers) or None,
            "content": self.body,
        }


# --------------------------------------------------------------------------- placeholders

_IDENT = re.compile(r"[^\W\d]\w*")
_STEP = re.compile(
    r"""[ \t]*(?:\.[ \t]*(?P<attr>[^\W\d]\w*)"""
    r"""|\[[ \t]*(?:(?P<int>-?\d+)|(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))[ \t]*\])"""
)
_OPEN = re.compile(r"\\\{\{|\{\{")


@dataclass(frozen=True)
class _Placeholder:
    """One ``{{ ... }}``: the root name and the steps after it, with where it was written."""

    text: str  # as written, braces included
    root: str
    steps: tuple[tuple[bool, str | int], ...]  # (is_attribute, key)
    line: int
    column: int
    source_line: str

    def error(self, message: str) -> RequestSyntaxError:
        return RequestSyntaxError(
            f"{self.text}: {message}", self.line, self.column, self.source_line
        )

    def resolve(self, namespace: Mapping[str, object]) -> object:
        """Look the value up: a mapping key or attribute for ``.x``, an item for ``[i]``."""
        try:
            value = namespace[self.root]
        except KeyError:
            raise UnknownNameError(self.root, self.line, self.column, self.source_line) from None
        for is_attr, key in self.steps:
            value = self._step(value, is_attr, key)
        return value

    def _step(self, value: object, is_attr: bool, key: str | int) -> object:
        kind = _a(type(value).__name__)
        try:
            if is_attr:
                if isinstance(value, Mapping) and key in value:
                    return value[key]
                return getattr(value, str(key))
            return value[key]  # type: ignore[index]
        except AttributeError:
            problem = f"{kind} has no key or attribute {key!r}."
        except (KeyError, IndexError):
            problem = f"{kind} has no item [{key!r}]."
        except TypeError:
            problem = f"{kind} cannot be indexed with [{key!r}]."
        except Exception as exc:  # a property that raised: say so, briefly
            problem = f"reading {key!r} of {kind} failed ({type(exc).__name__})."
        raise self.error(problem) from None


@dataclass(frozen=True)
class _Origin:
    """Where a piece of text sits in the cell, to turn offsets into line and column."""

    lines: Sequence[str]  # the cell's lines (index 0 is line 1); the magic line when line == 0
    line: int
    column: int  # 1-based column of the text's first character


def _position(text: str, origin: _Origin, offset: int) -> tuple[int, int, str]:
    """Line, column and source line of ``offset`` in ``text``."""
    count = text.count("\n", 0, offset)
    if count:
        line = origin.line + count
        column = offset - text.rfind("\n", 0, offset)
    else:
        line, column = origin.line, origin.column + offset
    return line, column, _source_line(origin, line)


def _source_line(origin: _Origin, line: int) -> str:
    index = 0 if origin.line == 0 else line - 1
    return origin.lines[index] if 0 <= index < len(origin.lines) else ""


_Token = tuple[str, str, int, int]  # kind ("lit", "esc", "ph"), value, start, end


def _tokenize(text: str, origin: _Origin) -> tuple[list[_Token], dict[int, _Placeholder]]:
    """Split text into literal runs, ``\\{{`` escapes and placeholders (keyed by start offset)."""
    tokens: list[_Token] = []
    placeholders: dict[int, _Placeholder] = {}
    pos = 0
    for match in _OPEN.finditer(text):
        start = match.start()
        if start < pos:
            continue  # inside a placeholder already taken
        if start > pos:
            tokens.append(("lit", text[pos:start], pos, start))
        if match.group() == "\\{{":
            tokens.append(("esc", "{{", start, match.end()))
            pos = match.end()
            continue
        end = _close(text, match.end())
        if end < 0:
            line, col, src = _position(text, origin, start)
            raise RequestSyntaxError(
                "unclosed {{; close it with }} on the same line, or write \\{{ for a literal {{.",
                line,
                col,
                src,
            )
        placeholders[start] = _parse_placeholder(text, start, end, origin)
        tokens.append(("ph", text[start:end], start, end))
        pos = end
    if pos < len(text):
        tokens.append(("lit", text[pos:], pos, len(text)))
    return tokens, placeholders


def _close(text: str, start: int) -> int:
    """Offset just past the ``}}`` that closes a placeholder on the same line, or -1."""
    end = text.find("}}", start)
    newline = text.find("\n", start)
    if end < 0 or 0 <= newline < end:
        return -1
    return end + 2


def _parse_placeholder(text: str, start: int, end: int, origin: _Origin) -> _Placeholder:
    inner = text[start + 2 : end - 2]
    lead = len(inner) - len(inner.lstrip(" \t"))
    expr = inner.strip(" \t")
    base = start + 2 + lead  # offset of expr in text

    def fail(at: int, message: str) -> RequestSyntaxError:
        line, col, src = _position(text, origin, base + at)
        return RequestSyntaxError(message, line, col, src)

    if not expr:
        raise fail(0, "empty {{ }}; put a variable name inside, e.g. {{ meter_id }}.")
    match = _IDENT.match(expr)
    if match is None or not match.group().isidentifier():
        raise fail(0, "{{ }} must start with a variable name, e.g. {{ meter.id }}.")
    root = match.group()
    steps: list[tuple[bool, str | int]] = []
    pos = match.end()
    while pos < len(expr):
        step = _STEP.match(expr, pos)
        if step is None:
            pos += len(expr[pos:]) - len(expr[pos:].lstrip(" \t"))
            raise fail(
                pos,
                f"only a name, .attribute and [index] may stand inside {{{{ }}}},"
                f" not {expr[pos : pos + 20]!r}; compute the value in a Python cell first.",
            )
        if step.group("attr") is not None:
            steps.append((True, step.group("attr")))
        elif step.group("int") is not None:
            steps.append((False, int(step.group("int"))))
        else:
            try:
                key = ast.literal_eval(step.group("str"))
            except (ValueError, SyntaxError):
                raise fail(pos, "this quoted key is not a valid string literal.") from None
            steps.append((False, str(key)))
        pos = step.end()
    line, col, src = _position(text, origin, start)
    return _Placeholder(text[start:end], root, tuple(steps), line, col, src)


# --------------------------------------------------------------------------- value conversions

_Convert = Callable[[_Placeholder, object], str]


def _text(ph: _Placeholder, value: object) -> str:
    """The text of a value: str for most, ISO 8601 for dates, UTF-8 for bytes."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _text(ph, value.value)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ph.error("these bytes are not UTF-8 text.") from None
    try:
        return str(value)
    except Exception as exc:
        raise ph.error(
            f"str() of {_a(type(value).__name__)} failed ({type(exc).__name__})."
        ) from None


def _one_line(ph: _Placeholder, value: object) -> str:
    text = _text(ph, value)
    if "\n" in text or "\r" in text or "\x00" in text:
        raise ph.error("the value has a line break, which a header or query value cannot hold.")
    return text


def _path_text(ph: _Placeholder, value: object) -> str:
    return quote(_one_line(ph, value), safe="")


def _whole_path(ph: _Placeholder, value: object) -> str:
    text = _one_line(ph, value).strip()
    if not text or any(c.isspace() for c in text):
        raise ph.error("a path or URL with spaces (or none at all) cannot be sent.")
    return text


def _form_text(ph: _Placeholder, value: object) -> str:
    return quote_plus(_text(ph, value))


def _json_string_text(ph: _Placeholder, value: object) -> str:
    return json.dumps(_text(ph, value), ensure_ascii=False)[1:-1]


def _json_default(value: object) -> object:
    """What json.dumps cannot encode itself but a notebook commonly holds."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError("NaN or infinite")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if type(value).__module__.partition(".")[0] in ("numpy", "pandas"):
        if type(value).__name__ == "DataFrame":
            return value.to_dict(orient="records")  # type: ignore[attr-defined]
        for name in ("tolist", "item"):
            method = getattr(value, name, None)
            if callable(method):
                return method()
    raise TypeError(type(value).__name__)


def _json_value(ph: _Placeholder, value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)
    except TypeError as exc:
        kind = exc.args[0] if exc.args and " " not in str(exc.args[0]) else type(value).__name__
        raise ph.error(
            f"{_a(kind)} cannot be written as JSON;"
            " convert it (to a dict, list, str or number) first."
        ) from None
    except (ValueError, RecursionError) as exc:
        reason = "it refers to itself" if "ircular" in str(exc) else "NaN and infinity are not JSON"
        raise ph.error(f"this value cannot be written as JSON: {reason}.") from None


_Part = str | tuple[_Placeholder, _Convert]
_Parts = tuple[_Part, ...]


def _parts(
    tokens: Iterable[_Token], placeholders: Mapping[int, _Placeholder], conv: _Convert
) -> _Parts:
    """Literal text merged into runs; each placeholder with its conversion."""
    out: list[_Part] = []
    for kind, value, start, _end in tokens:
        if kind == "ph":
            out.append((placeholders[start], conv))
        elif out and isinstance(out[-1], str):
            out[-1] += value
        else:
            out.append(value)
    return tuple(out)


def _render(parts: _Parts, namespace: Mapping[str, object]) -> str:
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    return "".join(
        part if isinstance(part, str) else part[1](part[0], part[0].resolve(namespace))
        for part in parts
    )


# --------------------------------------------------------------------------- body

_NOT_JSON_HINT = (
    " The body is sent as JSON; for text, add a header such as Content-Type: text/plain."
)


def _compile_json_body(text: str, origin: _Origin) -> _Parts:
    """Tokenize, tell string from value placeholders, and check the JSON with stand-ins."""
    tokens, placeholders = _tokenize(text, origin)
    in_string = False
    escaped = False
    standin: list[str] = []
    out: list[_Part] = []
    for kind, value, start, end in tokens:
        if kind == "ph":
            ph = placeholders[start]
            if in_string:
                standin.append("x" * (end - start))
                out.append((ph, _json_string_text))
            else:
                _check_standalone(text, start, end, ph)
                standin.append("0" + " " * (end - start - 1))
                out.append((ph, _json_value))
            continue
        standin.append(" {{" if kind == "esc" else value)
        if out and isinstance(out[-1], str):
            out[-1] += value
        else:
            out.append(value)
        if kind == "lit":
            for char in value:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = in_string
                elif char == '"':
                    in_string = not in_string
    _check_json("".join(standin), origin)
    return tuple(out)


_BEFORE_VALUE = frozenset("[,:")
_AFTER_VALUE = frozenset("]},")


def _check_standalone(text: str, start: int, end: int, ph: _Placeholder) -> None:
    """A whole-value placeholder must be a JSON value by itself, not glued to other tokens."""
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    if (before and before[-1] not in _BEFORE_VALUE) or (after and after[0] not in _AFTER_VALUE):
        raise ph.error(
            'outside a string, {{ }} must be a whole JSON value (after ":", "," or "["); '
            'to join it with text, put it in a string: "…{{ x }}…".'
        )


def _reject_constant(name: str) -> object:
    raise ValueError(name)


def _check_json(standin: str, origin: _Origin) -> None:
    try:
        json.loads(standin, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        hint = _NOT_JSON_HINT if standin[: exc.pos].strip() == "" else ""
        line, col, src = _position(standin, origin, exc.pos)
        src = _source_line(origin, line)
        raise RequestSyntaxError(
            f"invalid JSON: {exc.msg.lower()}.{hint}", line, col, src
        ) from None
    except ValueError as exc:  # NaN / Infinity
        line, col, src = _position(standin, origin, 0)
        raise RequestSyntaxError(f"invalid JSON: {exc} is not JSON.", line, col, src) from None
    except RecursionError:
        raise RequestSyntaxError("the JSON body is nested too deeply.", origin.line, 1) from None


# --------------------------------------------------------------------------- the template


class RequestTemplate:
    """A compiled cell: cheap to render once per item (``--each``)."""

    __slots__ = (
        "_body",
        "_constant",
        "_headers",
        "_params",
        "_path",
        "fields",
        "has_json",
        "method",
        "names",
    )

    def __init__(
        self,
        method: str,
        path: _Parts,
        params: Sequence[tuple[_Parts, _Parts]],
        headers: Sequence[tuple[str, _Parts]],
        body: _Parts | None,
        has_json: bool,
    ) -> None:
        self.method = method
        self._path = path
        self._params = tuple(params)
        self._headers = tuple(headers)
        self._body = body
        self.has_json = has_json
        every = chain(
            path,
            *(k + v for k, v in self._params),
            *(v for _n, v in self._headers),
            body or (),
        )
        used = [part[0] for part in every if not isinstance(part, str)]
        self.names: frozenset[str] = frozenset(p.root for p in used)
        # (root, first key) of each {{root.key}} / {{root["key"]}}: what a short form shows
        self.fields: tuple[tuple[str, str | int], ...] = tuple(
            dict.fromkeys((p.root, p.steps[0][1]) for p in used if p.steps)
        )
        self._constant: RequestSpec | None = None
        if not self.names:
            self._constant = self._render({})

    def __repr__(self) -> str:
        return f"<RequestTemplate {self.method} names={sorted(self.names)}>"

    def render(self, namespace: Mapping[str, object]) -> RequestSpec:
        """Fill the placeholders from ``namespace``; errors name the placeholder and its line."""
        if self._constant is not None:
            return self._constant
        return self._render(namespace)

    def _render(self, namespace: Mapping[str, object]) -> RequestSpec:
        path = _render(self._path, namespace)
        params = tuple((_render(k, namespace), _render(v, namespace)) for k, v in self._params)
        if params and "?" in path:  # httpx would drop the path's query in favour of params
            path, _, query = path.partition("?")
            params = tuple(parse_qsl(query, keep_blank_values=True)) + params
        headers = tuple((name, _render(v, namespace)) for name, v in self._headers)
        if self._body is None:
            return RequestSpec(self.method, path, params, headers)
        text = _render(self._body, namespace)
        try:
            body = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise RequestSyntaxError(
                f"the body holds a character UTF-8 cannot encode ({exc.object[exc.start]!r})."
            ) from None
        decoded: object = None
        if self.has_json:
            try:
                decoded = json.loads(body)
            except (ValueError, RecursionError) as exc:  # guarded at compile time; belt and braces
                raise RequestSyntaxError(f"the rendered body is not valid JSON ({exc}).") from None
        return RequestSpec(self.method, path, params, headers, body, decoded, self.has_json)


def _check_method(word: str, origin: _Origin, column: int) -> str:
    method = word.upper()
    if method not in METHODS:
        raise RequestSyntaxError(
            f"unknown method {word!r}; use one of {', '.join(METHODS)}.",
            origin.line,
            column,
            _source_line(origin, origin.line),
        )
    return method


def _compile_path(text: str, origin: _Origin) -> _Parts:
    tokens, placeholders = _tokenize(text, origin)
    if not tokens:
        raise RequestSyntaxError(
            "the request has no path; write e.g. GET /usage-metering/v1/meters.",
            origin.line,
            origin.column,
            _source_line(origin, origin.line),
        )
    for kind, value, start, _end in tokens:
        if kind != "lit":
            continue
        for i, char in enumerate(value):
            if char.isspace() or ord(char) < 0x20 or char == "\x7f":
                line, col, src = _position(text, origin, start + i)
                raise RequestSyntaxError(
                    "the path has a space or control character; URL-encode it (%20 for a space).",
                    line,
                    col,
                    src,
                )
    if len(tokens) == 1 and tokens[0][0] == "ph":
        return _parts(tokens, placeholders, _whole_path)
    return _parts(tokens, placeholders, _path_text)


_HEADER = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*(.*?)[ \t]*")


#: Headers the client sets itself; a wrong one would break the request in confusing ways.
_MANAGED_HEADERS = {
    "authorization": "ue-magic sends the login's token (use --profile for another login).",
    "host": "it comes from the URL.",
    "content-length": "it is computed from the body.",
    "transfer-encoding": "the body is sent whole.",
    "connection": "the connection pool manages it.",
}


def _compile_header(text: str, origin: _Origin, hint: str = "") -> tuple[str, _Parts]:
    match = _HEADER.fullmatch(text)
    if match is None:
        raise RequestSyntaxError(
            f"not a header line (Name: value).{hint}",
            origin.line,
            origin.column,
            _source_line(origin, origin.line),
        )
    reason = _MANAGED_HEADERS.get(match.group(1).lower())
    if reason is not None:
        raise RequestSyntaxError(
            f"leave out the {match.group(1)} header: {reason}",
            origin.line,
            origin.column,
            _source_line(origin, origin.line),
        )
    value = match.group(2)
    for i, char in enumerate(value):
        if (ord(char) < 0x20 and char != "\t") or char == "\x7f":
            col = origin.column + match.start(2) + i
            raise RequestSyntaxError(
                "a header value cannot hold a control character.",
                origin.line,
                col,
                _source_line(origin, origin.line),
            )
    sub = _Origin(origin.lines, origin.line, origin.column + match.start(2))
    tokens, placeholders = _tokenize(value, sub)
    return match.group(1), _parts(tokens, placeholders, _one_line)


def _compile_query_line(text: str, origin: _Origin) -> list[tuple[_Parts, _Parts]]:
    """``a=1&b={{ x }}``: literal parts are %-decoded, placeholder values are text."""
    tokens, placeholders = _tokenize(text, origin)
    pairs: list[tuple[_Parts, _Parts]] = []
    key: list[_Token] = []
    val: list[_Token] = []
    current = key

    def flush() -> None:
        if key or val:
            pairs.append(
                (
                    _parts(_decoded(key), placeholders, _one_line),
                    _parts(_decoded(val), placeholders, _one_line),
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


def _decoded(tokens: list[_Token]) -> list[_Token]:
    return [
        (kind, unquote(value) if kind == "lit" else value, start, end)
        for kind, value, start, end in tokens
        if not (kind == "lit" and not value)
    ]


_HTTP_VERSION = re.compile(r"\s+HTTP/\d+(?:\.\d+)?\s*$", re.IGNORECASE)
_METHOD_WORD = re.compile(r"([A-Za-z]+)([ \t]+)(?=\S)")


def _compile_message(
    cell: str,
) -> tuple[str, _Parts, list[tuple[_Parts, _Parts]], list[tuple[str, _Parts]], str | None, int]:
    """The ``.http`` form: request line, ``?``/``&`` lines, headers, blank line, body."""
    lines = cell.split("\n")
    index = 0
    while index < len(lines) and (
        not lines[index].strip() or lines[index].lstrip().startswith("#")
    ):
        index += 1
    if index == len(lines):
        raise RequestSyntaxError(
            "the cell has no request line; start it with e.g. GET /usage-metering/v1/meters.",
            1,
            1,
            lines[0] if lines else "",
        )
    raw = lines[index].rstrip("\r")
    origin = _Origin(lines, index + 1, 1)
    indent = len(raw) - len(raw.lstrip())
    line = _HTTP_VERSION.sub("", raw.strip())
    if line.upper() in METHODS:
        raise RequestSyntaxError(
            f"give a PATH after {line}, e.g. {line.upper()} /usage-metering/v1/meters.",
            index + 1,
            indent + len(line) + 1,
            raw,
        )
    word = _METHOD_WORD.match(line)
    if word:
        method = _check_method(word.group(1), origin, indent + 1)
        path_col = indent + 1 + word.end()
        path_text = line[word.end() :]
    else:
        method, path_col, path_text = "GET", indent + 1, line
    path = _compile_path(path_text, _Origin(lines, index + 1, path_col))
    index += 1
    params: list[tuple[_Parts, _Parts]] = []
    while index < len(lines) and lines[index].lstrip()[:1] in ("?", "&"):
        raw = lines[index].rstrip()
        col = len(raw) - len(raw.lstrip()) + 2
        params += _compile_query_line(raw.lstrip()[1:], _Origin(lines, index + 1, col))
        index += 1
    headers: list[tuple[str, _Parts]] = []
    while index < len(lines) and lines[index].strip():
        raw = lines[index].rstrip("\r")
        hint = ""
        if raw.lstrip()[:1] in ("{", "[", '"'):
            hint = " Put a blank line between the headers and the body."
        elif raw.lstrip()[:1] in ("?", "&"):
            hint = " Query lines (?a=1, &b=2) go right after the request line."
        headers.append(_compile_header(raw, _Origin(lines, index + 1, 1), hint))
        index += 1
    body = "\n".join(lines[index + 1 :]) if index + 1 < len(lines) else None
    return method, path, params, headers, body, index + 2


def compile_request(
    cell: str,
    method: str | None = None,
    path: str | None = None,
    *,
    headers: Sequence[str] = (),
) -> RequestTemplate:
    """Parse a cell once; ``render`` it per namespace. ``headers`` are ``-H`` options
    (``"Name: value"``) from the magic line: they replace cell headers of the same name.
    """
    path = path.strip() if path is not None else None
    magic = _Origin([path or ""], 0, 1)
    body: str | None
    if method is None and path is None:
        meth, path_parts, params, cell_headers, body, body_line = _compile_message(cell)
    elif path is None:
        raise RequestSyntaxError(
            "give a PATH after the method, e.g. GET /usage-metering/v1/meters.", 0
        )
    else:
        meth = _check_method(method or "GET", magic, 1)
        path_parts = _compile_path(path, magic)
        params, cell_headers, body, body_line = [], [], cell, 1
    extra = [_compile_header(h.strip(), _Origin([h.strip()], 0, 1)) for h in headers]
    replaced = {name.lower() for name, _v in extra}
    all_headers = [h for h in cell_headers if h[0].lower() not in replaced] + extra
    if body is not None and not body.strip():
        body = None
    content_type = next(
        (
            "".join(p for p in v if isinstance(p, str))
            for n, v in all_headers
            if n.lower() == "content-type"
        ),
        None,
    )
    body_parts: _Parts | None = None
    has_json = False
    if body is not None:
        origin = _Origin(cell.split("\n"), body_line, 1)
        if content_type is None or is_json(media_type(content_type)):
            body_parts = _compile_json_body(body, origin)
            has_json = True
            if content_type is None:
                all_headers.append(("Content-Type", ("application/json",)))
        else:
            tokens, placeholders = _tokenize(body, origin)
            form = content_type.lower().startswith("application/x-www-form-urlencoded")
            body_parts = _parts(tokens, placeholders, _form_text if form else _text)
    return RequestTemplate(meth, path_parts, params, all_headers, body_parts, has_json)


def parse_request(
    cell: str,
    namespace: Mapping[str, object],
    method: str | None = None,
    path: str | None = None,
    *,
    headers: Sequence[str] = (),
) -> RequestSpec:
    """Compile and render in one step (a single request)."""
    return compile_request(cell, method, path, headers=headers).render(namespace)
