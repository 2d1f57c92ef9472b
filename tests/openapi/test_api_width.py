"""%ue_api's text fits the terminal, as every other text form does (COLUMNS, or 80)."""

from __future__ import annotations

import pytest

from tests.openapi.conftest import SANDBOX_31
from ue_magic.cells.openapi import api_view, load_description


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_the_operation_table_fits_the_width(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    table = api_view(load_description(SANDBOX_31), [])
    lines = repr(table).split("\n")
    assert max(len(line) for line in lines) <= columns
    assert all(line.split()[0] in ("GET", "POST", "PUT", "PATCH", "DELETE") for line in lines[:-2])
    create = next(line for line in lines if "POST    /usage-metering/v1/meters " in line)
    assert create.startswith("POST    /usage-metering/v1/meters")
    if columns >= 80:
        assert create.rstrip().endswith("create:meters")  # the scopes stay whole


def test_a_wide_terminal_shows_whole_summaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    table = api_view(load_description(SANDBOX_31), [])
    text = repr(table)
    assert "…" not in text
    for operation in table.operations:
        assert operation.summary in text
