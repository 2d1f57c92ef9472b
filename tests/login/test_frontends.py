"""How %ue_login asks for a missing id or secret in each front end: the form in notebooks,
prompts in terminals and consoles (and with --prompt), an error at once where nobody can type.

The kernel here is a stand-in with the two things ue_magic reads from a real one: whether the
execute request allows stdin, and the request's metadata (notebooks send the cell id). The real
front ends are driven in tests/clients.
"""

from __future__ import annotations

import builtins
import getpass
from typing import Any

import ipywidgets as widgets
import pytest
from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.utils.capture import capture_output

import ue_magic
from tests.conftest import shown_widget
from ue_magic.ipython.frontend import detect, shows_widgets
from ue_magic.ipython.prompting import LoginCancelled, ask_credentials
from ue_magic.sandbox import Sandbox


class FakeKernel:
    """What ipykernel exposes: ``_allow_stdin`` and the parent (execute) request."""

    def __init__(self, allow_stdin: bool, cell_id: str | None) -> None:
        self._allow_stdin = allow_stdin
        self.parent = {"metadata": {"cellId": cell_id} if cell_id else {}}

    def get_parent(self, channel: str | None = None) -> dict[str, Any]:
        return self.parent


NOTEBOOK = FakeKernel(allow_stdin=True, cell_id="c0ffee")
CONSOLE = FakeKernel(allow_stdin=True, cell_id=None)
HEADLESS = FakeKernel(allow_stdin=False, cell_id="c0ffee")


def in_frontend(ip: Any, monkeypatch: pytest.MonkeyPatch, kernel: FakeKernel | None) -> None:
    monkeypatch.setattr(ip, "kernel", kernel, raising=False)


def no_credentials(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names or ("UE_CLIENT_ID", "UE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def never_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtins, "input", lambda prompt="": pytest.fail("asked with input"))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": pytest.fail("asked with getpass"))


def run(ip: Any, line: str = "") -> Any:
    with capture_output() as captured:
        ip.run_line_magic("ue_login", line)
    return captured


# -- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "expected", "widgets_show"),
    [
        (None, "terminal", False),
        (HEADLESS, "headless", True),
        (CONSOLE, "console", False),
        (NOTEBOOK, "notebook", True),
        (FakeKernel(allow_stdin=False, cell_id=None), "headless", True),
    ],
)
def test_detect(kernel: FakeKernel | None, expected: str, widgets_show: bool) -> None:
    class Shell:
        pass

    shell = Shell()
    shell.kernel = kernel  # type: ignore[attr-defined]
    assert detect(shell) == expected
    assert shows_widgets(shell) is widgets_show


# -- where nobody can type ---------------------------------------------------------------------


def test_headless_fails_at_login_naming_what_and_where(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, HEADLESS)
    no_credentials(monkeypatch)
    never_asked(monkeypatch)
    with pytest.raises(UsageError) as caught:
        run(ip)
    message = str(caught.value)
    assert "UE_CLIENT_ID and UE_CLIENT_SECRET are not set" in message
    assert "the environment" in message and ".env" in message and "upwards" in message
    assert "nbconvert" in message and "--sandbox" in message
    assert sandbox.counters()["token_requests"] == 0


