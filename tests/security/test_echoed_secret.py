"""An API answer that sends the login's client secret back (an API that manages credentials, or
one that echoes what it was given) is masked as a token is: in the view, ``_ue``, ``-o``,
``--save``, the error raised and a bulk run's failures (found by a new user)."""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.security.servers import Seen, answer, api_of


def respond(seen: Seen, conn: socket.socket) -> None:
    secret = os.environ["UE_CLIENT_SECRET"]
    if seen.target.startswith("/err"):
        answer(conn, 409, {"message": f"client exists; its secret is {secret}"})
        return
    wrapped = base64.b64encode(secret.encode()).decode()
    body = {"clientId": "app-1", "clientSecret": secret, "basic": wrapped}
    answer(conn, 200, body, (("X-Client-Secret", secret),))


@pytest.fixture
def shell(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with api_of(ip, monkeypatch, respond):
        yield ip


def test_an_answer_that_echoes_the_client_secret_is_masked(shell: Any, tmp_path: Path) -> None:
    secret = os.environ["UE_CLIENT_SECRET"]
    assert len(secret) >= 8
    saved = tmp_path / "client.json"
    with capture_output() as shown:
        view = shell.run_line_magic("ue_call", f"GET /clients/app-1 -o created --save {saved}")
    kept = shell.user_ns["_ue"]
    assert shell.user_ns["created"]["clientSecret"] == "***"
    texts = [
        shown.stdout,
        str(view._repr_mimebundle_()),
        str(shell.user_ns["created"]),
        kept.text,
        repr(kept.headers),
        saved.read_text(),
    ]
    wrapped = base64.b64encode(secret.encode()).decode()
    for text in texts:
        assert secret not in text and wrapped not in text


def test_an_error_that_echoes_the_client_secret_is_masked(shell: Any) -> None:
    secret = os.environ["UE_CLIENT_SECRET"]
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_line_magic("ue_call", "GET /err/one")
    assert "its secret is ***" in str(info.value) and secret not in str(info.value)
    shell.user_ns["ids"] = ["a", "b"]
    with capture_output() as shown:
        shell.run_cell_magic("ue_call", "--each ids --no-raise", "GET /err/{{item}}\n")
    run = shell.user_ns["_ue_bulk"]
    assert len(run.failed) == 2
    failures = " ".join(str(failure) for failure in run.failed)
    texts = [shown.stdout, failures, *(str(output.data) for output in shown.outputs)]
    assert all(secret not in text for text in texts) and "its secret is ***" in failures
