"""Kept responses hold no token: not on their requests, not in httpcore's copy inside the
finished stream, not on an unfollowed redirect's ``next_request``, not in an echoed body."""

from __future__ import annotations

import pickle
from typing import Any

import httpx
import pytest

from tests.security.conftest import run
from tests.security.reach import find
from ue_magic import Credentials, UsageEngineClient
from ue_magic.core.credentials import Secret
from ue_magic.core.token import _Token
from ue_magic.errors import HttpStatusError
from ue_magic.sandbox import Sandbox

TYPES = "usage-metering/v1/meter-types"


def token_places(roots: dict[str, object], tokens: list[str]) -> list[str]:
    found, _ = find(roots, {f"token {n}": [t.encode()] for n, t in enumerate(tokens)}, (_Token,))
    return found


def test_kept_responses_hold_no_token_after_an_unfollowed_redirect(
    ip: Any, hostile_env: dict[str, str], sandbox: Sandbox
) -> None:
    assert run(ip, "%ue_login --profile hostile").success
    assert run(ip, "%ue_call --profile hostile GET /moved --no-raise").success
    moved = ip.user_ns["_ue"]
    assert moved.status_code == 307
    assert moved.next_request.url.path == "/new"
    assert moved.next_request.headers["authorization"] == "Bearer ***"
    stored = pickle.dumps(moved)  # what %store _ue writes to disk
    assert not [t for t in sandbox.issued_tokens if t.encode() in stored]
    assert token_places({"_ue": moved}, sandbox.issued_tokens) == []


def test_kept_responses_hold_no_token_in_the_magics_results(ip: Any, sandbox: Sandbox) -> None:
    """_ue, Out[n], a line-form result, BulkResult.responses, the history of a 401 renewal and
    the response of a raised error: none holds the token (httpcore's copy included)."""
    assert run(ip, "%ue_login").success
    assert run(ip, f"%ue_call GET /{TYPES}").success  # shown through Out
    assert run(ip, f"body = %ue_call GET /{TYPES}").success
    sandbox.inject("api", status=401, count=1)
    assert run(ip, f"%ue_call GET /{TYPES} -q").success
    renewal = ip.user_ns["_ue"]
    assert [r.status_code for r in renewal.history] == [401]
    assert run(ip, "users = ['a', 'b', 'c']").success
    cell = (
        '%%ue_call --each users POST /usage-metering/v1/meters --no-raise\n{"userId": "{{item}}"}'
    )
    assert run(ip, cell).success  # 400s: each failure keeps its response
    bulk = ip.user_ns["_ue"]
    assert len(bulk.failures) == 3 and all(r is not None for r in bulk.responses)
    failed = run(ip, f"%ue_call GET /{TYPES}/missing")
    raised = failed.error_in_exec
    roots = {
        "Out": ip.user_ns["Out"],
        "body": ip.user_ns["body"],
        "renewal": renewal,
        "bulk": bulk,
        "bulk.results": bulk.results,
        "_ue after an error": ip.user_ns["_ue"],
        "the raised error": raised,
    }
    assert ip.user_ns["_ue"].status_code == 404
    assert token_places(roots, sandbox.issued_tokens) == []


def test_kept_responses_hold_no_token_from_the_python_client(sandbox_env: dict[str, str]) -> None:
    with UsageEngineClient(Credentials.from_env(environ=sandbox_env)) as ue:
        response = ue.get(TYPES)
        pages = list(ue.iter_pages("GET", TYPES, params={"limit": 1}, max_pages=2))
        token = ue.token_manager.get_token()
        assert response.request.headers["authorization"] == "Bearer ***"
        assert response.json() is not None and response.elapsed.total_seconds() > 0
        assert token_places({"response": response, "pages": pages}, [token]) == []


def test_kept_responses_mask_an_echoed_token(
    ip: Any, hostile_env: dict[str, str], sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """An API that echoes the Authorization header: shown, raised and kept with ``***``."""
    assert run(ip, "%ue_login --profile hostile").success
    failed = run(ip, "%ue_call --profile hostile GET /echo")
    assert isinstance(failed.error_in_exec, Exception)
    assert "rejected: Bearer ***" in str(failed.error_in_exec)
    assert ip.user_ns["_ue"].json() == {"message": "rejected: Bearer ***"}
    assert run(ip, "%ue_call --profile hostile GET /echo-ok").success
    echoed = ip.user_ns["_ue"]
    assert echoed.json() == {"seen": "Bearer ***"} and echoed.text == '{"seen": "Bearer ***"}'
    assert echoed.headers["x-echo"] == "Bearer ***"
    shown = capsys.readouterr()
    tokens = sandbox.issued_tokens
    assert not [t for t in tokens if t in shown.out + shown.err]
    assert token_places({"_ue": echoed, "error": failed.error_in_exec}, tokens) == []


def test_kept_responses_of_a_raised_error_hold_no_token(hostile_env: dict[str, str]) -> None:
    creds = Credentials.from_env(profile="hostile")
    with UsageEngineClient(creds) as ue:
        response = ue.get("echo")
        token = ue.token_manager.get_token()
        error = HttpStatusError("400", response)
        assert token not in response.text
        assert token_places({"error": error}, [token]) == []


def test_kept_responses_are_plain_responses_still() -> None:
    """Masking keeps what users read: status, headers, body, elapsed, the request's URL."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "x" * 40, "expires_in": 60})
        return httpx.Response(200, json={"ok": 1}, headers={"X-Id": "7"})

    creds = Credentials(
        "cid", Secret("s" * 20), "eu", "https://a.example/", "https://a.example/",
        "https://a.example/token",
    )  # fmt: skip
    with UsageEngineClient(creds, transport=httpx.MockTransport(handler)) as ue:
        response = ue.get("x")
    assert response.json() == {"ok": 1} and response.headers["x-id"] == "7"
    assert str(response.request.url) == "https://a.example/x"
    assert response.is_closed