def test_headless_profile_names_its_variables(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    in_frontend(ip, monkeypatch, HEADLESS)
    with pytest.raises(UsageError, match="UE_PROD_CLIENT_ID and UE_PROD_CLIENT_SECRET") as caught:
        run(ip, "--profile prod")
    assert "%ue_login --profile prod --sandbox" in str(caught.value)


def test_headless_prompt_option_fails_the_same_way(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, HEADLESS)

    def refuse(prompt: str = "") -> str:  # what ipykernel does without stdin
        raise StdinNotImplementedError("input was called, but this frontend does not support")

    monkeypatch.setattr(builtins, "input", refuse)
    monkeypatch.setattr(getpass, "getpass", refuse)
    with pytest.raises(UsageError, match=r"--prompt asks for .* nobody can type") as caught:
        run(ip, "--prompt")
    assert "Leave out --prompt" in str(caught.value)


def test_headless_with_credentials_logs_in(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, HEADLESS)
    assert "Logged in" in run(ip).stdout


# -- prompts --------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [None, CONSOLE], ids=["terminal", "console"])
def test_prompts_say_why_and_log_in(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, kernel: FakeKernel | None
) -> None:
    in_frontend(ip, monkeypatch, kernel)
    no_credentials(monkeypatch)
    asked: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda p="": asked.append(p) or sandbox.client_id)
    monkeypatch.setattr(getpass, "getpass", lambda p="": asked.append(p) or sandbox.client_secret)
    captured = run(ip)
    intro, login = captured.stdout.split("Logged in")  # both wrap to the terminal's width
    intro, login_line = " ".join(intro.split()), "Logged in " + " ".join(login.split())
    assert "UE_CLIENT_ID and UE_CLIENT_SECRET are not set" in intro
    assert "looked in" in intro and "Ctrl+C" in intro
    assert asked == ["Client id: ", "Client secret (hidden): "]
    assert login_line.startswith("Logged in") and sandbox.client_id in login_line
    assert sandbox.client_secret not in captured.stdout
    assert not captured.outputs  # no widget


def test_prompt_option_in_a_notebook(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    no_credentials(monkeypatch, "UE_CLIENT_SECRET")  # the id is set: asked for all the same
    monkeypatch.setattr(builtins, "input", lambda p="": sandbox.client_id)
    monkeypatch.setattr(getpass, "getpass", lambda p="": sandbox.client_secret)
    captured = run(ip, "--prompt")
    assert not captured.outputs  # no form
    assert "--prompt asks for" in captured.stdout and "Logged in" in captured.stdout


@pytest.mark.parametrize("kernel", [NOTEBOOK, CONSOLE], ids=["notebook", "console"])
def test_prompt_option_asks_even_when_the_settings_are_there(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, kernel: FakeKernel
) -> None:
    """As --widget shows its form: what is typed wins over the environment's id and secret."""
    in_frontend(ip, monkeypatch, kernel)
    monkeypatch.setenv("UE_CLIENT_ID", "someone-else")
    monkeypatch.setenv("UE_CLIENT_SECRET", "not-the-secret")
    asked: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda p="": asked.append(p) or sandbox.client_id)
    monkeypatch.setattr(getpass, "getpass", lambda p="": asked.append(p) or sandbox.client_secret)
    captured = run(ip, "--prompt")
    assert asked == ["Client id: ", "Client secret (hidden): "]
    assert "--prompt asks for UE_CLIENT_ID and UE_CLIENT_SECRET" in " ".join(
        captured.stdout.split()
    )
    assert ue_magic.client().credentials.client_id == sandbox.client_id
    assert not captured.outputs  # no form


def test_prompt_for_a_profile_names_it(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, CONSOLE)
    for name in ("AUDIENCE", "TOKEN_URL", "API_URL"):
        monkeypatch.setenv(f"UE_STAGE_{name}", sandbox.env()[f"UE_{name}"])
    asked: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda p="": asked.append(p) or sandbox.client_id)
    monkeypatch.setattr(getpass, "getpass", lambda p="": asked.append(p) or sandbox.client_secret)
    captured = run(ip, "--profile stage")
    assert "login for profile stage" in captured.stdout
    assert "UE_STAGE_CLIENT_ID and UE_STAGE_CLIENT_SECRET" in " ".join(captured.stdout.split())
    assert asked == ["Client id for profile stage: ", "Client secret for profile stage (hidden): "]
    assert ue_magic.client("stage").credentials.client_id == sandbox.client_id


def test_empty_id_is_refused_before_the_secret(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, CONSOLE)
    no_credentials(monkeypatch)
    monkeypatch.setattr(builtins, "input", lambda p="": "  ")
    monkeypatch.setattr(getpass, "getpass", lambda p="": pytest.fail("asked for the secret"))
    with pytest.raises(UsageError, match=r"No client id given \(UE_CLIENT_ID\)"):
        run(ip)
    assert sandbox.counters()["token_requests"] == 0


