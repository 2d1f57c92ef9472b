"""The secret and the token echoed in the spellings other software writes: HTML-escaped (named
and numeric references, decimal and hex), JSON-escaped as Go (``\\u0026``) and PHP (``\\/``)
write it, URL-encoded from Latin-1, in NFD, in Python's repr. Masked in every log record of
httpx, httpcore and ue-magic, in the token endpoint's error and in kept answers (so ``-o``,
``_ue`` and ``--save`` hold none). The forms searched for are the reachability audit's."""

from __future__ import annotations

import html
import json
import logging
import socket
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pytest

from tests.security.reach import find, secret_forms
from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_token_answers import creds_for
from ue_magic import TokenManager, UsageEngineClient
from ue_magic.core.token import _Token
from ue_magic.errors import TokenError

SECRET = 'Zq7s3cr3t/+=&"<>% é\\ZZ'
TOKEN = "tQk+ZZACC/ESS==tok-" + "n" * 20

SPELLINGS: dict[str, Callable[[str], str]] = {
    "html": html.escape,
    "html-nonquote": lambda s: html.escape(s, quote=False),
    "html-decimal": lambda s: "".join(f"&#{ord(ch)};" for ch in s),
    "html-hex": lambda s: "".join(f"&#x{ord(ch):x};" for ch in s),
    "html-numeric-others": lambda s: "".join(ch if ch.isalnum() else f"&#{ord(ch)};" for ch in s),
    "go-json": lambda s: (
        json.dumps(s)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    ),
    "php-json": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
    "latin1-percent": lambda s: quote(s, safe="", encoding="latin-1", errors="replace"),
    "nfd": lambda s: unicodedata.normalize("NFD", s),
    "repr": repr,
}


def leaks(records: list[logging.LogRecord], *texts: str, value: str) -> list[str]:
    """Where a form of ``value`` stands in the records or the texts."""
    shown = [logging.Formatter("%(name)s %(message)s").format(r) for r in records]
    shown += [repr(r.args) for r in records] + list(texts)
    return [form.decode() for form in secret_forms(value) for t in shown if form.decode() in t]


def echo_secret(spelling: str, place: str) -> Callable[[Seen, socket.socket], None]:
    def respond(seen: Seen, conn: socket.socket) -> None:
        echoed = SPELLINGS[spelling](parse_qs(seen.body.decode())["client_secret"][0])
        body = b'{"error": "invalid_client"}'
        if place == "reason":  # raw UTF-8 bytes, as a careless server writes them
            head = f"HTTP/1.1 401 bad {echoed}\r\nContent-Length: {len(body)}\r\n\r\n"
            conn.sendall(head.encode() + body)
        elif place == "header":
            head = f"HTTP/1.1 401 X\r\nX-Echo: {echoed}\r\nContent-Length: {len(body)}\r\n\r\n"
            conn.sendall(head.encode() + body)
        else:
            answer(conn, 400, {"error": "invalid_client", "error_description": f"got {echoed}"})

    return respond


@pytest.mark.parametrize("place", ["reason", "header", "json"])
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_secret_echoed_by_the_token_endpoint_is_masked_in_logs_and_errors(
    spelling: str, place: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(echo_secret(spelling, place)) as server:
        manager = TokenManager(creds_for(server.url, SECRET), max_attempts=1)
        with pytest.raises(TokenError) as raised:
            manager.get_token()
        manager.close()
    records = [r for r in caplog.records if r.name.split(".")[0] in ("httpx", "httpcore")]
    assert any("receive_response_headers.complete" in r.getMessage() for r in records)
    assert leaks(caplog.records, str(raised.value), value=SECRET) == []


def echo_token(seen: Seen, conn: socket.socket) -> None:
    if seen.target == TOKEN_PATH:
        token_answer(conn, TOKEN)
        return
    token = seen.headers.get("authorization", "").rpartition(" ")[2]
    spelled = {name: spell(token) for name, spell in SPELLINGS.items()}
    answer(conn, 200, {"echo": spelled}, tuple((f"X-{n}", v) for n, v in spelled.items()))


def test_the_token_echoed_by_the_api_is_masked_in_kept_answers_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(echo_token) as server, UsageEngineClient(creds_for(server.url)) as ue:
        response = ue.get("echo")
    echoed = response.json()["echo"]
    assert set(echoed) == set(SPELLINGS) and all("***" in v for v in echoed.values())
    shown = (response.text, repr(response.json()), str(response.headers))
    assert leaks(caplog.records, *shown, value=TOKEN) == []
    assert find({"response": response}, {"token": secret_forms(TOKEN)}, (_Token,))[0] == []


def test_the_token_as_html_references_is_masked_in_what_a_cell_shows_keeps_and_saves(
    ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(echo_token) as server:
        creds = creds_for(server.url)
        for name, value in {
            "UE_CLIENT_ID": creds.client_id,
            "UE_CLIENT_SECRET": creds.client_secret.get_secret_value(),
            "UE_API_URL": server.url,
            "UE_TOKEN_URL": creds.token_url,
            "UE_AUDIENCE": creds.audience,
        }.items():
            monkeypatch.setenv(name, value)
        assert ip.run_cell("%ue_login").success
        saved = tmp_path / "echo.json"
        assert ip.run_cell(f"%ue_call GET /echo --save {saved} -o kept").success
        ip.run_line_magic("ue_logout", "")
    texts = (capsys.readouterr().out, saved.read_text("utf-8"), repr(ip.user_ns["kept"]))
    assert texts[1].count("***") >= len(SPELLINGS)  # the echoes were saved, masked
    assert leaks([], *texts, value=TOKEN) == []
