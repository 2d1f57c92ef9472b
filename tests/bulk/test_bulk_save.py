"""--save with --each: one JSON line per result, on disk as soon as the result is in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.bulk.conftest import METERS, run_each
from ue_magic.cells.save import JsonLines, check_target, encode_answer
from ue_magic.errors import UsageEngineError


def test_each_line_is_on_disk_before_the_run_ends(tmp_path: Path) -> None:
    target = tmp_path / "run.jsonl"
    lines = JsonLines.open(str(target))
    lines.write({"index": 2, "outcome": "ok", "status": 201, "body": {"id": "m-2", "name": "é"}})
    assert json.loads(target.read_text(encoding="utf-8"))["body"] == {"id": "m-2", "name": "é"}
    lines.write({"index": 1, "outcome": "ok", "status": 200, "body": b"\x00\x01"})
    lines.close()
    written = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert written[1]["body"] == "\x00\x01"  # bytes JSON cannot hold: their text
    assert lines.lines == 2


@pytest.mark.parametrize(
    ("body", "data"),
    [
        ({"a": [1, "é"]}, '{\n  "a": [\n    1,\n    "é"\n  ]\n}\n'.encode()),
        ("a,b\n1,2", b"a,b\n1,2"),
        (b"\x89PNG", b"\x89PNG"),
        (None, b""),
    ],
)
def test_one_answer_is_written_as_it_decodes(body: object, data: bytes) -> None:
    assert encode_answer(body) == data


@pytest.mark.parametrize("path", ["", "   "])
def test_an_empty_name_is_refused(path: str) -> None:
    with pytest.raises(UsageEngineError, match="--save needs a file name"):
        check_target(path)


def test_tilde_is_the_home_folder_in_every_mode(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "~").mkdir()  # the working folder holds a folder named ~: never written to
    shell.user_ns["names"] = ["t1", "t2"]
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {METERS}/missing --no-raise --save ~/one.json")
    run_each(shell, f"--each names POST {METERS} --save ~/bulk.jsonl")
    assert json.loads((home / "one.json").read_text(encoding="utf-8"))
    saved = [json.loads(line) for line in (home / "bulk.jsonl").read_text().splitlines()]
    saved.sort(key=lambda line: line["index"])  # written as the answers arrive
    assert [line["item"] for line in saved] == ["t1", "t2"]
    assert list((tmp_path / "~").iterdir()) == []


def test_an_unknown_home_folder_is_refused_not_made_literally() -> None:
    with pytest.raises(UsageEngineError, match="cannot tell which home folder"):
        JsonLines.open("~no-such-user-here/bulk.jsonl")
