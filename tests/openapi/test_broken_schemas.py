"""A description whose schemas are broken (a wrong type name, a bad pattern, a loop): calls go
on, unchecked, with one warning; %ue_api says so in a sentence; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.sandbox import Sandbox

TYPES = "/usage-metering/v1/meter-types"
GOOD_BODY = '{"name": "n", "unit": "u", "aggregation": {"type": "sum"}}'

BROKEN_SCHEMAS = {
    "unknown type": {"type": "objekt"},
    "enum not a list": {"type": "object", "properties": {"name": {"enum": 5}}},
    "required not a list": {"type": "object", "required": True},
    "properties not an object": {"type": "object", "properties": [1, 2]},
    "bad pattern": {"type": "object", "properties": {"name": {"type": "string", "pattern": "(("}}},
    "allOf loop": {"allOf": [{"$ref": "#/components/schemas/Type"}]},
}


def description(schema: dict[str, Any]) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Type"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "broken", "version": "1"},
        "paths": {
            TYPES: {"post": {"requestBody": body, "responses": {"201": {"description": "ok"}}}}
        },
        "components": {"schemas": {"Type": schema}},
    }


@pytest.fixture(params=sorted(BROKEN_SCHEMAS))
def ip_broken(request: Any, ip: Any, tmp_path: Path) -> Any:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(description(BROKEN_SCHEMAS[request.param])))
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    return ip


def test_a_call_goes_out_unchecked_with_one_warning(ip_broken: Any, sandbox: Sandbox) -> None:
    for _ in range(2):
        with capture_output() as captured:
            ip_broken.run_cell_magic("ue_call", f"POST {TYPES} -q --no-raise", GOOD_BODY)
        if _ == 0:
            first = captured.stderr
    assert "cannot check the body of POST " + TYPES in first
    assert "sent unchecked" in first and "Traceback" not in first
    assert "cannot check" not in captured.stderr  # said once per login
    assert int(sandbox.counters()["api_requests"]) == 2


def test_api_shows_the_operation_or_says_what_is_broken(ip_broken: Any) -> None:
    try:
        view = ip_broken.run_line_magic("ue_api", f"POST {TYPES}")
    except UsageError as error:
        assert f"POST {TYPES}" in str(error) and "broken" in str(error)
        assert "\n" not in str(error)
    else:
        assert repr(view).startswith(f"POST {TYPES}")
