"""--all-pages joining, with MockTransport for the shapes the sandbox does not produce
(an error on a later page); the happy path against the sandbox is in test_bulk.py."""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx
import pytest

from ue_magic import Credentials, UsageEngineClient
from ue_magic.cells.call import CallOptions, call_once
from ue_magic.cells.request import compile_request
from ue_magic.core.pages import PageJoin, count_items, fetch_all_pages, join_pages
from ue_magic.errors import HttpStatusError, UsageEngineError

BASE = "http://127.0.0.1:9/"


def client_with(pages: dict[str | None, tuple[int, dict[str, Any]]], seen: list[Any]) -> Any:
    """A client whose API answers page by page: {pageToken: (status, body)}."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(
                200, json={"access_token": "token-for-tests-0123456789", "expires_in": 3600}
            )
        seen.append(request.url.params.multi_items())
        status, body = pages[request.url.params.get("pageToken")]
        return httpx.Response(status, json=body)

    credentials = Credentials(
        client_id="id", client_secret="secret-for-tests", region="eu", audience=BASE,
        api_url=BASE, token_url=BASE + "authentication/v1/oauth/token",
    )  # fmt: skip
    return UsageEngineClient(credentials, transport=httpx.MockTransport(handler))


PAGES = {
    None: (200, {"meters": [1, 2], "nextPageToken": "p2"}),
    "p2": (200, {"meters": [3], "nextPageToken": "p3"}),
    "p3": (200, {"meters": [4]}),
}


def test_pages_are_joined_and_repeated_parameters_kept() -> None:
    seen: list[Any] = []
    with client_with(PAGES, seen) as ue:
        spec = compile_request("GET /usage-metering/v1/meters?tag=a&tag=b\n").render({})
        pages = fetch_all_pages(ue, spec, CallOptions())
    assert pages.body["meters"] == [1, 2, 3, 4] and pages.page_count == 3
    assert all([v for k, v in items if k == "tag"] == ["a", "b"] for items in seen)
    assert len(seen) == 3


def test_an_error_on_a_later_page_keeps_the_pages_before_it_in_ue() -> None:
    seen: list[Any] = []
    failing = {**PAGES, "p3": (500, {"message": "page three broke"})}
    namespace: dict[str, Any] = {"meters": "before"}
    template = compile_request("GET /usage-metering/v1/meters\n")
    options = CallOptions(all_pages=True, output="meters", quiet=True)
    with client_with(failing, seen) as ue, pytest.raises(HttpStatusError) as caught:
        call_once(namespace, ue, template, options, show=lambda view: None)
    said = str(caught.value)
    assert "page three broke" in said and "-o meters keeps its value" in said
    assert "_ue.body holds the 2 pages (3 items) before it" in said
    assert namespace["meters"] == "before"  # the call raised: -o keeps its value
    pages = namespace["_ue"]
    assert pages.body["meters"] == [1, 2, 3] and pages.failed and pages.page_count == 2
    assert pages.status_code == 500 and pages.json() == {"message": "page three broke"}
    response = caught.value.response
    assert response is pages.response and response.request.headers["authorization"] == "Bearer ***"


def test_all_pages_needs_get() -> None:
    with client_with(PAGES, []) as ue, pytest.raises(UsageEngineError, match="GET"):
        fetch_all_pages(ue, compile_request("DELETE /x\n").render({}), CallOptions())


@pytest.mark.parametrize(
    ("first", "page", "joined"),
    [
        ([1], [2], [1, 2]),
        ({"a": [1], "n": 1}, {"a": [2], "n": 2}, {"a": [1, 2], "n": 2}),
        ({"a": [1], "b": [5]}, {"a": [], "b": [6]}, {"a": [1], "b": [5, 6]}),
    ],
)
def test_join_pages(first: Any, page: Any, joined: Any) -> None:
    assert join_pages(first, page) == joined


def test_pages_that_cannot_be_joined() -> None:
    with pytest.raises(UsageEngineError, match="cannot join"):
        join_pages({"a": 1}, [1])


def test_the_more_pages_note_asks_the_paging_rule_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule lives in pages.py: a change there (here: a ``cursor`` field) reaches the note."""
    from ue_magic.core import pages

    def cursor_rule(response: httpx.Response, params: Any = None, body: Any = None) -> Any:
        cursor = body.get("cursor") if isinstance(body, dict) else None
        return pages.NextPage(None, (("cursor", cursor),)) if cursor else None

    monkeypatch.setattr(pages, "find_next", cursor_rule)
    shown: list[Any] = []
    cursored = {None: (200, {"meters": [1, 2], "cursor": "c2"})}
    with client_with(cursored, []) as ue:
        template = compile_request("GET /usage-metering/v1/meters\n")
        call_once({}, ue, template, CallOptions(), show=shown.append)
    assert [view.more_pages for view in shown] == [True]


@pytest.mark.parametrize(
    ("first", "page", "joined"),
    [
        ([1], [2], [1, 2]),
        ({"a": [1], "n": 1}, {"a": [2], "n": 2}, {"a": [1, 2], "n": 2}),
        ({"a": [1], "b": [5]}, {"a": [], "b": [6]}, {"a": [1], "b": [5, 6]}),
        ({"a": [1]}, {"a": [2], "b": [3]}, {"a": [1, 2], "b": [3]}),
    ],
)
def test_the_walk_joins_in_place_as_join_pages_does(first: Any, page: Any, joined: Any) -> None:
    before = copy.deepcopy(first)
    join = PageJoin()
    join.add(first)
    lists = [v for v in ([join.body] if isinstance(join.body, list) else join.body.values())]
    join.add(page)
    assert join.body == joined == join_pages(first, page)
    assert first == before  # the caller's page is not extended
    # the lists made from the first page grow: the pages before are not copied again
    grown = [join.body] if isinstance(join.body, list) else list(join.body.values())
    assert all(any(old is new for new in grown) for old in lists if isinstance(old, list))
    assert join.items == count_items(joined)


def test_many_pages_are_joined_in_linear_time() -> None:
    # `first + page` per page copied every page before again: 2,000 pages of 2,000 took 38 s;
    # these 1,000 pages of 8,000 copy as many entries that way, 8 million once joined in place
    count, size = 1_000, 8_000

    class Paged:
        def iter_pages(self, *args: Any, **kwargs: Any) -> Any:
            for i in range(count):
                more = {"nextPageToken": f"page{i + 1}"} if i + 1 < count else {}
                request = httpx.Request("GET", BASE + "x")
                yield httpx.Response(200, json={"items": [i] * size, **more}, request=request)

    started = time.monotonic()
    joined = fetch_all_pages(Paged(), compile_request("GET /x\n").render({}), CallOptions())
    assert time.monotonic() - started < 10.0  # a bound against a hang, not a speed claim
    assert joined.page_count == count and joined.item_count == count * size
    assert joined.body["items"][size * 7] == 7
