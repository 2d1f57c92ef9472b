"""An echo that a line break splits (issue 22, sixth attack): a token endpoint that wraps its
words, sends the form back as MIME base64 (a break every 76 characters) or quoted-printable
(``=`` soft breaks), and an API that echoes the token wrapped at 40 characters, in text or in a
JSON string (``\\n``). The search takes the breaks out before it looks, and masks across them."""

from __future__ import annotations

import base64
import json
import quopri
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.security.reach import secret_forms
from tests.security.servers import Seen, answer, api_of, live_token, serving
from tests.security.test_token_answers import SECRET, creds_for
from ue_magic import TokenManager
from ue_magic.errors import TokenError

_BREAKS = re.compile(r"=?\r?\n|\r|\\n|\\r")


def joined(text: str) -> str:
    """The text as a reader who joins its lines sees it."""
    return _BREAKS.sub("", text)


def leaked(text: str) -> list[str]:
    flat = joined(text)
    decoded = ""
    for run in re.findall(r"[A-Za-z0-9+/=]{16,}", flat):  # base64 runs, decoded
        try:
            decoded += base64.b64decode(run + "=" * (-len(run) % 4)).decode("latin-1")
        except ValueError:
            continue
    found = [f.decode() for f in secret_forms(SECRET) if f.decode() in flat + decoded]
    return found + (["plain"] if SECRET in flat + decoded else [])


def wrapped(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


SPELLINGS: dict[str, Callable[[bytes], str]] = {
    "wrapped-40": lambda form: wrapped(form.decode(), 40),
    "wrapped-76": lambda form: wrapped(form.decode(), 76),
    "mime-base64": lambda form: base64.encodebytes(form).decode(),
    "quoted-printable": lambda form: quopri.encodestring(form * 2).decode(),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_token_endpoint_echo_split_by_line_breaks_is_masked(spelling: str) -> None:
    def respond(seen: Seen, conn: socket.socket) -> None:
        said = SPELLINGS[spelling](seen.body)
        answer(conn, 401, {"error": "invalid_client", "error_description": said})

    with serving(respond) as server:
        manager = TokenManager(creds_for(server.url), max_attempts=1)
        with pytest.raises(TokenError) as info:
            manager.get_token()
        manager.close()
    assert leaked(str(info.value)) == [], str(info.value)


def echo_token(kind: str) -> Callable[[Seen, socket.socket], None]:
    def respond(seen: Seen, conn: socket.socket) -> None:
        text = wrapped("you sent: " + seen.headers.get("authorization", ""), 40)
        if kind == "text":
            answer(conn, 200, text.encode(), (("Content-Type", "text/plain"),))
        else:
            answer(conn, 200, {"echo": text})

    return respond


@pytest.mark.parametrize("kind", ["text", "json"])
def test_an_answer_that_echoes_the_token_wrapped_is_masked(
    ip: Any, monkeypatch: pytest.MonkeyPatch, kind: str, tmp_path: Any
) -> None:
    with api_of(ip, monkeypatch, echo_token(kind)):
        token = live_token(ip)
        save = tmp_path / "answer.out"
        with capture_output() as captured:
            ip.run_line_magic("ue_call", f"GET /x -o got --save {save}")
    kept = [
        captured.stdout + "".join(str(o.data) for o in captured.outputs),
        json.dumps(ip.user_ns["got"]) if kind == "json" else ip.user_ns["got"],
        ip.user_ns["_ue"].text,
        save.read_text("utf-8"),
    ]
    assert [n for n, text in enumerate(kept) if token in joined(text)] == []
    assert "***" in joined(ip.user_ns["_ue"].text)
