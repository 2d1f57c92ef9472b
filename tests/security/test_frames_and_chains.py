"""No token or secret reachable through what an error leaves behind: ``sys.last_traceback``'s
frames after Ctrl-C, a failed login's ``__context__`` chain, a kept client after logout, and the
refusal of a .env file written on one line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import run, slow_seen
from tests.security.reach import find, secret_forms
from tests.security.servers import Server
from ue_magic import Credentials, UsageEngineClient
from ue_magic.core.credentials import Secret
from ue_magic.core.token import _Token
from ue_magic.errors import ConfigurationError
from ue_magic.sandbox import Sandbox

OTHER_SECRET = "prod+Secret/of=another_profile"


def last_error_roots() -> dict[str, object]:
    return {"sys.last_value": sys.last_value, "sys.last_traceback": sys.last_traceback}


def test_interrupt_leaves_no_token_in_the_last_traceback(
    ip: Any, hostile_env: dict[str, str], hostile_server: Server, interrupt_when: Any,
    sandbox: Sandbox,
) -> None:  # fmt: skip
    assert run(ip, "%ue_login --profile hostile").success
    interrupt_when(slow_seen(hostile_server))
    result = run(ip, "%ue_call --profile hostile GET /slow")
    # one line (issue 21): the interrupt is a UsageError that stops Run All
    assert "Interrupted (Ctrl-C)" in str(result.error_in_exec)
    assert sys.last_value is result.error_in_exec
    tokens = {f"token {n}": [t.encode()] for n, t in enumerate(sandbox.issued_tokens)}
    found, walked = find(last_error_roots(), tokens, (_Token,))
    assert walked["frame"] >= 2  # what %debug would show
    assert found == []


def test_interrupt_during_the_token_request_leaves_no_secret_in_frames(
    hostile_server: Server, interrupt_when: Any
) -> None:
    secret = "Interrupted+secret/value=1"
    creds = Credentials(
        "cid", Secret(secret), "eu", hostile_server.url, hostile_server.url,
        hostile_server.url + "slow",
    )  # fmt: skip
    interrupt_when(slow_seen(hostile_server))
    with UsageEngineClient(creds) as ue, pytest.raises(KeyboardInterrupt) as info:
        ue.token_manager.get_token()
    found, walked = find({"error": info.value}, {"secret": secret_forms(secret)}, (Secret,))
    assert walked["frame"] >= 1
    assert found == []


def test_failed_login_keeps_no_env_values_in_the_error_chain(
    ip: Any, tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    env = "".join(f"{k}={v}\n" for k, v in sandbox_env.items())
    env += f"UE_PROD_CLIENT_ID=prod\nUE_PROD_CLIENT_SECRET={OTHER_SECRET}\n"
    (tmp_path / ".env").write_text(env, encoding="utf-8")
    result = run(ip, "%ue_login --token-url http://auth.example.com/token")
    assert "plain http" in str(result.error_in_exec)
    needles = {
        "another profile's secret": secret_forms(OTHER_SECRET),
        "the client secret": secret_forms(sandbox_env["UE_CLIENT_SECRET"]),
    }
    found, _ = find(last_error_roots(), needles, ())
    assert found == []


def test_a_kept_client_yields_no_secret_after_logout(ip: Any, sandbox_env: dict[str, str]) -> None:
    assert run(ip, "%ue_login").success
    assert run(ip, "import ue_magic\nue = ue_magic.client()\nue, ue.token_manager").success
    assert run(ip, "%ue_logout").success
    ue = ip.user_ns["ue"]
    assert ue.credentials.client_secret.get_secret_value() == ""
    assert ue.token_manager.credentials.client_secret.get_secret_value() == ""
    assert ue.credentials.client_id == sandbox_env["UE_CLIENT_ID"]  # the rest is kept
    roots = {"ue": ue, "Out": ip.user_ns["Out"]}
    found, walked = find(roots, {"secret": secret_forms(sandbox_env["UE_CLIENT_SECRET"])}, ())
    assert walked["Secret"] >= 1
    assert found == []


def test_a_closed_python_client_leaves_the_callers_credentials_alone(
    sandbox_env: dict[str, str],
) -> None:
    creds = Credentials.from_env(environ=sandbox_env)
    with UsageEngineClient(creds) as ue:
        ue.token_manager.get_token()
    assert ue.credentials.client_secret.get_secret_value() == ""
    assert creds.client_secret.get_secret_value() == sandbox_env["UE_CLIENT_SECRET"]
    with UsageEngineClient(creds) as again:  # the caller's credentials still log in
        assert again.token_manager.get_token()


def test_one_line_env_refusal_does_not_print_the_secret(
    ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("UE_CLIENT_ID", "UE_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    secret = "one-line-Secret-value-42"
    (tmp_path / ".env").write_text(f"UE_CLIENT_ID=my-id UE_CLIENT_SECRET={secret}\n")
    monkeypatch.setattr("builtins.input", lambda prompt="": "typed-id")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "typed-secret")
    result = run(ip, "%ue_login")
    shown = capsys.readouterr()
    message = str(result.error_in_exec)
    assert "UE_CLIENT_ID" in message and "line of its own" in message
    assert secret not in message + shown.out + shown.err
    found, _ = find(last_error_roots(), {"secret": secret_forms(secret)}, ())
    assert found == []


def test_one_line_env_refusal_in_python(tmp_path: Path) -> None:
    secret = "one-line-Secret-value-43"
    path = tmp_path / "one.env"
    path.write_text(f"UE_API_URL=http://127.0.0.1:1/ UE_CLIENT_SECRET={secret}\n")
    with pytest.raises(ConfigurationError, match="UE_API_URL") as info:
        Credentials.from_env(env_file=path, environ={}, client_id="id", client_secret="s" * 10)
    assert secret not in str(info.value)


def test_failed_python_login_keeps_no_env_values_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "prod.env"
    path.write_text(
        f"UE_CLIENT_ID=id\nUE_CLIENT_SECRET=s{OTHER_SECRET}\nUE_PROD_CLIENT_SECRET={OTHER_SECRET}\n"
        "UE_TOKEN_URL=http://auth.example.com/token\n"
    )
    with pytest.raises(ConfigurationError, match="plain http") as info:
        Credentials.from_env(env_file=path, environ={})
    found, walked = find({"error": info.value}, {"secret": secret_forms(OTHER_SECRET)}, ())
    assert walked["frame"] >= 1
    assert found == []
