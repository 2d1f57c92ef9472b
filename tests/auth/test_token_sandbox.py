"""Token endpoint failures against the sandbox on loopback: each gives its clear error."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from ue_magic.core.credentials import Credentials
from ue_magic.core.token import TokenManager
from ue_magic.errors import InvalidClientError, TokenError, TokenRateLimitedError, TokenServerError
from ue_magic.sandbox import Sandbox


def credentials(env: dict[str, str], folder: Path, **overrides: Any) -> Credentials:
    return Credentials.from_env(environ=env, cwd=folder, **overrides)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/authentication/v1/oauth/token"


def test_a_token_carries_account_scopes_and_expiry(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    manager = TokenManager(credentials(sandbox_env, tmp_path))
    token = manager.get_token()
    info = manager.info
    assert info is not None
    assert info.account_id == sandbox.account_id
    assert set(info.scopes) == set(sandbox.scopes)
    assert 3590 < info.lifetime <= 3600
    assert token in sandbox.issued_tokens
    assert sandbox.counters()["token_requests"] == 1
    manager.close()


def test_scope_is_sent_only_when_set(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    manager = TokenManager(credentials(sandbox_env, tmp_path, scope="read:meters"))
    manager.get_token()
    assert manager.info is not None and manager.info.scopes == ("read:meters",)
    manager.close()


# (fault or overrides, error class, text in the message, token requests expected, waits)
CASES = [
    pytest.param(
        {"overrides": {"client_secret": "wrong-secret"}},
        InvalidClientError,
        "refused client id '{client_id}' (401 access_denied: Unauthorized). "
        "Check UE_CLIENT_ID and UE_CLIENT_SECRET.",
        1,
        [],
        id="wrong-secret",
    ),
    pytest.param(
        {"overrides": {"client_id": "nobody"}},
        InvalidClientError,
        "refused client id 'nobody'",
        1,
        [],
        id="unknown-client",
    ),
    pytest.param(
        {"audience_without_slash": True},
        InvalidClientError,
        "does not accept the audience",
        1,
        [],
        id="unknown-audience",
    ),
    pytest.param(
        {"overrides": {"scope": "admin:everything"}},
        TokenError,
        "UE_SCOPE",
        1,
        [],
        id="scope-not-granted",
    ),
    pytest.param(
        {"fault": {"status": 429, "count": 4, "retry_after": 5}},
        TokenRateLimitedError,
        "429 Too Many Requests (4 attempts)",
        4,
        [5.0, 5.0, 5.0],
        id="rate-limited",
    ),
    pytest.param(
        {"fault": {"status": 503, "count": 4}},
        TokenServerError,
        "failed after 4 attempts (503 ",
        4,
        None,
        id="5xx",
    ),
    pytest.param(
        {"fault": {"status": None, "drop": True, "count": 4}},
        TokenServerError,
        "Could not reach the token endpoint",
        4,
        None,
        id="connection-dropped",
    ),
    pytest.param(
        {"fault": {"status": 200, "body": "<html>hello</html>"}},
        TokenServerError,
        "not a JSON object",
        1,
        [],
        id="not-json",
    ),
    pytest.param(
        {"fault": {"status": 200, "body": {"token_type": "Bearer"}}},
        TokenServerError,
        "without an access_token",
        1,
        [],
        id="no-access-token",
    ),
    pytest.param(
        {"fault": {"status": None, "delay": 2.0}, "timeout": 0.3},
        TokenServerError,
        "did not answer within 0.3 s",
        1,
        [],
        id="timeout",
    ),
]


@pytest.mark.parametrize(("setup", "error", "text", "requests", "waits"), CASES)
def test_token_endpoint_failures(
    setup: dict[str, Any],
    error: type[Exception],
    text: str,
    requests: int,
    waits: list[float] | None,
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    overrides = dict(setup.get("overrides", {}))
    if setup.get("audience_without_slash"):
        overrides["audience"] = sandbox.base_url.rstrip("/")
        overrides["token_url"] = sandbox.token_url
    if "fault" in setup:
        sandbox.inject(target="token", **setup["fault"])
    sleeps: list[float] = []
    manager = TokenManager(
        credentials(sandbox_env, tmp_path, **overrides),
        sleep=sleeps.append,
        timeout=setup.get("timeout", 10.0),
    )
    with pytest.raises(error) as info:
        manager.get_token()
    manager.close()
    exc = info.value
    assert type(exc) is error
    assert text.format(client_id=sandbox.client_id) in str(exc)
    assert sandbox.counters()["token_requests"] == requests == manager.token_requests
    if waits is not None:
        assert sleeps == waits
    else:
        assert len(sleeps) == requests - 1 and all(0 < s <= 30 for s in sleeps)
    assert exc.__context__ is None and exc.__cause__ is None
    secrets = [sandbox.client_secret, "wrong-secret", *sandbox.issued_tokens]
    shown = str(exc) + repr(exc) + caplog.text
    assert not [s for s in secrets if s in shown]


def test_rate_limit_then_success_waits_for_retry_after(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    sandbox.inject(target="token", status=429, count=2, retry_after=3)
    sleeps: list[float] = []
    manager = TokenManager(credentials(sandbox_env, tmp_path), sleep=sleeps.append)
    assert manager.get_token() in sandbox.issued_tokens
    assert sleeps == [3.0, 3.0]
    assert sandbox.counters()["token_requests"] == 3
    manager.close()


def test_connection_refused_is_retried_then_explained(
    sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    sleeps: list[float] = []
    creds = credentials(sandbox_env, tmp_path, token_url=closed_port_url())
    manager = TokenManager(creds, sleep=sleeps.append)
    with pytest.raises(TokenServerError, match=r"after 4 attempts \(ConnectError") as info:
        manager.get_token()
    assert "check UE_TOKEN_URL and the network" in str(info.value)
    assert manager.token_requests == 4 and len(sleeps) == 3
    manager.close()
