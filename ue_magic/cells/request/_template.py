"""The template: a compiled cell, rendered once per namespace into a ``RequestSpec``.

Compile once, render many times: ``--each`` renders one template for thousands of items before
sending anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from ..._constants import MAX_URL_LENGTH
from ...core._media import is_json, media_type
from ...errors import RequestSyntaxError
from ..magic_line import word_columns
from ._body import (
    MULTIPART,
    TEXT,
    body_mode,
    check_http_body,
    compile_body,
    drop_comment_lines,
)
from ._long_ints import read_int, read_long_int
from ._message import Message, check_method, compile_header, compile_message, compile_path
from ._placeholders import Origin, tokenize
from ._values import Parts, absolute_target, as_text, parts_of, render_parts, render_path
from ._variables import expand_file_variables


@dataclass(frozen=True)
class RequestSpec:
    """One request ready to send: the body is encoded, the path is relative or absolute."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    def request_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``UsageEngineClient.request`` / ``build_request``:
        ``params``, ``headers`` (lists of pairs, or None) and ``content`` (bytes or None).
        """
        return {
            "params": list(self.params) or None,
            "headers": list(self.headers) or None,
            "content": self.body,
        }

    @property
    def sends_json(self) -> bool:
        """Is the body JSON (its Content-Type says so)? ``--python`` and the OpenAPI body
        check read it back with ``json_value()``."""
        types = [value for name, value in self.headers if name.lower() == "content-type"]
        return self.body is not None and bool(types) and is_json(media_type(types[-1]))

    def json_value(self, long_ints: bool = False) -> Any:
        """The JSON body decoded (dict, list, str, number, bool or None), ints of up to
        100,000 digits included (Python's ``int()`` stops at 4,300); ``long_ints``: those over
        4,000 digits as ``LongInt`` (their repr says how long they are: the body check's).
        ValueError if the body is not JSON."""
        read = read_long_int if long_ints else read_int
        return json.loads(self.body or b"", parse_int=read)


class RequestTemplate:
    """A compiled cell: cheap to render once per item (``--each``)."""

    __slots__ = (
        "_body",
        "_constant",
        "_deferred",
        "_headers",
        "_params",
        "_path",
        "body_mode",
        "fields",
        "method",
        "names",
    )

    def __init__(
        self,
        method: str,
        path: Parts,
        params: Sequence[tuple[Parts, Parts]],
        headers: Sequence[tuple[str, Parts]],
        body: Parts | None,
        deferred: _DeferredBody | None = None,
        body_mode: str | None = None,
    ) -> None:
        self.method = method
        # how the body is read (``_body.JSON``, ``FORM``...); None: no body, or a templated
        # Content-Type decides it when rendered
        self.body_mode = body_mode
        self._path = path
        self._params = tuple(params)
        self._headers = tuple(headers)
        self._body = body
        self._deferred = deferred
        every = chain(
            path,
            *(k + v for k, v in self._params),
            *(v for _n, v in self._headers),
            body or (),
            deferred.names_parts if deferred is not None else (),
        )
        used = [part[0] for part in every if not isinstance(part, str)]
        self.names: frozenset[str] = frozenset(p.root for p in used)
        # (root, first key) of each {{root.key}} / {{root["key"]}}: what a short form shows
        self.fields: tuple[tuple[str, str | int], ...] = tuple(
            dict.fromkeys((p.root, p.steps[0][1]) for p in used if p.steps)
        )
        self._constant: RequestSpec | None = None
        if not self.names:
            self._constant = self._fill({})

    def __repr__(self) -> str:
        return f"<RequestTemplate {self.method} names={sorted(self.names)}>"

    def render(self, namespace: Mapping[str, object]) -> RequestSpec:
        """Fill the placeholders from ``namespace``; errors name the placeholder and its line.

        Raises ``UnknownNameError`` for a missing name and ``RequestSyntaxError`` for a value
        that cannot stand where it is written (a line break in a header, a set in a string...).
        """
        if self._constant is not None:
            return self._constant
        return self._fill(namespace)

    def _too_long(
        self, path: str, params: tuple[tuple[str, str], ...], namespace: Mapping[str, object]
    ) -> RequestSyntaxError:
        """A URL longer than httpx sends: a clear error at the longest value, not InvalidURL."""
        message = (
            f"the URL would be {_url_length(path, params):,} characters long, more than the"
            f" {_URL_LIMIT:,} that can be sent; send fewer values per request, or send them in"
            " the body."
        )
        every = chain(self._path, *(k + v for k, v in self._params))
        placeholders = [part[0] for part in every if not isinstance(part, str)]
        if not placeholders:
            return RequestSyntaxError(message, 1, 1)
        longest = max(placeholders, key=lambda ph: len(str(ph.resolve(namespace))))
        return longest.error(message)

    def _fill(self, namespace: Mapping[str, object]) -> RequestSpec:
        path = absolute_target(render_path(self._path, namespace))
        params = tuple(
            (render_parts(k, namespace), render_parts(v, namespace)) for k, v in self._params
        )
        if params and "?" in path:  # httpx would drop the path's query in favour of params
            path, _, query = path.partition("?")
            params = tuple(parse_qsl(query, keep_blank_values=True)) + params
        if _url_length(path, params) > _URL_LIMIT:
            raise self._too_long(path, params, namespace)
        # trimmed as literal header text is: a value's edge spaces are not part of a header
        headers = tuple(
            (name, render_parts(v, namespace).strip(" \t")) for name, v in self._headers
        )
        parts = self._body
        if self._deferred is not None:
            content_type = next(v for n, v in headers if n.lower() == "content-type")
            parts = self._deferred.parts(content_type)
        if parts is None:
            return RequestSpec(self.method, path, params, headers)
        text = render_parts(parts, namespace)
        try:
            body = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise RequestSyntaxError(
                f"the body holds a character UTF-8 cannot encode ({exc.object[exc.start]!r})."
            ) from None
        return RequestSpec(self.method, path, params, headers, body)


#: httpx's URL limit, less room for the API URL the path is joined to.
_URL_LIMIT = MAX_URL_LENGTH - 2048
#: A character's longest %-encoded form (4 UTF-8 bytes, %XX each): below this, no need to count.
_MAX_ENCODED = 12


def _url_length(path: str, params: tuple[tuple[str, str], ...]) -> int:
    """The length of the URL's path and query once %-encoded (counted only when it could be
    near the limit: ``--each`` renders thousands of requests)."""
    rough = len(path) + sum(len(k) + len(v) + 2 for k, v in params)
    if rough * _MAX_ENCODED <= _URL_LIMIT:
        return rough
    length = len(quote(path, safe="/%:@!$&'()*+,;=?#[]~"))
    return length + (1 + len(urlencode(params, quote_via=quote)) if params else 0)


def compile_request(
    cell: str,
    method: str | None = None,
    path: str | None = None,
    *,
    headers: Sequence[str] = (),
    magic_line: str | None = None,
) -> RequestTemplate:
    """Parse a cell once; ``render`` it per namespace. ``headers`` are ``-H`` options
    (``"Name: value"``) from the magic line: they replace cell headers of the same name.

    Without ``method`` and ``path`` the cell is an HTTP message; with them it is the body.
    Raises ``RequestSyntaxError`` (line 0 for the magic line) at the first mistake; given the
    whole ``magic_line``, its errors quote that line and count columns from its start.
    """
    message_form = method is None and path is None
    if message_form:
        cell = expand_file_variables(cell)
    where = _MagicLine(magic_line)
    message = _message(cell, method, path, where)
    extra = [compile_header(h.strip(), where.origin(h.strip(), in_order=False)) for h in headers]
    replaced = {name.lower() for name, _v in extra}
    all_headers = [h for h in message.headers if h[0].lower() not in replaced] + extra
    body = message.body if message.body is not None and message.body.strip() else None
    if body is not None and message_form:
        body = check_http_body(drop_comment_lines(body), message.body_line)
        body = body if body.strip() else None
    content_type = next((v for n, v in all_headers if n.lower() == "content-type"), None)
    if body is None:
        return RequestTemplate(message.method, message.path, message.params, all_headers, None)
    lines = cell.split("\n")[: message.body_line - 1] + body.split("\n")
    origin = Origin(lines, message.body_line, 1)
    if content_type is not None and any(not isinstance(p, str) for p in content_type):
        # a templated Content-Type: the body's mode is known once the header is rendered
        deferred = _DeferredBody(body, origin, message_form)
        return RequestTemplate(
            message.method, message.path, message.params, all_headers, None, deferred
        )
    literal = "".join(p for p in content_type if isinstance(p, str)) if content_type else None
    mode = body_mode(literal) if message_form else _cell_body_mode(literal)
    if content_type is None:
        all_headers.append(("Content-Type", ("application/json",)))
    body_parts = compile_body(body, origin, mode)
    return RequestTemplate(
        message.method, message.path, message.params, all_headers, body_parts, body_mode=mode
    )


def _cell_body_mode(content_type: str | None) -> str:
    """The body form (METHOD PATH on the magic line): the cell is the body as written, so a
    multipart body keeps its line breaks and a form body its lines."""
    mode = body_mode(content_type)
    return TEXT if mode == MULTIPART else mode


class _DeferredBody:
    """A body under a templated Content-Type: compiled once per mode the header renders to, with
    the checks and escaping a literal Content-Type gets (a JSON body checked, its values
    escaped)."""

    __slots__ = ("_compiled", "message_form", "names_parts", "origin", "text")

    def __init__(self, text: str, origin: Origin, message_form: bool) -> None:
        self.text, self.origin, self.message_form = text, origin, message_form
        self._compiled: dict[str, Parts] = {}
        tokens, placeholders = tokenize(text, origin)
        self.names_parts = parts_of(tokens, placeholders, as_text)

    def parts(self, content_type: str) -> Parts:
        mode = body_mode(content_type) if self.message_form else _cell_body_mode(content_type)
        if mode not in self._compiled:
            self._compiled[mode] = compile_body(self.text, self.origin, mode)
        return self._compiled[mode]


class _MagicLine:
    """Where the magic line's words are, so that an error points into the line as typed."""

    def __init__(self, line: str | None) -> None:
        self.line = line
        self.words = word_columns(line) if line else ()
        self.next = 0  # words are looked for in order: the method before the path

    def origin(self, word: str, in_order: bool = True) -> Origin:
        """The word's place in the line, or the word on its own when it cannot be found."""
        for index in range(self.next if in_order else 0, len(self.words)):
            text, column = self.words[index]
            if text.strip() == word and self.line is not None:
                if in_order:
                    self.next = index + 1
                return Origin([self.line], 0, column + len(text) - len(text.lstrip()))
        return Origin([word], 0, 1)


def _message(cell: str, method: str | None, path: str | None, where: _MagicLine) -> Message:
    """The cell as an HTTP message, or METHOD and PATH from the magic line with the cell as body."""
    if method is None and path is None:
        return compile_message(cell)
    if path is None:
        raise RequestSyntaxError(
            "give a PATH after the method, e.g. GET /usage-metering/v1/meters.", 0
        )
    path = path.strip()
    method_origin = where.origin(method) if method is not None else Origin(["GET"], 0, 1)
    checked = check_method(method or "GET", method_origin, method_origin.column)
    return Message(checked, compile_path(path, where.origin(path)), (), (), cell, 1)


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
