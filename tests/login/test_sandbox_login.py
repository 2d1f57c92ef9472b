"""%ue_login --sandbox: the embedded default that needs no account and no settings."""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import ue_magic
from ue_magic import sandbox as sandbox_module
from ue_magic._extras import install_command


def run(ip: Any, magic: str, line: str = "") -> str:
    with capture_output() as captured:
        ip.run_line_magic(magic, line)
    return captured.stdout


@pytest.fixture
def bare_ip(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The shell with no UE_* setting at all, as in a fresh folder."""
    for name in list(os.environ):
        if name.startswith("UE_"):
            monkeypatch.delenv(name)
    return ip


def answers(url: str) -> bool:
    try:
        httpx.get(url + ".well-known/jwks.json", timeout=2)
    except httpx.TransportError:
        return False
    return True


def test_sandbox_login_says_so_and_logout_stops_it(bare_ip: Any) -> None:
    line = run(bare_ip, "ue_login", "--sandbox")
    assert line.startswith("Sandbox (a local emulator in this kernel, not a real account).")
    assert "Logged in to http://127.0.0.1:" in line
    client = ue_magic.client()
    base = client.credentials.api_url
    body = bare_ip.run_line_magic("ue_call", "GET /usage-metering/v1/meter-types -q")
    assert isinstance(body, (list, dict))
    assert answers(base)
    out = run(bare_ip, "ue_logout")
    assert "Logged out." in out and "sandbox it used is stopped" in out
    assert not answers(base)


def test_unload_stops_the_sandbox(bare_ip: Any) -> None:
    run(bare_ip, "ue_login", "--sandbox")
    base = ue_magic.client().credentials.api_url
    bare_ip.run_line_magic("unload_ext", "ue_magic")
    assert not answers(base)
    bare_ip.run_line_magic("load_ext", "ue_magic")


def test_a_real_login_after_the_sandbox_stops_it(
    bare_ip: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(bare_ip, "ue_login", "--sandbox")
    embedded = ue_magic.client().credentials.api_url
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    line = run(bare_ip, "ue_login")
    assert line.startswith("Logged in") and not answers(embedded)


def test_sandbox_takes_no_settings(bare_ip: Any) -> None:
    with pytest.raises(UsageError, match="--sandbox needs no settings"):
        run(bare_ip, "ue_login", "--sandbox --region us")


def test_demo_data_is_asked_for_when_start_takes_it(
    bare_ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = sandbox_module.start
    calls: list[dict[str, Any]] = []

    def start(demo_data: bool = False, **options: Any) -> Any:
        calls.append({"demo_data": demo_data, **options})
        return real_start(**options)

    monkeypatch.setattr(sandbox_module, "start", start)
    run(bare_ip, "ue_login", "--sandbox")
    assert calls == [{"demo_data": True}]


def test_without_the_extra_one_sentence_names_the_install(
    bare_ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in sys.modules if n.startswith("ue_magic.sandbox")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(ue_magic, "sandbox")
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    with pytest.raises(UsageError) as caught:
        run(bare_ip, "ue_login", "--sandbox")
    message = str(caught.value)
    assert f"run {install_command('sandbox')} and restart" in message and "uvicorn" in message
    assert message.count(". ") == 0 and message.endswith(".")
    with pytest.raises(UsageError, match="Not logged in"):
        ue_magic.client()


def test_client_in_plain_python_says_what_to_use() -> None:
    import subprocess

    probe = (
        "import ue_magic\n"
        "try:\n    ue_magic.client()\nexcept Exception as error:\n    print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "UsageEngineClient(Credentials.from_env())" in out and "form" not in out
