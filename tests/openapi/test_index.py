"""Which operation a request is: templated paths, specificity, and the closest one."""

from __future__ import annotations

import pytest

from ue_magic.cells.openapi import Operation, OperationIndex, request_path
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
