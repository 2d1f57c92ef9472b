"""Broken answers are bounded: the timeout is a deadline for the whole answer (a server that drips
one byte at a time cannot stretch it), the token request has one too, and an answer has a size
limit, past which it is an error that is not retried."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.security.conftest import run
from tests.security.servers import TOKEN_PATH, Seen, Server, drip, serving, token_answer
from ue_magic import Credentials, TokenManager, UsageEngineClient
from ue_magic.core._http import DEFAULT_MAX_BYTES
from ue_magic.core.credentials import Secret
from ue_magic.errors import AnswerTooLargeError, ApiConnectionError, TokenServerError
from ue_magic.sandbox import Sandbox

EVERY = 0.25  # seconds between two dripped bytes: well inside any per-read timeout
BODY = b'{"pad": "' + b"x" * 70 + b'"}'  # 80 bytes: 20 s at that pace


def creds_for(server: Server) -> Credentials:
    url = server.url
    return Credentials("cid", Secret("s" * 24), "eu", url, url, url + TOKEN_PATH.lstrip("/"))


def api(route: Callable[[Server, Seen, socket.socket], None]) -> Any:
    """A server whose token endpoint answers at once and whose API is ``route``."""
    holder: list[Server] = []

    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, "tok-" + "t" * 40)
        else:
            route(holder[0], seen, conn)

    context = serving(respond)
    server = context.__enter__()
    holder.append(server)
    return context, server


def dripped_bytes(server: Server) -> int:
    """How many bytes the server got out before the client hung up (waits for it to notice)."""
    deadline = time.monotonic() + 30
    while not server.sent_bytes and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.sent_bytes[0]


def drip_body(server: Server, seen: Seen, conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    conn.sendall(f"Content-Length: {len(BODY)}\r\n\r\n".encode())
    drip(server, conn, BODY, EVERY)


def drip_headers(server: Server, seen: Seen, conn: socket.socket) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * 70 + b"\r\nContent-Length: 2\r\n\r\n{}"
    drip(server, conn, head, EVERY)


@pytest.mark.parametrize("route", [drip_body, drip_headers], ids=["body", "headers"])
def test_answer_deadline_a_dripping_server_cannot_stretch_the_timeout(route: Any) -> None:
    context, server = api(route)
    try:
        late = r"timed out: no whole answer within 1 s"
        ue = UsageEngineClient(creds_for(server))
        with ue, pytest.raises(ApiConnectionError, match=late):
            ue.get("drip", timeout=1.0)
        assert dripped_bytes(server) < 20  # far from the 80+ a per-read timeout lets through
        assert [s.target for s in server.seen].count("/drip") == 1  # not retried
    finally:
        context.__exit__(None, None, None)


def test_answer_deadline_the_token_request_has_one_too() -> None:
    def respond(seen: Seen, conn: socket.socket) -> None:
        body = b'{"access_token": "tok-' + b"d" * 60 + b'", "expires_in": 60}'
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        drip(holder, conn, body, EVERY)

    with serving(respond) as holder:
        manager = TokenManager(creds_for(holder), timeout=1.0, max_attempts=1)
        with pytest.raises(TokenServerError, match=r"did not answer within 1 s"):
            manager.get_token()
        manager.close()
        assert dripped_bytes(holder) < 20


def endless_chunks(server: Server, seen: Seen, conn: socket.socket) -> None:
    """A chunked answer of 5 MB (endless as far as a 1 MB limit is concerned)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    try:
        for _ in range(80):
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.sendall(b"0\r\n\r\n")
    except OSError:
        pass


def too_long(server: Server, seen: Seen, conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n" + b"x" * 1000)
    time.sleep(5)


@pytest.mark.parametrize("route", [endless_chunks, too_long], ids=["chunked", "content-length"])
def test_answer_size_limit_is_an_error_and_not_retried(route: Any) -> None:
    context, server = api(route)
    try:
        ue = UsageEngineClient(creds_for(server), max_bytes=1_000_000)
        with ue, pytest.raises(AnswerTooLargeError) as info:
            ue.get("big", timeout=10)
        assert "answered more than 1 MB" in str(info.value) and "--max-bytes" in str(info.value)
        assert [s.target for s in server.seen].count("/big") == 1  # a GET, and not retried
    finally:
        context.__exit__(None, None, None)


def test_answer_size_limit_per_request_and_none(sandbox_env: dict[str, str]) -> None:
    with UsageEngineClient(Credentials.from_env(environ=sandbox_env)) as ue:
        assert ue.max_bytes == DEFAULT_MAX_BYTES == 100 * 1024 * 1024
        with pytest.raises(AnswerTooLargeError, match="more than 100 bytes"):
            ue.get("openapi.json", max_bytes=100)
        assert ue.get("openapi.json", max_bytes=None).json()["openapi"].startswith("3.1")


def test_answer_size_limit_in_the_magic(ip: Any, sandbox: Sandbox) -> None:
    assert run(ip, "%ue_login").success
    assert ip.run_line_magic("config", "UsageEngineMagics.max_bytes") == DEFAULT_MAX_BYTES
    option = run(ip, "%ue_call GET /openapi.json --max-bytes 1000")
    assert "answered more than 1 kB" in str(option.error_in_exec)
    assert run(ip, "%config UsageEngineMagics.max_bytes = 1000").success
    setting = run(ip, "%ue_call GET /openapi.json")
    assert "answered more than 1 kB" in str(setting.error_in_exec)
    assert run(ip, "%ue_call GET /openapi.json --max-bytes 10000000 -q").success
    refused = run(ip, "%ue_call GET /openapi.json --max-bytes 0")
    assert "--max-bytes needs" in str(refused.error_in_exec)


def test_answer_deadline_in_the_magic(ip: Any, sandbox: Sandbox) -> None:
    assert run(ip, "%ue_login").success
    sandbox.inject("api", status=None, delay=5)
    result = run(ip, "%ue_call GET /usage-metering/v1/meter-types --timeout 0.5")
    assert "no whole answer within 0.5 s" in str(result.error_in_exec)


def test_a_post_answered_2xx_over_the_limit_says_it_was_processed(
    ip: Any, sandbox: Sandbox
) -> None:
    # the answer's status came before its body: a 201 means done, so do not send it again
    assert run(ip, "%ue_login").success
    body = '{"name": "big-answer", "unit": "calls", "aggregation": {"type": "sum"}}'
    made = run(ip, f"%%ue_call POST /usage-metering/v1/meter-types --max-bytes 50\n{body}")
    assert "answered 201: the server has processed it; do not send it again" in str(
        made.error_in_exec
    )
    assert sandbox.counters()["by_route"]["POST /usage-metering/v1/meter-types"] == 1
    refused = run(ip, "%ue_call GET /openapi.json --max-bytes 1000")
    assert "has processed it" not in str(refused.error_in_exec)  # a GET changes nothing
