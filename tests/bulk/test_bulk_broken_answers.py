"""An item answered 2xx whose body then breaks (gzip that is not, a body cut short of its
Content-Length, a bad chunk) was done by the server: the run counts it ok (its body not read,
None in ``-o``) and never pending, so ``--each pending`` cannot make it twice (issue 22, fifth
attack: it was "no answer", failed and pending). A 4xx or 5xx whose body breaks stays failed."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.security.servers import Seen, api_of

POSTS: list[str] = []

BROKEN = {
    "bad-gzip": b"Content-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnot gzip!!",
    "cut-short": b'Content-Length: 100\r\n\r\n{"id": 1',
    "bad-chunk": b"Transfer-Encoding: chunked\r\n\r\nzz\r\nnope\r\n0\r\n\r\n",
}


def respond(seen: Seen, conn: socket.socket) -> None:
    kind, status = seen.target.strip("/").split("/")[:2]
    POSTS.append(seen.target)
    if kind == "silent":  # done, then the connection closed with no answer
        conn.shutdown(socket.SHUT_WR)
        return
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close\r\n"
    conn.sendall(head.encode() + BROKEN[kind])
    conn.shutdown(socket.SHUT_WR)  # the end of the answer: cut short, not slow


@pytest.fixture
def shell(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    POSTS.clear()
    with api_of(ip, monkeypatch, respond):
        yield ip


@pytest.mark.parametrize("kind", BROKEN)
def test_a_2xx_whose_body_breaks_is_done_and_never_pending(
    shell: Any, kind: str, tmp_path: Path
) -> None:
    shell.user_ns["items"] = [1, 2, 3]
    save = tmp_path / "run.jsonl"
    with capture_output():
        result = shell.run_cell(
            f'%%ue_call POST /{kind}/201 --each items -o made --save {save}\n{{"n": {{{{item}}}}}}'
        )
    assert result.success, result.error_in_exec
    bulk = shell.user_ns["_ue_bulk"]
    assert len(POSTS) == 3 and len(bulk.ok) == 3 and list(bulk.pending) == []
    assert bulk.unread == 3 and shell.user_ns["made"] == [None, None, None]
    lines = [json.loads(line) for line in save.read_text("utf-8").splitlines()]
    assert [(line["outcome"], line["status"]) for line in lines] == [("ok", 201)] * 3


def test_a_5xx_whose_body_breaks_stays_failed(shell: Any) -> None:
    shell.user_ns["items"] = [1, 2]
    with capture_output():
        result = shell.run_cell('%%ue_call POST /cut-short/500 --each items\n{"n": {{item}}}')
    assert not result.success
    bulk = shell.user_ns["_ue_bulk"]
    assert bulk.ok == [] and len(bulk.failed) == 2


def test_items_sent_with_no_answer_are_named_before_they_are_sent_again(shell: Any) -> None:
    # the server did each POST and closed without answering: they stay in pending (not known
    # to be done), but the report and the error say to check them first, and list them
    shell.user_ns["items"] = [1, 2, 3]
    with capture_output() as captured:
        result = shell.run_cell('%%ue_call POST /silent/201 --each items\n{"n": {{item}}}')
    bulk = shell.user_ns["_ue_bulk"]
    assert len(POSTS) == 3 and bulk.unanswered == [1, 2, 3]
    shown = " ".join((captured.stdout + "".join(str(o.data) for o in captured.outputs)).split())
    assert "3 of them were sent and got no answer: the server may have processed them" in shown
    assert "3 got no answer and may have been processed: check them first" in str(
        result.error_in_exec
    )
