"""Fixtures for API-aware cells: the test descriptions, and a tiny server for odd ones.

Until the sandbox serves its own description, ``sandbox_description`` gives a hand-written file
that describes it; when it does, change its one line to ``return sandbox.base_url +
"openapi.json"`` (every test that uses the sandbox's description goes through it).
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ue_magic.sandbox import Sandbox

DATA = Path(__file__).resolve().parents[1] / "data" / "openapi"
SANDBOX_31 = DATA / "sandbox-3.1.json"
HAND_30 = DATA / "metering-3.0" / "openapi.json"


def sandbox_description(sandbox: Sandbox) -> str:
    """Where the sandbox's OpenAPI 3.1 description is: served by the sandbox itself."""
    return sandbox.openapi_url


@pytest.fixture
def sandbox_openapi(sandbox: Sandbox) -> str:
    return sandbox_description(sandbox)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    content_type: str = "application/json"
    drip: float = 0.0  # seconds between each of the body's first 40 bytes (a slow, live answer)


@dataclass
class DescriptionServer:
    """Serves ``answers[path]`` on loopback and counts the requests per path."""

    url: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def description_server() -> Iterator[DescriptionServer]:
    state = DescriptionServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits[self.path] = state.hits.get(self.path, 0) + 1
            answer = state.answers.get(self.path, Answer(404, b'{"error": "not_found"}'))
            time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                dripped = 40 if answer.drip else 0
                for byte in answer.body[:dripped]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(answer.drip)
                self.wfile.write(answer.body[dripped:])
            except OSError:  # the client gave up (a slow answer): nothing to do
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def api_env(sandbox: Sandbox, description_server: DescriptionServer) -> dict[str, str]:
    """Settings that log in at the sandbox but take the API (and its openapi.json) from the
    description server: how a description is found without any setting is tested there."""
    env = sandbox.env()
    env["UE_API_URL"] = description_server.url
    return env


@pytest.fixture
def ip_openapi(ip: Any, sandbox_openapi: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``ip`` logged in to the sandbox with its description named by UE_OPENAPI."""
    monkeypatch.setenv("UE_OPENAPI", sandbox_openapi)
    ip.run_line_magic("ue_login", "")
    return ip


def environ_without_ue() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("UE_")}
