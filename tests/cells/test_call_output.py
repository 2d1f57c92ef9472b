"""%ue_call's outputs through a real shell: quiet, --dry-run, --curl, --python, --save, tables."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import CapturedIO, capture_output

from ue_magic.sandbox import Sandbox

from .recorder import Recorder, recorder

TYPES = "/usage-metering/v1/meter-types"
METERS = "/usage-metering/v1/meters"


@pytest.fixture
def recorded(ip: Any, sandbox: Sandbox) -> Iterator[Recorder]:
    """A shell logged in with the sandbox's token, its API URL pointed at a recorder."""
    with recorder() as rec:
        with capture_output():
            ip.run_line_magic("ue_login", f"--api-url {rec.url}")
        yield rec


def call(shell: Any, line: str, cell: str | None = None) -> tuple[Any, CapturedIO]:
    with capture_output() as captured:
        if cell is None:
            result = shell.run_line_magic("ue_call", line)
        else:
            result = shell.run_cell_magic("ue_call", line, cell)
    return result, captured


def run_cell(shell: Any, source: str) -> tuple[Any, CapturedIO]:
    with capture_output() as captured:
        result = shell.run_cell(source, store_history=True)
    return result, captured


# -- quiet means quiet -------------------------------------------------------------------------


def test_quiet_bare_line_form_shows_no_out_prompt(shell: Any, sandbox: Sandbox) -> None:
    result, captured = run_cell(shell, f"%ue_call GET {TYPES} -q")
    assert result.success and result.result is None
    assert "Out[" not in captured.stdout and captured.outputs == []
    assert sandbox.counters()["api_requests"] == 1
    result, captured = run_cell(shell, f"%ue_call GET {TYPES}")
    assert "Out[" in captured.stdout  # without -q the answer is shown through Out


def test_quiet_assigned_line_form_still_returns_the_body(shell: Any) -> None:
    result, captured = run_cell(shell, f"types = %ue_call GET {TYPES} -q")
    assert result.success and captured.stdout == "" and captured.outputs == []
    assert isinstance(shell.user_ns["types"], (dict, list))


