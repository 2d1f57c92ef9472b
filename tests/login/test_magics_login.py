"""%ue_login, %ue_logout, %ue_status and the extension, through a real InteractiveShell."""

from __future__ import annotations

import builtins
import getpass
import subprocess
import sys
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import ue_magic
from tests.conftest import shown_widget
from ue_magic.ipython._history import REDACTED
from ue_magic.sandbox import Sandbox


def login(ip: Any, line: str = "") -> str:
    with capture_output() as captured:
        ip.run_line_magic("ue_login", line)
    return captured.stdout


def clear_env(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.delenv(name, raising=False)


# -- the extension --------------------------------------------------------------------------


def test_load_registers_the_magics(ip: Any) -> None:
    magics = ip.magics_manager.magics
    assert {"ue_login", "ue_logout", "ue_status", "ue_call"} <= set(magics["line"])
    assert "ue_call" in magics["cell"]
    assert any(type(c).__name__ == "UsageEngineMagics" for c in ip.configurables)


def test_unload_closes_connections_and_removes_magics(ip: Any) -> None:
    login(ip)
    client = ue_magic.client()
    ip.run_line_magic("unload_ext", "ue_magic")
    assert client._http.is_closed
    assert "ue_call" not in ip.magics_manager.magics["line"]
    with pytest.raises(UsageError, match="load_ext ue_magic"):
        ue_magic.client()
    ip.run_line_magic("load_ext", "ue_magic")  # the fixture unloads it again


def test_reload_keeps_logins_and_says_so(ip: Any, sandbox: Sandbox) -> None:
    login(ip)
    before = ip.magics_manager.registry["UsageEngineMagics"]
    client = ue_magic.client()
    with capture_output() as captured:
        assert ip.run_cell("%reload_ext ue_magic").success  # in a cell, as a user runs it
    assert "kept 1 login" in captured.stdout
    after = ip.magics_manager.registry["UsageEngineMagics"]
    assert after is not before and before not in ip.configurables
    assert "ue_call" in ip.magics_manager.magics["cell"]
    assert ue_magic.client() is client and not client._http.is_closed
    ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters -q")
    assert sandbox.counters()["token_requests"] == 1  # the same token, no new login


def test_unload_still_logs_out(ip: Any) -> None:
    login(ip)
    client = ue_magic.client()
    ip.run_line_magic("unload_ext", "ue_magic")
    ip.run_line_magic("load_ext", "ue_magic")
    assert client._http.is_closed
    with pytest.raises(UsageError, match="Not logged in"):
        ue_magic.client()


def test_config_sets_traits(ip: Any) -> None:
    ip.run_line_magic("config", "UsageEngineMagics.display_limit = 7")
    magics = ip.magics_manager.registry["UsageEngineMagics"]
    assert magics.display_limit == 7


# -- logging in ---------------------------------------------------------------------------


def test_login_from_environment_prints_short_lines(ip: Any, sandbox: Sandbox) -> None:
    out = login(ip)
    assert 1 <= out.count("\n") <= 5  # short lines, each part whole (see tests/cells)
    assert sandbox.api_url in out
    assert sandbox.client_id in out
    assert sandbox.account_id in out
    assert f"{len(sandbox.scopes)} scopes" in out  # %ue_status lists them
    assert "UTC" in out
    assert sandbox.counters()["token_requests"] == 1


def test_login_from_env_file(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clear_env(monkeypatch, "UE_CLIENT_ID", "UE_CLIENT_SECRET")
    env_file = tmp_path / "ue.env"
    env_file.write_text(
        f"UE_CLIENT_ID={sandbox.client_id}\nUE_CLIENT_SECRET={sandbox.client_secret}\n"
    )
    out = login(ip, f"--env-file {env_file}")
    assert sandbox.client_id in out
    assert ue_magic.client().credentials.env_file == str(env_file)


def test_login_finds_dotenv_upwards(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clear_env(monkeypatch, "UE_CLIENT_ID", "UE_CLIENT_SECRET")
    (tmp_path / ".env").write_text(
        f"UE_CLIENT_ID={sandbox.client_id}\nUE_CLIENT_SECRET={sandbox.client_secret}\n"
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert sandbox.client_id in login(ip)


def test_line_beats_environment_beats_dotenv(ip: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("UE_API_URL=http://127.0.0.1:9/from-dotenv/\n")
    login(ip)
    assert ue_magic.client().credentials.api_url == sandbox.api_url  # environment beats .env
    other = sandbox.base_url + "from-line/"
    login(ip, f"--api-url {other}")
    assert ue_magic.client().credentials.api_url == other  # line beats environment


def test_dotenv_fills_what_the_environment_lacks(
    ip: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UE_API_URL")
    (tmp_path / ".env").write_text(f"UE_API_URL={sandbox.base_url}from-dotenv/\n")
    with pytest.raises(UsageError, match=r"UE_API_URL from the \.env file"):  # found, not named
        login(ip)
    login(ip, f"--env-file {tmp_path / '.env'}")  # named: the user's own
    assert ue_magic.client().credentials.api_url == sandbox.base_url + "from-dotenv/"


def test_profiles_side_by_side(ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.add_client("reader", "reader-secret-123", "read:meters read:meter_types")
    monkeypatch.setenv("UE_RO_CLIENT_ID", "reader")
    monkeypatch.setenv("UE_RO_CLIENT_SECRET", "reader-secret-123")
    for name in ("AUDIENCE", "TOKEN_URL", "API_URL"):
        monkeypatch.setenv(f"UE_RO_{name}", sandbox.env()[f"UE_{name}"])
    login(ip)
    out = login(ip, "--profile ro")
    assert "profile ro" in out and "reader" in out
    assert ue_magic.client("ro").credentials.client_id == "reader"
    assert ue_magic.client().credentials.client_id == sandbox.client_id
    with capture_output() as captured:
        ip.run_line_magic("ue_status", "")
    text = captured.outputs[0].data["text/plain"]
    assert "reader" in text and sandbox.client_id in text and "(default)" in text


def test_login_again_replaces_the_old_login(ip: Any) -> None:
    login(ip)
    first = ue_magic.client()
    login(ip)
    assert first._http.is_closed
    assert ue_magic.client() is not first


# -- mistakes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "--client-secret hunter2-very-secret",
        "--secret=hunter2-very-secret",
        "UE_CLIENT_SECRET=hunter2-very-secret",
        "client_secret=hunter2-very-secret",
        "--client-secret \"hunter2-'quoted'\"",
        "--client-secret 'hunter2\"dq'",
        "--secret=hunter2\\\\back",
    ],
)
def test_secret_on_the_line_is_refused_and_scrubbed(ip: Any, sandbox: Sandbox, line: str) -> None:
    result = ip.run_cell(f"%ue_login {line}", store_history=True)
    assert isinstance(result.error_in_exec, UsageError)
    message = str(result.error_in_exec)
    assert ".env" in message and "hunter2" not in message
    assert sandbox.counters()["token_requests"] == 0
    history = ip.history_manager
    assert all("hunter2" not in text for text in history.input_hist_raw)
    assert all("hunter2" not in text for text in history.input_hist_parsed)
    assert all("hunter2" not in str(v) for k, v in ip.user_ns.items() if k.startswith("_i"))
    assert REDACTED in history.input_hist_raw
    history.writeout_cache()
    rows = history.db.execute("SELECT source, source_raw FROM history").fetchall()
    stored = [text for row in rows for text in row]
    assert stored and all("hunter2" not in src for src in stored)


def test_stray_words_are_not_echoed(ip: Any) -> None:
    with pytest.raises(UsageError) as caught:
        login(ip, "mysterious-value-123")
    assert "mysterious" not in str(caught.value)


def test_an_unclosed_quote_is_refused_without_echo_and_scrubbed(ip: Any, sandbox: Sandbox) -> None:
    result = ip.run_cell('%ue_login --scope "mysterious-value-123', store_history=True)
    assert isinstance(result.error_in_exec, UsageError)
    assert "not closed" in str(result.error_in_exec)
    assert "mysterious" not in str(result.error_in_exec)
    assert all("mysterious" not in text for text in ip.history_manager.input_hist_raw)
    assert sandbox.counters()["token_requests"] == 0


def test_wrong_secret(ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UE_CLIENT_SECRET", "not-the-secret-xyz")
    with pytest.raises(UsageError) as caught:
        login(ip)
    assert "not-the-secret-xyz" not in str(caught.value)
    assert "UE_CLIENT_SECRET" in str(caught.value)
    with pytest.raises(UsageError, match="Not logged in"):
        ue_magic.client()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"UE_REGION": "mars"}, "UE_REGION"),
        ({"UE_API_URL": "ftp://example.com/"}, "UE_API_URL"),
        ({"UE_API_URL": "http://example.com/"}, "UE_API_URL"),
    ],
)
def test_bad_settings(
    ip: Any, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(UsageError, match=expected):
        login(ip)


def test_unknown_region_option(ip: Any) -> None:
    with pytest.raises(UsageError, match="region"):
        login(ip, "--region mars")


def test_missing_env_file(ip: Any, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.env"):
        login(ip, f"--env-file {tmp_path / 'nope.env'}")


def test_server_unreachable(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UE_TOKEN_URL", "http://127.0.0.1:9/authentication/v1/oauth/token")
    with pytest.raises(UsageError, match=r"127\.0\.0\.1:9"):
        login(ip)


def test_call_before_login(ip: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match="%ue_login"):
        ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters")
    assert sandbox.counters()["api_requests"] == 0


# -- asking for what is missing ----------------------------------------------------------------


def test_terminal_asks_with_getpass(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_env(monkeypatch, "UE_CLIENT_ID", "UE_CLIENT_SECRET")
    asked: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda prompt: asked.append(prompt) or sandbox.client_id)
    monkeypatch.setattr(
        getpass, "getpass", lambda prompt: asked.append(prompt) or sandbox.client_secret
    )
    out = login(ip)
    assert len(asked) == 2 and "secret" in asked[1]
    assert sandbox.client_id in out


def test_terminal_asks_only_for_the_secret(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_env(monkeypatch, "UE_CLIENT_SECRET")
    monkeypatch.setattr(builtins, "input", lambda prompt: pytest.fail("asked for the id"))
    monkeypatch.setattr(getpass, "getpass", lambda prompt: sandbox.client_secret)
    assert sandbox.client_id in login(ip)


def test_terminal_empty_answer_is_an_error(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_env(monkeypatch, "UE_CLIENT_SECRET")
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "")
    with pytest.raises(UsageError, match="UE_CLIENT_SECRET"):
        login(ip)


class _NotebookKernel:
    """Just enough of ipykernel for ue_magic to see a notebook (stdin allowed, a cell id)."""

    _allow_stdin = True

    def get_parent(self, channel: str | None = None) -> dict[str, Any]:
        return {"metadata": {"cellId": "c0ffee"}}


def shown_form(ip: Any, line: str = "--widget") -> widgets.VBox:
    ip.kernel = _NotebookKernel()  # a terminal refuses --widget: there is no form to show
    try:
        with capture_output() as captured:
            ip.run_line_magic("ue_login", line)
    finally:
        del ip.kernel
    models = [o for o in captured.outputs if "application/vnd.jupyter.widget-view+json" in o.data]
    assert len(models) == 1, "the login form was not displayed"
    box = shown_widget(models[0])
    assert isinstance(box, widgets.VBox)
    return box


def fields(
    box: widgets.VBox,
) -> tuple[widgets.Text, widgets.Password, widgets.Button, widgets.HTML]:
    text = next(w for w in box.children if type(w) is widgets.Text)
    password = next(w for w in box.children if isinstance(w, widgets.Password))
    button = next(w for w in box.children if isinstance(w, widgets.Button))
    message = [w for w in box.children if isinstance(w, widgets.HTML)][-1]
    return text, password, button, message


def test_form_logs_in_and_clears_the_secret(ip: Any, sandbox: Sandbox) -> None:
    box = shown_form(ip)
    text, password, button, _ = fields(box)
    text.value = sandbox.client_id
    password.value = sandbox.client_secret
    button.click()
    assert password.value == ""
    assert len(box.children) == 1 and sandbox.client_id in box.children[0].value
    assert ue_magic.client().credentials.client_id == sandbox.client_id
    assert sandbox.client_secret not in repr(box.get_state())


def test_form_shows_errors_and_stays(ip: Any, sandbox: Sandbox) -> None:
    box = shown_form(ip)
    text, password, button, message = fields(box)
    text.value = sandbox.client_id
    password.value = "wrong-secret-in-form"
    button.click()
    assert password.value == ""
    assert "UE_CLIENT_SECRET" in message.value or "secret" in message.value.lower()
    assert "wrong-secret-in-form" not in message.value
    assert len(box.children) > 1 and not button.disabled
    password.value = sandbox.client_secret
    button.click()
    assert len(box.children) == 1


def test_form_needs_both_fields(ip: Any, sandbox: Sandbox) -> None:
    box = shown_form(ip)
    _, _, button, message = fields(box)
    button.click()
    assert "client id" in message.value
    assert sandbox.counters()["token_requests"] == 0


# -- logout and status --------------------------------------------------------------------------


def test_logout_forgets(ip: Any) -> None:
    login(ip)
    client = ue_magic.client()
    with capture_output() as captured:
        ip.run_line_magic("ue_logout", "")
    assert "Logged out" in captured.stdout
    assert client._http.is_closed and client.token_manager.info is None
    with pytest.raises(UsageError):
        ue_magic.client()


def test_status_shows_counts_and_no_secret(ip: Any, sandbox: Sandbox) -> None:
    login(ip)
    ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters -q")
    with capture_output() as captured:
        ip.run_line_magic("ue_status", "")
    bundle = captured.outputs[0].data
    for text in bundle.values():
        assert sandbox.client_secret not in text
        assert all(token not in text for token in sandbox.issued_tokens)
    assert "expires in" in bundle["text/plain"]
    assert "<table" in bundle["text/html"]


def test_status_when_logged_out(ip: Any) -> None:
    with capture_output() as captured:
        ip.run_line_magic("ue_status", "")
    assert "Not logged in" in captured.outputs[0].data["text/plain"]


@pytest.mark.parametrize("line", ["hello", "--bogus", "--profile x"])
def test_status_refuses_arguments_as_the_other_magics_do(ip: Any, line: str) -> None:
    with pytest.raises(UsageError, match=r"%ue_status\?"), capture_output() as captured:
        ip.run_line_magic("ue_status", line)
    assert not captured.outputs  # nothing shown for a line it did not understand


def test_loading_is_quick_and_leaves_widgets_for_later() -> None:
    probe = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'ue_magic')\n"
        "print('ipywidgets' in sys.modules, 'ue_magic.ipython.widget' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]
