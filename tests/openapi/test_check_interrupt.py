"""Ctrl-C while a big --each is checked against the API description: one line, nothing sent,
every item pending, and an error reply (Run All stops)."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.conftest import interrupt_after
from ue_magic.cells._bulk_report import BulkResult
from ue_magic.sandbox import Sandbox

BODY = '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "t-1"}'


def test_ctrl_c_during_the_body_check_is_one_line_and_every_item_is_pending(
    ip_openapi: Any, sandbox: Sandbox
) -> None:
    ip = ip_openapi
    ip.user_ns["users"] = [f"u{i}" for i in range(300_000)]  # checking takes seconds
    sandbox.reset()
    timer = interrupt_after(1.0)  # a real Ctrl-C
    try:
        with capture_output() as captured:
            result = ip.run_cell(
                f"%%ue_call POST /usage-metering/v1/meters --each users -q\n{BODY}"
            )
    finally:
        timer.cancel()
    error = result.error_in_exec
    assert isinstance(error, UsageError)  # an error reply: Run All stops
    assert str(error) == (
        "Interrupted while checking the items of --each users: nothing was sent; "
        "pending = _ue_bulk.pending holds all 300000."
    )
    assert "Traceback" not in captured.stdout + captured.stderr
    bulk = ip.user_ns["_ue_bulk"]
    assert isinstance(bulk, BulkResult) and bulk.interrupted
    assert len(bulk.pending) == 300_000 and bulk.pending[-1] == "u299999"
    assert sandbox.counters()["api_requests"] == 0
