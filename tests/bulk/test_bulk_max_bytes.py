"""``--max-bytes`` holds for every answer of a ``--each`` run, as for one call (it was ignored:
each item kept up to the 100 MiB default). An ok answer over it was still done by the server:
it counts as ok, its body is not read (None in ``-o``), and it is never pending, so
``--each pending`` cannot make it twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.bulk.conftest import run_each
from ue_magic.sandbox import Sandbox

TYPES = "/usage-metering/v1/meter-types"
BODY = '{"name": "{{item}}", "unit": "calls", "aggregation": {"type": "sum"}}'


def test_ok_answers_over_max_bytes_are_done_and_not_read(
    shell: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    shell.user_ns["names"] = ["big-1", "big-2", "big-3"]
    save = tmp_path / "run.jsonl"
    captured = run_each(
        shell, f"POST {TYPES} --each names --max-bytes 50 -o made --save {save}", BODY
    )
    bulk = shell.user_ns["_ue_bulk"]
    assert sandbox.counters()["by_route"][f"POST {TYPES}"] == 3
    assert len(bulk.ok) == 3 and bulk.failed == [] and list(bulk.pending) == []
    assert shell.user_ns["made"] == [None, None, None]
    shown = captured.stdout + "".join(str(o.data) for o in captured.outputs)
    assert "3 answered 2xx (done) but their bodies were not read" in shown
    lines = [json.loads(line) for line in save.read_text("utf-8").splitlines()]
    assert [(line["outcome"], line["status"]) for line in lines] == [("ok", 201)] * 3
    assert all("more than 50 bytes" in line["why"] for line in lines)


def test_answers_under_max_bytes_are_read(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["names"] = ["small-1", "small-2"]
    run_each(shell, f"POST {TYPES} --each names --max-bytes 100000 -o made", BODY)
    assert [m["name"] for m in shell.user_ns["made"]] == ["small-1", "small-2"]
    assert shell.user_ns["_ue_bulk"].unread == 0
