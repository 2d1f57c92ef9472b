"""Which description files are fetched with the token (issue 22, second attack): a description
from another origin (fetched without the token) named a URL on the API's own origin in a
``$ref``, and ue-magic fetched it at login with ``Authorization: Bearer``, so a third party
chose which authenticated GETs were sent (and ``%ue_api`` showed the answer). Now the files a
description's ``$ref``s name get the token only when the description itself came from the API's
origin; a description from elsewhere, or a local file, has them fetched without it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

SCHEMA = {"type": "object", "description": "PRIVATE ANSWER"}


class Recorder:
    """Serves ``files[path]`` (JSON) and records (Host, path, Authorization) per request."""

    def __init__(self) -> None:
        self.files: dict[str, Any] = {}
        self.seen: list[tuple[str, str, str]] = []
        self.port = 0

    def api(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def elsewhere(self, path: str = "") -> str:
        """The same server on another origin (another host name)."""
        return f"http://localhost:{self.port}/{path}"

    def authorization(self, path: str) -> list[str]:
        return [auth for _, seen, auth in self.seen if seen == path]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    state = Recorder()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            auth = self.headers.get("Authorization", "-")
            state.seen.append((self.headers.get("Host", ""), path, auth[:7]))
            found = state.files.get(path)
            body = json.dumps(found if found is not None else {"error": "nf"}).encode()
            self.send_response(200 if found is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def description(*refs: str) -> dict[str, Any]:
    properties = {f"p{i}": {"$ref": ref} for i, ref in enumerate(refs)}
    schema = {"type": "object", "properties": properties}
    body = {"content": {"application/json": {"schema": schema}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "refs", "version": "1"},
        "paths": {"/x": {"post": {"requestBody": body, "responses": {"200": {"description": ""}}}}},
    }


def login(ip: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch, openapi: str) -> str:
    monkeypatch.setenv("UE_API_URL", recorder.api())
    monkeypatch.setenv("UE_OPENAPI", openapi)
    with capture_output() as captured:
        ip.run_line_magic("ue_login", "")
        ip.run_line_magic("ue_api", "POST /x")  # waits for the load
    return captured.stdout + captured.stderr


def test_a_foreign_description_s_ref_to_the_api_is_fetched_without_the_token(
    ip: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder.files["/openapi.json"] = description(recorder.api("private"))
    recorder.files["/private"] = SCHEMA
    login(ip, recorder, monkeypatch, recorder.elsewhere("openapi.json"))
    assert recorder.authorization("/openapi.json") == ["-"]
    assert recorder.authorization("/private") == ["-"]  # on the API's origin, yet no token


def test_a_local_description_s_ref_to_the_api_is_fetched_without_the_token(
    ip: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(description(recorder.api("private"))))
    recorder.files["/private"] = SCHEMA
    login(ip, recorder, monkeypatch, str(path))
    assert recorder.authorization("/private") == ["-"]


def test_the_api_s_own_description_has_its_refs_there_fetched_with_the_token(
    ip: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder.files["/openapi.json"] = description(
        recorder.api("schemas.json"), recorder.elsewhere("other.json")
    )
    recorder.files["/schemas.json"] = SCHEMA
    recorder.files["/other.json"] = SCHEMA
    shown = login(ip, recorder, monkeypatch, recorder.api("openapi.json"))
    assert "not used" not in shown
    assert recorder.authorization("/openapi.json") == ["Bearer "]
    assert recorder.authorization("/schemas.json") == ["Bearer "]
    assert recorder.authorization("/other.json") == ["-"]  # another origin: never


def test_a_foreign_file_the_api_s_description_names_cannot_choose_an_authenticated_get(
    ip: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the API's description names a file elsewhere, which names a URL on the API's origin: the
    # foreign file chose that GET, so it goes without the token (at any depth)
    recorder.files["/openapi.json"] = description(recorder.elsewhere("other.json"))
    recorder.files["/other.json"] = {
        "type": "object",
        "properties": {"x": {"$ref": recorder.api("private")}},
    }
    recorder.files["/private"] = SCHEMA
    shown = login(ip, recorder, monkeypatch, recorder.api("openapi.json"))
    assert "not used" not in shown
    assert recorder.authorization("/openapi.json") == ["Bearer "]
    assert recorder.authorization("/other.json") == ["-"]
    assert recorder.authorization("/private") == ["-"]
