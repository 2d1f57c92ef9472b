"""A logged-in shell with a meter type of the test's own and five meters of it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"
TYPES = "/usage-metering/v1/meter-types"
USERS = [f"customer-{n}" for n in range(5)]
TYPE_BODY = (
    '{"name": "{{type_name}}", "unit": "calls", "aggregation": {"type": "sum"}, "capacity": 100,'
    ' "thresholds": [{"name": "half", "capacityPercentage": 50}]}'
)


def login(ip: Any) -> Any:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    return ip


def make_meters(ip: Any) -> None:
    """``type_id``: a new meter type (no reset schedule) with a meter for each of USERS."""
    ip.user_ns["type_name"] = f"frames-{uuid.uuid4().hex[:8]}"
    ip.user_ns["users"] = list(USERS)
    with capture_output():
        ip.run_cell_magic("ue_call", f"POST {TYPES} -o made_type -q", TYPE_BODY)
        ip.user_ns["type_id"] = ip.user_ns["made_type"]["id"]
        for user in USERS:  # one call each: made in this order (--each's workers may swap two)
            ip.user_ns["user"] = user
            ip.run_cell_magic(
                "ue_call",
                f"POST {METERS} -q",
                '{"userId": "{{user}}", "meterKey": "k", "meterTypeId": "{{type_id}}"}',
            )


@pytest.fixture
def shell(ip: Any, sandbox: Sandbox) -> Any:
    login(ip)
    make_meters(ip)
    sandbox.reset()  # counters from here on
    return ip


def call(shell: Any, line: str) -> Any:
    """The value of the line form, ``x = %ue_call line``, what it showed left aside."""
    with capture_output():
        return shell.run_line_magic("ue_call", line)


def api_requests(sandbox: Sandbox) -> int:
    return int(sandbox.counters()["api_requests"])
