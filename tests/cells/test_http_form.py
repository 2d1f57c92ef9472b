"""A form body (``application/x-www-form-urlencoded``) sent as httpyac sends it: lines joined by
``&``, spaces around ``=`` and ``&`` dropped, what a URL cannot hold percent-encoded (issue 23,
the kinds an outside review found in kulala.nvim's and rest.nvim's files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.cells.request import RequestSyntaxError, compile_request, parse_request
from ue_magic.sandbox import Sandbox

FORM = "Content-Type: application/x-www-form-urlencoded"


def form(body: str, ns: dict[str, object] | None = None) -> bytes | None:
    return parse_request(f"POST /login\n{FORM}\n\n{body}", ns or {}).body


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        # kulala.nvim: a field per line, each ending in &
        (
            "grant_type=password&\nusername=foo&\npassword=bar&\nclient_id=foo",
            b"grant_type=password&username=foo&password=bar&client_id=foo",
        ),
        ("name=foo\n  &password=bar", b"name=foo&password=bar"),  # REST Client's & lines
        ("a=1&\n\n  \nb=2", b"a=1&b=2"),  # blank lines inside are nothing
        ("a=1&\n# a comment\n// another\nb=2", b"a=1&b=2"),
        # rest.nvim: spaces around the separators
        ("key1 = value1 &\nkey2 = value2 &\nkey3 = value3", b"key1=value1&key2=value2&key3=value3"),
        ("a =\n1", b"a=1"),
    ],
)
def test_form_lines_are_joined_and_spaces_around_separators_dropped(body: str, sent: bytes) -> None:
    assert form(body) == sent


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ("name=John Doe", b"name=John%20Doe"),
        ("city=New York&zip=1 2", b"city=New%20York&zip=1%202"),
        ('q="a" <b> {c} `d`', b"q=%22a%22%20%3Cb%3E%20%7Bc%7D%20%60d%60"),
        ("q=caf\u00e9 \u20ac", b"q=caf%C3%A9%20%E2%82%AC"),
        ("q=100%&r=%zz&s=%2", b"q=100%25&r=%25zz&s=%252"),
        ("tab=a\tb", b"tab=a%09b"),
    ],
)
def test_what_a_url_cannot_hold_is_percent_encoded(body: str, sent: bytes) -> None:
    assert form(body) == sent


def test_what_the_author_encoded_stays_as_written() -> None:
    body = "a=x%20y&b=x+y&c=https://x.example/cb?z=1&d=a|b~c!*'();:@$,/?[]"
    assert form(body) == body.encode()


def test_a_file_variable_is_text_where_it_stands_so_it_is_encoded_too() -> None:
    cell = f"@space = a b\n@pair = x=1&y\nPOST /f\n{FORM}\n\nb={{{{space}}}}&{{{{pair}}}}"
    assert parse_request(cell, {}).body == b"b=a%20b&x=1&y"


def test_a_notebook_value_is_encoded_whole_and_never_adds_a_field() -> None:
    body = "a = {{v}} &\nb={{w}}"
    assert form(body, {"v": " x&y=z ", "w": "John Doe"}) == b"a=+x%26y%3Dz+&b=John+Doe"


def test_the_body_form_and_a_templated_content_type_read_a_form_the_same() -> None:
    on_the_line = parse_request(
        "a = John Doe &\nb=2\n", {}, method="POST", path="/f", headers=[FORM]
    ).body
    template = compile_request("POST /f\nContent-Type: {{ct}}\n\na = John Doe &\nb=2")
    templated = template.render({"ct": "application/x-www-form-urlencoded"}).body
    assert on_the_line == templated == form("a = John Doe &\nb=2") == b"a=John%20Doe&b=2"


@pytest.mark.parametrize(
    ("body", "line", "source"),
    [
        ("a=1\nb=2", 5, "b=2"),
        ("a={{v}}\n  {{w}}=2", 5, "  {{w}}=2"),
        ("a=1&b=2\nc=3&\nd=4", 5, "c=3&"),
    ],
)
def test_a_line_break_no_ampersand_joins_is_refused_with_its_place(
    body: str, line: int, source: str
) -> None:
    """httpyac runs such lines together (a=1b=2), REST Client sends the line break: neither
    is a field the author wrote."""
    with pytest.raises(RequestSyntaxError, match="not a separator: end the line before") as info:
        form(body, {"v": 1, "w": 2})
    assert (info.value.line, info.value.source_line) == (line, source)
    assert info.value.column == len(source) - len(source.lstrip()) + 1


def test_a_refused_form_in_a_file_sends_nothing(ip: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "form.http").write_text(
        f"# @name login\nPOST /usage-metering/v1/forms\n{FORM}\n\nuser=a\npassword=b\n",
        encoding="utf-8",
    )
    with capture_output():
        ip.run_line_magic("ue_login", "")
    sandbox.reset()
    with capture_output(), pytest.raises(UsageError, match="Line 6, column 1: a line break"):
        ip.run_line_magic("ue_call", "--file form.http --name login")
    assert sandbox.counters()["api_requests"] == 0
