"""Tab completion in JupyterLab, in headless Chromium: typing ``%ue_call GET /usage-me`` and Tab
completes the path from the API description, and the next Tab lists the paths below it.

Screenshots go to build/screenshots/ (and the docs' one to docs/completion.png).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.chromium import launch_chromium
from tests.browser.lab import LabServer, run_jupyterlab, write_notebook
from tests.browser.notebook import TIMEOUT_MS, NotebookPage
from tests.browser.test_browser import SCREENSHOTS, VIEWPORT, chromium  # noqa: F401
from tests.openapi.conftest import sandbox_description
from ue_magic.sandbox import Sandbox

if TYPE_CHECKING:
    pass

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOTEBOOK = "completion.ipynb"


@pytest.fixture
def lab(_session_sandbox: Sandbox, tmp_path: Path) -> Iterator[LabServer]:
    """JupyterLab whose kernels log in to the sandbox from the environment, with the
    sandbox's description (see tests/openapi/conftest.py for the one-line swap)."""
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / NOTEBOOK, cells=3)
    env = {**_session_sandbox.env(), "UE_OPENAPI": sandbox_description(_session_sandbox)}
    with run_jupyterlab(root, tmp_path / "home", env) as server:
        yield server


@pytest.fixture
def notebook(chromium: str, lab: LabServer) -> Iterator[NotebookPage]:  # noqa: F811
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"JupyterLab's log (kernel output too): {lab.log}")
    with launch_chromium(chromium) as browser:
        context = browser.new_context(viewport={"width": 1000, "height": 420})
        try:
            page = NotebookPage(context.new_page(), SCREENSHOTS)
            page.open(lab.url(f"lab/tree/{NOTEBOOK}"))
            page.hide_left_sidebar()
            yield page
        finally:
            context.close()


def test_tab_completes_paths_in_jupyterlab(
    notebook: NotebookPage, _session_sandbox: Sandbox
) -> None:
    from playwright.sync_api import expect

    login = notebook.run_cell(0, "%load_ext ue_magic\n%ue_login")
    expect(notebook.output(login)).to_contain_text("Logged in")
    before = _session_sandbox.counters()["api_requests"]

    cell = notebook.cells().nth(1)
    editor = cell.locator(".cm-content")
    editor.click()
    page = notebook.page
    page.keyboard.type("%ue_call GET /usage-me")
    page.keyboard.press("Tab")
    completer = page.locator(".jp-Completer")
    items = completer.locator(".jp-Completer-item .jp-Completer-match")
    expect(items).to_have_text(["usage-metering"])
    page.keyboard.press("Enter")
    expect(editor).to_contain_text("%ue_call GET /usage-metering")

    page.keyboard.type("/v1/me")
    page.keyboard.press("Tab")
    expect(items.filter(has_text="meter-types")).to_have_count(1)
    expect(items.filter(has_text=re.compile(r"^meters$"))).to_have_count(1)
    expect(completer.locator(".jp-Completer-type").first).to_have_text("p")  # kind: path
    shot = notebook.screenshot("completion-paths")
    DOCS.mkdir(exist_ok=True)
    shutil.copyfile(shot, DOCS / "completion.png")

    items.filter(has_text=re.compile(r"^meters$")).click()
    expect(editor).to_contain_text("%ue_call GET /usage-metering/v1/meters")
    page.keyboard.type("?meterT")
    page.keyboard.press("Tab")
    ours = items.filter(has_text=re.compile(r"^meterTypeId$"))
    expect(ours).to_have_count(1)
    notebook.screenshot("completion-query")
    ours.click()
    expect(editor).to_contain_text("%ue_call GET /usage-metering/v1/meters?meterTypeId")
    assert _session_sandbox.counters()["api_requests"] == before  # completion sent nothing
