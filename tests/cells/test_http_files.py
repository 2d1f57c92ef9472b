"""``%ue_call --file requests.http --name NAME`` in a real shell against the sandbox, and the
origin guard deciding on URLs that ``.http`` variables build (issue 23)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic._constants import MAX_HTTP_FILE_BYTES
from ue_magic.sandbox import Sandbox

TYPES = "/usage-metering/v1/meter-types"

FILE = """\
# Requests kept next to the code
@base = /usage-metering/v1
@unit = calls

### list the types
GET {{base}}/meter-types
Accept: application/json

###
# @name create
@name = {{type_name}}
POST {{base}}/meter-types
Content-Type: application/json

{"name": "{{name}}", "unit": "{{unit}}", "aggregation": {"type": "sum"}}

### broken
@unit = kg
POST {{base}}/meter-types

{"name": oops}
"""


@pytest.fixture
def shell(ip: Any, sandbox: Sandbox, tmp_path: Path) -> Any:
    """Logged in to the sandbox, in a folder holding requests.http."""
    (tmp_path / "requests.http").write_text(FILE, encoding="utf-8")
    with capture_output():
        ip.run_line_magic("ue_login", "")
    sandbox.reset()
    return ip


def sent(sandbox: Sandbox) -> int:
    return int(sandbox.counters()["api_requests"])


def call(shell: Any, line: str, cell: str | None = None) -> Any:
    with capture_output():
        if cell is None:
            return shell.run_line_magic("ue_call", line)
        return shell.run_cell_magic("ue_call", line, cell)


def test_a_named_request_is_sent_with_the_files_variables(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_name"] = "from-a-file"
    made = call(shell, "--file requests.http --name create")
    assert made["name"] == "from-a-file" and made["unit"] == "calls"
    assert sent(sandbox) == 1


def test_a_separator_text_names_a_request(shell: Any, sandbox: Sandbox) -> None:
    listed = call(shell, '--file requests.http --name "list the types"')
    assert isinstance(listed, dict) and sent(sandbox) == 1
    assert shell.user_ns["_ue"].request.url.path == TYPES


def test_several_requests_and_no_name_lists_them_and_sends_nothing(
    shell: Any, sandbox: Sandbox
) -> None:
    with pytest.raises(UsageError) as info:
        call(shell, "--file requests.http")
    assert "pick one with --name NAME: list the types, create, broken" in str(info.value)
    assert sent(sandbox) == 0


def test_a_file_of_one_request_needs_no_name(shell: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "one.http").write_text(f"GET {TYPES}\n", encoding="utf-8")
    assert isinstance(call(shell, "--file one.http"), dict) and sent(sandbox) == 1


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("--file requests.http --name creat", None, "no request named 'creat'; did you mean"),
        ("--file missing.http --name x", None, "No file 'missing.http'"),
        ("--file . --name x", None, "is a folder"),
        ("--name create", None, "add --file PATH"),
        ("--file requests.http --name create", "{}", "leave out METHOD PATH and the cell"),
        (f"GET {TYPES} --file requests.http --name create", None, "leave out METHOD PATH"),
        ("--file empty.http", None, "holds no request"),
        ("--file latin1.http", None, "not UTF-8 text"),
        # a device or a pipe was read whole, until memory ran out; so is a huge file
        ("--file /dev/zero", None, "'/dev/zero' is not a regular file"),
        ("--file fifo.http", None, "'fifo.http' is not a regular file"),
        ("--file huge.http", None, "'huge.http' is over 25 MiB, more than a .http file"),
    ],
)
def test_bad_file_calls_say_what_to_do_and_send_nothing(
    shell: Any, sandbox: Sandbox, tmp_path: Path, line: str, cell: str | None, message: str
) -> None:
    (tmp_path / "empty.http").write_text("# nothing\n@a = 1\n", encoding="utf-8")
    (tmp_path / "latin1.http").write_bytes("GET /caf\xe9\n".encode("latin-1"))
    os.mkfifo(tmp_path / "fifo.http")  # no writer: opening it must not wait for one
    with (tmp_path / "huge.http").open("wb") as huge:  # sparse: no 25 MiB written
        huge.write(b"GET /x\n\n")
        huge.truncate(MAX_HTTP_FILE_BYTES + 1)
    with pytest.raises(UsageError, match=message.replace("?", r"\?").replace(".", r"\.")):
        call(shell, line, cell)
    assert sent(sandbox) == 0


def test_an_error_in_the_file_gives_the_files_line(shell: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match=r"Line 21, column 10: invalid JSON"):
        call(shell, "--file requests.http --name broken")
    assert sent(sandbox) == 0


def test_file_with_dry_run_each_and_save(shell: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    shell.user_ns["type_name"] = "dry"
    with capture_output() as shown:
        shell.run_line_magic("ue_call", "--file requests.http --name create --dry-run")
    text = shown.outputs[-1].data["text/plain"]
    assert text.startswith("Not sent (--dry-run).") and '"name": "dry"' in text
    assert sent(sandbox) == 0
    shell.user_ns["names"] = ["a", "b"]
    (tmp_path / "each.http").write_text(FILE.replace("{{type_name}}", "{{item}}"), encoding="utf-8")
    call(shell, "--file each.http --name create --each names --save made.jsonl -q")
    lines = (tmp_path / "made.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["body"]["name"] for line in lines) == ["a", "b"]
    assert sent(sandbox) == 2


# -- the origin guard decides on the URL that a variable builds --------------------------------


def test_a_url_variable_on_the_apis_origin_is_sent(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["api"] = sandbox.base_url.rstrip("/")
    call(shell, "", "@baseUrl = {{api}}/usage-metering/v1\nGET {{baseUrl}}/meter-types")
    assert sent(sandbox) == 1 and shell.user_ns["_ue"].status_code == 200
    assert shell.user_ns["_ue"].request.url.path == TYPES


@pytest.mark.parametrize(
    "cell",
    [
        "@baseUrl = http://127.0.0.1:9\nGET {{baseUrl}}/health",
        "GET http://{{host}}/x",
        "GET localhost:9/x",
        "GET {{elsewhere}}/x",
    ],
)
def test_a_url_on_another_origin_is_refused_before_sending(
    shell: Any, sandbox: Sandbox, cell: str
) -> None:
    shell.user_ns.update(host="127.0.0.1:9", elsewhere="https://example.org")
    with pytest.raises(UsageError, match="it is only sent to the API's origin"):
        call(shell, "", cell)
    assert sent(sandbox) == 0


def test_a_body_check_points_at_the_files_line(
    shell: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API description's check names the line of the file, past variables and comments."""
    monkeypatch.setenv("UE_OPENAPI", f"{sandbox.base_url}openapi.json")
    with capture_output():
        shell.run_line_magic("ue_login", "")
    text = (
        "@base = /usage-metering/v1\n\n###\n# @name bad\nPOST {{base}}/meter-types\n"
        'Content-Type: application/json\n\n// a comment\n{"name": "x", "unit": 5,'
        ' "aggregation": {"type": "sum"}}\n'
    )
    (tmp_path / "bad.http").write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=r"Line 9, column 23: \$\.unit: expected a string"):
        call(shell, "--file bad.http --name bad")
    assert sent(sandbox) == 0
