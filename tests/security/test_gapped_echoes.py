"""An echo that any gap splits (issue 22, seventh attack): a server that wraps or spaces what it
echoes with indented line breaks, tabs, spaces, ``<br>``, ``&#10;``, U+2028, VT, FF, NEL, a
zero-width space, or JSON's ``\\u000a`` escape, in the token endpoint's error, an API answer and
a response header that the DEBUG log records show. The reader here is the tests' own: it undoes
HTML and JSON escapes and takes out every whitespace and invisible character, then looks for the
secret, plain or in base64."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import pytest
from IPython.utils.capture import capture_output

from tests.security.servers import Seen, answer, api_of, live_token, serving
from tests.security.test_token_answers import SECRET, creds_for
from ue_magic import TokenManager
from ue_magic.core._forms import Needles, scrub, secret_forms
from ue_magic.errors import TokenError

GAPS = {
    "indented break": "\n  ",
    "folded break": "\r\n ",
    "break and tab": "\n\t",
    "tab": "\t",
    "space": " ",
    "br": "<br>",
    "br/": "<br/>",
    "&#10;": "&#10;",
    "&#x0A;": "&#x0A;",
    "U+2028": "\u2028",
    "VT": "\x0b",
    "FF": "\x0c",
    "NEL": "\x85",
    "no-break space": "\xa0",
    "zero-width space": "\u200b",
    "JSON \\u000a": "\\u000a",
    "JSON \\u000d\\u000a": "\\u000d\\u000a",
    "JSON \\u2028": "\\u2028",
    # the eighth attack's: URL-encoded, Go's JSON of HTML, markup, quoted lines, invisible ones
    "%20": "%20",
    "+": "+",
    "%0D%0A": "%0D%0A",
    "%250A": "%250A",
    "Go <br>": "\\u003cbr\\u003e",
    "Go &#10;": "\\u0026#10;",
    "<wbr>": "<wbr>",
    "</p><p>": "</p><p>",
    "&lt;br&gt;": "&lt;br&gt;",
    "&thinsp;": "&thinsp;",
    "quoted line": "\n> ",
    "comment line": "\n# ",
    "U+2063": "\u2063",
    "NUL": "\x00",
    "colour reset": "\x1b[0m",
}
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\xad"


def read(text: str) -> str:
    """What a reader gets: escapes undone, markup and every gap taken out (what is left: the
    letters and digits, the secret's own characters and the base64 alphabet)."""
    text = re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
    text = html.unescape(html.unescape(text))
    text = re.sub(r"</?[A-Za-z][^<>]*>|\x1b\[[0-9;]*m", "", text)
    text = re.sub(r"\\+[nrtfv]|%(?:25)?(?:0[AD]|20)|\n[>#]", "", text)
    kept = "+/=_-.~&%"
    return "".join(ch for ch in text if (ch.isalnum() and ch.isascii()) or ch in kept)


def leaks(text: str, value: str) -> bool:
    """Whether ``value`` (gaps taken out too) can be read back from ``text``: plain,
    URL-encoded, or in base64 (either alphabet, any alignment)."""
    wanted, flat = read(value), read(text)
    readings = [flat, read(unquote_plus(flat))]
    for run in re.findall(r"[A-Za-z0-9+/=_-]{16,}", flat):
        for start in range(4):
            piece = run[start:].replace("-", "+").replace("_", "/")
            try:
                decoded = base64.b64decode(piece + "=" * (-len(piece) % 4)).decode("latin-1")
            except ValueError:
                continue
            readings += [decoded, read(unquote_plus(decoded))]
    return any(wanted in reading for reading in readings)


def cut(text: str, gap: str, width: int = 40) -> str:
    return gap.join(text[i : i + width] for i in range(0, len(text), width))


def json_raw(key: str, value: str, error: str = "") -> bytes:
    """``{key: value}`` (and ``"error"``) with ``value`` as written: a JSON escape stays one."""
    said = '"%s": "%s"' % (key, value.replace('"', '\\"'))  # noqa: UP031
    return ("{" + (f'"error": "{error}", ' if error else "") + said + "}").encode()


@pytest.mark.parametrize("base64_echo", [False, True], ids=["plain", "base64"])
@pytest.mark.parametrize("gap", GAPS)
def test_a_token_endpoint_echo_split_by_a_gap_is_masked(gap: str, base64_echo: bool) -> None:
    for prefix in range(0, 40, 7 if base64_echo else 13):  # where the cuts fall in the secret

        def respond(seen: Seen, conn: socket.socket, prefix: int = prefix) -> None:
            said = b"y" * prefix + b"you sent " + seen.body
            text = base64.b64encode(said).decode() if base64_echo else said.decode()
            body = json_raw("error_description", cut(text, GAPS[gap]), "invalid_client")
            answer(conn, 401, body, (("Content-Type", "application/json"),))

        with serving(respond) as server:
            manager = TokenManager(creds_for(server.url), max_attempts=1)
            with pytest.raises(TokenError) as info:
                manager.get_token()
            manager.close()
        assert not leaks(str(info.value), SECRET), (prefix, str(info.value))


def echo_token(gap: str, kind: str) -> Callable[[Seen, socket.socket], None]:
    def respond(seen: Seen, conn: socket.socket) -> None:
        text = cut("you sent: " + seen.headers.get("authorization", ""), GAPS[gap])
        if kind == "text":
            answer(conn, 200, text.encode(), (("Content-Type", "text/plain; charset=utf-8"),))
        else:
            answer(conn, 200, json_raw("echo", text), (("Content-Type", "application/json"),))

    return respond


@pytest.mark.parametrize("kind", ["text", "json"])
@pytest.mark.parametrize("gap", GAPS)
def test_an_answer_that_echoes_the_token_split_by_a_gap_is_masked(
    ip: Any, monkeypatch: pytest.MonkeyPatch, gap: str, kind: str, tmp_path: Any
) -> None:
    if kind == "text" and gap.startswith("JSON"):
        pytest.skip("a JSON escape in a text answer is not a gap to its reader")
    with api_of(ip, monkeypatch, echo_token(gap, kind)):
        token = live_token(ip)
        save = tmp_path / "answer.out"
        with capture_output() as captured:
            ip.run_line_magic("ue_call", f"GET /x -o got --save {save}")
    kept = {
        "output": captured.stdout + "".join(str(o.data) for o in captured.outputs),
        "-o": json.dumps(ip.user_ns["got"]) if kind == "json" else ip.user_ns["got"],
        "_ue.text": ip.user_ns["_ue"].text,
        "_ue.json()": json.dumps(ip.user_ns["_ue"].json()) if kind == "json" else "",
        "--save": save.read_text("utf-8"),
    }
    assert [where for where, text in kept.items() if leaks(text, token)] == []
    assert "***" in ip.user_ns["_ue"].text


@pytest.mark.parametrize("base64_echo", [False, True], ids=["plain", "base64"])
@pytest.mark.parametrize("gap", [" ", "\t", "  "], ids=["space", "tab", "two spaces"])
def test_a_header_that_echoes_split_by_spaces_is_masked_in_log_records(
    ip: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    gap: str,
    base64_echo: bool,
) -> None:
    def spaced(data: bytes) -> str:
        text = base64.b64encode(data).decode() if base64_echo else data.decode("latin-1")
        return cut(text, gap, 20)

    def respond(seen: Seen, conn: socket.socket) -> None:
        echoed = spaced(seen.headers.get("authorization", "").encode())
        answer(conn, 200, {}, (("X-Echo", echoed),))

    caplog.set_level(logging.DEBUG)
    with api_of(ip, monkeypatch, respond):
        token = live_token(ip)
        with capture_output():
            ip.run_line_magic("ue_call", "GET /x")
    assert any("x-echo" in r.getMessage().lower() for r in caplog.records)
    assert not leaks(caplog.text, token)


@pytest.mark.parametrize(
    "text",
    [
        "\\" * 1_000_000,  # a run of backslashes with no escape after it (was quadratic)
        "a " * 5_000_000 + "é",  # whitespace-heavy and not ASCII (was seconds and gigabytes)
        "<" * 500_000 + "%" * 500_000 + "&#" * 250_000,  # construct starts that go nowhere
    ],
    ids=["backslashes", "spaced", "starts"],
)
def test_the_search_of_a_hostile_text_is_bounded(text: str) -> None:
    forms = secret_forms(SECRET)
    started = time.monotonic()
    assert scrub(text, *forms) == text
    assert not Needles(forms).in_bytes(text.encode("utf-8"))
    assert time.monotonic() - started < 10  # seconds: far above its ~1 s, far below a hang
