"""What %ue_login says where it is shown: the terminal prompt says why it asks, unknown options
are named without echoing what was typed, the region's case does not matter, and plain Python is
never told to use a form it does not have."""

from __future__ import annotations

import builtins
import getpass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import ue_magic
from ue_magic import Credentials
from ue_magic.errors import MissingCredentialsError
from ue_magic.sandbox import Sandbox


def clear_env(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.delenv(name, raising=False)


def test_terminal_prompt_says_why_it_asks_and_how_to_cancel(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clear_env(monkeypatch, "UE_CLIENT_ID", "UE_CLIENT_SECRET")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(builtins, "input", lambda prompt: sandbox.client_id)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: sandbox.client_secret)
    with capture_output() as captured:
        ip.run_line_magic("ue_login", "")
    intro = captured.stdout.split("Logged in")[0]
    assert "UE_CLIENT_ID and UE_CLIENT_SECRET are not set" in " ".join(intro.split())
    assert str(tmp_path) in " ".join(intro.split())  # where it looked
    assert "Ctrl+C" in intro and "cancels" in intro
    assert all(len(line) <= 80 for line in intro.splitlines())
    assert sandbox.client_secret not in captured.stdout


def test_terminal_prompt_names_the_profile(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name.replace("UE_", "UE_PROD_", 1), value)
    clear_env(monkeypatch, "UE_PROD_CLIENT_SECRET")
    asked: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda prompt: pytest.fail("asked for the id"))
    monkeypatch.setattr(
        getpass, "getpass", lambda prompt: asked.append(prompt) or sandbox.client_secret
    )
    with capture_output() as captured:
        ip.run_line_magic("ue_login", "--profile prod")
    assert "login for profile prod: UE_PROD_CLIENT_SECRET is not set" in " ".join(
        captured.stdout.split()
    )
    assert asked == ["Client secret for profile prod (hidden): "]


def test_terminal_empty_id_is_refused_before_the_secret_is_asked(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_env(monkeypatch, "UE_CLIENT_ID", "UE_CLIENT_SECRET")
    monkeypatch.setattr(builtins, "input", lambda prompt: "  ")
    monkeypatch.setattr(getpass, "getpass", lambda prompt: pytest.fail("asked for the secret"))
    before = sandbox.counters()["token_requests"]
    with capture_output(), pytest.raises(UsageError) as info:
        ip.run_line_magic("ue_login", "")
    assert str(info.value).startswith("No client id given (UE_CLIENT_ID)")
    assert "nothing was sent" in str(info.value)
    assert "UE_CLIENT_ID" in str(info.value)
    assert "form" not in str(info.value) and "Credentials.from_env" not in str(info.value)
    assert sandbox.counters()["token_requests"] == before


def test_terminal_empty_secret_is_refused_in_the_terminal_s_words(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_env(monkeypatch, "UE_CLIENT_SECRET")
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "")
    with capture_output(), pytest.raises(UsageError) as info:
        ip.run_line_magic("ue_login", "")
    message = str(info.value)
    assert message.startswith("No client secret given") and "UE_CLIENT_SECRET" in message
    assert "form" not in message and "Credentials.from_env" not in message


def test_plain_python_is_not_told_about_a_form(tmp_path: Path) -> None:
    with pytest.raises(MissingCredentialsError) as info:
        Credentials.from_env(environ={}, cwd=tmp_path)
    message = str(info.value)
    assert "form" not in message
    assert "client_id= and client_secret= to Credentials.from_env" in message
    assert info.value.looked_in and str(tmp_path) in info.value.looked_in


@pytest.mark.parametrize("region", ["US", "Us", "us"])
def test_region_option_accepts_any_case_as_the_setting_does(
    ip: Any, sandbox: Sandbox, region: str
) -> None:
    # the sandbox's URLs are set, so only the region's name is read from the option
    with capture_output():
        ip.run_line_magic("ue_login", f"--region {region}")
    assert ue_magic.client().credentials.region == "us"


def test_unknown_login_option_suggests_without_echoing(ip: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("ue_login", "--regoin us")
    message = str(info.value)
    assert message == "Unknown option; did you mean --region? See %ue_login? for the options."


def test_unknown_login_words_are_never_echoed(ip: Any, sandbox: Sandbox) -> None:
    for line in ("-s3cr3t-Value-XYZ", "s3cr3t-Value-XYZ", "--s3cr3t=Value-XYZ"):
        with pytest.raises(UsageError) as info:
            ip.run_line_magic("ue_login", line)
        assert "s3cr3t" not in str(info.value) and "XYZ" not in str(info.value)
