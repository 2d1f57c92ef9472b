"""The size limit holds for compressed answers too: it counts the bytes an answer decodes to, so
a gzip bomb (a small body that inflates to gigabytes) is an error, not a kernel out of memory."""

from __future__ import annotations

import gzip
import socket
import zlib

import pytest

from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import TokenManager, UsageEngineClient
from ue_magic.errors import AnswerTooLargeError, TokenServerError

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
