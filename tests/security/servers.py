"""Servers of the tests' own on 127.0.0.1, for answers the sandbox does not give: a token
endpoint and an API that misbehave (echo, drip, redirect, answer forever), and a proxy that
records what it was sent. Each speaks HTTP/1.1 on a raw socket, so any shape can be written."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

TOKEN_PATH = "/oauth/token"


@dataclass
class Seen:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Respond = Callable[[Seen, socket.socket], None]


@dataclass
class Server:
    """A threaded server; ``respond`` writes the whole answer to the socket."""

    respond: Respond
    seen: list[Seen] = field(default_factory=list)
    sent_bytes: list[int] = field(default_factory=list)  # per answer written by ``drip``

    def start(self) -> Server:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            reader = conn.makefile("rb")
            try:
                while True:
                    line = reader.readline()
                    if not line.strip():
                        return
                    method, target, _ = line.decode("latin-1").split(" ", 2)
                    headers = {}
                    while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                        name, _, value = header.decode("latin-1").partition(":")
                        headers[name.strip().lower()] = value.strip()
                    body = reader.read(int(headers.get("content-length", "0") or 0))
                    seen = Seen(method, target, headers, body)
                    self.seen.append(seen)
                    self.respond(seen, conn)
                    if headers.get("connection", "").lower() == "close":
                        return
            except OSError:
                return


@contextmanager
def serving(respond: Respond) -> Iterator[Server]:
    server = Server(respond).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def api_of(ip: Any, monkeypatch: Any, respond: Respond) -> Iterator[Any]:
    """``ip`` logged in with ``respond`` serving as the API (the token from the sandbox)."""
    from IPython.utils.capture import capture_output

    with serving(respond) as server:
        monkeypatch.setenv("UE_API_URL", server.url)
        with capture_output():
            ip.run_line_magic("ue_login", "")
        yield ip


def answer(
    conn: socket.socket,
    status: int,
    body: bytes | dict | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> None:
    """A whole answer with Content-Length (a dict body is sent as JSON)."""
    if isinstance(body, dict):
        data = json.dumps(body).encode()
        headers = (("Content-Type", "application/json"), *headers)
    else:
        data = body or b""
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(data)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    conn.sendall(head.encode("latin-1") + b"\r\n" + data)


def drip(server: Server, conn: socket.socket, data: bytes, every: float) -> None:
    """Send ``data`` one byte at a time, ``every`` seconds apart; record how many got out."""
    sent = 0
    try:
        for byte in data:
            conn.sendall(bytes([byte]))
            sent += 1
            time.sleep(every)
    except OSError:
        pass
    server.sent_bytes.append(sent)


def new_token() -> str:
    return "tok-" + secrets.token_urlsafe(32)


def token_answer(conn: socket.socket, token: str, **extra: object) -> None:
    answer(
        conn,
        200,
        {"access_token": token, "token_type": "Bearer", "expires_in": 3600, **extra},
    )


def live_token(ip: Any) -> str:
    """The token of ``ip``'s login, read in the kernel as a user would (``ue_magic.client()``)."""
    assert ip.run_cell("import ue_magic\n_t = ue_magic.client().token_manager.get_token()").success
    return ip.user_ns.pop("_t")
