"""The documentation site in headless Chromium: its getting-started page carries the quickstart
notebook as MyST-NB ran it against the sandbox at build time, so the answer's JSON tree is on the
page and opens like the one in JupyterLab.

The site is the one `make docs` built when UE_DOCS_HTML names it (so `make test` builds it once);
otherwise this test builds it itself with sphinx-build -W. A screenshot goes to build/screenshots/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.chromium import find_chromium, launch_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
PAGE = Path("guide") / "getting-started.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site's folder: $UE_DOCS_HTML, or a fresh build (warnings are errors)."""
    given = os.environ.get("UE_DOCS_HTML")
    if given:
        folder = Path(given).resolve()
        assert (folder / PAGE).is_file(), f"UE_DOCS_HTML={given} holds no {PAGE}: run make docs"
        return folder
    folder = tmp_path_factory.mktemp("docs") / "html"
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "-q", "-b", "html", "docs", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        message = "Chromium not found (run `make chromium`, or set CHROMIUM_EXECUTABLE)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with launch_chromium(executable) as browser:
        yield browser


def _local_only(route: Route) -> None:
    """The page's widget scripts come from public CDNs: nothing may leave this machine."""
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        route.abort()


def test_getting_started_shows_the_executed_quickstart_with_its_json_tree(
    site: Path, browser: Browser
) -> None:
    from playwright.sync_api import expect

    html = (site / PAGE).read_text(encoding="utf-8")
    assert not re.search(r"eyJ[\w-]{10,}\.eyJ", html), "a JWT is in the published page"

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.route("**/*", _local_only)
        page.goto((site / PAGE).as_uri())
        expect(page.locator("h1")).to_have_text(re.compile("Getting started"))

        # The first %ue_call answer: its status line, then the tree with meterTypes open.
        outputs = page.locator(".cell_output")
        answer = outputs.filter(has_text="GET /usage-metering/v1/meter-types").first
        expect(answer).to_be_visible()
        expect(answer).to_contain_text("200 OK")
        tree = answer.locator("details").first
        expect(tree).to_have_attribute("open", "")
        expect(answer.locator("summary", has_text="meterTypes")).to_be_visible()

        # A closed node opens on a click, as in a notebook: its keys were rendered, not fetched.
        nodes = answer.locator("details")
        closed = nodes.evaluate_all("all => all.findIndex(node => !node.open)")
        assert closed >= 0, "every node of the tree is open: nothing to click"
        item = nodes.nth(closed)  # by position: it stays the same node once open
        key = item.locator(":scope > div").first
        expect(key).to_be_hidden()
        item.locator(":scope > summary").click()
        expect(item).to_have_attribute("open", "")
        expect(key).to_be_visible()

        # The login line says it was the sandbox, and the bulk cell ran to its summary.
        expect(page.get_by_text(re.compile(r"^Sandbox \(a local emulator"))).to_be_visible()
        expect(outputs.filter(has_text="200 items").first).to_be_attached()

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "docs-getting-started.png"), full_page=True)
    finally:
        context.close()


def test_options_keep_their_two_hyphens_in_the_built_pages(site: Path) -> None:
    """Smart quotes would print --each as an en dash, which breaks a copied option."""
    magics = (site / "reference" / "magics.html").read_text(encoding="utf-8")
    calling = (site / "guide" / "calling.html").read_text(encoding="utf-8")
    assert "--each" in magics and "--each" in calling
    assert "\u2013each" not in magics + calling and "\u2013file" not in magics + calling
