"""A description fetched from elsewhere (``--openapi URL`` on another origin, without the token)
is bounded as every answer is: the timeout is a deadline for the whole answer, and its size has
the default limit, so a hostile or broken description server cannot hang or fill the kernel."""

from __future__ import annotations

import socket
import time

import pytest

from tests.security.servers import Seen, Server, drip, serving
from tests.security.test_answer_limits import endless_chunks
from ue_magic import Credentials, UsageEngineClient
from ue_magic.cells.openapi import client_fetch
from ue_magic.errors import DescriptionError


def elsewhere(server: Server) -> str:
    return server.url.replace("127.0.0.1", "localhost") + "openapi.json"


def test_description_limits_size(
    sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ue_magic.cells.openapi._session.MAX_BYTES", 1_000_000)
    holder: list[Server] = []
    with serving(lambda seen, conn: endless_chunks(holder[0], seen, conn)) as server:
        holder.append(server)
        ue = UsageEngineClient(Credentials.from_env(environ=sandbox_env))
        with ue, pytest.raises(DescriptionError, match="is over the 1 MB ue-magic reads"):
            client_fetch(ue, 10.0)(elsewhere(server))


def test_description_limits_time(sandbox_env: dict[str, str]) -> None:
    def respond(seen: Seen, conn: socket.socket) -> None:
        body = b'{"openapi": "3.1.0", "pad": "' + b"x" * 60 + b'"}'
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        drip(holder[0], conn, body, 0.25)  # 20 s at that pace, each read well within 1 s

    holder: list[Server] = []
    with serving(respond) as server:
        holder.append(server)
        with UsageEngineClient(Credentials.from_env(environ=sandbox_env)) as ue:
            started = time.monotonic()
            with pytest.raises(DescriptionError, match="did not answer"):
                client_fetch(ue, 1.0)(elsewhere(server))
    assert time.monotonic() - started < 10  # a deadline, not 20 s of dripping


def test_description_limits_a_small_description_is_fetched(sandbox_env: dict[str, str]) -> None:
    body = b'{"openapi": "3.1.0"}'

    def respond(seen: Seen, conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)

    creds = Credentials.from_env(environ=sandbox_env)
    with serving(respond) as server, UsageEngineClient(creds) as ue:
        assert client_fetch(ue, 5.0)(elsewhere(server)) == (200, body)
