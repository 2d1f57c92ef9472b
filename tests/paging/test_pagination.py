"""The paging rule: nextPageToken, Link rel=next, a body `next` URL; nothing else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ue_magic.core.pages import NextPage, find_next, query_pairs

URL = "https://api.example/usage-metering/v1/meters?limit=2"


def next_params(response: httpx.Response, params: Any) -> dict[str, Any] | None:
    """The next page's params on the same path as a dict (a repeated name: a list), or None."""
    found = find_next(response, params)
    if found is None or (found.url is not None and found.url.path != response.url.path):
        return None
    grouped: dict[str, list[str]] = {}
    for name, value in found.params:
        grouped.setdefault(name, []).append(value)
    return {name: values if len(values) > 1 else values[0] for name, values in grouped.items()}


def answer(
    body: Any = None, *, status: int = 200, headers: dict[str, str] | None = None, text: str = ""
) -> httpx.Response:
    request = httpx.Request("GET", URL)
    if body is not None:
        return httpx.Response(status, json=body, headers=headers, request=request)
    return httpx.Response(status, text=text, headers=headers, request=request)


@pytest.mark.parametrize(
    ("response", "params", "expected"),
    [
        (
            answer({"meters": [], "nextPageToken": "t2"}),
            {"limit": 2},
            {"limit": "2", "pageToken": "t2"},
        ),
        (
            answer({"nextPageToken": "t3"}),
            {"limit": 2, "pageToken": "t2"},
            {"limit": "2", "pageToken": "t3"},
        ),
        (answer({"nextPageToken": "t"}), None, {"pageToken": "t"}),
        (
            answer({"nextPageToken": "t"}),
            [("a", "1"), ("a", "2")],
            {"a": ["1", "2"], "pageToken": "t"},
        ),
        (answer({"meters": []}), {"limit": 2}, None),
        (answer({"nextPageToken": ""}), {}, None),
        (answer({"nextPageToken": None}), {}, None),
        (answer({"nextPageToken": 5}), {}, None),
        (answer([1, 2]), {}, None),
        (answer(text="nextPageToken"), {}, None),
        (answer({"nextPageToken": "t"}, status=500), {}, None),
        (answer({"nextPageToken": "t"}, status=404), {}, None),
        (
            answer(
                [],
                headers={"Link": f'<{URL.split("?")[0]}?limit=2&cursor=c>; rel="next"'},
            ),
            {"limit": 2},
            {"limit": "2", "cursor": "c"},
        ),
        (
            answer([], headers={"Link": '<?cursor=c>; rel="next", <?cursor=a>; rel="prev"'}),
            {},
            {"cursor": "c"},
        ),
        (answer([], headers={"Link": '<?cursor=a>; rel="prev"'}), {}, None),
        (answer({"next": "/usage-metering/v1/meters?page=3"}), {}, {"page": "3"}),
        (answer({"next": "/other/path?page=3"}), {}, None),  # another path: see find_next
        (answer({"next": None}), {}, None),
    ],
)
def test_next_page(response: httpx.Response, params: Any, expected: dict[str, Any] | None) -> None:
    assert next_params(response, params) == expected


def test_find_next_keeps_the_url_of_a_link_to_another_path() -> None:
    found = find_next(answer({"next": "https://api.example/other/path?page=3"}))
    assert found == NextPage(httpx.URL("https://api.example/other/path"), (("page", "3"),))


def test_find_next_reports_another_origin_for_the_client_to_refuse() -> None:
    found = find_next(answer([], headers={"Link": '<https://evil.example/x?p=2>; rel="next"'}))
    assert found is not None and found.url == httpx.URL("https://evil.example/x")


def test_a_token_wins_over_a_link() -> None:
    response = answer({"nextPageToken": "t"}, headers={"Link": '<?cursor=c>; rel="next"'})
    assert next_params(response, {}) == {"pageToken": "t"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (None, ()),
        ({}, ()),
        ({"a": 1, "b": True}, (("a", "1"), ("b", "true"))),
        ("a=1&b=&a=2", (("a", "1"), ("a", "2"), ("b", ""))),
        (httpx.QueryParams({"x": "y"}), (("x", "y"),)),
    ],
)
def test_query_pairs_keeps_every_value_grouped_by_name(params: Any, expected: Any) -> None:
    assert query_pairs(params) == expected


@pytest.mark.parametrize(
    ("response", "params", "expected"),
    [
        (
            answer({"nextPageToken": "t"}),
            [("a", "1"), ("b", "x"), ("a", "2")],
            NextPage(
                None, (("a", "1"), ("a", "2"), ("b", "x"), ("pageToken", "t"))
            ),  # httpx groups
        ),
        (
            answer({"nextPageToken": "t3"}),
            "pageToken=t2&a=1&a=2",
            NextPage(None, (("a", "1"), ("a", "2"), ("pageToken", "t3"))),
        ),
        (
            answer([], headers={"Link": '</v2/m?a=1&a=2#frag>; rel="next"'}),
            {"ignored": "1"},
            NextPage(httpx.URL("https://api.example/v2/m"), (("a", "1"), ("a", "2"))),
        ),
        (answer({"next": "http://[::1"}), {}, None),  # not even a URL
        (answer(text="[" * 100_000, headers={"content-type": "application/json"}), {}, None),
    ],
)
def test_find_next_keeps_repeated_parameters_in_order(
    response: httpx.Response, params: Any, expected: NextPage | None
) -> None:
    assert find_next(response, params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (None, ()),
        ({"a": 1, "b": True}, (("a", "1"), ("b", "true"))),
        ({"a": ["1", "2"]}, (("a", "1"), ("a", "2"))),
        ([("a", "1"), ("b", ""), ("a", "2")], (("a", "1"), ("a", "2"), ("b", ""))),
        ("a=1&a=2", (("a", "1"), ("a", "2"))),
    ],
)
def test_query_pairs(params: Any, expected: tuple[tuple[str, str], ...]) -> None:
    assert query_pairs(params) == expected


def test_find_next_reads_a_body_the_caller_already_decoded() -> None:
    """A caller that decoded the answer passes it in, so a big answer is not parsed twice."""
    unparsed = answer(text="[this is not json")
    unparsed.headers["content-type"] = "application/json"
    found = find_next(unparsed, {"limit": "2"}, body={"nextPageToken": "t2"})
    assert found == NextPage(None, (("limit", "2"), ("pageToken", "t2")))
    assert find_next(unparsed, body=["a list has no next page"]) is None
