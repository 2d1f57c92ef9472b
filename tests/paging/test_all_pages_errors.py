"""An error answer on a later page of --all-pages: when the call raises, -o keeps its value
(a complete list from an earlier run is not replaced by part of one) and ``_ue`` holds the pages
before the error; with --no-raise, -o and --save get those pages and one line, also with -q,
says the list is partial and why. The progress line counts the pages that came."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.paging.test_pages import PAGES, client_with
from ue_magic.cells.call import CallOptions, call_once
from ue_magic.cells.request import compile_request
from ue_magic.errors import HttpStatusError

FAILING = {**PAGES, "p2": (503, {"message": "try later"})}
TEMPLATE = compile_request("GET /usage-metering/v1/meters\n")


class Counter:
    """A page counter that records what it was told."""

    def __init__(self) -> None:
        self.updates: list[tuple[int, int]] = []
        self.summary: str | None = None

    def update(self, pages: int, items: int) -> None:
        self.updates.append((pages, items))

    def finish(self, summary: str) -> None:
        self.summary = summary


def run(pages: Any, namespace: dict[str, Any], **options: Any) -> str:
    """Run one --all-pages call; what it printed."""
    with client_with(pages, []) as ue, capture_output() as captured:
        call_once(
            namespace,
            ue,
            TEMPLATE,
            CallOptions(all_pages=True, output="allm", **options),
            show=lambda view: None,
        )
    return captured.stdout


def test_a_failing_rerun_keeps_the_complete_list_in_o() -> None:
    namespace: dict[str, Any] = {}
    run(PAGES, namespace, quiet=True)
    complete = namespace["allm"]
    assert complete["meters"] == [1, 2, 3, 4]
    with pytest.raises(HttpStatusError) as caught:
        run(FAILING, namespace, quiet=True)
    assert namespace["allm"] is complete
    said = str(caught.value)
    assert "-o allm keeps its value" in said and "_ue.body holds the 1 page (2 items)" in said
    assert namespace["_ue"].body["meters"] == [1, 2] and namespace["_ue"].status_code == 503


@pytest.mark.parametrize("quiet", [True, False])
def test_no_raise_says_the_list_is_partial_in_one_line(tmp_path: Path, quiet: bool) -> None:
    namespace: dict[str, Any] = {}
    target = tmp_path / "allm.json"
    printed = run(FAILING, namespace, quiet=quiet, no_raise=True, save=str(target))
    partial = [line for line in printed.splitlines() if "partial" in line]
    assert partial == [
        "The list is partial: page 2 answered 503 Service Unavailable; -o allm and --save "
        f"{target} hold the 1 page (2 items) before it."
    ]
    assert namespace["allm"]["meters"] == [1, 2]
    assert json.loads(target.read_text())["meters"] == [1, 2]
    assert namespace["_ue"].failed and namespace["_ue"].json() == {"message": "try later"}


def test_the_progress_line_counts_the_pages_that_came() -> None:
    counter = Counter()
    with client_with(FAILING, []) as ue, pytest.raises(HttpStatusError):
        call_once(
            {},
            ue,
            TEMPLATE,
            CallOptions(all_pages=True),
            show=lambda view: None,
            page_counter=lambda: counter,
        )
    assert counter.updates == [(1, 2)]
    assert counter.summary == ""  # the error is the one line, not "2 pages"
    with client_with(FAILING, []) as ue:
        namespace: dict[str, Any] = {}
        call_once(namespace, ue, TEMPLATE, CallOptions(all_pages=True, quiet=True, no_raise=True),
                  show=lambda view: None)  # fmt: skip
    assert namespace["_ue"].summary().startswith("1 page, 2 items; page 2 answered 503")
