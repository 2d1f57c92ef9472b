"""A ``{name}`` or ``$name`` meant as written: the refusal of IPython's syntax says how to send
it for where it stands, and what it says, sent, reaches a server as the text written (a real
socket: the echo server records what arrives)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.interop.echo_server import Arrived, EchoServer

JSON_CELL = 'POST /things\nContent-Type: application/json\n\n{"description": "m-%s"}'
FORM = '-H "Content-Type: application/x-www-form-urlencoded"'
CASES = [
    # (magic line, cell or None, what is written, where)
    ("POST /things -q", '{"description": "m-{capacity}"}', "{capacity}", "JSON body"),
    ("POST /things -q", '{"description": "m-$capacity"}', "$capacity", "JSON body"),
    ("POST /things -q", '{"description": "m-${capacity}"}', "${capacity}", "JSON body"),
    ("-q", JSON_CELL % "{capacity}", "{capacity}", "JSON body"),
    ("GET /things?q=m-{capacity} -q", None, "{capacity}", "query"),
    ("GET /things?q=m-$capacity -q", None, "$capacity", "query"),
    ("GET /things?q=m-{capacity.real} -q", None, "{capacity.real}", "query expression"),
    ("POST /things -q", '{"description": "m-{capacity+1}"}', "{capacity+1}", "JSON expression"),
    ("GET /things/m-{capacity} -q", None, "{capacity}", "path"),
    ("GET /things/m-{nothing} -q", None, "{nothing}", "path template"),
    ("-q", "GET /things\n?q=m-{capacity}\n", "{capacity}", "query line"),
    ("-q", "GET /things/m-$capacity HTTP/1.1\n", "$capacity", "request line"),
    (f"POST /things {FORM} -q", "q=m-{capacity}", "{capacity}", "form body"),
    ('GET /things -H "X-Note: m-{capacity}" -q', None, "{capacity}", "-H"),
    ("-q", "GET /things\nX-Note: m-$capacity\n", "$capacity", "header line"),
    ('POST /things -H "Content-Type: text/plain" -q', "m-{capacity}", "{capacity}", "text body"),
    ("-q", "@note = m-{capacity}\nGET /things\nX-Note: {{note}}\n", "{capacity}", "file variable"),
]


@pytest.fixture
def echo_ip(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, EchoServer]]:
    """``ip`` logged in to an echo server on loopback (its token endpoint answers any login)."""
    with EchoServer() as echo:
        for name, value in {
            "UE_CLIENT_ID": "braces",
            "UE_CLIENT_SECRET": "braces-secret",
            "UE_AUDIENCE": echo.url,
            "UE_API_URL": echo.url,
            "UE_TOKEN_URL": f"{echo.url}oauth/token",
            "UE_OPENAPI": "off",
        }.items():
            monkeypatch.setenv(name, value)
        with capture_output():
            ip.run_line_magic("ue_login", "")
        ip.user_ns["capacity"] = 5
        ip.user_ns.pop("nothing", None)
        yield ip, echo


def send(ip: Any, line: str, cell: str | None) -> None:
    with capture_output():
        if cell is None:
            ip.run_line_magic("ue_call", line)
        else:
            ip.run_cell_magic("ue_call", line, cell)


def as_read(arrived: Arrived) -> str:
    """What the server reads: the target and a form body decoded, a JSON body's strings."""
    body = arrived.body.decode()
    content_type = arrived.header("content-type") or ""
    if "json" in content_type:
        body = json.dumps(json.loads(body), ensure_ascii=False)
    elif "form" in content_type:
        body = unquote_plus(body)
    headers = "\n".join(f"{name}: {value}" for name, value in arrived.headers)
    return f"{unquote_plus(arrived.target)}\n{headers}\n{body}"


def the_way_out(ip: Any, message: str, written: str) -> str:
    """What the refusal says to write instead of ``written`` (a variable it names is set)."""
    escaped = re.search(
        rf", or (\S+)(?: \(JSON's escape\))? to send {re.escape(written)} as", message
    )
    if escaped:
        return escaped[1]
    variable = re.search(
        r"put it in a variable \((\w+) = '(.*?)'\) and write (\{\{\w+\}\})", message
    )
    assert variable, message
    ip.user_ns[variable[1]] = variable[2]
    return variable[3]


@pytest.mark.parametrize(("line", "cell", "written", "where"), CASES, ids=[c[3] for c in CASES])
def test_the_refusal_says_how_to_send_the_text_and_that_arrives_as_written(
    echo_ip: tuple[Any, EchoServer], line: str, cell: str | None, written: str, where: str
) -> None:
    ip, echo = echo_ip
    echo.take()
    with pytest.raises(UsageError) as raised:
        send(ip, line, cell)
    message = str(raised.value).splitlines()[0]
    assert not echo.take(), "a refused request sends nothing"
    instead = the_way_out(ip, message, written)
    assert "{{" in instead or written not in instead
    if cell is None:
        send(ip, line.replace(written, instead), None)
    else:
        send(ip, line, cell.replace(written, instead))
    (arrived,) = echo.take()
    assert f"m-{written}" in as_read(arrived)
    assert "m-5" not in as_read(arrived)


@pytest.mark.parametrize(
    ("line", "cell", "escape"),
    [
        ("POST /things -q", '{"description": "m-{capacity}"}', "\\u007bcapacity} (JSON's escape)"),
        ("GET /things?q={capacity} -q", None, "%7Bcapacity%7D to send"),
        ('GET /things -H "X-Note: $capacity" -q', None, "a header has no escape"),
        ("-q", "GET /things\nX-Note: m\n\nm-$capacity", "this body has no escape"),
    ],
)
def test_the_refusal_is_one_line_naming_the_escape_for_where_it_stands(
    echo_ip: tuple[Any, EchoServer], line: str, cell: str | None, escape: str
) -> None:
    ip, _echo = echo_ip
    if cell is not None and "X-Note" in cell:
        cell = cell.replace("X-Note: m", "Content-Type: text/plain")
    with pytest.raises(UsageError) as raised:
        send(ip, line, cell)
    first, *rest = str(raised.value).splitlines()
    assert escape in first and "IPython's syntax" in first and "{{capacity}}" in first
    assert len(rest) == 2 and rest[1].strip() == "^"  # the source line and its caret
