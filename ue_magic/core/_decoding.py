"""Decoding a compressed answer within its size limit and deadline.

httpx's decoders expand whatever they are given at once, and its multi-layer decoder expands
every layer before anything is counted: 294 bytes of ``gzip, gzip, gzip`` become gigabytes.
So gzip and deflate are decoded here with zlib's ``max_length``, a bounded piece at a time,
each piece counted against the limit and the deadline; other codings (br, zstd: httpx's
decoders) are fed small pieces. A stack of codings is refused: real servers send one.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import httpx

# bytes of compressed body given to a decoder without ``max_length`` at a time
_DECODE_PIECE = 1024
# the most bytes one zlib call may produce before they are counted
_OUT_PIECE = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"  # the first bytes of every gzip member
_ZLIB_WBITS = {
    "gzip": zlib.MAX_WBITS | 16,
    "x-gzip": zlib.MAX_WBITS | 16,
    "deflate": zlib.MAX_WBITS,
}


def codings(response: httpx.Response) -> list[str]:
    """The content-codings of an answer, outermost last, without ``identity``."""
    values = response.headers.get_list("content-encoding", split_commas=True)
    return [v for v in (value.strip().lower() for value in values) if v and v != "identity"]


def stacked_error(response: httpx.Response, names: list[str]) -> httpx.DecodingError:
    return httpx.DecodingError(
        f"the answer is compressed {len(names)} times over (Content-Encoding: "
        f"{', '.join(names)[:80]}); ue-magic decodes one coding, as servers send",
        request=response.request,
    )


class _ZlibLayer:
    """gzip or deflate (zlib-wrapped or raw, as httpx accepts), decoded ``_OUT_PIECE`` at a time."""

    def __init__(self, coding: str) -> None:
        self._wbits = _ZLIB_WBITS[coding]
        self._zlib = zlib.decompressobj(self._wbits)
        self._first = self._wbits == zlib.MAX_WBITS  # deflate: try zlib's wrapper, then raw

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    def pieces(self, data: bytes) -> Any:
        try:
            yield from self._pieces(data)
        except zlib.error as exc:
            if not self._first:
                raise httpx.DecodingError(str(exc)) from None
            self._first = False
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            yield from self.pieces(data)

    def _pieces(self, data: bytes) -> Any:
        while data and not (self._zlib.eof and not self._next_member(data)):
            out = self._zlib.decompress(data, _OUT_PIECE)
            if out:
                self._first = False
            data = self._zlib.unused_data if self._zlib.eof else self._zlib.unconsumed_tail
            yield out

    def _next_member(self, data: bytes) -> bool:
        """After the end of a stream, is ``data`` to be decoded? gzip: yes, as its next member
        (RFC 1952: a gzip body is a series of them, each decoded in turn, as ``gzip -d`` does),
        never an answer silently cut to its first; other bytes there are an error. deflate has
        one stream: what follows it is ignored, as ever."""
        if self._wbits == zlib.MAX_WBITS:
            return False
        if not _GZIP_MAGIC.startswith(data[:2]):
            raise httpx.DecodingError(
                "bytes that are not gzip follow the end of the gzip body (Content-Encoding: gzip)"
            )
        self._zlib = zlib.decompressobj(self._wbits)
        return True

    def flush(self) -> bytes:
        return b""  # everything fed was decoded: ``unconsumed_tail`` is drained above


class BoundedDecoder:
    """The content decoder of one answer: every piece it produces is counted by ``count``
    (which raises past the size or the deadline) before the next is made; and a compressed
    body cut short is an error (zlib's decoder stops quietly where the bytes do).

    ``coding``: the answer's one content-coding; ``fallback``: httpx's decoder for it, used
    for codings other than gzip and deflate.
    """

    def __init__(
        self,
        coding: str,
        fallback: Any,
        request: httpx.Request,
        count: Callable[[int], None],
    ) -> None:
        self._zlib = _ZlibLayer(coding) if coding in _ZLIB_WBITS else None
        self._fallback = fallback
        self._request = request
        self._count = count
        self._fed = False

    def _counted(self, data: bytes) -> bytes:
        self._count(len(data))
        return data

    def decode(self, data: bytes) -> bytes:
        self._fed = self._fed or bool(data)
        try:
            if self._zlib is not None:
                return b"".join(self._counted(out) for out in self._zlib.pieces(data))
            return b"".join(
                self._counted(self._fallback.decode(data[start : start + _DECODE_PIECE]))
                for start in range(0, len(data), _DECODE_PIECE)
            )
        except httpx.DecodingError as exc:
            raise httpx.DecodingError(str(exc), request=self._request) from None

    def flush(self) -> bytes:
        if self._zlib is None:
            data = self._counted(self._fallback.flush())
            ended = getattr(getattr(self._fallback, "decompressor", None), "eof", True)
        else:
            data, ended = self._zlib.flush(), self._zlib.eof
        if self._fed and ended is False:
            raise httpx.DecodingError(
                "the compressed body is cut short (it ends before its own end mark)",
                request=self._request,
            )
        return data
