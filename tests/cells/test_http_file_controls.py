"""Terminal controls in a stranger's ``.http`` file (issue 22, break2 f22): request names and
the quoted line of a syntax error are shown as escapes; ``--curl`` and ``--python`` escape them
in their own quoting, so the command and the code still send the same bytes when run."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.cells.curl import curl_command
from ue_magic.cells.pycode import _str
from ue_magic.core._visible import HIDDEN

EVIL = "x\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202eY"
RAW = ("\x1b", "\x07", "\u202e")


def refusal(shell: Any, line: str) -> str:
    with capture_output(), pytest.raises(UsageError) as raised:
        shell.run_line_magic("ue_call", line)
    return str(raised.value)


def test_request_names_are_listed_with_escapes(shell: Any, tmp_path: Path) -> None:
    path = tmp_path / "stranger.http"
    path.write_text(
        f"### first{EVIL}\nGET /usage-metering/v1/meters\n"
        f"### second\n# @name two{EVIL}\nGET /usage-metering/v1/meter-types\n",
        encoding="utf-8",
    )
    for line in (f"--file {path} --dry-run", f"--file {path} --name firs --dry-run"):
        said = refusal(shell, line)
        assert not any(c in said for c in RAW)
        assert "firstx\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\u202eY" in said


def test_a_syntax_error_quotes_its_line_with_escapes_and_the_caret_under_it(
    shell: Any, tmp_path: Path
) -> None:
    path = tmp_path / "stranger.http"
    path.write_text(f"GET /usage-metering/v1/meters\nX-Note: a{EVIL}\n", encoding="utf-8")
    said = refusal(shell, f"--file {path} --dry-run")
    assert not any(c in said for c in RAW)
    _message, shown, caret = said.splitlines()
    assert shown[caret.index("^") :].startswith("\\x1b]52")


BODY = f"body {EVIL} \x7f\x85\u2028 'q' \\ $HOME\ttab\nline"


def bash_word(word: str) -> bytes:
    """The bytes bash makes of one shell word."""
    done = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, check=True)
    return done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_curl_escapes_controls_and_sends_the_same_bytes() -> None:
    header = b"a\x1b[2J\x85\x07 'q'"  # a header's bytes, as httpx holds them
    request = httpx.Request(
        "POST", "http://127.0.0.1/x", headers=[(b"X-Note", header)], content=BODY.encode()
    )
    command = curl_command(request)
    assert HIDDEN.search(command.replace("\n", "").replace("\t", "")) is None
    note = next(a for a in command.split(" \\\n  ") if a.startswith("-H $'X-Note"))
    assert bash_word(note[3:]) == b"X-Note: " + header
    data = next(a for a in command.split(" \\\n  ") if a.startswith("--data-raw"))
    assert bash_word(data[len("--data-raw ") :]) == BODY.encode()


def test_curl_keeps_plain_bodies_as_they_were() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/x", content=b'{"a": 1,\n "b": "\tc"}')
    assert '--data-raw \'{"a": 1,\n "b": "\tc"}\'' in curl_command(request)


@pytest.mark.parametrize("text", [BODY, "\ud800 lone", 'plain "quoted" \\ text'])
def test_python_literals_escape_controls_and_mean_the_same_text(text: str) -> None:
    literal = _str(text)
    assert HIDDEN.search(literal) is None
    assert ast.literal_eval(literal) == text
