"""Broken HTTP from a server, written on a raw socket: an answer belongs to the request that was
sent (bytes left over after an answer are never read as the next one's), and an answer broken
after the request was written says the server may have processed it, not "Could not reach"."""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.security.servers import Seen, Server, answer, serving

STRAY = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"stray": 1}\n'
)
BROKEN = {
    "status-line": b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}",
    "chunk-header": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
    "length-longer": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}",
    "close-mid-body": b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"a": ',
    "duplicate-length": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
    "nul-in-header": b"HTTP/1.1 200 OK\r\nX-A: b\x00c\r\nContent-Length: 2\r\n\r\n{}",
    "500-cut": b'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 50\r\n\r\n{"err',
}
WHOLE = json.dumps({"items": [{"id": n, "name": f"meter {n}"} for n in range(40)]}).encode()
GZIPPED = gzip.compress(WHOLE)


def respond(seen: Seen, conn: socket.socket) -> None:
    path = seen.target.split("?")[0]
    kind = path.rsplit("/", 1)[-1]
    if path.startswith("/stray/204"):
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n" + STRAY)
    elif path.startswith("/stray/short-length"):
        body = b'{"first": true}' + STRAY
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
        conn.sendall(head + body)
    elif path.startswith("/broken/"):
        conn.sendall(BROKEN[kind])
        conn.shutdown(socket.SHUT_RDWR)
    elif path == "/silent":
        time.sleep(3)  # read, never answered within the caller's --timeout
    elif path == "/gzip-cut":
        cut = GZIPPED[: len(GZIPPED) // 2]
        answer(conn, 200, cut, (("Content-Type", "application/json"), ("Content-Encoding", "gzip")))
    elif path == "/gzip-whole":
        answer(
            conn, 200, GZIPPED, (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
        )
    else:
        answer(conn, 200, {"real": path, "method": seen.method})


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(respond) as running:
        yield running


@pytest.fixture
def shell(ip: Any, server: Server, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("UE_API_URL", server.url)
    with capture_output():
        ip.run_line_magic("ue_login", "")
    return ip


def call(shell: Any, line: str) -> Any:
    with capture_output():
        shell.run_line_magic("ue_call", f"{line} -o answer")
    return shell.user_ns["answer"]


@pytest.mark.parametrize("first", ["GET /stray/204", "POST /stray/204", "GET /stray/short-length"])
@pytest.mark.parametrize("then", ["GET", "POST"])
def test_bytes_left_after_an_answer_are_not_the_next_answer(
    shell: Any, server: Server, first: str, then: str
) -> None:
    call(shell, first)
    assert call(shell, f"{then} /x/ok") == {"real": "/x/ok", "method": then}
    assert call(shell, "GET /x/again") == {"real": "/x/again", "method": "GET"}
    assert [s.target for s in server.seen][-2:] == ["/x/ok", "/x/again"]


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_answer_to_a_written_post_may_have_been_processed(
    shell: Any, server: Server, kind: str
) -> None:
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_cell_magic("ue_call", f"POST /broken/{kind}", '{"a": 1}')
    message = str(info.value)
    assert "Could not reach" not in message
    assert f"POST {server.url}broken/{kind} was sent, but its answer was broken" in message
    assert "the server may have processed it" in message
    assert [s.target for s in server.seen] == [f"/broken/{kind}"]  # not sent again
    assert call(shell, "GET /x/after") == {"real": "/x/after", "method": "GET"}


def test_a_written_post_that_times_out_may_have_been_processed(shell: Any, server: Server) -> None:
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_cell_magic("ue_call", "POST /silent --timeout 1", '{"a": 1}')
    message = str(info.value)
    assert "timed out: no whole answer within 1 s" in message
    assert "the server may have processed it" in message
    assert [s.target for s in server.seen] == ["/silent"]  # not sent again


def test_a_get_that_times_out_or_breaks_is_not_said_to_be_processed(
    shell: Any, server: Server
) -> None:
    # a GET changes nothing (RFC 9110, 9.2.1): no "check before sending it again"
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_line_magic("ue_call", "GET /silent --timeout 1")
    assert "timed out: no whole answer within 1 s" in str(info.value)
    assert "processed" not in str(info.value)
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_line_magic("ue_call", "GET /broken/500-cut")
    assert "was sent, but its answer was broken" in str(info.value)
    assert "processed" not in str(info.value) and "try again" in str(info.value)


def test_a_server_that_cannot_be_reached_still_says_so(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("UE_API_URL", f"http://127.0.0.1:{port}/")
    with capture_output():
        ip.run_line_magic("ue_login", "")
    with capture_output(), pytest.raises(UsageError, match="Could not reach POST"):
        ip.run_cell_magic("ue_call", "POST /x --timeout 2", '{"a": 1}')


def test_a_gzip_body_cut_short_is_an_error_not_a_200(shell: Any) -> None:
    assert call(shell, "GET /gzip-whole") == json.loads(WHOLE)
    with capture_output(), pytest.raises(UsageError, match="compressed body is cut short"):
        shell.run_line_magic("ue_call", "GET /gzip-cut --retry 0")
