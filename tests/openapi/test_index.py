"""Which operation a request is: templated paths, specificity, and the closest one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ue_magic.cells.openapi import (
    CompletionContext,
    Operation,
    OperationIndex,
    complete,
    load_description,
    request_path,
)
from ue_magic.cells.openapi._index import PathNode
from ue_magic.cells.openapi._model import server_prefix

OPS = [
    Operation("GET", "/v1/meters"),
    Operation("POST", "/v1/meters"),
    Operation("GET", "/v1/meters/{id}"),
    Operation("DELETE", "/v1/meters/{id}"),
    Operation("GET", "/v1/meters/search"),
    Operation("GET", "/v1/files/{name}.{format}"),
]
INDEX = OperationIndex(OPS)


@pytest.mark.parametrize(
    ("method", "path", "label"),
    [
        ("GET", "/v1/meters", "GET /v1/meters"),
        ("get", "v1/meters?meterTypeId=1", "GET /v1/meters"),
        ("GET", "/v1/meters/abc", "GET /v1/meters/{id}"),
        ("DELETE", "/v1/meters/abc", "DELETE /v1/meters/{id}"),
        ("GET", "/v1/meters/search", "GET /v1/meters/search"),  # literal beats {id}
        ("GET", "/v1/meters/{{meter_id}}", "GET /v1/meters/{id}"),  # a placeholder to fill
        ("HEAD", "/v1/meters", "GET /v1/meters"),
        ("GET", "/v1/files/report.csv", "GET /v1/files/{name}.{format}"),
        ("GET", "http://127.0.0.1:1/v1/meters/x", "GET /v1/meters/{id}"),
    ],
)
def test_match(method: str, path: str, label: str) -> None:
    found = INDEX.match(method, path)
    assert found is not None and found.label == label


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/v1/meters/abc"), ("GET", "/v1/meters/a/b"), ("GET", "/v1/meters/"), ("GET", "/x")],
)
def test_no_match(method: str, path: str) -> None:
    assert INDEX.match(method, path) is None


@pytest.mark.parametrize(
    ("method", "path", "says"),
    [
        ("PUT", "/v1/meters/abc", "no PUT /v1/meters/{id} (it has GET, DELETE there)"),
        ("GET", "/v1/meterz", "closest: GET /v1/meters"),
        ("POST", "/v1/meter", "closest: POST /v1/meters"),
        ("GET", "/completely/else/entirely", "has no GET /completely/else/entirely. Sending"),
    ],
)
def test_closest(method: str, path: str, says: str) -> None:
    assert says in INDEX.closest(method, path)


def test_request_path() -> None:
    assert request_path("meters/%7Bx%7D?a=1#f") == "/meters/{x}"


@pytest.mark.parametrize(
    ("servers", "prefix"),
    [
        (None, ""),
        ([{"url": "/"}], ""),
        ([{"url": "https://api.digitalroute.io/usage-metering/v1/"}], "/usage-metering/v1"),
        ([{"url": "/base/{v}", "variables": {"v": {"default": "v2"}}}], "/base/v2"),
    ],
)
def test_server_prefix(servers: object, prefix: str) -> None:
    assert server_prefix(servers) == prefix


def test_a_path_tab_for_a_method_reads_only_the_children_that_have_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 300,000 GET siblings: every `%ue_call POST /x/` Tab walked past each (0.2 s a Tab)
    paths: dict[str, Any] = {f"/x/a{i:06d}": {"get": {}} for i in range(20_000)}
    paths["/x/a000007"] = {"get": {}, "post": {}}
    paths["/x/b/deep"] = {"delete": {}}
    description = load_description(
        {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}
    )
    context = CompletionContext(describe=lambda profile: description)
    read: list[str] = []
    real = PathNode.by_prefix

    def counted(self: PathNode, *args: Any) -> Iterator[str]:
        for segment in real(self, *args):
            read.append(segment)
            yield segment

    monkeypatch.setattr(PathNode, "by_prefix", counted)
    offered = {}
    for method, wanted in (("POST", ["a000007"]), ("DELETE", ["b"]), ("HEAD", None)):
        read.clear()
        text = f"%ue_call {method} /x/"
        found = complete(text, len(text), context)
        assert found is not None
        offered[method] = [c.text for c in found.candidates]
        if wanted is not None:
            assert offered[method] == wanted
            assert len(read) <= 2  # the children that have the method, not all 20,002
    assert len(offered["HEAD"]) == 200  # HEAD is answered by GET
