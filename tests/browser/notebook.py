"""A small driver for JupyterLab 4's notebook UI, through the page as a user would use it.

Selectors are JupyterLab's own class names (CodeMirror 6 editors, output areas, prompts); each
wait has a generous timeout because the first kernel start can take several seconds.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

TIMEOUT_MS = 60_000
_DONE_PROMPT = re.compile(r"\[\d+\]")
_ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
_STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


class NotebookPage:
    """One open notebook in JupyterLab, with screenshots numbered in the order they are taken."""

    def __init__(self, page: Page, screenshots: Path) -> None:
        self.page = page
        self.screenshots = screenshots
        self.taken: list[Path] = []
        page.set_default_timeout(TIMEOUT_MS)

    # -- page --------------------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Load the notebook and wait for its kernel to be idle, so the first cell runs at once."""
        from playwright.sync_api import expect

        self.page.goto(url)
        expect(self.cells().first).to_be_visible(timeout=TIMEOUT_MS)
        self.dismiss_dialogs()
        status_bar = self.page.locator("#jp-main-statusbar")
        expect(status_bar).to_contain_text("| Idle", timeout=TIMEOUT_MS)
        self.dismiss_dialogs()

    def hide_left_sidebar(self) -> None:
        """Collapse the file browser (click its active tab) so the notebook fills the page."""
        current = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if current.count():
            current.first.click()

    def dismiss_dialogs(self) -> None:
        """Close any modal dialog (kernel choice, news, file changed) that would catch clicks."""
        for _ in range(5):
            dialog = self.page.locator(".jp-Dialog")
            if dialog.count() == 0:
                return
            reject = dialog.locator(".jp-Dialog-button.jp-mod-reject")
            if reject.count():
                reject.first.click()
            else:
                self.page.keyboard.press("Escape")
            self.page.wait_for_timeout(200)

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        path = self.screenshots / f"{len(self.taken) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        return path

    # -- cells -------------------------------------------------------------------------------

    def cells(self) -> Locator:
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def run_cell(self, index: int, source: str) -> Locator:
        """Type ``source`` into cell ``index`` (empty), run it with Shift+Enter, wait until the
        kernel has answered; fail with the cell's output if it raised."""
        from playwright.sync_api import expect

        self.dismiss_dialogs()
        cell = self.cells().nth(index)
        editor = cell.locator(".cm-content")
        editor.click()
        # insert_text is one input event: no auto-indent or bracket closing on the way in.
        self.page.keyboard.insert_text(source)
        expect(editor).to_contain_text(source.splitlines()[0])
        self.page.keyboard.press("Shift+Enter")
        prompt = cell.locator(".jp-InputArea-prompt")
        expect(prompt).to_have_text(_DONE_PROMPT, timeout=TIMEOUT_MS)
        self._raise_on_error(cell, source)
        return cell

    def _raise_on_error(self, cell: Locator, source: str) -> None:
        failures = [cell.locator(_ERROR_OUTPUT), cell.locator(_STDERR_OUTPUT)]
        texts = [text for found in failures for text in found.all_inner_texts()]
        errors = [text for text in texts if "Error" in text or "Traceback" in text]
        if errors:
            raise AssertionError(f"cell {source!r} failed:\n" + "\n".join(errors))

    @staticmethod
    def output(cell: Locator) -> Locator:
        return cell.locator(".jp-OutputArea-output")

    # -- saving ------------------------------------------------------------------------------

    def save(
        self,
        path: Path,
        ready: Callable[[dict[str, Any]], object] | None = None,
        timeout: float = 30.0,
        *,
        keep_focus: bool = False,
    ) -> dict[str, Any]:
        """Save with Ctrl+S and wait until the file on disk is the new one (``ready(notebook)``
        true, when given); return it parsed. ``keep_focus`` saves as JupyterLab's autosave
        does, through its save command, leaving the focus where it is (in a form's field, say:
        nothing is blurred, and a widget's input keeps Ctrl+S to itself)."""
        before = path.stat().st_mtime_ns
        if keep_focus:
            self.page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        else:
            self.dismiss_dialogs()
            self.cells().first.locator(".jp-InputArea-prompt").click()  # command mode
            self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while True:
            if path.stat().st_mtime_ns != before:
                try:
                    notebook: dict[str, Any] = json.loads(path.read_text())
                except ValueError:
                    notebook = {}  # caught mid-write
                if notebook and (ready is None or ready(notebook)):
                    return notebook
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path.name} was not saved with the outputs in {timeout} s")
            time.sleep(0.2)