def test_quiet_each_without_failures_shows_nothing(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["names"] = [f"q{n}" for n in range(5)]
    cell = '{"name": "{{item}}", "unit": "calls", "aggregation": {"type": "sum"}}'
    _, captured = call(shell, f"--each names -q POST {TYPES}", cell)
    assert captured.stdout == "" and captured.stderr == "" and captured.outputs == []
    assert sandbox.counters()["by_route"][f"POST {TYPES}"] == 5


def test_quiet_each_with_failures_is_one_line(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["names"] = ["ok-1", "", "ok-2", ""]  # an empty name is refused by the API
    cell = '{"name": "{{item}}", "unit": "calls", "aggregation": {"type": "sum"}}'
    with pytest.raises(UsageError) as raised:
        call(shell, f"--each names -q POST {TYPES}", cell)
    assert str(raised.value).startswith("2 of 4 requests failed; _ue_bulk.failed lists them")
    _, captured = call(shell, f"--each names -q --no-raise POST {TYPES}", cell)
    assert captured.outputs == []
    assert captured.stdout.count("\n") == 1
    assert captured.stdout.startswith("4 items: 4 sent, 2 ok, 2 failed")
    assert "_ue_bulk.failed lists them" in captured.stdout


# -- showing the request -----------------------------------------------------------------------


def test_dry_run_says_not_sent_and_shows_the_bytes(shell: Any, sandbox: Sandbox) -> None:
    body = '{"name":   "dry",\n "unit": "calls", "aggregation": {"type": "sum"}}'
    _, captured = call(shell, f"POST {TYPES} --dry-run", body + "\n\n")
    assert sandbox.counters()["api_requests"] == 0
    text = captured.outputs[0].data["text/plain"]
    page = captured.outputs[0].data["text/html"]
    assert text.startswith("Not sent (--dry-run).")
    assert "Not sent (--dry-run)." in page
    assert text.endswith("\n\n" + body)  # as typed, not re-indented; no trailing blank lines
    assert f"Content-Length: {len(body.encode())}" in text


@pytest.mark.parametrize("width", [80, 160])
def test_dry_run_note_fits_the_terminal(
    shell: Any, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    _, captured = call(shell, f"GET {TYPES} --dry-run")
    text = captured.outputs[0].data["text/plain"]
    note = text.split("\nGET ")[0]
    assert all(len(line) <= width for line in note.splitlines())
    said = " ".join(note.split())
    assert said == (
        "Not sent (--dry-run). These are the bytes that would be sent; only the token is masked."
    )


@pytest.mark.parametrize(
    ("content_type", "cell", "sent"),
    [
        ("text/plain", "hello\nworld\n\n\n", b"hello\nworld"),
        ("application/x-www-form-urlencoded", "a=1&b={{x}}\n\n", b"a=1&b=two+words"),
        (None, '{"a": 1}\n\n', b'{"a": 1}'),
    ],
)
def test_trailing_blank_lines_are_not_sent_nor_in_curl(
    ip: Any, recorded: Recorder, content_type: str | None, cell: str, sent: bytes
) -> None:
    ip.user_ns["x"] = "two words"
    header = f' -H "Content-Type: {content_type}"' if content_type else ""
    _, captured = call(ip, f"POST /things --curl{header}", cell)
    command = "\n".join(line for line in captured.stdout.splitlines() if not line.startswith("#"))
    words = shlex.split(command.replace("\\\n", " "))
    assert words[words.index("--data-raw") + 1].encode() == sent
    call(ip, f"POST /things{header}", cell)
    assert recorded.seen[-1].body == sent


def test_python_code_sends_the_same_request(ip: Any, recorded: Recorder) -> None:
    ip.user_ns.update(
        api_calls={"id": "mt-1", "name": "api-calls"},
        user="user one/2",
        n=5,
        tags=["a", "b"],
        run_id="r-7",
    )
    cell = (
        "POST /usage-metering/v1/meters/{{user}}\n"
        "?limit={{n}}\n"
        "X-Request-Id: {{run_id}}\n"
        "\n"
        '{"userId": "{{user}}", "meterTypeId": "{{api_calls.id}}", "n": {{n}},'
        ' "tags": {{tags}}, "type": {{api_calls}}, "note": "run {{run_id}}", "fixed": [1, null]}\n'
    )
    call(ip, "", cell)
    by_magic = recorded.seen[-1]
    _, captured = call(ip, "--python", cell)
    code = captured.stdout
    assert len(recorded.seen) == 1  # --python sends nothing
    assert "ue_magic.client()" in code
    for expr in ('api_calls["id"]', "api_calls['id']"):
        if expr in code:
            break
    else:
        raise AssertionError(f"no expression for api_calls.id in:\n{code}")
    assert '"tags": tags' in code and '"type": api_calls' in code and "quote(str(user)" in code
    assert '"run {run_id}"' in code  # inside a string: an f-string
    result, _ = run_cell(ip, code)
    assert result.success, result.error_in_exec
    by_code = recorded.seen[-1]
    assert (by_code.method, by_code.target) == (by_magic.method, by_magic.target)
    assert by_code.target == "/usage-metering/v1/meters/user%20one%2F2?limit=5"
    assert by_code.headers["x-request-id"] == by_magic.headers["x-request-id"] == "r-7"
    assert by_code.headers["content-type"] == by_magic.headers["content-type"]
    assert json.loads(by_code.body) == json.loads(by_magic.body)
    # the code follows the names: change a value, and the code sends the new one
    ip.user_ns["api_calls"] = {"id": "mt-2", "name": "other"}
    run_cell(ip, code)
    assert json.loads(recorded.seen[-1].body)["meterTypeId"] == "mt-2"


def test_python_code_for_text_bodies_and_values_it_cannot_name(ip: Any, recorded: Recorder) -> None:
    import datetime as dt

    ip.user_ns.update(when=dt.datetime(2026, 1, 2, 3, 4, 5), who="a&b c")
    header = '-H "Content-Type: application/x-www-form-urlencoded"'
    cell = "who={{who}}&when={{when}}"
    call(ip, f"PUT /forms {header}", cell)
    _, captured = call(ip, f"PUT /forms {header} --python", cell)
    assert "quote_plus(str(who))" in captured.stdout
    assert "2026-01-02T03%3A04%3A05" in captured.stdout  # a date is written as what was sent
    result, _ = run_cell(ip, captured.stdout)
    assert result.success
    assert (
        recorded.seen[-1].body
        == recorded.seen[-2].body
        == b"who=a%26b+c&when=2026-01-02T03%3A04%3A05"
    )


def test_python_refuses_what_sending_would_refuse(shell: Any, sandbox: Sandbox) -> None:
    """Code printed for another origin would be refused when run: refuse it here, as --curl."""
    with capture_output() as captured, pytest.raises(UsageError, match="Refusing to send"):
        shell.run_line_magic("ue_call", "GET https://elsewhere.example.com/x --python")
    assert captured.stdout == ""
    assert sandbox.counters()["api_requests"] == 0


def test_python_is_refused_with_the_other_previews(shell: Any) -> None:
    with pytest.raises(UsageError, match="Choose one of --dry-run, --python"):
        call(shell, f"GET {TYPES} --python --dry-run")
    with pytest.raises(UsageError, match="--each cannot be combined"):
        shell.user_ns["xs"] = [1]
        call(shell, f"--each xs --python GET {TYPES}/{{{{item}}}}")


# -- answers to files --------------------------------------------------------------------------


def test_save_writes_pretty_json(shell: Any, tmp_path: Path) -> None:
    target = tmp_path / "types.json"
    _, captured = call(shell, f"GET {TYPES} --save {target} -o types")
    assert json.loads(target.read_text()) == shell.user_ns["types"]
    assert target.read_text().startswith("{\n  ") and target.read_text().endswith("}\n")
    assert captured.stdout.startswith("Saved ") and str(target) in captured.stdout


def test_save_writes_text_and_bytes_as_they_are(
    ip: Any, recorded: Recorder, tmp_path: Path
) -> None:
    recorded.answer = (200, "text/csv; charset=utf-8", "a,b\nä,2\n".encode())
    call(ip, f"GET /export --save {tmp_path / 'a.csv'} -q")
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == "a,b\nä,2\n"
    recorded.answer = (200, "application/octet-stream", b"\x00\xff\x01")
    call(ip, f"GET /blob --save {tmp_path / 'a.bin'} -q")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\xff\x01"


def test_save_with_each_writes_json_lines(shell: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    shell.user_ns["names"] = ["s1", "", "s2"]
    cell = '{"name": "{{item}}", "unit": "calls", "aggregation": {"type": "sum"}}'
    target = tmp_path / "out.jsonl"
    call(shell, f"--each names --no-raise --save {target} POST {TYPES}", cell)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert sorted(line["index"] for line in lines) == [0, 1, 2]
    by_index = {line["index"]: line for line in lines}
    assert by_index[0]["status"] == 201 and by_index[0]["body"]["name"] == "s1"
    assert by_index[1]["status"] == 400 and by_index[1]["outcome"] == "failed"
    assert by_index[1]["item"] == ""


@pytest.mark.parametrize("where", ["missing-folder/x.json", "."])
def test_save_to_a_bad_place_sends_nothing(shell: Any, sandbox: Sandbox, where: str) -> None:
    with pytest.raises(UsageError, match="--save"):
        call(shell, f"GET {TYPES} --save {where}")
    assert sandbox.counters()["api_requests"] == 0


# -- tables of answers -------------------------------------------------------------------------


def test_table_of_one_page_says_more_pages_exist(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_id"] = sandbox.seed_meters(12)
    line = f"GET {METERS}?meterTypeId={{{{type_id}}}}&limit=5 --table"
    result, _ = call(shell, line)  # the line form shows through Out: its bundle is the view's
    text = result._repr_mimebundle_()["text/plain"]
    assert text.endswith("More pages exist: add --all-pages to get them all.")
    result, _ = call(shell, line + " --all-pages")
    assert "More pages" not in result._repr_mimebundle_()["text/plain"]


def test_table_result_is_the_decoded_body(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_id"] = sandbox.seed_meters(3)
    result, _ = call(shell, f"GET {METERS}?meterTypeId={{{{type_id}}}} --table -o df")
    assert isinstance(result, dict) and len(result["meters"]) == 3
    assert shell.user_ns["df"] == result  # -o holds the body, never a DataFrame


def test_columns_through_the_magic(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shell.user_ns["type_id"] = sandbox.seed_meters(3)
    result, _ = call(shell, f"GET {METERS}?meterTypeId={{{{type_id}}}} --columns userId,value")
    text = result._repr_mimebundle_()["text/plain"]
    assert text.splitlines()[1].split() == ["userId", "value"]
    with pytest.raises(UsageError, match="--columns needs names"):
        call(shell, f"GET {METERS} --columns a,,b")


def test_text_limit_is_a_setting_of_its_own(shell: Any, sandbox: Sandbox) -> None:
    shell.run_line_magic("config", "UsageEngineMagics.text_limit = 4")
    shell.user_ns["type_id"] = sandbox.seed_meters(10)
    _, captured = call(shell, "", f"GET {METERS}?meterTypeId={{{{type_id}}}}\n")
    data = captured.outputs[0].data
    assert "Showing 4 of 10 items; the whole answer is in _ue" in data["text/plain"]
    assert "Showing" not in data["text/html"]  # HTML keeps display_limit (100)


def test_help_explains_headers_names_and_results(shell: Any) -> None:
    with capture_output() as captured:
        shell.run_cell("%ue_call?")
    text = captured.stdout + "".join(str(o.data) for o in captured.outputs)
    assert "Add a header (repeatable" in text
    assert "{{name}} takes a value from the notebook" in text
    assert "--columns" in text and "--save" in text and "--python" in text
    assert "text_limit" in text


def test_help_text_fits_80_columns() -> None:
    import inspect

    from ue_magic.ipython.magics import UsageEngineMagics

    for magic in ("ue_call", "ue_login", "ue_api"):
        doc = inspect.cleandoc(getattr(UsageEngineMagics, magic).__doc__ or "")
        assert doc and max(map(len, doc.splitlines())) < 80, magic


def test_quiet_line_used_twice_in_a_cell_still_returns_where_assigned(shell: Any) -> None:
    result, captured = run_cell(shell, f"%ue_call GET {TYPES} -q\nsecond = %ue_call GET {TYPES} -q")
    assert result.success and "Out[" not in captured.stdout
    assert isinstance(shell.user_ns["second"], (dict, list))


def test_python_code_against_the_sandbox_makes_the_same_thing(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns.update(type_name="py-by-code", unit="calls", how={"type": "sum"})
    cell = '{"name": "{{type_name}}", "unit": "{{unit}}", "aggregation": {{how}}}'
    _, captured = call(shell, f"POST {TYPES} --python", cell)
    assert sandbox.counters()["api_requests"] == 0
    result, _ = run_cell(shell, captured.stdout)
    assert result.success, result.error_in_exec
    by_code = shell.user_ns["answer"]
    shell.user_ns["type_name"] = "py-by-magic"
    call(shell, f"POST {TYPES} -q -o by_magic", cell)
    by_magic = shell.user_ns["by_magic"]
    assert sandbox.counters()["by_route"][f"POST {TYPES}"] == 2
    assert by_code["name"] == "py-by-code" and by_magic["name"] == "py-by-magic"
    same = {"id", "name", "createdAt", "updatedAt", "activeFrom"}  # set by the sandbox
    assert {k: v for k, v in by_code.items() if k not in same} == {
        k: v for k, v in by_magic.items() if k not in same
    }
