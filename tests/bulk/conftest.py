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
    with capture_output() as captured:
        shell.run_cell_magic("ue_call", line, cell)
    return captured


def created(shell: Any) -> list[str]:
    """The userId of every meter of the test's meter type, as the sandbox holds them."""
    with capture_output():
        shell.run_line_magic(
            "ue_call",
            f"GET {METERS}?meterTypeId={{{{type_id}}}}&limit=1000 --all-pages -o _meters -q",
        )
    return [m["userId"] for m in shell.user_ns["_meters"]["meters"]]
