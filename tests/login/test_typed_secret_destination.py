"""A secret typed at the prompts or in the form, for a token URL that a .env found in a parent
folder sets: %ue_login first says where it goes and which file said so (the environment's
secret is refused in that case; a typed one is the user's choice, made knowing)."""

from __future__ import annotations

import builtins
import getpass
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

import ue_magic
from tests.login.test_frontends import CONSOLE, NOTEBOOK, fill, in_frontend, run, shown_form
from ue_magic.sandbox import Sandbox

URLS = ("UE_AUDIENCE", "UE_API_URL", "UE_TOKEN_URL")


def urls_in_a_parent_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sandbox's URLs in ../.env only; no id or secret anywhere; the cwd one folder down."""
    here = Path.cwd()
    env_file = here / ".env"
    env_file.write_text("".join(f"{name}={sandbox.env()[name]}\n" for name in URLS))
    for name in (*URLS, "UE_CLIENT_ID", "UE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    (here / "sub").mkdir()
    monkeypatch.chdir(here / "sub")
    return env_file


def test_prompts_say_where_the_secret_goes_before_asking_for_it(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, CONSOLE)
    env_file = urls_in_a_parent_env(sandbox, monkeypatch)
    said_before_secret: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda p="": sandbox.client_id)
    with capture_output() as captured:
        monkeypatch.setattr(
            getpass,
            "getpass",
            lambda p="": (
                said_before_secret.append(" ".join(captured.stdout.split()))
                or sandbox.client_secret
            ),
        )
        ip.run_line_magic("ue_login", "")
    token_url = sandbox.env()["UE_TOKEN_URL"]
    note = (
        f"A .env found in a parent folder, '{env_file}', sends the secret you type to {token_url}"
    )
    assert note in said_before_secret[0]
    assert "Logged in" in captured.stdout
    assert sandbox.client_secret not in captured.stdout


def test_the_form_says_where_the_secret_goes(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    env_file = urls_in_a_parent_env(sandbox, monkeypatch)
    captured = run(ip)
    assert f"'{env_file}', sends the secret you type to {sandbox.env()['UE_TOKEN_URL']}" in (
        " ".join(captured.stdout.split())
    )
    box, _ = shown_form(captured)
    fill(box, sandbox.client_id, sandbox.client_secret)
    assert ue_magic.client().credentials.client_id == sandbox.client_id


def test_nothing_is_said_for_a_named_env_file(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, CONSOLE)
    env_file = urls_in_a_parent_env(sandbox, monkeypatch)
    monkeypatch.setattr(builtins, "input", lambda p="": sandbox.client_id)
    monkeypatch.setattr(getpass, "getpass", lambda p="": sandbox.client_secret)
    captured = run(ip, f"--env-file {env_file}")
    assert "parent folder" not in captured.stdout and "Logged in" in captured.stdout
