"""Media types: the one place that says what counts as JSON (request bodies and answers alike),
which character set a Content-Type declares, and how an answer's body is decoded for a notebook
(``decode_body``).
"""

from __future__ import annotations

import codecs
import json

import httpx

_TEXT_TYPES = (
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/x-ndjson",
    "application/yaml",
)


def media_type(content_type: str) -> str:
    """'application/json; charset=utf-8' -> 'application/json'."""
    return content_type.partition(";")[0].strip().lower()


def is_json(media: str) -> bool:
    """application/json, and the +json family (problem+json, ...)."""
    return media.endswith("/json") or media.endswith("+json")


def media_type_of(headers: httpx.Headers) -> str:
    """The media type of a request's or response's Content-Type header, "" without one."""
    return media_type(headers.get("content-type", ""))


def charset(content_type: str) -> str | None:
    """'text/plain; charset="ISO-8859-1"' -> 'iso-8859-1'; None when none is declared."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip().lower() or None
    return None


def codec(declared: str | None) -> str | None:
    """Python's codec for a declared charset ('latin1' -> 'iso8859-1'), None when unknown."""
    if not declared:
        return None
    try:
        return codecs.lookup(declared).name
    except LookupError:
        return None


def _is_text_type(media: str) -> bool:
    return media.startswith("text/") or media.endswith("+xml") or media in _TEXT_TYPES


def decode_body(response: httpx.Response) -> object:
    """The body as a notebook wants it: dict/list for JSON, str for text, bytes otherwise.

    JSON is decoded from the raw bytes (json.loads detects UTF-8/16/32 itself, and it is faster
    than decoding to str first), or with the charset the answer declares when that is another
    one (``application/json; charset=iso-8859-1``). An empty body is None. A body labelled JSON
    that does not parse is returned as text, so a broken answer can still be read.
    """
    content = response.content
    if not content:
        return None
    media = media_type_of(response.headers)
    if is_json(media) or not media:
        declared = codec(charset(response.headers.get("content-type", "")))
        try:
            if declared is not None and not declared.startswith("utf-"):
                return json.loads(content.decode(declared))
            return json.loads(content)
        except (ValueError, RecursionError):
            if media:
                return response.text
    if _is_text_type(media) or is_json(media):
        return response.text
    if not media:
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            return content
    return content
