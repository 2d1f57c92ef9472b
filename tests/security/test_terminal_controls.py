"""No control character from a server or a description reaches the terminal raw: OSC 52 (writes
the clipboard), a title change, clear-screen, a bidi override and a newline in a message go
through one function (``visible``) in every text output, and HTML shows them visibly too."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.test_complete_namespace import completions
from tests.security.servers import Seen, Server, answer, serving, token_answer
from ue_magic.core._visible import visible

PAYLOAD = "bad\nSecond line \x1b]52;c;aGFja2Vk\x07\x1b]0;pwned\x07\x1b[2J\u202egnp.exe\x9b31m\x85"
NAME = "limit\x1b[31m"
# what a terminal acts on: C0 but newline and tab, DEL, C1, bidi controls
RAW = {*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u202e", "\u2066"} - {
    "\n",
    "\t",
}


def raw_in(text: str, one_line: bool = False) -> list[str]:
    found = sorted({c for c in text if c in RAW})
    return found + (["\\n"] if one_line and "\n" in text else [])


def test_visible_shows_every_control_and_keeps_lines() -> None:
    shown = visible(PAYLOAD)
    assert raw_in(shown) == [] and shown.count("\n") == 1
    assert "\\x1b]52;c;aGFja2Vk\\x07" in shown and "\\u202e" in shown and "\\x9b" in shown
    assert raw_in(visible(PAYLOAD, one_line=True), one_line=True) == []
    assert visible("plain\ttext\n") == "plain\ttext\n"


def hostile(seen: Seen, conn: socket.socket) -> None:
    path = seen.target.split("?")[0]
    if path == "/plain":
        answer(conn, 200, PAYLOAD.encode(), (("Content-Type", "text/plain; charset=utf-8"),))
    elif path == "/rows":
        rows = [{PAYLOAD: PAYLOAD, "id": n} for n in range(3)]
        data = json.dumps(rows).encode()
        answer(conn, 200, data, (("Content-Type", "application/json"),))
    else:
        answer(conn, 400, {"message": PAYLOAD})


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(hostile) as running:
        yield running


@pytest.fixture
def shell(ip: Any, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Logged in to the sandbox's tokens with the hostile API, and a hostile description."""
    op = {
        "operationId": f"list{PAYLOAD}",
        "summary": f"List {PAYLOAD}",
        "parameters": [
            {"name": NAME, "in": "query", "schema": {"type": "integer"}},
            {"name": "page", "in": "query", "description": PAYLOAD, "schema": {"type": "string"}},
        ],
        "responses": {"200": {"description": f"Rows {PAYLOAD}"}},
    }
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/rows": {"get": op}},
    }
    described = tmp_path / "openapi.json"
    described.write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("UE_API_URL", server.url)
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {described}")
    return ip


def shown(captured: Any, result: Any) -> tuple[str, str]:
    """The text and HTML shown: displayed, printed, or the line form's value (``Out``)."""
    data = [o.data for o in captured.outputs]
    data += [result._repr_mimebundle_()] if result is not None else []
    text = captured.stdout + "".join(d.get("text/plain", "") for d in data)
    return text, "".join(d.get("text/html", "") for d in data)


@pytest.mark.parametrize(
    "line", ["GET /plain", "GET /rows --table", "GET /rows", "GET /rows --raw"]
)
def test_answers_text_table_and_tree(shell: Any, line: str) -> None:
    with capture_output() as captured:
        result = shell.run_line_magic("ue_call", line)
    text, page = shown(captured, result)
    assert "]52;c;aGFja2Vk" in text and "]52;c;aGFja2Vk" in page  # shown, as an escape
    assert raw_in(text) == [] and raw_in(page) == []


def test_error_for_a_4xx_is_one_visible_line(shell: Any) -> None:
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_line_magic("ue_call", "GET /bad")
    message = str(info.value)
    assert raw_in(message, one_line=True) == [], message
    assert "bad\\nSecond line \\x1b]52;c;aGFja2Vk\\x07" in message


def test_bulk_failure_table(shell: Any) -> None:
    shell.user_ns["hostile_items"] = [PAYLOAD, "b"]
    with capture_output():
        shell.run_cell_magic(
            "ue_call", "--each hostile_items --no-raise POST /bad", '{"v": "{{item}}"}'
        )
    bulk = shell.user_ns["_ue"]
    text, page = repr(bulk), bulk._repr_html_()
    assert "\\x1b]52" in text and raw_in(text) == [] and raw_in(page) == []
    assert len(text.splitlines()) == len(repr(bulk).splitlines()) == 4  # summary, head, row, hint


def test_ue_api_list_and_operation(shell: Any) -> None:
    with capture_output():
        table = shell.run_line_magic("ue_api", "")
        one = shell.run_line_magic("ue_api", "GET /rows")
    for view in (table, one):
        text, page = repr(view), view._repr_html_()
        assert "\\x1b]52" in text and raw_in(text) == [] and raw_in(page) == []
    assert "limit\\x1b[31m" in repr(one)


def test_completion_offers_no_name_with_a_control(shell: Any) -> None:
    offered = completions(shell, "%ue_call GET /rows?")
    assert "page" in offered and [o for o in offered if raw_in(o, one_line=True)] == []


def test_login_line_and_status_show_a_hostile_grant_visibly(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def grant(seen: Seen, conn: socket.socket) -> None:
        token_answer(conn, "tok-" + "t" * 40, scope=f"read {PAYLOAD} write")

    with serving(grant) as server:
        monkeypatch.setenv("UE_TOKEN_URL", server.url + "oauth/token")
        monkeypatch.setenv("UE_API_URL", server.url)
        monkeypatch.setenv("UE_AUDIENCE", server.url)
        with capture_output() as captured:
            ip.run_line_magic("ue_login", "")
            result = ip.run_line_magic("ue_status", "")
        text, page = shown(captured, result)
        assert raw_in(text) == [] and raw_in(page) == []
        assert "\\x1b]52" in text and "\\x1b]52" in page
