"""A body holding an integer of over Python's 4,300 digits is valid JSON: the sandbox refuses it
(as an API may: it reads numbers of a bounded length) with that reason, not Python's own words
about ``sys.set_int_max_str_digits`` under "invalid JSON"."""

from __future__ import annotations

from ue_magic.sandbox import Sandbox

from .api_helpers import client_for, get_token

TYPES = "/usage-metering/v1/meter-types"


def test_an_integer_over_the_digit_limit_is_refused_with_the_true_reason(
    sandbox: Sandbox,
) -> None:
    content = b'{"name": "n", "unit": "u", "aggregation": {"type": "sum"}, "x": 1' + b"0" * 5000
    with client_for(sandbox, get_token(sandbox)) as api:
        response = api.post(TYPES, content=content + b"}")
    assert response.status_code == 400 and response.json() == {
        "error": "invalid_json",
        "message": "the body holds an integer of over 4,300 digits; this API reads fewer",
    }
