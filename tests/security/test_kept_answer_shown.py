"""What a kept answer (``_ue``) shows at the prompt: a server's reason phrase with ESC, BEL or a
C1 control is shown escaped (break8 L1), and ``repr(_ue.request)`` shows a password in
``UE_API_URL`` as ``***`` (break8 L2). ``_ue.url`` stays the URL the request went to (httpx's
meaning; the next page's link is joined to it)."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from tests.security.servers import Seen, api_of

PASSWORD = "pw-ZZPASSZZ-123"
REASON = b"OK\x9b31m\x1b]0;T\x07"
RAW = ("\x1b", "\x07", "\x9b")


def odd_reason(seen: Seen, conn: socket.socket) -> None:
    head = b"HTTP/1.1 200 " + REASON + b"\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    conn.sendall(head + b"\r\nhi")


def test_a_reason_phrase_with_controls_is_kept_escaped(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_of(ip, monkeypatch, odd_reason):
        ip.run_line_magic("ue_call", "GET /x")
    kept = ip.user_ns["_ue"]
    shown = [repr(kept), kept.reason_phrase, str(kept)]
    assert kept.reason_phrase == "OK\\x9b31m\\x1b]0;T\\x07"
    assert [text for text in shown if any(c in text for c in RAW)] == []
    assert kept.status_code == 200 and kept.text == "hi"


def test_a_password_in_the_api_url_is_not_in_the_kept_request_repr(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hello(seen: Seen, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")

    with api_of(ip, monkeypatch, hello):
        base = os.environ["UE_API_URL"]
        monkeypatch.setenv("UE_API_URL", base.replace("http://", f"http://me:{PASSWORD}@"))
        ip.run_line_magic("ue_login", "")
        ip.run_line_magic("ue_call", "GET /x")
    kept = ip.user_ns["_ue"]
    assert PASSWORD not in repr(kept.request) and PASSWORD not in repr(kept)
    assert "me:***@127.0.0.1" in repr(kept.request)
    assert kept.url.password == PASSWORD  # httpx's meaning: the URL the request went to
