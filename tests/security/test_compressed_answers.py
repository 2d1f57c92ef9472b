"""The size limit holds for compressed answers too: it counts the bytes an answer decodes to, so
a gzip bomb (a small body that inflates to gigabytes) is an error, not a kernel out of memory."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import TokenManager, UsageEngineClient
from ue_magic.errors import AnswerTooLargeError, ApiConnectionError, TokenServerError

INFLATED = 20_000_000  # bytes the bomb decodes to: 20 times the 1 MB limit of these tests


def bomb(encoding: str) -> bytes:
    """INFLATED zero bytes, compressed as ``Content-Encoding: encoding`` says (about 20 kB)."""
    wbits = {"gzip": 31, "deflate": 15}[encoding]
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return packer.compress(b"\0" * INFLATED) + packer.flush()


def compressed(conn: socket.socket, body: bytes, encoding: str) -> None:
    headers = (("Content-Encoding", encoding), ("Content-Type", "application/json"))
    answer(conn, 200, body, headers)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_answer_size_limit_counts_the_decoded_bytes(encoding: str) -> None:
    body = bomb(encoding)
    assert len(body) < 1_000_000  # the bytes that arrive are well within the limit

    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, "tok-" + "t" * 40)
        else:
            compressed(conn, body, encoding)

    with serving(respond) as server:
        ue = UsageEngineClient(creds_for(server), max_bytes=1_000_000)
        with ue, pytest.raises(AnswerTooLargeError, match="answered more than 1 MB"):
            ue.get("bomb", timeout=10)
        assert [s.target for s in server.seen].count("/bomb") == 1  # a GET, and not retried


def test_compressed_answer_within_the_limit_is_decoded() -> None:
    data = b'{"items": [' + b",".join(b'{"n": %d}' % n for n in range(20_000)) + b"]}"

    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, "tok-" + "t" * 40)
        else:
            compressed(conn, gzip.compress(data), "gzip")

    with (
        serving(respond) as server,
        UsageEngineClient(creds_for(server), max_bytes=len(data)) as ue,
    ):
        response = ue.get("small", timeout=10)
    assert response.content == data and len(response.json()["items"]) == 20_000


def test_compressed_answer_token_endpoint_bomb_is_refused() -> None:
    body = bomb("gzip")

    def respond(seen: Seen, conn: socket.socket) -> None:
        compressed(conn, body, "gzip")  # 20 MB of zeros: far past a token answer's 1 MiB

    with serving(respond) as server:
        manager = TokenManager(creds_for(server), timeout=10, max_attempts=1)
        with pytest.raises(TokenServerError, match="more than a token answer can be"):
            manager.get_token()
        manager.close()


def gzipped(pieces: list[bytes]) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join([packer.compress(piece) for piece in pieces] + [packer.flush()])


# a few hundred bytes that httpx's own multi-layer decoder would expand to 384 MiB at once
STACKED = gzipped([gzipped([gzipped([b"\0" * (1 << 24)] * 24)])])


def stacked_answer(conn: socket.socket) -> None:
    answer(conn, 200, STACKED, (("Content-Encoding", "gzip, gzip, gzip"),))


@contextmanager
def memory_and_time_bounded(seconds: float) -> Iterator[None]:
    """The block allocates under 200 MB at its peak and ends within ``seconds``."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 200_000_000, f"peak {peak} bytes"
    assert time.monotonic() - started < seconds


def test_compressed_answer_stacked_codings_are_refused_without_expanding_them() -> None:
    assert len(STACKED) < 2_000

    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, "tok-" + "t" * 40)
        else:
            stacked_answer(conn)

    with (
        serving(respond) as server,
        UsageEngineClient(creds_for(server), max_bytes=10**9) as ue,
        memory_and_time_bounded(15),
        pytest.raises(ApiConnectionError) as caught,
    ):
        ue.get("stacked", timeout=10)
    assert "compressed 3 times over (Content-Encoding: gzip, gzip, gzip)" in str(caught.value)


def test_compressed_answer_stacked_codings_from_the_token_endpoint() -> None:
    with serving(lambda seen, conn: stacked_answer(conn)) as server:
        manager = TokenManager(creds_for(server), timeout=10, max_attempts=1)
        with memory_and_time_bounded(15), pytest.raises(TokenServerError) as caught:
            manager.get_token()
        manager.close()
    assert "compressed 3 times over" in str(caught.value)


def test_compressed_answer_one_layer_is_counted_a_bounded_piece_at_a_time() -> None:
    # 400 MB of zeros in one gzip layer: past a 1 MB limit after a few MiB decoded, not all
    body = gzipped([b"\0" * (1 << 24)] * 24)

    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, "tok-" + "t" * 40)
        else:
            compressed(conn, body, "gzip")

    with (
        serving(respond) as server,
        UsageEngineClient(creds_for(server), max_bytes=1_000_000) as ue,
        memory_and_time_bounded(15),
        pytest.raises(AnswerTooLargeError),
    ):
        ue.get("bomb", timeout=10)
