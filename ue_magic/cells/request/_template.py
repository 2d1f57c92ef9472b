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
from ._json import compile_json_body
from ._message import Message, check_method, compile_header, compile_message, compile_path
from ._placeholders import Origin, tokenize
from ._values import Parts, as_text, form_text, parts_of, render_parts, render_path


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

    def json_value(self) -> Any:
        """The JSON body decoded (dict, list, str, number, bool or None); ValueError if the
        body is not JSON."""
        return json.loads(self.body or b"")


class RequestTemplate:
    """A compiled cell: cheap to render once per item (``--each``)."""

    __slots__ = (
        "_body",
        "_constant",
        "_headers",
        "_params",
        "_path",
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
    ) -> None:
        self.method = method
        self._path = path
        self._params = tuple(params)
        self._headers = tuple(headers)
        self._body = body
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
        path = render_path(self._path, namespace)
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
        if self._body is None:
            return RequestSpec(self.method, path, params, headers)
        text = render_parts(self._body, namespace)
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
    where = _MagicLine(magic_line)
    message = _message(cell, method, path, where)
    extra = [compile_header(h.strip(), where.origin(h.strip(), in_order=False)) for h in headers]
    replaced = {name.lower() for name, _v in extra}
    all_headers = [h for h in message.headers if h[0].lower() not in replaced] + extra
    body = message.body if message.body is not None and message.body.strip() else None
    content_type = next(
        (
            "".join(p for p in v if isinstance(p, str))
            for n, v in all_headers
            if n.lower() == "content-type"
        ),
        None,
    )
    body_parts: Parts | None = None
    if body is not None:
        origin = Origin(cell.split("\n"), message.body_line, 1)
        if content_type is None or is_json(media_type(content_type)):
            body_parts = compile_json_body(body, origin)
            if content_type is None:
                all_headers.append(("Content-Type", ("application/json",)))
        else:
            tokens, placeholders = tokenize(body, origin)
            form = content_type.lower().startswith("application/x-www-form-urlencoded")
            body_parts = parts_of(tokens, placeholders, form_text if form else as_text)
    return RequestTemplate(message.method, message.path, message.params, all_headers, body_parts)


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
