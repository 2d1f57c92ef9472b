"""What --each reports: the failure table, _ue.pending, --save, and what it refuses up front."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.bulk.conftest import METERS, created, run_each
from tests.bulk.helpers import assert_counts
from ue_magic.cells.bulk import BulkFailure, short_form
from ue_magic.sandbox import Sandbox

ROWS = '{"userId": "{{item.user}}", "meterKey": "{{item.key}}", "meterTypeId": "{{type_id}}"}'


def test_the_table_groups_failures_and_names_the_items(shell: Any, sandbox: Sandbox) -> None:
    rows = [{"user": f"t{n}", "key": "k", "note": "x" * 500} for n in range(8)]
    shell.user_ns["rows"] = rows[:3]
    run_each(shell, f"--each rows -q POST {METERS}", ROWS)  # t0..t2 exist now
    shell.user_ns["rows"] = rows
    with pytest.raises(UsageError, match="3 of 8 requests failed"):
        run_each(shell, f"--each rows --concurrency 3 POST {METERS}", ROWS)
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert [(f.index, f.status, f.item) for f in result.failed] == [
        (i, 409, rows[i]) for i in range(3)
    ]
    assert isinstance(result.failed[0], BulkFailure)
    text = repr(result)
    conflict = [line for line in text.splitlines() if line.startswith("409")]
    assert len(conflict) == 1  # one row for three identical messages
    assert "user=t0, key=k" in conflict[0] and "user=t2, key=k" in conflict[0]
    assert conflict[0].count("exists") == 1 and "from POST" not in text
    assert "xxxx" not in text  # the short form shows the fields the template used


@pytest.mark.parametrize(
    ("item", "fields", "short"),
    [
        ("alice", (), "alice"),
        ("", (), '""'),
        (42, (), "42"),
        ({"user": "bo", "n": 1}, ("user",), "user=bo"),
        ({"a": 1}, (), '{"a": 1}'),
        ({"user": "", "n": 3}, ("user", "n"), 'user="", n=3'),  # an empty field is seen
        ("y" * 100, (), "y" * 39 + "…"),
        ("two\nlines", (), "two lines"),
    ],
)
def test_short_form(item: Any, fields: tuple[str, ...], short: str) -> None:
    assert short_form(item, fields) == short


def test_pending_round_trip_sends_only_what_failed(shell: Any, sandbox: Sandbox) -> None:
    users = [f"pend-{n}" for n in range(12)]
    shell.user_ns["users"] = users
    sandbox.inject("api", status=500, count=3, path_prefix=METERS)  # POST: not retried
    run_each(shell, f"--each users --concurrency 1 --no-raise -q POST {METERS}")
    first = shell.user_ns["_ue"]
    assert_counts(first)
    assert first.pending == users[:3]  # input order
    shell.run_cell("pending = _ue.pending")
    sandbox.reset()
    run_each(shell, f"--each pending -q -o again POST {METERS}")
    second = shell.user_ns["_ue"]
    assert_counts(second)
    assert second.failed == [] and second.pending == []
    assert sandbox.counters()["by_route"][f"POST {METERS}"] == 3
    assert sorted(created(shell)) == sorted(users)


@pytest.mark.parametrize(
    ("line", "cell"),
    [
        (f"--each users POST {METERS}", None),  # the line form, no body
        (f"--each users POST {METERS}", '{"userId": "same", "meterKey": "k"}'),
    ],
)
def test_a_request_without_item_is_refused_before_sending(
    shell: Any, sandbox: Sandbox, line: str, cell: str | None
) -> None:
    shell.user_ns["users"] = ["a", "b", "c"]
    refused = pytest.raises(UsageError, match=r"does not use \{\{item\}\}.*3 identical")
    with refused, capture_output():
        if cell is None:
            shell.run_line_magic("ue_call", line)
        else:
            shell.run_cell_magic("ue_call", line, cell)
    assert sandbox.counters()["api_requests"] == 0


def test_save_writes_one_json_line_per_item(shell: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    users = [f"s{n}" for n in range(20)]
    users[4] = ""
    shell.user_ns["users"] = users
    path = tmp_path / "out.jsonl"
    run_each(shell, f"--each users --save {path} --no-raise -q POST {METERS}")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(line["index"] for line in lines) == list(range(20))
    by_index = {line["index"]: line for line in lines}
    assert by_index[4]["outcome"] == "failed" and by_index[4]["status"] == 400
    assert by_index[0]["outcome"] == "ok" and by_index[0]["body"]["userId"] == "s0"
    assert by_index[0]["item"] == "s0"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--rate 0", "--rate needs"),
        ("--rate -5", "--rate needs"),
        ("--save /no/such/folder/x.jsonl", "does not exist; create it first"),
        ("--concurrency 0", "--concurrency needs"),
    ],
)
def test_bad_options_send_nothing(shell: Any, sandbox: Sandbox, option: str, message: str) -> None:
    shell.user_ns["users"] = ["a"]
    with pytest.raises(UsageError, match=message):
        run_each(shell, f"--each users {option} POST {METERS}")
    assert sandbox.counters()["api_requests"] == 0


def test_save_for_one_call_writes_the_answer(shell: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {METERS}?limit=5 --save {path} -q")
    assert json.loads(path.read_text()) == shell.user_ns["_ue"].json()


def test_nothing_written_is_not_sent_not_failed(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The requests never leave the client: the summary says 0 sent, and all are pending."""
    from ue_magic.sandbox import start

    with start() as gone:
        for name, value in gone.env().items():
            monkeypatch.setenv(name, value)
        with capture_output():
            ip.run_line_magic("ue_login", "")
    ip.user_ns["users"] = [f"gone-{n}" for n in range(6)]
    with capture_output() as captured:
        ip.run_cell_magic(
            "ue_call", f"--each users --concurrency 6 --no-raise POST {METERS}", '"{{item}}"'
        )
    result = ip.user_ns["_ue"]
    assert_counts(result)
    assert result.sent == 0 and result.failed == [] and len(result.not_sent) == 6
    assert result.pending == ip.user_ns["users"]
    assert "6 items: 0 sent" in captured.outputs[-1].data["text/plain"]
    assert all(why.startswith("Could not reach") for why in result.not_sent_why)
    ip.user_ns["users"] = ["gone-x"]
    refused = pytest.raises(UsageError, match="0 of 1 requests failed and 1 were not sent")
    with refused, capture_output():
        ip.run_cell_magic("ue_call", f"--each users POST {METERS}", '"{{item}}"')


