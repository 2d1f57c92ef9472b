"""A body check's error stays short however deep the value or long the key: the JSON path keeps
its start and end around ``…`` and says how deep it is, and the quoted line of the cell is a
window around the value (a 300-deep body gave one line of over 600 characters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import METERS, doc, inline_body, login_with
from ue_magic.cells.openapi._validate import json_path
from ue_magic.sandbox import Sandbox

DEPTH = 300


def deep_schema(depth: int, key: str) -> Any:
    schema: Any = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {key: schema}}
    return schema


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        (["thresholds", 0, "name"], "$.thresholds[0].name"),
        (["a"] * 30, "$" + ".a" * 30),
        (["a"] * DEPTH, "$" + ".a" * 19 + "…" + ".a" * 20 + " (300 levels)"),
        ([0] * DEPTH, "$" + "[0]" * 13 + "…" + "[0]" * 13 + " (300 levels)"),
        (["k" * 100, 3], '$["' + "k" * 40 + '…"][3]'),
    ],
    ids=["short", "30-deep", "300-deep", "300-deep-lists", "long-key"],
)
def test_json_path_keeps_start_and_end(location: list[Any], shown: str) -> None:
    assert json_path(location) == shown


@pytest.mark.parametrize("key", ["a", "k" * 200], ids=["300-deep", "300-deep-long-keys"])
def test_the_error_for_a_deep_body_is_short(
    ip: Any, tmp_path: Path, sandbox: Sandbox, key: str
) -> None:
    login_with(ip, tmp_path, doc({METERS: inline_body(deep_schema(DEPTH, key))}))
    body = f'{{"{key}":' * DEPTH + "1" + "}" * DEPTH
    with capture_output(), pytest.raises(UsageError) as info:
        ip.run_cell_magic("ue_call", f"POST {METERS}", body)
    first, quoted, caret = str(info.value).split("\n")
    assert "(300 levels): expected a string, got an integer" in first and len(first) < 250
    assert len(quoted) < 100 and len(caret) < 100
    assert quoted[len(caret) - 1] == "1"  # the caret still points at the value
    assert sandbox.counters()["by_route"] == {}  # nothing was sent
