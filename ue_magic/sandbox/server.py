"""Serving the app with uvicorn: on a socket we bind ourselves (port 0 = a free port), either in
a background thread (tests, notebooks) or in the main thread (the CLI, with signal handling)."""

from __future__ import annotations

import copy
import ipaddress
import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from .middleware import install_log_filter

MAX_HEADER_BYTES = 256 * 1024  # h11's limit on a request head; past it uvicorn answers 400 itself


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the
    # proto says TCP, and without it every small answer waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def base_url_of(sock: socket.socket) -> str:
    """`http://HOST:PORT/`; a wildcard bind is reached through loopback."""
    host, port = sock.getsockname()[:2]
    address = ipaddress.ip_address(host)
    if address.is_unspecified:
        host = "::1" if address.version == 6 else "127.0.0.1"
    if address.version == 6:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _config(app: ASGIApp, **overrides: Any) -> uvicorn.Config:
    settings: dict[str, Any] = {
        "lifespan": "off",
        "http": "h11",
        "ws": "none",
        "timeout_graceful_shutdown": 2,
        # idle connections are kept longer than clients keep them (httpx: 5 s), as load balancers
        # do (AWS ALB: 60 s). At uvicorn's default of 5 s both ends close at the same moment, and
        # a POST written on the closing connection is lost with no answer: not a service's shape
        "timeout_keep_alive": 65,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        **overrides,
    }
    config = uvicorn.Config(app, **settings)
    install_log_filter()
    return config


class ServerThread:
    """uvicorn in a daemon thread: no signal handlers, no access log, warnings only, and no
    change to the host program's logging configuration."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        self._sock = sock
        config = _config(app, log_config=None, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="ue-sandbox", daemon=True
        )

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._server.started


def stderr_log_config() -> dict[str, Any]:
    """uvicorn's logging, every handler on stderr (its access log goes to stdout by default),
    so stdout holds only the `.env` lines and `ue-sandbox > .env` works."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    return config


def serve_forever(app: ASGIApp, sock: socket.socket, *, quiet: bool = False) -> None:
    """The CLI: uvicorn in this thread, stopped by Ctrl+C or SIGTERM; logs on stderr."""
    level = "warning" if quiet else "info"
    config = _config(app, log_level=level, access_log=not quiet, log_config=stderr_log_config())
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