@pytest.mark.parametrize(("value", "named"), [(5, "not an int"), (2.5, "not a float")])
def test_each_over_a_non_iterable_is_refused(
    shell: Any, sandbox: Sandbox, value: Any, named: str
) -> None:
    shell.user_ns["users"] = value
    with pytest.raises(UsageError, match=f"--each needs a list or other iterable, {named}[.]"):
        run_each(shell, f"--each users POST {METERS}")
    assert sandbox.counters()["api_requests"] == 0


def test_one_item_is_one_item_in_the_summary(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["users"] = ["solo"]
    captured = run_each(shell, f"--each users POST {METERS}")
    text = captured.stdout + "".join(str(o.data) for o in captured.outputs)
    assert "1 item: 1 sent, 1 ok" in text and "1 items" not in text
    assert_counts(shell.user_ns["_ue"])


def test_rate_without_each_is_refused(shell: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match="--rate paces --each"), capture_output():
        shell.run_line_magic("ue_call", f"--rate 5 GET {METERS}")
    assert sandbox.counters()["api_requests"] == 0


def test_a_resumed_run_saved_to_the_same_file_keeps_the_first_runs_lines(
    shell: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "job.jsonl"
    shell.user_ns["users"] = ["a1", "", "a3"]
    run_each(shell, f"--each users --save {path} --no-raise -q POST {METERS}")
    shell.user_ns["pending"] = ["a2"]  # the failed one, fixed
    run_each(shell, f"--each pending --save {path} -q POST {METERS}")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["item"], line["outcome"]) for line in lines[3:]] == [("a2", "ok")]
    assert sorted((line["item"], line["outcome"]) for line in lines[:3]) == [
        ("", "failed"),
        ("a1", "ok"),
        ("a3", "ok"),
    ]
