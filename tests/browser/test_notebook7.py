"""Jupyter Notebook 7 in headless Chromium: the login form, a tree, a table and a bulk call as
a user runs them; then a notebook executed by nbclient, reopened as "Not Trusted", whose outputs
must keep their font, indentation and error red after the sanitizer strips <style> blocks.
Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.browser.chromium import find_chromium, launch_chromium
from tests.browser.lab import LabServer, run_jupyterlab, write_notebook
from tests.browser.notebook import TIMEOUT_MS, NotebookPage
from tests.leaks import leaks
from ue_magic.sandbox import Sandbox, start

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
METER_TYPE = """%%ue_call POST /usage-metering/v1/meter-types -o made
{"name": "nb7-api-calls", "unit": "calls", "aggregation": {"type": "sum"}, "capacity": 100,
 "thresholds": [{"name": "90 percent", "capacityPercentage": 90, "customFields": {}}]}"""


_SENT_PROMPT = re.compile(r"\[(\d+|\*)\]")


class Notebook7Page(NotebookPage):
    """Notebook 7 has no status bar: its kernel indicator carries the state instead."""

    def open(self, url: str) -> None:
        from playwright.sync_api import expect

        self.page.goto(url)
        expect(self.cells().first).to_be_visible(timeout=TIMEOUT_MS)
        self.dismiss_dialogs()
        indicator = self.page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        expect(indicator).to_be_visible(timeout=TIMEOUT_MS)
        # "idle" shows before the kernel is connected; this badge stays until it is
        starting = self.page.get_by_text(re.compile(r"^Kernel (Initializing|Starting|Connecting)"))
        expect(starting).to_have_count(0, timeout=TIMEOUT_MS)

    def run_cell(self, index: int, source: str) -> Locator:
        """As in JupyterLab, but a Shift+Enter pressed before Notebook 7 has connected its
        kernel is dropped (the prompt stays "[ ]:"): press it again on the same cell."""
        from playwright.sync_api import expect

        self.dismiss_dialogs()
        cell = self.cells().nth(index)
        editor = cell.locator(".cm-content")
        editor.click()
        self.page.keyboard.insert_text(source)
        expect(editor).to_contain_text(source.splitlines()[0])
        prompt = cell.locator(".jp-InputArea-prompt")
        for _ in range(5):
            editor.click()
            self.page.keyboard.press("Shift+Enter")
            try:
                expect(prompt).to_have_text(_SENT_PROMPT, timeout=10_000)
                break
            except AssertionError:
                continue
        expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=TIMEOUT_MS)
        self._raise_on_error(cell, source)
        return cell


@pytest.fixture(scope="module")
def chromium() -> str:
    executable = find_chromium()
    if executable is None:
        message = "Chromium not found (run `make chromium`, or set CHROMIUM_EXECUTABLE)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return executable


@pytest.fixture(scope="module")
def nb_sandbox() -> Iterator[Sandbox]:
    with start() as sandbox:
        yield sandbox


@pytest.fixture
def server(nb_sandbox: Sandbox, tmp_path: Path) -> Iterator[LabServer]:
    """Notebook 7 whose kernels know where the sandbox is but not its client id or secret."""
    root = tmp_path / "root"
    root.mkdir()
    where = {k: v for k, v in nb_sandbox.env().items() if k.endswith(("_URL", "_AUDIENCE"))}
    with run_jupyterlab(root, tmp_path / "home", where, app="notebook") as running:
        yield running


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    with launch_chromium(chromium) as browser:
        yield browser


def open_page(browser: Browser, server: LabServer, name: str) -> Notebook7Page:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"Notebook 7's log: {server.log}")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = Notebook7Page(context.new_page(), SCREENSHOTS)
    page.open(server.url(f"notebooks/{name}"))
    return page


def test_notebook7_form_login_tree_table_bulk(
    browser: Browser, server: LabServer, nb_sandbox: Sandbox
) -> None:
    from playwright.sync_api import expect

    write_notebook(server.root / "nb7.ipynb", cells=6)
    notebook = open_page(browser, server, "nb7.ipynb")
    notebook.run_cell(0, "%load_ext ue_magic")
    login = notebook.run_cell(1, "%ue_login")
    form = login.locator(".ue-login-form")
    expect(form).to_be_visible()
    notebook.screenshot("nb7-login-form")
    form.locator("input[type=text]").fill(nb_sandbox.client_id)
    form.locator("input[type=password]").fill(nb_sandbox.client_secret)
    form.get_by_role("button", name="Log in").click()
    plain = login.locator('.jp-OutputArea-output[data-mime-type="text/plain"]')
    expect(plain).to_contain_text(f"Logged in to {nb_sandbox.api_url}")  # ordinary output
    expect(login.locator("input[type=password]")).to_have_count(0)

    tree = notebook.output(notebook.run_cell(2, METER_TYPE))
    expect(tree).to_contain_text("201")
    expect(tree.locator(".ue-view details").first).to_be_visible()
    table = notebook.output(
        notebook.run_cell(3, "%ue_call GET /usage-metering/v1/meter-types --table")
    )
    expect(table.locator("table")).to_contain_text("nb7-api-calls")
    notebook.run_cell(4, "users = [f'nb7-{n}' for n in range(40)]")
    bulk_source = (
        "%%ue_call --each users -o out POST /usage-metering/v1/meters\n"
        '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "{{made.id}}"}'
    )
    bulk = notebook.output(notebook.run_cell(5, bulk_source))
    expect(bulk.locator(".ue-progress")).to_contain_text("40/40 done")
    notebook.screenshot("nb7-bulk", full_page=True)

    path = server.root / "nb7.ipynb"
    saved = notebook.save(path, ready=lambda nb: bool(nb["cells"][5]["outputs"]))
    text = path.read_text()
    assert "Logged in to" in text and saved["cells"][1]["outputs"]
    assert nb_sandbox.issued_tokens
    assert leaks([path], [nb_sandbox.client_secret, *nb_sandbox.issued_tokens]) == []


def executed_notebook(folder: Path) -> Path:
    """A notebook run headless (as nbconvert would), so that it opens untrusted."""
    notebook = new_notebook(
        cells=[
            new_code_cell("%load_ext ue_magic\n%ue_login --sandbox"),
            new_code_cell(METER_TYPE),
            new_code_cell("%ue_call GET /usage-metering/v1/meter-types/missing --no-raise"),
        ],
        metadata={"kernelspec": KERNELSPEC},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("UE_")}
    env["IPYTHONDIR"] = str(folder / "ipython")
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(env=env)
    path = folder / "root" / "untrusted.ipynb"
    nbformat.write(notebook, path)
    return path


def test_untrusted_notebook_keeps_font_indentation_and_red(
    browser: Browser, server: LabServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    executed_notebook(tmp_path)
    notebook = open_page(browser, server, "untrusted.ipynb")
    expect(notebook.page.get_by_text("Not Trusted")).to_be_visible()
    views = notebook.page.locator(".jp-OutputArea-output .ue-view")
    expect(views).to_have_count(2)
    sanitized = notebook.page.locator(".jp-OutputArea-output style")
    assert sanitized.count() == 0, "the <style> block survived: the notebook is trusted"
    font = views.first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "monospace" in font
    nested = views.first.locator("details details").first
    assert nested.evaluate("e => parseFloat(getComputedStyle(e).marginLeft)") > 10
    error = views.nth(1).locator(".st")
    expect(error).to_contain_text("404")
    assert error.evaluate("e => getComputedStyle(e).color") == "rgb(211, 47, 47)"
    notebook.screenshot("nb7-untrusted", full_page=True)


def test_notebook7_prompt_login_through_the_kernels_stdin(
    browser: Browser, server: LabServer, nb_sandbox: Sandbox
) -> None:
    """%ue_login --prompt: the front end's input boxes, the secret's a password box."""
    from playwright.sync_api import expect

    write_notebook(server.root / "prompt.ipynb", cells=2)
    notebook = open_page(browser, server, "prompt.ipynb")
    notebook.run_cell(0, "%load_ext ue_magic")
    cell = notebook.cells().nth(1)
    cell.locator(".cm-content").click()
    notebook.page.keyboard.insert_text("%ue_login --prompt")
    notebook.page.keyboard.press("Shift+Enter")
    asked = cell.locator(".jp-Stdin-input")
    expect(asked).to_be_visible()
    expect(cell).to_contain_text("--prompt asks for UE_CLIENT_ID and UE_CLIENT_SECRET")
    asked.fill(nb_sandbox.client_id)
    asked.press("Enter")
    secret = cell.locator(".jp-Stdin-input[type=password]")
    expect(secret).to_be_visible()
    notebook.screenshot("nb7-prompt-secret")
    secret.fill(nb_sandbox.client_secret)
    secret.press("Enter")
    expect(notebook.output(cell).last).to_contain_text(f"Logged in to {nb_sandbox.api_url}")
    expect(cell).not_to_contain_text(nb_sandbox.client_secret)
