"""UsageEngineClient.iter_pages (pages.walk_pages): tokens, links, repeated parameters, origins."""

from __future__ import annotations

import httpx
import pytest

from tests.mock_api import (
    Backend,
    status,
)
from ue_magic.core._client import UsageEngineClient
from ue_magic.errors import OriginError, UsageEngineError


def paged(request: httpx.Request) -> httpx.Response:
    token = request.url.params.get("pageToken")
    page = int(token) if token else 0
    body: dict[str, object] = {"items": [page]}
    if page < 2:
        body["nextPageToken"] = str(page + 1)
    return httpx.Response(200, json=body)


def test_iter_pages_follows_next_page_tokens(client: UsageEngineClient, backend: Backend) -> None:
    backend.default = paged
    pages = list(client.iter_pages("GET", "things", params={"limit": "1"}))
    assert [p.json()["items"] for p in pages] == [[0], [1], [2]]
    assert [str(r.url) for r in backend.api] == [
        "https://api.example/things?limit=1",
        "https://api.example/things?limit=1&pageToken=1",
        "https://api.example/things?limit=1&pageToken=2",
    ]


def test_iter_pages_stops_at_max_pages_and_after_an_error(
    client: UsageEngineClient, backend: Backend
) -> None:
    backend.default = paged
    assert len(list(client.iter_pages("GET", "things", max_pages=2))) == 2
    backend.api.clear()
    backend.queue.append(status(404))
    assert [p.status_code for p in client.iter_pages("GET", "things")] == [404]


def test_iter_pages_follows_link_headers_on_the_same_origin_only(
    client: UsageEngineClient, backend: Backend
) -> None:
    backend.queue.append(
        httpx.Response(200, json=[], headers={"Link": '<https://evil.example/p2>; rel="next"'})
    )
    pages = client.iter_pages("GET", "things")
    next(pages)
    with pytest.raises(OriginError):
        next(pages)


def test_iter_pages_refuses_an_endless_loop(client: UsageEngineClient, backend: Backend) -> None:
    backend.default = lambda r: httpx.Response(200, json={"nextPageToken": "same"})
    with pytest.raises(UsageEngineError, match="same next page"):
        list(client.iter_pages("GET", "things"))
    assert len(backend.api) == 2


def echo_pages(request: httpx.Request) -> httpx.Response:
    """Three pages by token; each answer shows the query it got."""
    token = request.url.params.get("pageToken")
    page = int(token) if token else 0
    body: dict[str, object] = {"items": [request.url.query.decode()]}
    if page < 2:
        body["nextPageToken"] = str(page + 1)
    return httpx.Response(200, json=body)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("things", [("a", "1"), ("a", "2"), ("b", "x")]),
        ("things", "a=1&a=2&b=x"),
        ("things", httpx.QueryParams([("a", "1"), ("a", "2"), ("b", "x")])),
        ("things?a=1&a=2&b=x", None),
        ("things?a=1&a=2", {"b": "x"}),
    ],
)
def test_iter_pages_keeps_repeated_parameters_on_every_page(
    url: str, params: object, client: UsageEngineClient, backend: Backend
) -> None:
    backend.default = echo_pages
    pages = list(client.iter_pages("GET", url, params=params))
    queries = [page.json()["items"][0] for page in pages]
    assert queries == ["a=1&a=2&b=x", "a=1&a=2&b=x&pageToken=1", "a=1&a=2&b=x&pageToken=2"]


def test_iter_pages_passes_headers_timeout_and_retries_to_every_page(
    client: UsageEngineClient, backend: Backend, sleeps: list[float]
) -> None:
    backend.default = echo_pages
    backend.queue += [status(503), status(503)]  # the first page needs two retries
    pages = list(
        client.iter_pages("GET", "things", headers={"X-Trace": "t1"}, timeout=2.5, retries=2)
    )
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert len(sleeps) == 2
    assert all(r.headers["x-trace"] == "t1" for r in backend.api)
    assert all(r.extensions["timeout"]["read"] == 2.5 for r in backend.api)
    assert all(p.request.headers["Authorization"] == "Bearer ***" for p in pages)


def test_iter_pages_yields_the_error_page_last(client: UsageEngineClient, backend: Backend) -> None:
    backend.default = echo_pages
    backend.queue += [echo_pages(httpx.Request("GET", "https://api.example/t")), status(500)]
    assert [p.status_code for p in client.iter_pages("GET", "things")] == [200, 500]


def test_iter_pages_follows_a_link_to_another_path_on_the_api_origin(
    client: UsageEngineClient, backend: Backend
) -> None:
    backend.queue += [
        httpx.Response(200, json={"next": "/v2/things?cursor=c&a=1&a=2"}),
        httpx.Response(200, json=[], headers={"Link": '<https://api.example/v3/x>; rel="next"'}),
        httpx.Response(200, json=[]),
    ]
    assert len(list(client.iter_pages("GET", "v1/things"))) == 3
    assert [str(r.url) for r in backend.api] == [
        "https://api.example/v1/things",
        "https://api.example/v2/things?cursor=c&a=1&a=2",
        "https://api.example/v3/x",
    ]


def test_iter_pages_stops_with_a_clear_error_at_a_link_to_another_origin(
    client: UsageEngineClient, backend: Backend
) -> None:
    backend.queue.append(httpx.Response(200, json={"next": "https://evil.example/p2"}))
    pages = client.iter_pages("GET", "things")
    assert next(pages).status_code == 200
    with pytest.raises(OriginError, match=r"next page of things is on another origin .*evil"):
        next(pages)
    assert len(backend.api) == 1


def test_iter_pages_refuses_a_link_back_to_the_first_page(
    client: UsageEngineClient, backend: Backend
) -> None:
    backend.default = lambda r: httpx.Response(200, json={"next": "/things?a=1"})
    with pytest.raises(UsageEngineError, match="same next page"):
        list(client.iter_pages("GET", "things", params={"a": "1"}))
    assert len(backend.api) == 1
