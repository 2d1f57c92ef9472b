"""A hostile API of the tests' own, logged in as a profile, and a Ctrl-C that lands mid-request."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.security.servers import TOKEN_PATH, Seen, Server, answer, serving

SLOW = 20.0  # seconds /slow takes to answer: far longer than any interrupt waits


def hostile(seen: Seen, conn: socket.socket) -> None:
    """An API that redirects, echoes the Authorization header, answers slowly; and a token
    endpoint that echoes the request it was sent in its error."""
    path = seen.target.split("?")[0]
    if path == "/moved":
        answer(conn, 307, b"", (("Location", "/new"),))
    elif path == "/echo":
        answer(conn, 400, {"message": f"rejected: {seen.headers.get('authorization')}"})
    elif path == "/echo-ok":
        answer(
            conn,
            200,
            {"seen": seen.headers.get("authorization")},
            (("X-Echo", seen.headers.get("authorization", "")),),
        )
    elif path == "/slow":
        time.sleep(SLOW)
        answer(conn, 200, {"late": True})
    elif path == TOKEN_PATH:
        echo = seen.body.decode()
        answer(conn, 400, {"error": "invalid_request", "error_description": f"bad request: {echo}"})
    else:
        answer(conn, 200, {"ok": True})


@pytest.fixture
def hostile_server() -> Iterator[Server]:
    with serving(hostile) as server:
        yield server


@pytest.fixture
def hostile_env(
    hostile_server: Server, sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Profile HOSTILE: tokens from the sandbox, API on the hostile server; profile ECHO: a token
    endpoint that echoes the form (secret included) in its error."""
    env = {
        "UE_HOSTILE_CLIENT_ID": sandbox_env["UE_CLIENT_ID"],
        "UE_HOSTILE_CLIENT_SECRET": sandbox_env["UE_CLIENT_SECRET"],
        "UE_HOSTILE_AUDIENCE": sandbox_env["UE_AUDIENCE"],
        "UE_HOSTILE_TOKEN_URL": sandbox_env["UE_TOKEN_URL"],
        "UE_HOSTILE_API_URL": hostile_server.url,
        "UE_ECHO_CLIENT_ID": sandbox_env["UE_CLIENT_ID"],
        "UE_ECHO_CLIENT_SECRET": sandbox_env["UE_CLIENT_SECRET"],
        "UE_ECHO_AUDIENCE": hostile_server.url,
        "UE_ECHO_TOKEN_URL": hostile_server.url + TOKEN_PATH.lstrip("/"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def interrupt_when() -> Iterator[Callable[[Callable[[], bool]], None]]:
    """``interrupt_when(ready)``: send Ctrl-C (SIGINT) to the main thread once ``ready()`` holds,
    so it lands inside a blocking read, as a user's Ctrl-C does."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threads: list[threading.Thread] = []

    def arm(ready: Callable[[], bool]) -> None:
        main = threading.main_thread().ident
        assert main is not None

        def wait_then_kill() -> None:
            deadline = time.monotonic() + 30
            while not ready() and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.2)  # the main thread is now blocked reading the answer
            signal.pthread_kill(main, signal.SIGINT)

        thread = threading.Thread(target=wait_then_kill, daemon=True)
        thread.start()
        threads.append(thread)

    yield arm
    for thread in threads:
        thread.join(timeout=40)
    signal.signal(signal.SIGINT, previous)


def slow_seen(server: Server) -> Callable[[], bool]:
    return lambda: any(s.target.startswith("/slow") for s in server.seen)


def run(ip: Any, cell: str) -> Any:
    """Run a cell as a user would; the result says whether it failed."""
    return ip.run_cell(cell, store_history=True)
