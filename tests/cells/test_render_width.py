"""Outputs fit their reader: terminal widths (80 and 160 columns), HTML cells, amounts, notes."""

from __future__ import annotations

import datetime as dt
import io
import sys
from typing import Any

import httpx
import pytest

from ue_magic.cells.progress import TextProgress
from ue_magic.cells.render import ResponseView
from ue_magic.ipython.status import LoginSummary, StatusView

URL = "https://api.digitalroute.io/usage-metering/v1/meters"
UUID = "0feac7b0-52c1-45de-9d1e-23a9c568b6c2"


def response(body: Any, url: str = URL, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers, request=httpx.Request("GET", url))


def wide_meter(i: int) -> dict[str, Any]:
    """A meter as the service answers it: 17 fields, about 330 characters in one row."""
    return {
        "id": f"{i:08d}-52c1-45de-9d1e-23a9c568b6c2",
        "meterTypeId": UUID,
        "meterTypeName": "api-calls",
        "userId": f"user-{i}",
        "meterKey": f"key-{i}",
        "value": i * 1.5,
        "unit": "calls",
        "capacity": 10000,
        "periodStart": "2023-07-26T09:00:15.690+00:00",
        "periodEnd": "2023-08-26T09:00:15.690+00:00",
        "resetInterval": "monthly",
        "thresholds": [{"name": "90 percent", "capacityPercentage": 90}],
        "customFields": {"team": "billing"},
        "deleteOnReset": False,
        "createdAt": "2023-07-26T09:00:15.690+00:00",
        "updatedAt": "2023-07-26T09:00:15.690+00:00",
        "accountId": UUID,
    }


def forms(view: ResponseView) -> dict[str, str]:
    return view._repr_mimebundle_()


