"""A logged-in shell with a meter type; helpers to run --each and list what the sandbox made."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.utils.capture import capture_output

from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"
TEMPLATE = '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "{{type_id}}"}'


@pytest.fixture
def shell(ip: Any, sandbox: Sandbox) -> Any:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    ip.user_ns["type_id"] = sandbox.seed_meters(0)
    sandbox.reset()
    return ip


def run_each(shell: Any, line: str, cell: str = TEMPLATE) -> Any:
    """Run one --each cell; when it raises, the error carries what the cell printed (the
    failure table), which capture_output would otherwise swallow."""
    with capture_output() as captured:
        try:
            shell.run_cell_magic("ue_call", line, cell)
        except Exception as error:
            if hasattr(error, "add_note"):  # Python 3.11+; pytest prints notes with the error
                shown = captured.stdout + "".join(str(o.data) for o in captured.outputs)
                error.add_note(f"the cell printed:\n{shown[-4000:]}")
            raise
    return captured


def created(shell: Any) -> list[str]:
    """The userId of every meter of the test's meter type, as the sandbox holds them."""
    with capture_output():
        shell.run_line_magic(
            "ue_call",
            f"GET {METERS}?meterTypeId={{{{type_id}}}}&limit=1000 --all-pages -o _meters -q",
        )
    return [m["userId"] for m in shell.user_ns["_meters"]["meters"]]
