"""A gzip answer of several members (RFC 1952) is decoded whole, within the size limit, never cut
to its first member; other bytes after a member are an error. A ``br`` or ``zstd`` answer this
Python cannot decode says so in one note, with what to install."""

from __future__ import annotations

import gzip
import html
import importlib.util
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.security.servers import TOKEN_PATH, Seen, Server, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from tests.security.test_compressed_answers import memory_and_time_bounded
from ue_magic import UsageEngineClient
from ue_magic.errors import AnswerTooLargeError, ApiConnectionError

ROWS = b'{"id": 0}\n{"id": 1}\n{"id": 2}\n'
ITEMS = b'[{"id": 0}, {"id": 1}, {"id": 2}, {"id": 3}]'


def chunked(conn: socket.socket, pieces: list[bytes], headers: dict[str, str]) -> None:
    """An answer sent as these chunks (so a member's end and the next one's start arrive apart)."""
    head = "HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
    conn.sendall(head.encode() + b"\r\n" + body)


def members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(part) for part in parts)


MEMBERS = members(ROWS[:10], ROWS[10:])
SPLIT = MEMBERS.index(b"\x1f\x8b", 2) + 1  # between the two bytes of the second member's magic
GZIP = {"Content-Encoding": "gzip", "Content-Type": "text/plain"}


def route(seen: Seen, conn: socket.socket) -> None:
    path = seen.target.split("?")[0]
    if path == TOKEN_PATH:
        token_answer(conn, "tok-" + "t" * 40)
    elif path == "/members":
        answer(conn, 200, MEMBERS, tuple(GZIP.items()))
    elif path == "/split":
        chunked(conn, [MEMBERS[:SPLIT], MEMBERS[SPLIT:]], GZIP)
    elif path == "/json":
        body = members(ITEMS[:7], ITEMS[7:20], ITEMS[20:])
        answer(
            conn, 200, body, (("Content-Encoding", "gzip"), ("Content-Type", "application/json"))
        )
    elif path == "/garbage":
        answer(conn, 200, gzip.compress(ROWS) + b"GARBAGE", tuple(GZIP.items()))
    elif path == "/cut":
        answer(conn, 200, MEMBERS[:-5], tuple(GZIP.items()))
    elif path == "/bomb":  # 400 members of 1 MB of zeros: about 400 kB sent
        answer(conn, 200, gzip.compress(b"\0" * 1_000_000) * 400, tuple(GZIP.items()))
    else:  # /br, /zstd: compressed with a coding of that name (the bytes do not matter)
        coding = path.strip("/")
        headers = (("Content-Encoding", coding), ("Content-Type", "application/json"))
        answer(conn, 200, b'\x8b\x02\x80{"a": 1}\x03', headers)


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(route) as running:
        yield running


@pytest.fixture
def ue(server: Server) -> Iterator[UsageEngineClient]:
    with UsageEngineClient(creds_for(server), max_bytes=5_000_000) as client:
        yield client


@pytest.mark.parametrize("path", ["members", "split"])
def test_every_member_is_decoded(ue: UsageEngineClient, path: str) -> None:
    assert ue.get(path, timeout=10).content == ROWS


def test_a_json_answer_of_three_members_is_json(ue: UsageEngineClient) -> None:
    assert ue.get("json", timeout=10).json() == [{"id": n} for n in range(4)]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("garbage", "bytes that are not gzip follow the end of the gzip body"),
        ("cut", "cut short"),
    ],
)
def test_a_member_cut_short_or_bytes_after_one_are_an_error(
    ue: UsageEngineClient, path: str, reason: str
) -> None:
    with pytest.raises(ApiConnectionError, match=reason):
        ue.get(path, timeout=10)


def test_members_count_against_the_size_limit(ue: UsageEngineClient) -> None:
    with memory_and_time_bounded(15), pytest.raises(AnswerTooLargeError):
        ue.get("bomb", timeout=10)


def shown_text(ip: Any, line: str) -> str:
    with capture_output() as captured:
        result = ip.run_line_magic("ue_call", line)
    return captured.stdout + repr(result)


@pytest.fixture
def shell(ip: Any, server: Server, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("UE_API_URL", server.url)
    with capture_output():
        ip.run_line_magic("ue_login", "")
    return ip


def test_a_cell_shows_every_line_of_a_text_answer(shell: Any) -> None:
    text = shown_text(shell, "GET /members")
    assert all(f'{{"id": {n}}}' in text for n in range(3))


def not_installed(*modules: str) -> Callable[[Any], Any]:
    found = [m for m in modules if importlib.util.find_spec(m) is not None]
    return pytest.mark.skipif(bool(found), reason=f"{found} installed: httpx decodes it")


@pytest.mark.parametrize(
    ("coding", "hint"),
    [
        pytest.param(
            "br", "pip install 'brotli>=1.2'", marks=not_installed("brotli", "brotlicffi")
        ),
        pytest.param("zstd", "pip install zstandard", marks=not_installed("zstandard")),
    ],
)
def test_a_coding_without_its_package_says_so_with_the_install_hint(
    shell: Any, coding: str, hint: str
) -> None:
    with capture_output() as captured:
        view = shell.run_line_magic("ue_call", f"GET /{coding}")
    text = view._repr_mimebundle_()["text/plain"]
    page = view._repr_mimebundle_()["text/html"]
    said = f"The answer is compressed (Content-Encoding: {coding}) and shown as it came"
    for form in (text, page):
        shown = " ".join(html.unescape(form).split())
        assert said in shown and hint in shown
        assert "does not parse as JSON" not in form  # the coding is why, not the server
    assert captured.stderr == ""
