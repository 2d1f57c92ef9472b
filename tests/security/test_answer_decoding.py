"""An answer is read as it says: a declared charset is used (``application/json;
charset=iso-8859-1``), a charset Python does not know is said, and an answer labelled JSON that
is not JSON is shown with a note saying so."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.security.servers import Seen, answer, api_of

CAFE = '{"name": "Café Zürich"}'
ANSWERS = {
    "/latin": (CAFE.encode("iso-8859-1"), "application/json; charset=iso-8859-1"),
    "/quoted": (CAFE.encode("cp1252"), 'application/json; charset="Windows-1252"'),
    "/utf16": (CAFE.encode("utf-16"), "application/json; charset=utf-16"),
    "/unknown": (CAFE.encode(), "application/json; charset=x-klingon"),
    "/text-unknown": ("Zürich".encode(), "text/plain; charset=x-klingon"),
    "/not-json": (b"<html>upstream timed out</html>", "application/json"),
    # labelled plain application/json, starting as UTF-8 JSON does, but not UTF-8 JSON
    "/utf16le": (CAFE.encode("utf-16-le"), "application/json"),
    "/utf32be": (CAFE.encode("utf-32-be"), "application/json"),
    "/bom": (CAFE.encode("utf-8-sig"), "application/json"),
    "/cut": (b'{"name": "Caf', "application/json"),
    "/surrogate": (b'["\xed\xa0\x80"]', "application/json"),
}


def respond(seen: Seen, conn: socket.socket) -> None:
    body, content_type = ANSWERS[seen.target]
    answer(conn, 200, body, (("Content-Type", content_type),))


@pytest.fixture
def shell(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with api_of(ip, monkeypatch, respond):
        yield ip


def call(shell: Any, path: str) -> tuple[Any, str]:
    with capture_output():
        view = shell.run_line_magic("ue_call", f"GET {path} -o body")
    return shell.user_ns["body"], " ".join(view._repr_mimebundle_()["text/plain"].split())


@pytest.mark.parametrize("path", ["/latin", "/quoted", "/utf16"])
def test_a_declared_charset_is_used(shell: Any, path: str) -> None:
    body, text = call(shell, path)
    assert body == {"name": "Café Zürich"}
    assert "Café Zürich" in text and "charset" not in text


def test_an_unknown_charset_is_said(shell: Any) -> None:
    body, text = call(shell, "/unknown")
    assert body == {"name": "Café Zürich"}  # JSON finds UTF-8 itself
    assert "charset 'x-klingon', which Python cannot read as text; it is read as UTF-8" in text
    body, text = call(shell, "/text-unknown")
    assert body == "Zürich" and "'x-klingon'" in text


def test_json_that_is_not_json_is_shown_with_a_note(shell: Any) -> None:
    body, text = call(shell, "/not-json")
    assert body == "<html>upstream timed out</html>"
    assert "says it is JSON (application/json) but it does not parse as JSON" in text


@pytest.mark.parametrize("path", ["/utf16le", "/utf32be", "/bom"])
def test_plain_json_in_another_unicode_encoding_is_read(shell: Any, path: str) -> None:
    body, _ = call(shell, path)
    assert body == {"name": "Café Zürich"}


def test_plain_json_that_breaks_off_is_shown_as_text(shell: Any) -> None:
    body, text = call(shell, "/cut")
    assert body == '{"name": "Caf'
    assert "does not parse as JSON" in text


def test_an_encoded_surrogate_is_read_as_json_reads_it(shell: Any) -> None:
    body, _ = call(shell, "/surrogate")
    assert body == [json.loads(b'["\xed\xa0\x80"]')[0]] == ["\ud800"]
