"""Echoed tokens in what an answer decodes to, not only in its bytes.

``_kept`` masks a token on the answer's raw bytes, in every spelling ``_forms`` knows. But the
readers decode first: ``json.loads`` turns ``\\u0041`` into ``A`` (an escape ``_forms`` does
not look for in letters and digits: it would break the cheap anchors that rule most answers
out), and a body in UTF-16 or UTF-32 (declared, or found by ``json.loads`` itself) holds no
token's bytes at all. So the body is also read as each reader reads it: in each encoding a
reader may use (httpx's ``.encoding`` for ``.text``, the one ``json.loads`` detects, the
declared charset), with JSON's escapes of letters and digits undone. Where that reading holds
a token, the body becomes that reading, masked, in that encoding (the same JSON, the same
text, but for the escapes undone and the ``***``). An answer in UTF-8 with no escaped letter
or digit (nearly all) costs a substring search.
"""

from __future__ import annotations

import json
import re

import httpx

from ._forms import scrub, scrub_bytes
from ._media import charset, codec, decode_text, is_json, media_type_of

__all__ = ["mask_decoded"]

# encodings in which ``scrub_bytes`` sees the token as every reader does (but for escapes)
_AS_BYTES = ("utf-8", "ascii")
_HINT = b"\\u00"  # the start of every escape of a letter or a digit (JSON's ``\u`` is lower-case)
_CODES = "3[0-9]|4[1-9a-fA-F]|5[0-9aA]|6[1-9a-fA-F]|7[0-9aA]"  # 0-9, A-Z, a-z
_ONE = re.compile(rf"\\u00(?:{_CODES})".encode())
# an escaped backslash (kept: the ``u`` after it is text) or an escape of a letter or digit
_ESCAPES = re.compile(rf"\\\\|\\u00(?:{_CODES})")
_ESCAPES_BYTES = re.compile(_ESCAPES.pattern.encode())


def mask_decoded(response: httpx.Response, content: bytes, needles: tuple[str, ...]) -> bytes:
    """``content`` (the body of ``response``, already masked on its bytes) with every token
    masked that a reader would find once it is decoded; the same object when none is.

    ``needles``: ``_forms.secret_forms`` of the tokens.
    """
    if not needles or not content:
        return content
    declared = "charset" in response.headers.get("content-type", "").lower()
    if not declared and _HINT not in content and b"\x00" not in content and content.isascii():
        return content  # read as UTF-8 by all: the bytes were masked as they are
    for encoding in _readings(response, content):
        if encoding in _AS_BYTES:
            content = _mask_escaped(content, needles)
        else:
            content = _mask_text(content, encoding, needles)
    return content


def _readings(response: httpx.Response, content: bytes) -> list[str]:
    """The encodings the body's readers use, as Python's codec names, each once."""
    names = [response.encoding or "utf-8"]  # ``.text``, and the text ue-magic shows
    media = media_type_of(response.headers)
    if not media or is_json(media) or media.startswith("text/"):
        names.append(json.detect_encoding(content))  # ``.json()`` and the JSON tree
    names.append(charset(response.headers.get("content-type", "")) or "utf-8")
    found: list[str] = []
    for name in names:
        # a charset Python does not know, or not as text (base64): read as UTF-8, as all are
        name = codec(name) or "utf-8"
        if name not in found:
            found.append(name)
    return found


def _mask_escaped(content: bytes, needles: tuple[str, ...]) -> bytes:
    if _HINT not in content or _ONE.search(content) is None:
        return content
    plain = _ESCAPES_BYTES.sub(_unescape_bytes, content)
    masked = scrub_bytes(plain, needles)
    return content if masked is plain else masked


def _mask_text(content: bytes, encoding: str, needles: tuple[str, ...]) -> bytes:
    text = decode_text(content, encoding)  # never raises: no frame here may carry ``needles``
    plain = _ESCAPES.sub(_unescape, text) if "\\u00" in text else text
    masked = scrub(plain, *needles)
    if masked == plain:
        return content
    try:
        return masked.encode(encoding, "replace")
    except (UnicodeError, LookupError, ValueError):  # a codec that cannot write it (idna)
        return masked.encode("utf-8", "replace")


def _unescape(match: re.Match[str]) -> str:
    found = match[0]
    return found if found == "\\\\" else chr(int(found[2:], 16))


def _unescape_bytes(match: re.Match[bytes]) -> bytes:
    found = match[0]
    return found if found == b"\\\\" else bytes([int(found[2:], 16)])
