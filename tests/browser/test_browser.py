"""The real browser: JupyterLab on loopback, driven by Playwright in headless Chromium.

A user opens a notebook, logs in through the form, calls the API, opens a node of the JSON tree,
asks for a table and saves. The saved file (outputs and widget state) must then hold neither the
client secret nor any token the sandbox issued. The login form is also driven step by step
(typed, blurred, Enter, failed login, reopened form, clicked), saving and searching the file after
each. Screenshots of each step go to build/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.chromium import find_chromium, launch_chromium
from tests.browser.lab import LabServer, run_jupyterlab, write_notebook
from tests.browser.notebook import TIMEOUT_MS, NotebookPage
from ue_magic.sandbox import Sandbox, start

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
NOTEBOOK = "browser-test.ipynb"
VIEWPORT = {"width": 1280, "height": 1000}

METER_TYPE = """%%ue_call POST /usage-metering/v1/meter-types
{"name": "browser-api-calls", "description": "made by the browser test", "unit": "calls",
 "category": "DEFAULT", "aggregation": {"type": "sum"},
 "resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"},
 "timezone": "Etc/UTC", "capacity": 10000,
 "thresholds": [{"name": "90 percent", "capacityPercentage": 90, "customFields": {}},
                {"name": "hard limit", "absoluteValue": 10000, "customFields": {}}]}"""

TABLE = """%%ue_call --table
GET /usage-metering/v1/meter-types"""


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium; its absence fails in CI and skips elsewhere."""
    executable = find_chromium()
    if executable is None:
        message = "Chromium not found (run `make chromium`, or set CHROMIUM_EXECUTABLE)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return executable


@pytest.fixture(scope="module")
def lab_sandbox() -> Iterator[Sandbox]:
    """A sandbox of this test's own, so issued_tokens holds exactly what the browser caused."""
    with start() as sandbox:
        yield sandbox


@pytest.fixture
def lab(lab_sandbox: Sandbox, tmp_path: Path) -> Iterator[LabServer]:
    """JupyterLab whose kernels know where the sandbox is but not its client id or secret."""
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / NOTEBOOK, cells=7)
    where = {
        key: value
        for key, value in lab_sandbox.env().items()
        if key in ("UE_AUDIENCE", "UE_TOKEN_URL", "UE_API_URL")
    }
    with run_jupyterlab(root, tmp_path / "home", where) as server:
        yield server


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    with launch_chromium(chromium) as browser:
        yield browser


@pytest.fixture
def notebook(browser: Browser, lab: LabServer) -> Iterator[NotebookPage]:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)  # the first kernel start and widget load are slow
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"JupyterLab's log (kernel output too): {lab.log}")  # pytest shows it on failure
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        page = NotebookPage(context.new_page(), SCREENSHOTS)
        page.open(lab.url(f"lab/tree/{NOTEBOOK}"))
        page.hide_left_sidebar()
        yield page
    finally:
        context.close()


def _has_widget_state(saved: dict[str, Any]) -> bool:
    state = saved.get("metadata", {}).get("widgets", {})
    models = state.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return bool(models)


def _widget_models(saved: dict[str, Any]) -> list[str]:
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return [model.get("model_name", "") for model in state.values()]


def test_login_call_table_save_without_secrets(
    notebook: NotebookPage, lab: LabServer, lab_sandbox: Sandbox
) -> None:
    from playwright.sync_api import expect

    notebook.screenshot("opened")

    notebook.run_cell(0, "%load_ext ue_magic")
    login = notebook.run_cell(1, "%ue_login")
    form = login.locator(".ue-login-form")
    expect(form).to_be_visible()
    notebook.screenshot("login-form")

    form.locator("input[type=text]").fill(lab_sandbox.client_id)
    form.locator("input[type=password]").fill(lab_sandbox.client_secret)
    form.get_by_role("button", name="Log in").click()
    expect(notebook.output(login)).to_contain_text("Logged in")
    expect(notebook.output(login)).to_contain_text(lab_sandbox.client_id)
    expect(form.locator("input[type=password]")).to_have_count(0)
    notebook.screenshot("logged-in")

    call = notebook.run_cell(2, METER_TYPE)
    output = notebook.output(call)
    expect(output).to_contain_text("201")
    expect(output.locator(".ue-view details").first).to_be_visible()
    notebook.screenshot("json-tree")
    nodes = output.locator(".ue-view details")
    # Pin the node by position: a `:not([open])` locator would move on to the next closed one.
    first_closed = nodes.evaluate_all("nodes => nodes.findIndex(node => !node.open)")
    assert first_closed >= 0, "the JSON tree has no collapsed node to open"
    closed = nodes.nth(first_closed)
    expect(closed).to_contain_text("90 percent")  # the preview of a collapsed threshold
    expect(closed.locator(":scope > div").first).to_be_hidden()
    preview = closed.locator(":scope > summary > .preview")
    expect(preview).to_be_visible()
    closed.locator(":scope > summary").click()
    expect(closed).to_have_attribute("open", "")
    expect(closed).to_contain_text("capacityPercentage")
    expect(preview).to_be_hidden()  # opened: the items show, the one-line preview goes
    notebook.screenshot("json-node-opened")

    table_cell = notebook.run_cell(3, TABLE)
    table = notebook.output(table_cell).locator("table")
    expect(table).to_be_visible()
    expect(table).to_contain_text("browser-api-calls")
    table.scroll_into_view_if_needed()
    final = notebook.screenshot("table", full_page=True)

    # Control: a Password widget whose value is NOT cleared must land in the saved file, or the
    # search below could pass only because widget values are never saved.
    canary = f"canary-{secrets.token_hex(8)}"
    control = notebook.run_cell(4, f'import ipywidgets\nipywidgets.Password(value="{canary}")')
    expect(control.locator("input[type=password]")).to_have_value(canary)

    path = lab.root / NOTEBOOK
    saved = notebook.save(
        path, ready=lambda nb: _has_widget_state(nb) and nb["cells"][4]["outputs"]
    )
    notebook.screenshot("saved")
    print(f"screenshots: {[str(p) for p in notebook.taken]}; for the README and docs: {final}")

    # The file is what a user would share: outputs and widget state must be there, secrets not.
    assert _has_widget_state(saved), "no widget state saved: is saveState on?"
    models = _widget_models(saved)
    assert "PasswordModel" in models, "the login form's state was not saved"
    text = path.read_text()
    assert canary in text, "widget values are not saved: the search proves nothing"
    assert saved["cells"][1]["outputs"], "the login cell's output was not saved"
    assert "Logged in" in text
    assert "browser-api-calls" in text
    tokens = lab_sandbox.issued_tokens
    assert tokens, "the sandbox issued no token: the login did not happen"
    raw = path.read_bytes()
    assert lab_sandbox.client_secret.encode() not in raw, "the client secret is in the notebook"
    for number, token in enumerate(tokens):
        signature = token.rsplit(".", 1)[-1]
        assert token.encode() not in raw, f"issued token #{number} is in the notebook"
        assert signature.encode() not in raw, f"issued token #{number}'s signature is in it"


