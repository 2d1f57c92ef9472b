"""Cells pasted from ``.http`` files (issue 12, section 3): ``###`` ends the request, and
``#`` / ``//`` comments stand where ``.http`` files allow them (before the request line, among
the query lines and headers); a second request in one cell is refused in one sentence."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.cells.request import RequestSyntaxError, parse_request
from ue_magic.sandbox import Sandbox

JSON = ("Content-Type", "application/json")


@pytest.mark.parametrize(
    "cell",
    [
        'POST /x\n\n{"a": 1}\n###',
        'POST /x\n\n{"a": 1}\n\n###\n',
        'POST /x\n\n{"a": 1}\n### end of the request',
        'POST /x\n\n{"a": 1}\n###\n# only a comment after it\n// and another\n\n',
        '### create one\nPOST /x\n\n{"a": 1}\n###',
    ],
)
def test_http_separator_ends_the_request(cell: str) -> None:
    spec = parse_request(cell, {})
    assert spec.body is not None and spec.body.rstrip() == b'{"a": 1}'
    assert spec.headers == (JSON,)


def test_http_separator_ends_a_request_without_body() -> None:
    spec = parse_request("GET /x\nAccept: text/plain\n###\n", {})
    assert spec.headers == (("Accept", "text/plain"),) and spec.body is None


def test_http_separator_ends_a_text_body() -> None:
    cell = "POST /x\nContent-Type: text/plain\n\nhello\nworld\n###\n"
    assert parse_request(cell, {}).body == b"hello\nworld"


@pytest.mark.parametrize(
    ("cell", "line"),
    [
        ('POST /x\n\n{"a": 1}\n###\nGET /y', 5),
        ('POST /x\n\n{"a": 1}\n\n### second\n\nDELETE /x/1\n', 7),
        ("GET /x\n###\n# next one\nGET /y", 4),
    ],
)
def test_http_separator_second_request_is_refused_in_one_sentence(cell: str, line: int) -> None:
    with pytest.raises(RequestSyntaxError, match="one request") as caught:
        parse_request(cell, {})
    assert caught.value.line == line
    assert caught.value.message.count(". ") <= 1  # one sentence


@pytest.mark.parametrize(
    "cell",
    [
        "// a comment\nGET /x",
        "# one\n// two\n\nGET /x",
        "GET /x\n# between headers\nAccept: text/plain",
        "GET /x\nAccept: text/plain\n// between headers\nX-Trace: 1",
        "GET /x\n  # indented comment\nAccept: text/plain\n  // another",
        "GET /x\n?a=1\n# a comment among the query lines\n&b=2\nAccept: text/plain",
    ],
)
def test_http_comment_lines_are_skipped(cell: str) -> None:
    spec = parse_request(cell, {})
    assert spec.method == "GET" and spec.path == "/x"
    assert all(not name.startswith(("#", "/")) for name, _ in spec.headers)
    assert all(not key.startswith(("#", "/")) for key, _ in spec.params)


def test_http_comment_between_headers_keeps_every_header() -> None:
    spec = parse_request("GET /x\n?a=1\n# c\n&b=2\nA: 1\n// c\nB: 2\n# c\n\n", {})
    assert spec.params == (("a", "1"), ("b", "2"))
    assert spec.headers == (("A", "1"), ("B", "2"))


def test_http_comment_lines_in_a_body_are_dropped_as_the_references_do() -> None:
    """httpyac and REST Client drop whole-line # and // comments in a body; so do we."""
    cell = "POST /x\nContent-Type: text/plain\n\none\n  // dropped\n# dropped\ntwo # kept"
    assert parse_request(cell, {}).body == b"one\ntwo # kept"


def test_http_comment_lines_in_a_json_body_leave_valid_json() -> None:
    spec = parse_request('POST /x\n\n// a comment\n{"a": 1,\n # another\n "b": 2}', {})
    assert spec.body == b'{"a": 1,\n "b": 2}'


def test_a_body_in_the_body_form_keeps_its_comment_like_lines() -> None:
    """With METHOD PATH on the magic line the cell is the body as written."""
    spec = parse_request("# heading\ntext", {}, "POST", "/x", headers=["Content-Type: text/plain"])
    assert spec.body == b"# heading\ntext"


def test_http_paste_from_a_file_sends_one_request(ip: Any, sandbox: Sandbox) -> None:
    """A typical .http file pasted whole: the first request is sent, and only it."""
    with capture_output():
        ip.run_line_magic("ue_login", "")
    sandbox.reset()
    pasted = (
        "### list the meter types\n"
        "// from requests.http\n"
        "GET /usage-metering/v1/meter-types\n"
        "# the answer is JSON\n"
        "Accept: application/json\n"
        "\n"
        "###\n"
    )
    with capture_output():
        ip.run_cell_magic("ue_call", "-q -o types", pasted)
    assert isinstance(ip.user_ns["types"], dict)
    assert sandbox.counters()["api_requests"] == 1
    with pytest.raises(UsageError, match="one request"), capture_output():
        ip.run_cell_magic("ue_call", "-q", pasted + "GET /usage-metering/v1/meters\n")
    assert sandbox.counters()["api_requests"] == 1
