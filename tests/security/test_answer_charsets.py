"""An answer whose charset Python cannot read as text (issue 22, fourth attack): ``base64``,
``zlib``, ``rot13`` are bytes-to-bytes codecs, ``idna`` (and ``utf-32`` without a BOM) raise even
when asked to replace. httpx's
``.text`` raised for them, and so did the token masking (whose frames hold the token's
spellings: shown with ``%xmode Verbose``, kept in ``sys.last_traceback``); with ``--each`` the
cell died, its record lost, so sending the items again made them twice. Now such an answer is
read as UTF-8 with a note, and a run records every item the server answered."""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.security.conftest import run
from tests.security.servers import Seen, answer, api_of, serving

CHARSETS = ["base64", "hex", "zlib", "rot13", "bz2", "quopri", "uu", "idna", "undefined", "utf-32"]
POSTS: list[str] = []


def respond(seen: Seen, conn: socket.socket) -> None:
    charset = seen.target.strip("/").split("/")[0]
    if seen.method == "POST":
        POSTS.append(seen.target)
    token = seen.headers.get("authorization", "").removeprefix("Bearer ")
    body = json.dumps({"you": token, "note": "Zürich"}).encode()
    answer(
        conn,
        201 if seen.method == "POST" else 200,
        body,
        (("Content-Type", f"application/json; charset={charset}"),),
    )


@pytest.fixture
def shell(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    POSTS.clear()
    with api_of(ip, monkeypatch, respond):
        yield ip


def token_of(ip: Any) -> str:
    assert run(ip, "import ue_magic\n_tok = ue_magic.client().token_manager.get_token()").success
    return str(ip.user_ns.pop("_tok"))


def ran(ip: Any, cell: str) -> tuple[Any, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out), capture_output() as captured:
        result = run(ip, cell)
    shown = out.getvalue() + captured.stdout + "".join(str(o.data) for o in captured.outputs)
    return result, " ".join(shown.split())  # one line: notes are wrapped to the terminal


@pytest.mark.parametrize("charset", CHARSETS)
def test_an_answer_in_a_charset_that_is_not_text_is_read_as_utf8(shell: Any, charset: str) -> None:
    token = token_of(shell)
    assert run(shell, "%xmode Verbose").success
    for cell in (
        f"x = %ue_call GET /{charset}/a -q",
        f"%ue_call GET /{charset}/a",
        f"%ue_call GET /{charset}/a --raw",
        f"%ue_call GET /{charset}/a --table",
    ):
        result, shown = ran(shell, cell)
        assert result.success, (cell, result.error_in_exec)
        assert (token not in shown and "***" in shown) or cell.endswith("-q")
        assert "which Python cannot read as text; it is read as UTF-8" in shown or cell.endswith(
            "-q"
        )
    assert shell.user_ns["x"] == {"you": "***", "note": "Zürich"}
    assert token not in repr(shell.user_ns["_ue"].text)
    assert getattr(sys, "last_value", None) is None or token not in repr(sys.last_value)


@pytest.mark.parametrize("charset", ["base64", "idna", "utf-32"])
def test_a_run_over_such_answers_records_every_item(
    shell: Any, charset: str, tmp_path: Path
) -> None:
    shell.user_ns["items"] = list(range(6))
    save = tmp_path / "run.jsonl"
    result, _ = ran(
        shell,
        f'%%ue_call POST /{charset}/x --each items -o res --save {save}\n{{"id": {{{{item}}}}}}',
    )
    assert result.success, result.error_in_exec
    bulk = shell.user_ns["_ue_bulk"]
    assert len(POSTS) == 6 and len(bulk.ok) == 6 and bulk.pending == []
    assert [r["note"] for r in shell.user_ns["res"]] == ["Zürich"] * 6
    lines = [json.loads(line) for line in save.read_text("utf-8").splitlines()]
    assert sorted(line["index"] for line in lines if line["outcome"] == "ok") == list(range(6))


@pytest.mark.parametrize("token", ["1", "true", "id"])
def test_a_short_token_does_not_change_an_answer(
    ip: Any, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    # a token endpoint that grants "1": masking it as a whole word turned "count": 1 into ***
    body = {"id": "a1b2", "count": 1, "ok": True}

    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target.startswith("/token"):
            answer(conn, 200, {"access_token": token, "token_type": "Bearer", "expires_in": 60})
        else:
            answer(conn, 200, body)

    with serving(respond) as server:
        monkeypatch.setenv("UE_API_URL", server.url)
        monkeypatch.setenv("UE_TOKEN_URL", server.url + "token")
        with capture_output():
            ip.run_line_magic("ue_login", "")
            got = ip.run_line_magic("ue_call", "GET /x")
    assert got == body
