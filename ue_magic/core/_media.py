"""Media types: the one place that says what counts as JSON (request bodies and answers alike),
which character set a Content-Type declares, and how an answer's body is decoded for a notebook
(``decode_body``).
"""

from __future__ import annotations

import codecs
import contextlib
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
    """Python's text codec for a declared charset ('latin1' -> 'iso8859-1'); None when Python
    does not know it, or knows it only as a bytes-to-bytes codec (base64, hex, zlib)."""
    if not declared:
        return None
    try:
        info = codecs.lookup(declared)
    except LookupError:
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_text(content: bytes, name: str | None) -> str:
    """``content`` read as the text codec ``name``, bytes it cannot read replaced; read as
    UTF-8 when the codec cannot read it at all (idna raises even when asked to replace, and
    so do some incremental decoders). Never raises."""
    if name:
        try:
            return codecs.getincrementaldecoder(name)(errors="replace").decode(content, True)
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass
    return content.decode("utf-8", "replace")


_NEVER_FAIL = frozenset({"utf-8", "ascii", "iso8859-1", "cp1252", "latin-1"})


def settle_encoding(response: httpx.Response) -> None:
    """Make ``response.text`` safe to read: httpx decodes with the declared charset, and raises
    for one that is not a text encoding (``charset=base64``) or that cannot read the body even
    replacing what it cannot (``charset=idna``). Such an answer is read as UTF-8, as one with a
    charset Python does not know is. Costs one decode of the body, and only for a declared
    charset other than UTF-8, ASCII and Latin-1."""
    declared = charset(response.headers.get("content-type", ""))
    if declared is None:
        return
    name = codec(declared)
    if name in _NEVER_FAIL:
        return
    if name is not None:
        try:
            codecs.getincrementaldecoder(name)(errors="replace").decode(response.content, True)
            return
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass
    with contextlib.suppress(ValueError):  # .text was read already (it did not raise then)
        response.encoding = "utf-8"


_DECODER = json.JSONDecoder()  # what json.loads uses, without its look at the encoding
# the first byte of a JSON text in UTF-8 without a byte order mark (UTF-16 and 32 start with NUL
# or with NUL second, and json.loads finds those): an object, a list, a string
_JSON_STARTS = (b"{", b"[", b'"')


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
    content_type = response.headers.get("content-type", "")
    if content_type == "application/json" and content[:1] in _JSON_STARTS:
        with contextlib.suppress(ValueError, RecursionError):  # else as below: as text
            return _DECODER.decode(content.decode("utf-8"))  # most answers: UTF-8 JSON
    media = media_type(content_type)
    if is_json(media) or not media:
        declared = codec(charset(content_type))
        try:
            if declared is not None and not declared.startswith("utf-"):
                try:
                    return json.loads(content.decode(declared))
                except UnicodeError:  # a charset that cannot read it (idna): as UTF-8
                    pass
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