@pytest.mark.parametrize("stop", [KeyboardInterrupt, EOFError])
def test_ctrl_c_cancels(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, stop: type[BaseException]
) -> None:
    in_frontend(ip, monkeypatch, CONSOLE)
    no_credentials(monkeypatch, "UE_CLIENT_SECRET")

    def interrupted(prompt: str = "") -> str:
        raise stop()

    monkeypatch.setattr(getpass, "getpass", interrupted)
    with pytest.raises(UsageError, match="Login cancelled; nothing was sent"):
        run(ip)
    assert sandbox.counters()["token_requests"] == 0


def test_ask_credentials_wraps_the_secret_at_once() -> None:
    said: list[str] = []
    asked = ask_credentials(
        ("UE_CLIENT_SECRET",),
        "looked in the environment",
        None,
        ask=lambda p: pytest.fail("asked for the id"),
        ask_secret=lambda p: "s3cr3t-value",
        say=said.append,
    )
    assert set(asked) == {"client_secret"}
    assert "s3cr3t-value" not in repr(asked)
    assert said and "UE_CLIENT_SECRET is not set (looked in the environment)" in said[0]
    with pytest.raises(LoginCancelled):
        ask_credentials(("UE_CLIENT_SECRET",), "", None, input, lambda p: "", said.append)


@pytest.mark.parametrize("region", ["US", "us", "Us"])
def test_region_is_case_insensitive(ip: Any, sandbox: Sandbox, region: str) -> None:
    run(ip, f"--region {region}")
    assert ue_magic.client().credentials.region == "us"


def test_region_setting_is_case_insensitive(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UE_REGION", "US")
    run(ip)
    assert ue_magic.client().credentials.region == "us"


# -- the form ---------------------------------------------------------------------------------


def shown_form(captured: Any) -> tuple[widgets.VBox, str]:
    views = [o for o in captured.outputs if "application/vnd.jupyter.widget-view+json" in o.data]
    assert len(views) == 1, "the login form was not displayed"
    assert "--prompt" in views[0].data["text/plain"]  # what a front end without widgets shows
    return shown_widget(views[0]), views[0].transient["display_id"]


def fill(box: widgets.VBox, client_id: str, secret: str) -> None:
    text = next(w for w in box.children if type(w) is widgets.Text)
    password = next(w for w in box.children if isinstance(w, widgets.Password))
    text.value, password.value = client_id, secret
    next(w for w in box.children if isinstance(w, widgets.Button)).click()


def test_notebook_shows_the_form(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    no_credentials(monkeypatch, "UE_CLIENT_SECRET")
    never_asked(monkeypatch)
    shown_form(run(ip))


def test_waiting_form_is_named_by_the_next_cell(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    no_credentials(monkeypatch)
    box, _ = shown_form(run(ip))
    with pytest.raises(UsageError, match="login form of %ue_login is still waiting"):
        ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters")
    with pytest.raises(UsageError, match="still waiting"):
        ue_magic.client()
    fill(box, sandbox.client_id, sandbox.client_secret)
    assert ue_magic.client().credentials.client_id == sandbox.client_id


def test_form_login_line_replaces_the_form_as_plain_output(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    no_credentials(monkeypatch)
    box, display_id = shown_form(run(ip))
    with capture_output() as after:
        fill(box, sandbox.client_id, sandbox.client_secret)
    updates = [o for o in after.outputs if o.update]
    assert len(updates) == 1
    assert updates[0].transient["display_id"] == display_id
    assert set(updates[0].data) == {"text/plain"}
    line = updates[0].data["text/plain"]
    assert line.startswith("Logged in") and sandbox.client_id in line
    assert sandbox.client_secret not in line


def test_failed_form_login_keeps_the_form(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    no_credentials(monkeypatch)
    box, _ = shown_form(run(ip))
    with capture_output() as after:
        fill(box, sandbox.client_id, "wrong-secret-in-form")
    assert not [o for o in after.outputs if o.update]
    with pytest.raises(UsageError, match="still waiting"):
        ue_magic.client()
