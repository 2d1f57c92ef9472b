"""The kernel's logins as one plain object: kept across %reload_ext (no call-stack walk),
closed by %unload_ext, and what a failed or repeated login leaves in force."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import ue_magic
from tests.conftest import interrupt_after
from ue_magic.cells.logins import Logins
from ue_magic.sandbox import Sandbox


def run(ip: Any, magic: str, line: str = "") -> str:
    with capture_output() as captured:
        ip.run_line_magic(magic, line)
    return captured.stdout


def cell(ip: Any, text: str) -> Any:
    """Run ``text`` as a cell, as a user does (IPython's cell events fire)."""
    with capture_output() as captured:
        result = ip.run_cell(text)
    return result, captured.stdout


def answers(url: str) -> bool:
    try:
        httpx.get(url + ".well-known/jwks.json", timeout=2)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture
def bare_ip(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in list(os.environ):
        if name.startswith("UE_"):
            monkeypatch.delenv(name)
    return ip


def test_the_logins_outlive_the_magics_across_reload_ext_in_a_cell(ip: Any) -> None:
    run(ip, "ue_login")
    before = ip.magics_manager.registry["UsageEngineMagics"]
    logins, client = before.logins, ue_magic.client()
    result, out = cell(ip, "%reload_ext ue_magic")
    assert result.success and "kept 1 login" in out
    after = ip.magics_manager.registry["UsageEngineMagics"]
    assert after is not before and after.logins is logins and isinstance(logins, Logins)
    assert ue_magic.client() is client and not client._http.is_closed


def test_unload_ext_in_a_cell_closes_the_logins_when_the_cell_ends(ip: Any) -> None:
    run(ip, "ue_login")
    client = ue_magic.client()
    result, _ = cell(ip, "%unload_ext ue_magic")
    assert result.success
    assert client._http.is_closed
    assert "ue_call" not in ip.magics_manager.magics["line"]
    with pytest.raises(UsageError, match="load_ext ue_magic"):
        ue_magic.client()
    cell(ip, "%load_ext ue_magic")  # the fixture unloads it again
    with pytest.raises(UsageError, match="Not logged in"):
        ue_magic.client()


def test_the_extension_does_not_walk_the_call_stack() -> None:
    import inspect

    import ue_magic.ipython._extension as extension

    for module in (ue_magic, extension):
        assert "_getframe" not in inspect.getsource(module)


# -- a failed login ---------------------------------------------------------------------------


def test_a_failed_login_says_the_previous_one_is_still_in_force(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(ip, "ue_login")
    client = ue_magic.client()
    monkeypatch.setenv("UE_CLIENT_ID", "someone-else")
    monkeypatch.setenv("UE_CLIENT_SECRET", "wrong")
    with pytest.raises(UsageError) as raised:
        run(ip, "ue_login")
    message = str(raised.value)
    assert "401" in message or "invalid_client" in message.lower()
    assert (
        f"The previous login of the default profile, client {sandbox.client_id}, is still "
        "in force." in message
    )
    assert "wrong" not in message
    assert ue_magic.client() is client and not client._http.is_closed


def test_a_failed_first_login_says_none_is_in_force(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UE_CLIENT_SECRET", "wrong")
    with pytest.raises(UsageError, match=r"No login of the default profile is in force\."):
        run(ip, "ue_login")


def test_ctrl_c_during_the_token_request_is_one_line_and_the_previous_login_stays(
    ip: Any, sandbox: Sandbox
) -> None:
    run(ip, "ue_login")
    client = ue_magic.client()
    sandbox.inject("token", status=None, delay=20)  # the next token request hangs
    timer = interrupt_after(1.0)  # a real Ctrl-C
    try:
        with capture_output() as captured:
            result = ip.run_cell("%ue_login")
    finally:
        timer.cancel()
    error = result.error_in_exec
    assert isinstance(error, UsageError)  # an error reply: Run All stops
    assert str(error) == (
        "%ue_login interrupted (Ctrl-C) before the token arrived; the previous login of the "
        f"default profile, client {sandbox.client_id}, is still in force."
    )
    assert "Traceback" not in captured.stdout + captured.stderr
    assert ue_magic.client() is client and not client._http.is_closed


# -- the kernel's sandbox ---------------------------------------------------------------------


def test_a_second_sandbox_login_reuses_the_running_sandbox_and_its_data(bare_ip: Any) -> None:
    run(bare_ip, "ue_login", "--sandbox")
    base = ue_magic.client().credentials.api_url
    made = bare_ip.run_cell(
        "%%ue_call POST /usage-metering/v1/meter-types -q -o kept\n"
        '{"name": "kept-type", "unit": "calls", "aggregation": {"type": "sum"}}'
    )
    assert made.success, made.error_in_exec
    type_id = bare_ip.user_ns["kept"]["id"]
    line = run(bare_ip, "ue_login", "--sandbox")
    assert "already running in this kernel, with its data" in line
    assert ue_magic.client().credentials.api_url == base
    got = bare_ip.run_line_magic("ue_call", f"GET /usage-metering/v1/meter-types/{type_id} -q")
    assert got["name"] == "kept-type"


def test_logout_then_sandbox_login_starts_afresh(bare_ip: Any) -> None:
    run(bare_ip, "ue_login", "--sandbox")
    first = ue_magic.client().credentials.api_url
    out = run(bare_ip, "ue_logout")
    assert "sandbox it used is stopped" in out and not answers(first)
    line = run(bare_ip, "ue_login", "--sandbox")
    assert line.startswith("Sandbox (a local emulator in this kernel, not a real account).")
    assert ue_magic.client().credentials.api_url != first


def test_two_profiles_share_the_sandbox_until_the_last_logs_out(bare_ip: Any) -> None:
    run(bare_ip, "ue_login", "--sandbox")
    base = ue_magic.client().credentials.api_url
    run(bare_ip, "ue_login", "--sandbox --profile second")
    assert ue_magic.client("second").credentials.api_url == base
    out = run(bare_ip, "ue_logout")
    assert "keeps running for the other logins" in out and answers(base)
    out = run(bare_ip, "ue_logout", "--profile second")
    assert "sandbox it used is stopped" in out and not answers(base)