# -- the login form and saved widget state -------------------------------------------------------


def _saved_forms_of(secret: str) -> list[bytes]:
    """The secret as a saved file could hold it: plain, and JSON-escaped."""
    escaped = json.dumps(secret)[1:-1]
    return sorted({secret.encode(), escaped.encode()})


def test_login_form_secret_is_in_no_saved_file_at_any_step(
    notebook: NotebookPage, lab: LabServer, lab_sandbox: Sandbox
) -> None:
    """Typed, blurred, Enter, failed login, Enter again, reopened form, clicked: after each
    step the notebook is saved with widget state on, and the file searched for the secret."""
    from playwright.sync_api import expect

    path = lab.root / NOTEBOOK
    wrong = f"wrong-{secrets.token_hex(12)}"
    searched = {"secret": lab_sandbox.client_secret, "wrong secret": wrong}
    saves: list[str] = []

    def save_and_search(step: str, *, keep_focus: bool = False) -> dict[str, Any]:
        saved = notebook.save(path, ready=_has_widget_state, keep_focus=keep_focus)
        raw = path.read_bytes()
        for name, value in searched.items():
            if any(form in raw for form in _saved_forms_of(value)):
                pytest.fail(f"the {name} is in the saved notebook after: {step}")
        saves.append(step)
        notebook.screenshot(f"form-{step.replace(' ', '-')}")
        return saved

    notebook.run_cell(0, "%load_ext ue_magic")
    # Control: a Password widget's value does reach the saved file, so the searches can fail.
    canary = f"canary-{secrets.token_hex(8)}"
    control = notebook.run_cell(1, f'import ipywidgets\nipywidgets.Password(value="{canary}")')
    expect(control.locator("input[type=password]")).to_have_value(canary)

    login = notebook.run_cell(2, "%ue_login")
    form = login.locator(".ue-login-form")
    expect(form).to_be_visible()
    secret_field = form.locator("input[type=password]")
    form.locator("input[type=text]").fill(lab_sandbox.client_id)

    # typed: the secret is in the input box only; saved with the focus still in the field
    secret_field.click()
    notebook.page.keyboard.type(wrong)
    saved = save_and_search("typed", keep_focus=True)
    assert canary.encode() in path.read_bytes(), "widget values are not saved: proves nothing"
    assert "PasswordModel" in _widget_models(saved)
    expect(secret_field).to_be_focused()

    # blurred: leaving the field sends the value; saved at once, without waiting for the kernel
    notebook.page.keyboard.press("Tab")
    save_and_search("blurred")
    expect(secret_field).to_have_value("")
    expect(secret_field).to_have_attribute("placeholder", re.compile("hidden"))

    # Enter on the field (the wrong secret is held): submits, and the login fails
    secret_field.click()
    notebook.page.keyboard.press("Enter")
    message = form.locator(".widget-html-content").last
    expect(message).to_contain_text(re.compile("secret|client", re.IGNORECASE))
    expect(form.get_by_role("button", name="Log in")).to_be_enabled()
    save_and_search("failed login")

    # Enter right after typing: the keypress comes before the value, and still logs in
    secret_field.click()
    notebook.page.keyboard.type(lab_sandbox.client_secret)
    notebook.page.keyboard.press("Enter")
    expect(notebook.output(login)).to_contain_text("Logged in")
    expect(secret_field).to_have_count(0)
    save_and_search("enter")

    # reopened form: a second form, typed into, then the button clicked
    again = notebook.run_cell(3, "%ue_login --widget")
    second = again.locator(".ue-login-form")
    expect(second).to_be_visible()
    second.locator("input[type=text]").fill(lab_sandbox.client_id)
    second.locator("input[type=password]").click()
    notebook.page.keyboard.type(lab_sandbox.client_secret)
    save_and_search("reopened form typed", keep_focus=True)
    second.get_by_role("button", name="Log in").click()
    expect(notebook.output(again)).to_contain_text("Logged in")
    saved = save_and_search("clicked")

    assert lab_sandbox.issued_tokens, "the sandbox issued no token: no login happened"
    assert saves == [
        "typed",
        "blurred",
        "failed login",
        "enter",
        "reopened form typed",
        "clicked",
    ]
    assert _has_widget_state(saved)
