"""--all-pages says how far it got while it runs, and whether it stopped at the page limit."""

from __future__ import annotations

import io
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.conftest import shown_widget
from ue_magic import Credentials, UsageEngineClient
from ue_magic.cells.call import CallOptions
from ue_magic.cells.progress import TextPageCounter
from ue_magic.cells.request import compile_request
from ue_magic.core.pages import fetch_all_pages
from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"


@pytest.fixture
def shell(ip: Any, sandbox: Sandbox) -> Any:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    ip.user_ns["type_id"] = sandbox.seed_meters(250)
    return ip


def all_pages(shell: Any, flags: str = "") -> Any:
    with capture_output() as captured:
        shell.run_line_magic(
            "ue_call",
            f"GET {METERS}?meterTypeId={{{{type_id}}}}&limit=100 --all-pages -o all {flags}",
        )
    return captured


def test_the_terminal_shows_pages_then_the_summary(shell: Any) -> None:
    captured = all_pages(shell)
    assert "page 1, 100 items so far" in captured.stdout
    assert "3 pages, 250 items" in captured.stdout and "page limit" not in captured.stdout
    assert len(shell.user_ns["all"]["meters"]) == 250


def test_quiet_shows_no_count(shell: Any) -> None:
    assert all_pages(shell, "-q").stdout == ""


def test_a_notebook_shows_a_label_that_ends_with_the_summary(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    captured = all_pages(shell)
    views = [o for o in captured.outputs if "application/vnd.jupyter.widget-view+json" in o.data]
    shown, *updates = views
    assert shown_widget(shown).value == "3 pages, 250 items"
    # one display, updated in place: a saved notebook or an export without widgets reads the
    # summary as text, not "Label(value='fetching the first page', ...)"
    assert [u.update for u in updates] == [True] * len(updates)
    final = updates[-1] if updates else shown
    assert final.data["text/plain"] == "3 pages, 250 items"


@pytest.mark.parametrize(("max_pages", "limited"), [(2, True), (3, False), (5, False)])
def test_the_summary_says_when_the_page_limit_stopped_it(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Any, max_pages: int, limited: bool
) -> None:
    type_id = sandbox.seed_meters(250)
    spec = compile_request("", "GET", f"{METERS}?meterTypeId={type_id}&limit=100").render({})
    seen: list[tuple[int, int]] = []
    credentials = Credentials.from_env(environ=sandbox_env, cwd=tmp_path)
    with UsageEngineClient(credentials) as ue:
        pages = fetch_all_pages(ue, spec, CallOptions(), lambda *got: seen.append(got), max_pages)
    assert pages.limited is limited
    assert ("stopped at the page limit" in pages.summary()) is limited
    assert seen == [(1, 100), (2, 200), (3, 250)][: min(max_pages, 3)]


def on_screen(written: str) -> str:
    """What a terminal shows of one line redrawn with carriage returns: each draw overwrites
    the characters it covers and leaves the rest."""
    shown = ""
    for draw in written.rstrip("\n").split("\r"):
        shown = draw + shown[len(draw) :]
    return shown


def test_text_counter_draws_in_place() -> None:
    stream = io.StringIO()
    counter = TextPageCounter(stream, interval=0)
    counter.update(1, 100)
    counter.update(2, 200)
    counter.finish("2 pages, 200 items")
    assert stream.getvalue().count("\r") == 3 and stream.getvalue().endswith("\n")
    assert on_screen(stream.getvalue()).rstrip() == "2 pages, 200 items"


def test_a_shorter_line_hides_what_a_longer_one_drew() -> None:
    # "page 9, 900 items so far" then "page 10, 1000 ..." then the summary, shorter than both:
    # no tail of an earlier line may stay on screen ("2671 itemso far" was seen in a terminal).
    stream = io.StringIO()
    counter = TextPageCounter(stream, interval=0)
    counter.update(10, 1000)
    counter.update(11, 1001)
    counter.finish("11 pages, 1001 items")
    assert on_screen(stream.getvalue()).rstrip() == "11 pages, 1001 items"


def test_a_count_taken_away_leaves_a_blank_line_to_write_on() -> None:
    # after Ctrl-C the error is the one line: the count is wiped, no summary, no line break
    stream = io.StringIO()
    counter = TextPageCounter(stream, interval=0)
    counter.update(8, 400)
    counter.finish("")
    assert on_screen(stream.getvalue()).strip() == "" and "\n" not in stream.getvalue()


def test_a_widget_count_taken_away_leaves_no_text() -> None:
    from ue_magic.cells.progress import WidgetPageCounter

    updates: list[dict[str, Any]] = []

    class Handle:
        def update(self, bundle: dict[str, Any], raw: bool = False) -> None:
            updates.append(bundle)

    counter = WidgetPageCounter(lambda *a, **k: Handle(), interval=0)
    counter.update(8, 400)
    counter.finish("")
    assert updates[-1] == {"text/plain": ""} and counter.label.value == ""


def test_a_bulk_bar_that_ends_early_gives_no_time_left() -> None:
    from ue_magic.cells.progress import TextProgress

    ticks = iter([0.0, 1.0, 2.0, 3.0])
    stream = io.StringIO()
    bar = TextProgress(100, stream, interval=0, clock=lambda: next(ticks))
    bar.update(10, 0)
    assert "s left" in stream.getvalue()  # while it runs: an estimate
    bar.finish(20, 0, interrupted=True)
    last = on_screen(stream.getvalue())
    assert "(interrupted)" in last and "s left" not in last
