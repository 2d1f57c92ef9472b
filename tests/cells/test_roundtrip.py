"""Hypothesis: whatever goes through {{name}} arrives at the sandbox unchanged (a real socket)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.utils.capture import capture_output

from ue_magic.sandbox import Sandbox

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
CELL = """POST /usage-metering/v1/meters
Content-Type: application/json

{"userId": "u", "meterKey": "{{key}}", "meterTypeId": "{{type_id}}",
 "customFields": {"value": {{value}}, "text": "{{text}}"}}"""


def same(a: Any, b: Any) -> bool:
    """Equal, with -0.0 == 0.0 and int/float kept apart as JSON keeps them."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_any_json_value_and_any_text_arrive_unchanged(ip: Any, sandbox: Sandbox) -> None:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    ip.user_ns["type_id"] = sandbox.seed_meters(0)
    counter = iter(range(10**6))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=JSON_VALUES, text=st.text())
    def round_trip(value: Any, text: str) -> None:
        ip.user_ns.update(value=value, text=text, key=f"k{next(counter)}")
        with capture_output():
            ip.run_cell_magic("ue_call", "-q -o created", CELL)
        stored = ip.user_ns["created"]["customFields"]
        assert same(stored["value"], value)
        assert stored["text"] == text

    round_trip()
