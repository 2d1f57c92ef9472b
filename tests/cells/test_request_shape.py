"""A placeholder never changes the request's shape (issue 12, section 3).

Each kind of value that would change where or how a request goes is refused when the request is
rendered, before anything is sent: path segments, header values, the URL's length, and the
meaning of a literal ``+`` in a query.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.cells.recorder import Recorder, recorder
from ue_magic import Credentials, UsageEngineClient
from ue_magic.cells.request import RequestSyntaxError, compile_request, parse_request
from ue_magic.sandbox import Sandbox

TYPES = "/usage-metering/v1/meter-types"


def run(shell: Any, line: str, cell: str | None = None) -> Any:
    with capture_output():
        if cell is None:
            return shell.run_line_magic("ue_call", line)
        return shell.run_cell_magic("ue_call", line, cell)


# -- path segments ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", ".", ".."])
@pytest.mark.parametrize(
    "cell",
    [
        "DELETE /usage-metering/v1/meter-types/{{v}}",
        "GET /usage-metering/v1/meter-types/{{v}}/meters",
        "GET /x/{{v}}?limit=1",
        "GET {{v}}/x",
    ],
)
def test_path_shape_dot_and_empty_segments_are_refused(cell: str, value: str) -> None:
    with pytest.raises(RequestSyntaxError, match=r"\{\{v\}\}.*path"):
        parse_request(cell, {"v": value})


@pytest.mark.parametrize(("a", "b"), [("", ""), (".", ""), (".", "."), ("", "..")])
def test_path_shape_placeholders_that_together_make_a_dot_segment(a: str, b: str) -> None:
    with pytest.raises(RequestSyntaxError, match="path segment"):
        parse_request("GET /x/{{a}}{{b}}/y", {"a": a, "b": b})


@pytest.mark.parametrize(
    ("cell", "value", "path"),
    [
        ("GET /x/{{v}}", "a.b", "/x/a.b"),
        ("GET /x/{{v}}", "...", "/x/..."),
        ("GET /x/v{{v}}", ".", "/x/v."),
        ("GET /x/{{v}}.json", "", "/x/.json"),
        ("GET /x/{{v}}", "a/../b", "/x/a%2F..%2Fb"),
        ("GET /x?a={{v}}", "", "/x?a="),
        ("GET /x?a={{v}}", "..", "/x?a=.."),
    ],
)
def test_path_shape_values_that_keep_the_shape_are_sent(cell: str, value: str, path: str) -> None:
    assert parse_request(cell, {"v": value}).path == path


@pytest.mark.parametrize("url", [".", "..", "/usage-metering/v1/meters/../meter-types"])
def test_path_shape_whole_path_with_dot_segments_is_refused(url: str) -> None:
    with pytest.raises(RequestSyntaxError, match=r"\{\{u\}\}"):
        parse_request("GET {{u}}", {"u": url})


def test_path_shape_dot_dot_sends_nothing(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_id"] = ".."
    with pytest.raises(UsageError, match=r"\{\{type_id\}\}"):
        run(shell, f"DELETE {TYPES}/{{{{type_id}}}}")
    shell.user_ns["type_id"] = "."
    with pytest.raises(UsageError, match=r"\{\{type_id\}\}"):
        run(shell, f"GET {TYPES}/{{{{type_id}}}}")
    assert sandbox.counters()["api_requests"] == 0


# -- header values ----------------------------------------------------------------------------

BAD_HEADER_VALUES = {
    "ESC": "a\x1bb",
    "DEL": "a\x7fb",
    "VT": "a\x0bb",
    "FF": "a\x0cb",
    "NUL": "a\x00b",
    "non-ASCII": "Café",
    "emoji": "ok 🙂",
}


@pytest.mark.parametrize("value", BAD_HEADER_VALUES.values(), ids=BAD_HEADER_VALUES.keys())
def test_header_value_from_placeholder_is_checked_as_literal_text(value: str) -> None:
    with pytest.raises(RequestSyntaxError) as from_placeholder:
        parse_request("GET /x\nX-Tag: {{v}}", {"v": value})
    with pytest.raises(RequestSyntaxError) as literal:
        parse_request(f"GET /x\nX-Tag: {value}", {})
    assert from_placeholder.value.message.startswith("{{v}}: ")
    assert from_placeholder.value.message.removeprefix("{{v}}: ") == literal.value.message


@pytest.mark.parametrize("value", BAD_HEADER_VALUES.values(), ids=BAD_HEADER_VALUES.keys())
def test_header_value_literal_is_refused_before_sending(value: str) -> None:
    with pytest.raises(RequestSyntaxError, match="header value"):
        parse_request(f"GET /x\nX-Tag: {value}", {})
    with pytest.raises(RequestSyntaxError, match="header value"):
        compile_request("", "GET", "/x", headers=[f"X-Tag: {value}"])


def test_header_value_placeholder_at_the_edges_is_trimmed_as_literal_text_is() -> None:
    spec = parse_request("GET /x\nX-Tag: {{v}}\nX-Other: a {{w}}", {"v": "  ab\t", "w": " "})
    assert spec.headers == (("X-Tag", "ab"), ("X-Other", "a"))


def test_header_value_tab_inside_is_kept() -> None:
    spec = parse_request("GET /x\nX-Tag: {{v}}", {"v": "a\tb"})
    assert spec.headers == (("X-Tag", "a\tb"),)


@pytest.mark.parametrize("value", BAD_HEADER_VALUES.values(), ids=BAD_HEADER_VALUES.keys())
def test_header_value_bad_value_in_magic_sends_nothing(
    shell: Any, sandbox: Sandbox, value: str
) -> None:
    shell.user_ns["v"] = value
    with pytest.raises(UsageError, match=r"\{\{v\}\}"):
        run(shell, f'GET {TYPES} -H "X-Tag: {{{{v}}}}"')
    assert sandbox.counters()["api_requests"] == 0


def test_header_value_each_checks_every_item_before_the_first_is_sent(
    shell: Any, sandbox: Sandbox
) -> None:
    shell.user_ns["tags"] = ["good", "also-good", "Café", "fine", "a\x1bb"]
    with pytest.raises(UsageError, match=r"Item 2 \(nothing was sent\).*\{\{item\}\}"):
        run(shell, f'--each tags -H "X-Tag: {{{{item}}}}" GET {TYPES}')
    assert sandbox.counters()["api_requests"] == 0


# -- the URL's length -------------------------------------------------------------------------


def test_url_length_over_httpx_limit_is_a_clear_error() -> None:
    with pytest.raises(RequestSyntaxError, match="URL") as caught:
        parse_request("GET /x\n?ids={{v}}", {"v": "a" * 70_000})
    assert "InvalidURL" not in str(caught.value) and len(str(caught.value)) < 400
    with pytest.raises(RequestSyntaxError, match="URL"):
        parse_request("GET /x/{{v}}", {"v": "é" * 30_000})  # 6 bytes each, once encoded


def test_url_length_long_but_under_the_limit_is_sent() -> None:
    spec = parse_request("GET /x\n?ids={{v}}", {"v": "a" * 50_000})
    assert spec.params == (("ids", "a" * 50_000),)


def test_url_length_sends_nothing(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["ids"] = ",".join(f"id-{n:06d}" for n in range(8000))
    with pytest.raises(UsageError, match="URL"):
        run(shell, f"GET {TYPES}?ids={{{{ids}}}}")
    assert sandbox.counters()["api_requests"] == 0


# -- a literal + in a query -------------------------------------------------------------------


@pytest.fixture
def record() -> Iterator[Recorder]:
    with recorder() as seen:
        yield seen


def sent_query(record: Recorder, cell: str, ns: dict[str, Any] | None = None) -> list[Any]:
    """The query as a server decodes it (form decoding, which reads ``+`` as a space): the
    request is built by the client as it sends it, and crosses a real socket."""
    credentials = Credentials(
        client_id="id",
        client_secret="not-used",
        region="eu",
        audience=record.url,
        api_url=record.url,
        token_url=record.url + "token",
    )
    spec = parse_request(cell, ns or {})
    with UsageEngineClient(credentials) as client, httpx.Client() as plain:
        plain.send(client.build_request(spec.method, spec.path, **spec.request_kwargs()))
    return parse_qsl(urlsplit(record.seen[-1].target).query, keep_blank_values=True)


@pytest.mark.parametrize(
    ("request_line", "query_line"),
    [
        ("GET /x?q=a+b", "GET /x\n?q=a+b"),
        ("GET /x?q=a%2Bb", "GET /x\n?q=a%2Bb"),
        ("GET /x?q=a%20b+c", "GET /x\n?q=a%20b+c"),
        ("GET /x?a+b=1", "GET /x\n?a+b=1"),
    ],
)
def test_plus_in_query_means_the_same_on_both_lines(
    record: Recorder, request_line: str, query_line: str
) -> None:
    assert sent_query(record, request_line) == sent_query(record, query_line)


def test_plus_in_query_is_a_space_and_percent_2b_a_plus(record: Recorder) -> None:
    assert sent_query(record, "GET /x?q=a+b\n&r=c+d&s=e%2Bf") == [
        ("q", "a b"),
        ("r", "c d"),
        ("s", "e+f"),
    ]


def test_plus_in_query_value_from_placeholder_is_a_plus(record: Recorder) -> None:
    ns = {"t": "2026-01-01T00:00:00+01:00"}
    assert sent_query(record, "GET /x?from={{t}}", ns) == [("from", ns["t"])]
    assert sent_query(record, "GET /x\n?from={{t}}", ns) == [("from", ns["t"])]


def test_plus_in_query_rendered_spec_uses_spaces() -> None:
    spec = parse_request("GET /x\n?q=a+b&r=c%2Bd", {})
    assert spec.params == (("q", "a b"), ("r", "c+d"))
    assert isinstance(httpx.QueryParams(spec.params), httpx.QueryParams)
