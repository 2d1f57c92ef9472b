"""``--df`` and ``to_frame()`` of an answer holding terminal controls (ESC sequences, OSC 52 that
writes the clipboard, C1 CSI, U+202E): the frame's data are the answer's, but what IPython shows
of it, text and HTML, has them escaped (break10's medium)."""

from __future__ import annotations

import pickle
import socket
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.utils.capture import capture_output

from tests.security.servers import Seen, answer, api_of

CLIPBOARD = "\x1b]52;c;aGVsbG8=\x07"
NAME = "user\x1b[2J\u202e"
VALUE = f"alice{CLIPBOARD}\x9b31m"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def respond(seen: Seen, conn: socket.socket) -> None:
    rows = [{NAME: VALUE, "n": 1}, {NAME: "bob", "n": 2}]
    answer(conn, 200, {"items": rows})


@pytest.fixture
def shell(ip: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with api_of(ip, monkeypatch, respond):
        yield ip


def shown(value: Any) -> list[str]:
    return [repr(value), value._repr_html_()]


def test_a_frame_shows_the_server_s_controls_escaped(shell: Any) -> None:
    with capture_output() as captured:
        frame = shell.run_line_magic("ue_call", "GET /rows --df -o rows")
    assert frame.loc[0, NAME] == VALUE and list(frame.columns) == [NAME, "n"]  # the data
    for text in [*shown(frame), captured.stdout]:
        assert not any(raw in text for raw in RAW), text
    assert "\\x1b]52;c;aGVsbG8=\\x07" in repr(frame)
    derived = frame[frame["n"] > 1]  # the user's own frames: DataFrames as pandas makes them
    assert isinstance(derived, pd.DataFrame) and derived.loc[1, NAME] == "bob"
    again = pickle.loads(pickle.dumps(frame))  # %store keeps it
    assert again.equals(frame) and not any(raw in repr(again) for raw in RAW)


def test_a_run_s_frame_shows_them_escaped_too(shell: Any) -> None:
    shell.user_ns["ids"] = ["a", "b"]
    with capture_output() as captured:
        shell.run_cell_magic("ue_call", "--each ids --df -o made", "GET /rows/{{item}}\n")
    frame = shell.user_ns["_ue_bulk"].to_frame()
    assert frame.loc[0, "items"][0][NAME] == VALUE  # the bodies' fields, as sent
    for text in [*shown(frame), *(str(o.data) for o in captured.outputs)]:
        assert not any(raw in text for raw in RAW), text