@pytest.fixture(params=["pandas", "plain"])
def table_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every table test runs with pandas and without it (pandas is optional)."""
    if request.param == "pandas":
        pytest.importorskip("pandas")
    else:
        monkeypatch.setitem(sys.modules, "pandas", None)
    return str(request.param)


# -- tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 160])
def test_wide_table_shows_the_columns_that_fit_and_says_how_many_are_left_out(
    width: int, table_engine: str
) -> None:
    rows = [wide_meter(i) for i in range(5)]
    text = forms(ResponseView(response({"meters": rows}), table=True, width=width))["text/plain"]
    table = text.splitlines()[1:7]
    assert max(map(len, table)) <= width
    header = table[0].split()
    assert header[0] == "id" and 1 < len(header) < 17
    said = " ".join(text.split())  # notes wrap between words
    assert f"{len(header)} of 17 columns shown (those that fit {width} characters)" in said
    assert "characters); --columns A,B,C picks others." in said
    assert max(map(len, text.splitlines())) <= width  # the notes fit too
    assert "`" not in text  # Markdown backticks are not shown literally
    assert "00000003-52c1-45de-9d1e-23a9c568b6c2" in text  # ids are never cut


def test_wider_terminal_shows_more_columns(table_engine: str) -> None:
    rows = [wide_meter(i) for i in range(3)]

    def header(width: int) -> list[str]:
        view = ResponseView(response(rows), table=True, width=width)
        return forms(view)["text/plain"].splitlines()[1].split()

    assert len(header(160)) > len(header(80))


def test_terminal_width_comes_from_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # shutil.get_terminal_size reads it first
    rows = [wide_meter(i) for i in range(3)]
    text = forms(ResponseView(response(rows), table=True))["text/plain"]
    assert "(those that fit 100 characters)" in " ".join(text.split())
    assert max(map(len, text.splitlines()[1:4])) <= 100


@pytest.mark.parametrize("width", [80, 160])
def test_columns_pick_the_table_and_its_order(width: int, table_engine: str) -> None:
    rows = [wide_meter(i) for i in range(3)]
    view = ResponseView(response(rows), columns=("userId", "value", "id"), width=width)
    text = forms(view)["text/plain"]
    assert text.splitlines()[1].split() == ["userId", "value", "id"]
    assert "columns shown" not in text
    page = forms(view)["text/html"]
    assert page.index(">userId<") < page.index(">value<") < page.index(">id<")
    assert ">meterKey<" not in page


def test_unknown_column_is_named_in_a_note() -> None:
    view = ResponseView(response([wide_meter(1)]), columns=("userId", "nope"))
    text, page = forms(view)["text/plain"], forms(view)["text/html"]
    assert text.splitlines()[1].split() == ["userId"]
    assert "No column nope in the rows shown; they have: id, meterTypeId," in text
    assert "userId" in text.split("they have:")[1]  # the columns there are, not those shown
    assert "No column <code>nope</code> in the rows shown" in page


@pytest.mark.parametrize("width", [80, 160])
def test_every_note_wraps_between_words_to_the_width(width: int) -> None:
    view = ResponseView(
        response({"meters": [wide_meter(1)], "nextPageToken": "t"}),
        columns=("userId", "nope"),
        width=width,
        more_pages=True,
    )
    text = forms(view)["text/plain"]
    lines = text.splitlines()
    assert max(map(len, lines)) <= width
    names = ", ".join(wide_meter(1))
    assert f"No column nope in the rows shown; they have: {names}." in " ".join(text.split())
    assert all(any(f" {n}," in f" {line}" for line in lines) for n in list(wide_meter(1))[:-1])
    assert "More pages exist: add --all-pages to get them all." in " ".join(text.split())


def test_html_table_cells_keep_ids_on_one_line() -> None:
    page = forms(ResponseView(response([wide_meter(1)]), table=True))["text/html"]
    assert f"<td style='white-space:nowrap'>{UUID}</td>" in page
    assert "<th style='white-space:nowrap'>meterTypeId</th>" in page
    assert "columns shown" not in page  # HTML scrolls sideways instead of leaving columns out
    assert page.count("<th style='white-space:nowrap'>") == 17  # every column is there
    text_with_spaces = forms(ResponseView(response([{"note": "a b c"}]), table=True))["text/html"]
    assert "<td>a b c</td>" in text_with_spaces  # prose still wraps


# -- amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 160])
def test_text_has_a_smaller_item_limit_than_html(width: int) -> None:
    body = [{"id": i} for i in range(251)]
    view = ResponseView(response(body), text_limit=20, display_limit=100, width=width)
    text, page = forms(view)["text/plain"], forms(view)["text/html"]
    assert text.endswith("Showing 20 of 251 items; the whole answer is in _ue.")
    assert len(text.splitlines()) < 70
    assert "Showing 100 of 251 items; the whole answer is in <code>_ue</code>." in page


def test_text_limit_cuts_lists_but_keeps_an_objects_keys() -> None:
    body = {"meters": [wide_meter(i) for i in range(251)]}
    text = forms(ResponseView(response(body), text_limit=10, width=80))["text/plain"]
    assert text.endswith("Showing 10 of 251 items; the whole answer is in _ue.")
    assert text.count('"accountId"') == 10  # every key of each meter shown is there
    assert "… 241 more items" in text and len(text.splitlines()) < 300


def test_text_limit_applies_to_table_rows(table_engine: str) -> None:
    view = ResponseView(response([wide_meter(i) for i in range(251)]), table=True, text_limit=20)
    text = forms(view)["text/plain"]
    assert "Showing 20 of 251 rows" in text
    assert "Showing 100 of 251 rows" in forms(view)["text/html"]


@pytest.mark.parametrize("table", [True, False])
def test_one_page_of_several_says_how_to_get_them_all(table: bool) -> None:
    body = {"meters": [wide_meter(1)], "nextPageToken": "abc"}
    view = ResponseView(response(body), table=table, more_pages=True, width=80)
    text, page = forms(view)["text/plain"], forms(view)["text/html"]
    assert text.endswith("More pages exist: add --all-pages to get them all.")
    assert "More pages exist: add <code>--all-pages</code> to get them all." in page
    last = ResponseView(response({"meters": []}), table=table)
    assert "More pages" not in forms(last)["text/plain"]


# -- the tree ----------------------------------------------------------------------------------


def test_an_opened_node_hides_its_preview_without_javascript() -> None:
    page = forms(ResponseView(response({"meters": [wide_meter(1)]}), expand_levels=1))["text/html"]
    assert "details[open]>summary>.preview{display:none}" in page
    assert "<summary><b>0</b>: <span class=m>{…} 17 keys</span> <span class=preview>" in page
    assert "<script" not in page
    opened = forms(ResponseView(response({"a": {"b": 1}}), expand_levels=5))["text/html"]
    assert "preview" not in opened.split("</style>")[1]  # shown open: no preview at all


# -- logins and status -------------------------------------------------------------------------


def summary(scopes: int = 7, profile: str | None = None, short_ids: bool = False) -> LoginSummary:
    return LoginSummary(
        profile=profile,
        api_url="https://api.digitalroute.io/",
        client_id="cli-1" if short_ids else "rD7Dj46RjAXW8IDed3BnwKNeCZc6Akc6",
        account_id="acct-1" if short_ids else UUID,
        scopes=tuple(f"{verb}:meters-{n}" for n in range(scopes) for verb in ("read",))[:scopes],
        expires_at=dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc),
        requests=1234,
        token_requests=2,
        retries=1,
    )


@pytest.mark.parametrize("width", [80, 160])
def test_login_line_is_short(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    line = summary().login_line(width=width)
    assert max(map(len, line.splitlines())) <= width
    assert "7 scopes" in line and "read:meters-0" not in line
    assert "'rD7Dj46RjAXW8IDed3BnwKNeCZc6Akc6';" in line.split() and f"{UUID}," in line.split()
    assert "until 2026-11-30 09:00:00 UTC." in line  # a date and its time stay together
    assert "\n" in line and line.count("\n") < (4 if width == 80 else 2)
    short = summary(short_ids=True).login_line(width=width)
    assert ("\n" in short) is (width == 80)  # one line when it fits
    assert "1 scope," in summary(scopes=1).login_line(width=width)
    assert "no scopes" in summary(scopes=0).login_line(width=width)


def test_status_fits_80_columns_with_scopes_on_their_own_line() -> None:
    text = repr(StatusView([summary(scopes=30), summary(profile="prod")], now=0, width=80))
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    assert lines[0] == "(default): https://api.digitalroute.io/"
    assert any(line.startswith("  scopes: read:meters-0 read:meters-1") for line in lines)
    assert "read:meters-29" in text  # every scope, wrapped, none cut
    assert "1234 requests, 2 token requests, 1 retry" in text
    assert f"    account {UUID}" in lines  # an id is never split from its label
    assert "prod: https://api.digitalroute.io/" in text


def test_status_is_a_table_at_160_columns_with_scopes_as_a_count() -> None:
    now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.timezone.utc).timestamp()
    text = repr(StatusView([summary(scopes=30, short_ids=True)], now=now, width=160))
    header, row = text.splitlines()
    assert max(len(header), len(row)) <= 160
    assert header.split()[:5] == ["profile", "API", "URL", "client", "id"]
    assert " 30 " in row and "read:meters" not in row and "expires in 60 min 0 s" in row
    assert "\n  scopes: read:meters-0" in repr(StatusView([summary(scopes=30)], now=now, width=160))


def test_status_html_keeps_headers_and_ids_whole() -> None:
    page = StatusView([summary(scopes=3)], now=0)._repr_html_()
    assert "<th style='white-space:nowrap'>retries</th>" in page
    assert "<th style='white-space:nowrap'>token requests</th>" in page
    assert f"<td style='white-space:nowrap'>{UUID}</td>" in page
    assert '<td title="read:meters-0 read:meters-1 read:meters-2"' in page


# -- the text progress bar ---------------------------------------------------------------------


def test_text_progress_leaves_no_tail_of_a_longer_line() -> None:
    stream = io.StringIO()
    ticks = iter([0.0, 0.0, 1.0, 2.0, 3.0])
    bar = TextProgress(50, stream=stream, interval=0, clock=lambda: next(ticks))
    bar.update(10, 0)  # "..., about 4 s left"
    bar.finish(50, 0, interrupted=False)  # shorter: no "left" part
    drawn = stream.getvalue().split("\r")[1:]
    assert len(drawn[0]) == len(drawn[1].rstrip("\n"))  # padded over the old line
    assert drawn[1].rstrip().endswith("0 failed, 25.0/s") and drawn[1].endswith(" \n")
