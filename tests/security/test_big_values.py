"""Values JSON can hold are sent, whatever Python's own limits: a 5000-digit int (Python refuses
``str()`` of an int over 4300 digits; JSON has no integer limit). What cannot be sent is refused
with the true reason: a 100,000-deep list (no RecursionError, not "NaN and infinity")."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.security.servers import Seen, Server, answer, serving

BIG = 10**4999 + 123456789  # 5000 digits


def echo(seen: Seen, conn: socket.socket) -> None:
    answer(conn, 200, {"ok": True})


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(echo) as running:
        yield running


@pytest.fixture
def shell(ip: Any, server: Server, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("UE_API_URL", server.url)
    with capture_output():
        ip.run_line_magic("ue_login", "")
    return ip


def digits(number: int) -> str:
    """The digits, written with the limit lifted only here, in the test."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(number)
    finally:
        sys.set_int_max_str_digits(limit)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('{"n": {{big}}}', lambda: f'{{"n": {digits(BIG)}}}'),
        ('{"n": {{negative}}, "list": {{many}}}', None),
        ('{"text": "{{big}}"}', lambda: f'{{"text": "{digits(BIG)}"}}'),
    ],
    ids=["whole-value", "nested-and-negative", "in-a-string"],
)
def test_a_5000_digit_int_is_sent_as_written(
    shell: Any, server: Server, cell: str, expected: Any
) -> None:
    shell.user_ns.update(big=BIG, negative=-BIG, many={"k": [1, BIG, {BIG: -BIG}]})
    with capture_output():
        shell.run_cell_magic("ue_call", "POST /x", cell)
    sent = server.seen[-1].body.decode()
    if expected is not None:
        assert sent == expected()
    else:
        big = digits(BIG)
        want = f'{{"n": -{big}, "list": {{"k": [1, {big}, {{"{big}": -{big}}}]}}}}'
        assert sent == want


def test_an_int_over_100000_digits_is_refused_saying_so(shell: Any, server: Server) -> None:
    shell.user_ns["huge"] = 10**200_000
    with capture_output(), pytest.raises(UsageError, match="about 200,001 digits; at most"):
        shell.run_cell_magic("ue_call", "POST /x", '{"n": {{huge}}}')
    assert server.seen == []


def test_a_100000_deep_list_is_refused_as_too_deep(shell: Any, server: Server) -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    shell.user_ns["deep"] = deep
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_cell_magic("ue_call", "POST /x", '{"n": {{deep}}}')
    assert "nested too deeply" in str(info.value) and "NaN" not in str(info.value)
    assert server.seen == []
    json.dumps(1)  # the interpreter is fine afterwards
