"""What a run leaves in the notebook when it fails, is resumed or is interrupted: nothing a user
made is lost (-o keeps its value, _ue_bulk keeps the last --each, a resumed --save keeps the
first indices, Ctrl-C during --all-pages keeps the pages so far)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.conftest import interrupt_after
from ue_magic.cells._bulk_report import BulkResult
from ue_magic.core.pages import Pages
from ue_magic.sandbox import Sandbox

TYPES = "/usage-metering/v1/meter-types"
METERS = "/usage-metering/v1/meters"


def meter_type(name: str) -> str:
    return json.dumps({"name": name, "unit": "calls", "aggregation": {"type": "sum"}})


# -- -o VAR when the call raises --------------------------------------------------------------


def test_a_failing_rerun_keeps_the_created_value_in_o(shell: Any, sandbox: Sandbox) -> None:
    with capture_output():
        shell.run_cell_magic("ue_call", f"POST {TYPES} -o m1", meter_type("kept"))
    created = shell.user_ns["m1"]
    sandbox.inject(status=409, body={"message": "name already exists", "field": "name"})
    with capture_output(), pytest.raises(UsageError) as caught:
        shell.run_cell_magic("ue_call", f"POST {TYPES} -o m1", meter_type("kept"))
    assert shell.user_ns["m1"] is created  # what the first run made is still there
    assert shell.user_ns["_ue"].status_code == 409
    assert shell.user_ns["_ue"].json()["field"] == "name"  # the error body is in _ue
    assert "-o m1 keeps its value" in str(caught.value)


def test_a_failing_rerun_leaves_the_saved_answer(
    shell: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "types.json"
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {TYPES} --save {target} -q")
    saved = target.read_bytes()
    sandbox.inject(status=404, body={"message": "gone"})
    with capture_output(), pytest.raises(UsageError) as caught:
        shell.run_line_magic("ue_call", f"GET {TYPES} --save {target} -q")
    assert target.read_bytes() == saved  # as -o: a call that raises writes nothing
    assert f"--save {target} was not written" in str(caught.value)
    sandbox.inject(status=404, body={"message": "gone"})
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {TYPES} --save {target} -q --no-raise")
    assert json.loads(target.read_text("utf-8")) == {"message": "gone"}  # --no-raise: saved


def test_a_failing_first_run_says_o_is_not_set(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns.pop("m2", None)
    sandbox.inject(status=409, body={"message": "name already exists", "field": "name"})
    with capture_output(), pytest.raises(UsageError) as caught:
        shell.run_cell_magic("ue_call", f"POST {TYPES} -o m2", meter_type("never"))
    assert "m2" not in shell.user_ns
    assert "-o m2 is not set, _ue holds this answer" in str(caught.value)  # not "keeps"


def test_with_no_raise_o_gets_the_error_body(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["m1"] = {"id": "made-before"}
    sandbox.inject(status=409, body={"message": "name already exists", "field": "name"})
    with capture_output():
        shell.run_cell_magic("ue_call", f"POST {TYPES} -o m1 --no-raise", meter_type("x"))
    assert shell.user_ns["m1"]["field"] == "name"


def test_a_failing_each_rerun_keeps_o_and_names_ue_bulk(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["names"] = ["each-1", "each-2", "each-3"]
    body = '{"name": "{{item}}", "unit": "calls", "aggregation": {"type": "sum"}}'
    with capture_output():
        shell.run_cell_magic("ue_call", f"--each names -o made POST {TYPES}", body)
    made = shell.user_ns["made"]
    assert [m["name"] for m in made] == ["each-1", "each-2", "each-3"]
    sandbox.inject(status=409, body={"message": "name already exists"}, count=3)
    with capture_output(), pytest.raises(UsageError) as caught:
        shell.run_cell_magic("ue_call", f"--each names -o made POST {TYPES}", body)
    assert shell.user_ns["made"] is made  # the created bodies are still there
    assert "-o made keeps its value, _ue_bulk.results holds" in str(caught.value)
    assert [r.response.status_code for r in shell.user_ns["_ue_bulk"].results] == [409] * 3
    with capture_output():
        shell.run_cell_magic("ue_call", f"--each names -o made --no-raise POST {TYPES}", body)
    assert shell.user_ns["made"] is shell.user_ns["_ue_bulk"].results  # --no-raise: -o gets them


# -- _ue_bulk ---------------------------------------------------------------------------------


def test_ue_bulk_outlives_the_next_call_and_the_hint_uses_it(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["names"] = ["ok-1", "x" * 81, "ok-2"]  # the long name is refused (400)
    with capture_output() as captured, pytest.raises(UsageError) as caught:
        shell.run_cell_magic(
            "ue_call",
            f"POST {TYPES} --each names",
            '{"name": "{{item}}", "unit": "calls", "aggregation": {"type": "sum"}}',
        )
    assert "pending = _ue_bulk.pending" in str(caught.value)
    summary = captured.outputs[0].data["text/plain"]  # the failure table's footer
    assert "pending = _ue_bulk.pending, then --each pending" in summary
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {TYPES} -q")
    bulk = shell.user_ns["_ue_bulk"]
    assert isinstance(bulk, BulkResult)  # _ue is the GET's answer now; _ue_bulk is the run
    assert list(bulk.pending) == ["x" * 81]


# -- a resumed --save -------------------------------------------------------------------------


def test_a_resumed_save_keeps_each_items_first_index(
    shell: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "run.jsonl"
    items = [{"name": f"t-{i}"} for i in range(5)]
    items[1]["name"] = items[3]["name"] = "x" * 81  # refused: they will be fixed and resent
    shell.user_ns["rows"] = items
    body = '{"name": "{{item.name}}", "unit": "calls", "aggregation": {"type": "sum"}}'
    with capture_output():
        shell.run_cell_magic(
            "ue_call", f"POST {TYPES} --each rows --save {target} --no-raise", body
        )
    shell.run_cell("pending = _ue_bulk.pending")
    for number, item in enumerate(shell.user_ns["pending"]):
        item["name"] = f"fixed-{number}"
    with capture_output():
        shell.run_cell_magic("ue_call", f"POST {TYPES} --each pending --save {target}", body)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    ok = [line["index"] for line in lines if line["outcome"] == "ok"]
    assert sorted(ok) == [0, 1, 2, 3, 4]  # each index once: the resent kept theirs (1 and 3)
    assert {line["index"] for line in lines if line["outcome"] == "failed"} == {1, 3}


def saved_lines(target: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in target.read_text().splitlines()]


@pytest.mark.parametrize("change", ["a-new-list", "pending-reordered", "pending-item-replaced"])
def test_a_changed_or_new_list_saves_new_indices_under_a_new_run(
    shell: Any, sandbox: Sandbox, tmp_path: Path, change: str
) -> None:
    """Only ``_ue_bulk.pending`` as it came keeps the first run's indices; otherwise the
    indices are the new list's, and each line's ``run`` says which run it is."""
    target = tmp_path / "run.jsonl"
    shell.user_ns["rows"] = ["t-a", "x" * 81, "t-b", "y" * 81]  # 1 and 3 refused
    body = '{"name": "{{item}}", "unit": "calls", "aggregation": {"type": "sum"}}'
    with capture_output():
        shell.run_cell_magic(
            "ue_call", f"POST {TYPES} --each rows --save {target} --no-raise", body
        )
    shell.run_cell("pending = _ue_bulk.pending")
    shell.run_cell(
        {
            "a-new-list": "pending = ['t-c', 't-d']",
            "pending-reordered": "pending[:] = ['t-d', 't-c']",
            "pending-item-replaced": "pending[0] = 't-c'; pending[1] = 't-d'",
        }[change]
    )
    with capture_output():
        shell.run_cell_magic("ue_call", f"POST {TYPES} --each pending --save {target}", body)
    lines = saved_lines(target)
    first, second = lines[0]["run"], lines[-1]["run"]
    assert first != second and [line["run"] for line in lines] == [first] * 4 + [second] * 2
    # the new list's own (lines are written as answers arrive: in either order)
    assert sorted(line["index"] for line in lines[4:]) == [0, 1]
    ok = [(line["run"], line["index"]) for line in lines if line["outcome"] == "ok"]
    assert len(ok) == len(set(ok)) == 4


# -- Ctrl-C during --all-pages ----------------------------------------------------------------


def test_ctrl_c_during_all_pages_keeps_the_pages_so_far(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_id"] = sandbox.seed_meters(250)
    sandbox.set_latency(0.4)  # each page takes a while: Ctrl-C lands during the second or third
    timer = interrupt_after(0.6)
    try:
        with capture_output() as captured:
            result = shell.run_cell(
                f"x = %ue_call GET {METERS}?meterTypeId={{{{type_id}}}}&limit=100 --all-pages -o x"
            )
    finally:
        timer.cancel()
        sandbox.set_latency(0)
    error = result.error_in_exec
    assert isinstance(error, UsageError)  # an error reply: Run All stops
    assert "Interrupted (Ctrl-C) after 1 page" in str(error) or "after 2 pages" in str(error)
    assert "the list is partial" in str(error)
    assert "-o x and _ue.body hold them" in str(error)
    assert "Traceback" not in captured.stdout + captured.stderr
    # one line: the error; the page count drawn while it ran is taken away, not summed up
    assert "partial" not in captured.stdout and "\n" not in captured.stdout
    kept = shell.user_ns["x"]
    pages = shell.user_ns["_ue"]
    assert isinstance(pages, Pages) and pages.interrupted
    assert repr(pages).startswith("<Pages: ") and len(repr(pages)) < 200  # not the whole body
    assert 0 < len(kept["meters"]) < 250 and kept is pages.body
    assert pages.item_count == len(kept["meters"]) and pages.page_count in (1, 2)


def test_ctrl_c_during_one_call_is_one_line_and_o_keeps_its_value(
    shell: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    shell.user_ns["s"] = "before"
    target = tmp_path / "s.json"
    sandbox.set_latency(1.0)  # the answer takes a while: Ctrl-C lands while waiting for it
    timer = interrupt_after(0.3)
    try:
        with capture_output() as captured:
            result = shell.run_cell(f"%ue_call GET {TYPES} -o s --save {target}")
    finally:
        timer.cancel()
        sandbox.set_latency(0)
    error = result.error_in_exec
    assert isinstance(error, UsageError)  # an error reply: Run All stops
    assert str(error).startswith(
        f"Interrupted (Ctrl-C) while waiting for the answer to GET {TYPES}"
    )
    assert "-o s keeps its value" in str(error) and "was not written" in str(error)
    shown = captured.stdout + captured.stderr
    assert "Traceback" not in shown and "_client.py" not in shown and len(shown.splitlines()) <= 2
    assert shell.user_ns["s"] == "before" and not target.exists()
    assert shell.user_ns["_ue"] is None
    assert sandbox.issued_tokens and not any(
        token in shown + str(error) for token in sandbox.issued_tokens
    )
