"""A loopback HTTP server that records what arrives (method, path, query, headers, body bytes).

The conformance test sends each corpus request through httpyac and through ``%ue_call`` to it,
and compares the records. ``POST /oauth/token`` answers as a token endpoint (for ``%ue_login``)
and is not recorded; every other request gets ``200 {}``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

TOKEN_PATH = "/oauth/token"
TOKEN = "echo-token-5c1e"  # a dummy: the test checks it only ever reaches this server


@dataclass(frozen=True)
class Arrived:
    """One request as the server read it: ``target`` is the raw request target."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self) -> None:
        body = self._body()
        if self.command == "POST" and self.path == TOKEN_PATH:
            data = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}
        else:
            self.server.arrived.append(
                Arrived(self.command, self.path, tuple(self.headers.items()), body)
            )
            data = {}
        payload = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def __getattr__(self, name: str) -> object:
        if name.startswith("do_"):  # every method, whatever its name
            return self._answer
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    arrived: list[Arrived]


class EchoServer:
    """``with EchoServer() as echo:`` serves on 127.0.0.1 at ``echo.port``; ``echo.take()``
    returns the requests recorded since the last take."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.arrived = []
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def take(self) -> list[Arrived]:
        taken = list(self._server.arrived)
        del self._server.arrived[: len(taken)]
        return taken

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
