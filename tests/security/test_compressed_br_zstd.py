"""brotli and zstd answers are decoded a bounded piece at a time, as gzip ones are (issue 22):
52 bytes of brotli are 64 MiB of zeros, and httpx's decoders expand what they are given at once.
Each test is skipped when the optional library (brotli, zstandard) is not installed."""

from __future__ import annotations

import socket
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import UsageEngineClient
from ue_magic.core._decoding import BoundedDecoder
from ue_magic.errors import AnswerTooLargeError, ApiConnectionError

ZEROS, TIMES = b"\0" * (1 << 24), 4  # 64 MiB


def _brotli(pieces: list[bytes], **options: Any) -> bytes:
    brotli = pytest.importorskip("brotli")
    packer = brotli.Compressor(quality=5, lgwin=24, **options)
    return b"".join([packer.process(piece) for piece in pieces] + [packer.finish()])


def _zstd(pieces: list[bytes]) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    packer = zstandard.ZstdCompressor(level=19).compressobj()
    return b"".join([packer.compress(piece) for piece in pieces] + [packer.flush()])


PACK: dict[str, Callable[[list[bytes]], bytes]] = {"br": _brotli, "zstd": _zstd}


def _serving(body: bytes, coding: str) -> Any:
    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, "tok-" + "t" * 40)
        else:
            headers = (("Content-Encoding", coding), ("Content-Type", "application/json"))
            answer(conn, 200, body, headers)

    return serving(respond)


@contextmanager
def peak_under(limit: int) -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < limit, f"peak {peak:,} bytes"


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_a_bomb_is_refused_past_the_limit_without_expanding_it(coding: str) -> None:
    """Fed 1 kB at a time, httpx's decoders made 64 MiB (br) and 32 MiB (zstd) of one piece."""
    body = PACK[coding]([ZEROS] * TIMES)
    assert len(body) < 5_000
    with (
        _serving(body, coding) as server,
        UsageEngineClient(creds_for(server), max_bytes=1_000_000) as ue,
        peak_under(16_000_000),
        pytest.raises(AnswerTooLargeError, match="answered more than 1 MB"),
    ):
        ue.get("bomb", timeout=20)


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_an_answer_within_the_limit_is_decoded(coding: str) -> None:
    data = b'{"items": [' + b",".join(b'{"n": %d}' % n for n in range(200_000)) + b"]}"
    body = PACK[coding]([data[: len(data) // 2], data[len(data) // 2 :]])
    with (
        _serving(body, coding) as server,
        UsageEngineClient(creds_for(server), max_bytes=len(data)) as ue,
    ):
        response = ue.get("small", timeout=20)
    assert response.content == data and len(response.json()["items"]) == 200_000


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_a_body_cut_short_is_an_error(coding: str) -> None:
    data = bytes(range(256)) * 4000
    body = PACK[coding]([data])
    with (
        _serving(body[: len(body) // 2], coding) as server,
        UsageEngineClient(creds_for(server)) as ue,
        pytest.raises(ApiConnectionError, match=r"cut short|incomplete"),
    ):
        ue.get("cut", timeout=20)


class _OldBrotli:
    """The decoder httpx makes with brotli < 1.2 (or brotlicffi): no output limit."""

    def __init__(self) -> None:
        self.decompressor = object()

    def decode(self, data: bytes) -> bytes:
        raise AssertionError("decoded without a bound")

    def flush(self) -> bytes:
        return b""


def test_a_brotli_without_an_output_limit_is_refused_with_what_to_do() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:9/x")
    decoder = BoundedDecoder("br", _OldBrotli(), request, lambda size: None)
    with pytest.raises(httpx.DecodingError, match=r"pip install 'brotli>=1.2'"):
        decoder.decode(b"\x1b")
    assert BoundedDecoder("br", _OldBrotli(), request, lambda size: None).flush() == b""


def test_servers_are_not_offered_brotli_when_it_cannot_be_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ue_magic.core import _decoding
    from ue_magic.core._http import http_client

    with http_client(["http://127.0.0.1:9/"]) as http:
        offered = http.headers["accept-encoding"]
    monkeypatch.setattr(_decoding, "_brotli_bounded", lambda: False)
    with http_client(["http://127.0.0.1:9/"]) as http:
        assert "br" not in http.headers["accept-encoding"].split(", ")
        assert "gzip" in http.headers["accept-encoding"]
    if pytest.importorskip("brotli"):
        assert "br" in offered.split(", ")  # brotli 1.2+: offered
