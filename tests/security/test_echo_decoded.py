"""The token echoed in a form that only *decodes* to it: a letter or a digit written as a JSON
escape (``\\u0041``; any serializer may), a JWT's dots as ``\\u002e``, a body in UTF-16 or
UTF-32 (declared, or found by ``json.loads`` itself), a ``text/plain`` answer in UTF-16. No
byte of the answer is the token, yet every reader decodes it to the token. Masked as ``***``
in what the cell shows, ``-o``, ``_ue.json()``, ``_ue.text``, ``--save`` and ``--each --save``."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_token_answers import creds_for

# a JWT's shape: base64url parts joined by dots, letters and digits in each
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJaWlRPS0VOWloifQ.c2lnbmF0dXJlX3Bh-cnQ_ZZ"


def _escape_first(token: str, wanted: Callable[[str], bool], upper: bool = False) -> str:
    at = next(n for n, ch in enumerate(token) if wanted(ch))
    code = f"{ord(token[at]):04X}" if upper else f"{ord(token[at]):04x}"
    return token[:at] + "\\u" + code + token[at + 1 :]


def _json(text: str) -> str:
    """``{"echo": text}`` with ``text`` already a JSON string's inside."""
    return '{"echo": "' + text + '", "ok": true}'


# name -> (Content-Type, the body for the echoed token)
BODIES: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "jwt-dots-escaped": ("application/json", lambda t: _json(t.replace(".", "\\u002e")).encode()),
    "one-letter-escaped": (
        "application/json",
        lambda t: _json(_escape_first(t, str.isalpha)).encode(),
    ),
    "one-letter-upper-hex": (
        "application/json",
        lambda t: _json(_escape_first(t, lambda c: c == "J", upper=True)).encode(),
    ),
    "one-digit-escaped": (
        "application/json",
        lambda t: _json(_escape_first(t, str.isdigit)).encode(),
    ),
    "every-char-escaped": (
        "application/json",
        lambda t: _json("".join(f"\\u{ord(c):04x}" for c in t)).encode(),
    ),
    "key-escaped": (
        "application/json",
        lambda t: ('{"' + _escape_first(t, str.isalpha) + '": 1}').encode(),
    ),
    "utf-16-declared": (
        "application/json; charset=utf-16",
        lambda t: json.dumps({"echo": t}).encode("utf-16"),
    ),
    "utf-16-le-declared": (
        "application/json; charset=utf-16le",
        lambda t: json.dumps({"echo": t}).encode("utf-16-le"),
    ),
    "utf-16-undeclared": (
        "application/json",
        lambda t: json.dumps({"echo": t}).encode("utf-16-be"),
    ),
    "utf-32-declared": (
        "application/json; charset=utf-32",
        lambda t: json.dumps({"echo": t}).encode("utf-32"),
    ),
    "utf-32-undeclared": (
        "application/json",
        lambda t: json.dumps({"echo": t}).encode("utf-32-le"),
    ),
    "utf-16-and-escaped": (
        "application/json; charset=utf-16",
        lambda t: _json(_escape_first(t, str.isalpha)).encode("utf-16"),
    ),
    "text-utf-16": ("text/plain; charset=utf-16", lambda t: f"you sent {t}\n".encode("utf-16")),
    "text-utf-32": ("text/plain; charset=utf-32", lambda t: f"you sent {t}\n".encode("utf-32")),
}


def echo(seen: Seen, conn: socket.socket) -> None:
    if seen.target == TOKEN_PATH:
        token_answer(conn, TOKEN)
        return
    ctype, body = BODIES[seen.target.rsplit("/", 1)[1]]
    token = seen.headers.get("authorization", "").rpartition(" ")[2]
    answer(conn, 200, body(token), (("Content-Type", ctype),))


def holds_token(text: str) -> bool:
    """Whether ``text``, or what it decodes to as JSON (or as JSON Lines), holds the token."""
    if TOKEN in text:
        return True
    for piece in (text, *text.splitlines()):
        try:
            value = json.loads(piece)
        except ValueError:
            continue
        if TOKEN in json.dumps(value, ensure_ascii=False):
            return True
    return False


@pytest.fixture
def logged_in(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    with serving(echo) as server:
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
        yield ip
        ip.run_line_magic("ue_logout", "")


@pytest.mark.parametrize("case", BODIES)
def test_a_token_that_decodes_from_the_answer_is_masked_everywhere_it_is_kept(
    case: str, logged_in: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ip = logged_in
    assert BODIES[case][1](TOKEN).find(TOKEN.encode()) == -1  # no byte of it is the token
    saved, bulk = tmp_path / "one.out", tmp_path / "all.jsonl"
    assert ip.run_cell(f"%ue_call GET /echo/{case} -o kept --save {saved}").success
    one = ip.user_ns["_ue"]
    ip.user_ns["cases"] = [case, case]
    assert ip.run_cell(f"%ue_call --each cases GET /echo/{{{{item}}}} --save {bulk}").success
    many = ip.user_ns["_ue"]
    texts = {
        "shown": capsys.readouterr().out,
        "-o": repr(ip.user_ns["kept"]),
        "_ue.text": one.text,
        "--save": saved.read_text("utf-8"),
        "--each --save": bulk.read_text("utf-8"),
        "--each _ue": repr([r.text for r in many.responses]),
    }
    if not case.startswith("text-"):
        texts["_ue.json()"] = json.dumps(one.json(), ensure_ascii=False)
        texts["--each .json()"] = json.dumps([r.json() for r in many.responses])
    assert [where for where, text in texts.items() if holds_token(text)] == []
    assert "***" in texts["--save"] and texts["--each --save"].count("***") == 2  # kept, masked
    if case.startswith("text-"):
        assert one.text == "you sent ***\n"
    elif case != "key-escaped":
        assert one.json()["echo"] == "***"
