"""A lone surrogate in an answer (``"\\ud800"``: valid JSON, but no character UTF-8 can hold) is
shown as its escape in every output, so a terminal's print or a kernel's message can encode it
and the answer is seen; ``--save`` writes it as the same JSON escape. One in a next page's token,
or in a value for the URL, cannot be sent: a short error says so. (The kernel itself:
tests/notebooks/test_lone_surrogates_kernel.py.)"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.security.servers import TOKEN_PATH, Seen, Server, answer, serving, token_answer
from ue_magic.core._visible import visible

TREE = b'{"name": "a\\ud800b", "k\\udfff": 1}'
ROWS = b'[{"name": "a\\ud800b", "k\\udfff": 1}]'


def lone(seen: Seen, conn: socket.socket) -> None:
    json_type = (("Content-Type", "application/json"),)
    path = seen.target.split("?")[0]
    if path == "/tree":
        answer(conn, 200, TREE, json_type)
    elif path == "/rows":
        answer(conn, 200, ROWS, json_type)
    elif path == "/pages":
        answer(conn, 200, b'{"items": [{"n": 1}], "nextPageToken": "t\\ud800"}', json_type)
    elif path == TOKEN_PATH:  # for the kernel's own login
        token_answer(conn, "tok-lone-surrogates-0123456789")
    else:
        answer(conn, 400, b'{"message": "bad \\ud800 thing"}', json_type)


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(lone) as running:
        yield running


@pytest.fixture
def shell(ip: Any, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Logged in with the sandbox's tokens, the API on the server above, and a description
    whose summary holds a lone surrogate."""
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/rows": {"get": {"summary": "List \ud800 rows", "responses": {}}}},
    }
    described = tmp_path / "openapi.json"
    described.write_text(json.dumps(spec), encoding="utf-8")  # ASCII: "\ud800" as JSON writes it
    monkeypatch.setenv("UE_API_URL", server.url)
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {described}")
    return ip


def encodes(text: str) -> bool:
    """What a terminal and a kernel do with output: encode it as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_visible_shows_lone_surrogates_and_keeps_pairs() -> None:
    assert visible("a\ud800b\udfff") == "a\\ud800b\\udfff"
    assert visible("a\ud800b", one_line=True) == "a\\ud800b"
    assert visible("\U0001f600 é") == "\U0001f600 é"  # a real pair (one code point) is kept


@pytest.mark.parametrize(
    "line", ["GET /tree", "GET /rows --table", "GET /rows", "GET /tree --raw", "GET /rows -o v"]
)
def test_answers_are_shown_with_the_escape(shell: Any, line: str) -> None:
    with capture_output() as captured:
        result = shell.run_line_magic("ue_call", line)
    data = [o.data for o in captured.outputs] + ([result._repr_mimebundle_()] if result else [])
    forms = [captured.stdout, *(d.get(m, "") for d in data for m in ("text/plain", "text/html"))]
    assert all(encodes(form) for form in forms)
    assert all("\\ud800" in form for form in forms if form)


def test_error_for_a_4xx_is_shown_with_the_escape(shell: Any) -> None:
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_line_magic("ue_call", "GET /bad")
    assert encodes(str(info.value)) and "bad \\ud800 thing" in str(info.value)


def test_bulk_failure_table_and_ue_api(shell: Any) -> None:
    shell.user_ns["paths"] = ["tree", "bad"]
    with capture_output():
        shell.run_line_magic("ue_call", "--each paths --no-raise GET /{{item}}")
        bulk = shell.user_ns["_ue"]
        listing = shell.run_line_magic("ue_api", "")
    for view in (bulk, listing):
        for form in (repr(view), view._repr_html_()):
            assert encodes(form) and "\\ud800" in form


def test_save_writes_the_json_escape(shell: Any, tmp_path: Path) -> None:
    shell.user_ns["paths"] = ["tree", "bad"]
    with capture_output():
        shell.run_line_magic("ue_call", f"GET /tree --save {tmp_path / 'one.json'}")
        shell.run_line_magic(
            "ue_call", f"--each paths --no-raise GET /{{{{item}}}} --save {tmp_path / 'all.jsonl'}"
        )
    assert json.loads((tmp_path / "one.json").read_bytes()) == json.loads(TREE)
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    saved = [json.loads(line) for line in lines]  # in the order the answers came
    bodies = [line["body"] for line in sorted(saved, key=lambda line: line["index"])]
    assert bodies == [json.loads(TREE), {"message": "bad \ud800 thing"}]


def test_a_next_page_token_no_url_can_hold_stops_the_walk_saying_so(
    shell: Any, server: Server
) -> None:
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_line_magic("ue_call", "GET /pages --all-pages")
    assert str(info.value) == (
        "The API's next page of /pages holds '\\ud800', which no URL can hold;"
        " stopped after 1 page."
    )
    assert [s.target for s in server.seen if s.target.startswith("/pages")] == ["/pages"]


@pytest.mark.parametrize("line", ["GET /x/{{lone}}", "GET /x?q={{lone}}", "GET {{lone}}"])
def test_a_value_for_the_url_is_refused_saying_why(shell: Any, server: Server, line: str) -> None:
    shell.user_ns["lone"] = "a\ud800"
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_line_magic("ue_call", line)
    assert "the value holds '\\ud800', which UTF-8 cannot encode." in str(info.value)
    assert server.seen == []


def test_the_token_endpoint_s_words_are_shown_visibly(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = b'{"error": "invalid_client", "error_description": "bad \\ud800 \\u001b]0;t\\u0007 id"}'

    def refuse(seen: Seen, conn: socket.socket) -> None:
        answer(conn, 400, words, (("Content-Type", "application/json"),))

    with serving(refuse) as server:
        monkeypatch.setenv("UE_TOKEN_URL", server.url + TOKEN_PATH.lstrip("/"))
        with capture_output(), pytest.raises(UsageError) as info:
            ip.run_line_magic("ue_login", "")
    message = str(info.value)
    assert encodes(message) and "\x1b" not in message and "\n" not in message
    assert "(400 invalid_client: bad \\ud800 \\x1b]0;t\\x07 id)" in message
