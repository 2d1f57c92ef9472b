"""``unevaluatedProperties`` and ``unevaluatedItems`` under a bound: jsonschema finds what the
rest of the schema evaluated by walking it as a tree inside one keyword call, where the
deadline is not asked (break8 H4: 4**10 walks from 2.4 KB, 27-50 s a body). The bounds here
only guard against a hang."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import (
    HANG,
    METERS,
    doc,
    inline_body,
    login_with,
    post_body,
    within,
)
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)
KEYS = [f"k{i}" for i in range(4)]


def dependent_fan_out(levels: int) -> dict[str, Any]:
    """``S_i = {"dependentSchemas": {k0..k3: {"$ref": S_i+1}}}``, ``S0`` with
    ``unevaluatedProperties: false``: 4**levels walks for a body holding k0..k3."""
    schemas: dict[str, Any] = {}
    for i in range(levels):
        ref = {"$ref": f"#/components/schemas/S{i + 1}"}
        schemas[f"S{i}"] = {"dependentSchemas": {k: ref for k in KEYS}}
    schemas["S0"] = {"unevaluatedProperties": False, **schemas["S0"]}
    schemas[f"S{levels}"] = {"properties": {k: {} for k in KEYS}}
    return doc({METERS: post_body("#/components/schemas/S0")}, schemas)


def dry_run(ip: Any, body: Any) -> Any:
    line = f"POST {METERS} --dry-run"
    with capture_output():  # the dry run shows the whole body
        return within(HANG, lambda: ip.run_cell_magic("ue_call", line, json.dumps(body)))


def test_a_dependent_schemas_fan_out_goes_out_unchecked_with_one_warning(
    ip: Any, tmp_path: Path, sandbox: Sandbox
) -> None:
    source = login_with(ip, tmp_path, dependent_fan_out(10))  # 2.4 KB
    body = json.dumps(dict.fromkeys(KEYS, 1))
    for attempt in range(2):
        with capture_output() as captured:
            within(HANG, lambda: ip.run_cell_magic("ue_call", f"POST {METERS} -q --no-raise", body))
        if attempt == 0:
            assert "too complex to check" in captured.stderr and str(source) in captured.stderr
            assert "sent unchecked" in captured.stderr
        else:
            assert "too complex" not in captured.stderr  # once per login
    assert sandbox.counters()["by_route"] == {f"POST {METERS}": 2}


def test_a_dependent_schema_whose_name_the_body_lacks_is_not_walked(
    ip: Any, tmp_path: Path
) -> None:
    """The walk counted is the body's: a fan-out under a name the body does not hold costs
    nothing, and the schema is still checked."""
    description = dependent_fan_out(10)
    schemas = description["components"]["schemas"]
    schemas["S0"] = {
        "unevaluatedProperties": False,
        "properties": {"name": {"type": "string"}},
        "dependentSchemas": {"k0": {"$ref": "#/components/schemas/S1"}},
    }
    login_with(ip, tmp_path, description)
    dry_run(ip, {"name": "a"})
    with pytest.raises(UsageError, match="'extra' was unexpected"):
        dry_run(ip, {"name": "a", "extra": 1})


def test_unevaluated_properties_of_a_composed_schema_are_still_checked(
    ip: Any, tmp_path: Path
) -> None:
    schemas = {
        "A": {"properties": {"a": {"type": "integer"}}},
        "B": {"properties": {"b": {"type": "integer"}}},
        "Both": {
            "allOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}],
            "if": {"required": ["a"]},
            "then": {"properties": {"c": {}}},
            "unevaluatedProperties": False,
        },
    }
    login_with(ip, tmp_path, doc({METERS: post_body("#/components/schemas/Both")}, schemas))
    dry_run(ip, {"a": 1, "b": 2, "c": 3})
    with pytest.raises(UsageError, match="'c' was unexpected"):
        dry_run(ip, {"b": 2, "c": 3})
    with pytest.raises(UsageError, match="'d', 'e' were unexpected"):
        dry_run(ip, {"a": 1, "d": 4, "e": 5})


def test_unevaluated_items_are_still_checked(ip: Any, tmp_path: Path) -> None:
    schema = {"prefixItems": [{"type": "string"}], "unevaluatedItems": False}
    login_with(ip, tmp_path, doc({METERS: inline_body(schema)}))
    dry_run(ip, ["a"])
    with pytest.raises(UsageError, match="2 was unexpected"):
        dry_run(ip, ["a", 2])


def test_an_if_then_fan_out_of_unevaluated_items_goes_out_unchecked(
    ip: Any, tmp_path: Path, sandbox: Sandbox
) -> None:
    """``S_i = {"if": S_i+1, "then": S_i+1, "else": S_i+1}``: 3**n walks for unevaluatedItems."""
    schemas: dict[str, Any] = {}
    for i in range(14):
        ref = {"$ref": f"#/components/schemas/S{i + 1}"}
        schemas[f"S{i}"] = {"if": ref, "then": ref, "else": ref}
    schemas["S0"]["unevaluatedItems"] = False
    schemas["S14"] = {"prefixItems": [{}]}
    source = login_with(ip, tmp_path, doc({METERS: post_body("#/components/schemas/S0")}, schemas))
    with capture_output() as captured:
        within(HANG, lambda: ip.run_cell_magic("ue_call", f"POST {METERS} -q --no-raise", "[1]"))
    assert "too complex to check" in captured.stderr and str(source) in captured.stderr
    assert sandbox.counters()["by_route"] == {f"POST {METERS}": 1}


def test_a_long_array_under_unevaluated_items_is_checked_in_bounded_time(
    ip: Any, tmp_path: Path
) -> None:
    """jsonschema looked each index up in a list of the evaluated ones: n**2 / 2 steps."""
    schema = {"items": {"type": "integer"}, "unevaluatedItems": False}
    login_with(ip, tmp_path, doc({METERS: inline_body(schema)}))
    with capture_output():  # checked, or too complex to check within 0.5 s: not 26 s
        dry_run(ip, list(range(60_000)))
    with pytest.raises(UsageError, match="expected an integer"):
        dry_run(ip, [*range(1_000), "x"])
