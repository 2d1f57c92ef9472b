"""Terminal controls in a description's words reach no warning raw (issue 22, break2 f17): the
closest-operation hint and the load warnings (a ``$ref`` text) show them as escapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import doc, login_with, post_body
from ue_magic.cells.openapi import Operation, OperationIndex

EVIL = "E\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202eX"
RAW = ("\x1b", "\x07", "\u202e")
METERS = "/usage-metering/v1/meters"


def test_the_closest_operation_is_named_with_escapes() -> None:
    index = OperationIndex([Operation("GET", METERS + EVIL)])
    said = index.closest("GET", "/usage-metering/v1/meterz", hint=True)
    assert not any(c in said for c in RAW)
    assert "closest: GET /usage-metering/v1/metersE\\x1b]52" in said


def test_a_dangling_ref_is_warned_about_with_escapes(ip: Any, tmp_path: Path) -> None:
    description = doc(
        {METERS: post_body("#/components/schemas/A")},
        {"A": {"$ref": "#/components/schemas/" + EVIL}},
    )
    with capture_output() as captured:
        login_with(ip, tmp_path, description)
        ip.run_cell_magic("ue_call", f"--dry-run POST {METERS}", '{"k": "a"}')
    assert "API description not used" in captured.stderr
    assert "E\\x1b]52" in captured.stderr
    assert not any(c in captured.stderr + captured.stdout for c in RAW)


def test_reload_names_the_description_with_escapes(ip: Any, tmp_path: Path) -> None:
    # the description's own "openapi" field is in the line --reload prints
    login_with(ip, tmp_path, doc({METERS: post_body("#/components/schemas/A")}, {"A": {}}))
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "openapi": "3.1.0" + EVIL}))
    with capture_output() as captured:
        ip.run_line_magic("ue_api", "--reload")
    assert "(OpenAPI 3.1.0E\\x1b]52" in captured.stdout
    assert not any(c in captured.stderr + captured.stdout for c in RAW)
