"""%ue_api prints a bounded amount, in text and HTML, whatever the description holds: at most
MAX_ROWS operations (the note says how many were left out and how to see them) and an example
body of at most MAX_EXAMPLE characters (a 4 MB description printed 6 MB of text and 6 MB of
HTML; 300,000 operations, 300,001 lines and 17.7 MB of HTML)."""

from __future__ import annotations

from typing import Any

from ue_magic.cells.openapi import api_view, load_description
from ue_magic.cells.openapi._outline import MAX_EXAMPLE, MAX_ROWS, MAX_TEXT


def spec(paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}


def test_the_table_shows_at_most_max_rows_and_says_how_to_see_the_rest() -> None:
    count = MAX_ROWS * 3
    paths = {f"/x/a{i:05d}": {"get": {"summary": "s"}} for i in range(count)}
    table = api_view(load_description(spec(paths)), [])
    text, page = repr(table), table._repr_html_()
    assert len(table.operations) == count  # the value holds them all
    assert text.count("/x/a") == MAX_ROWS and page.count("<tr><td>") == MAX_ROWS
    for shown in (" ".join(text.split()), page):  # the text's note is wrapped to the width
        assert f"{count:,} operations" in shown and f"The first {MAX_ROWS:,} are shown" in shown
        assert "add words to filter" in shown
    assert f"/x/a{MAX_ROWS - 1:05d}" in text and f"/x/a{MAX_ROWS:05d}" not in text
    few = api_view(load_description(spec(paths)), ["a00007"])
    assert "are shown" not in repr(few) and repr(few).count("/x/a") == 1


def test_a_huge_example_is_left_out_of_the_example_cell() -> None:
    example = [7] * (MAX_EXAMPLE // 2)
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "array", "items": {"type": "integer"}, "example": example}},
    }
    body = {"content": {"application/json": {"schema": schema}}}
    answers = {"200": {"description": "ok " * MAX_TEXT}}
    paths = {
        "/x": {"post": {"summary": "s" * (MAX_TEXT * 3), "requestBody": body, "responses": answers}}
    }
    view = api_view(load_description(spec(paths)), ["POST", "/x"])
    text, page = repr(view), view._repr_html_()
    assert len(text) < MAX_EXAMPLE and len(page) < MAX_EXAMPLE
    assert "over the 20,000 characters shown" in text and "schema in the description" in text
    assert text.rstrip().endswith("%%ue_call POST /x\n  {}")
    small = {**schema, "properties": {"a": {**schema["properties"]["a"], "example": [7, 8]}}}
    paths["/x"]["post"]["requestBody"] = {"content": {"application/json": {"schema": small}}}
    shown = repr(api_view(load_description(spec(paths)), ["POST", "/x"]))
    assert '"a": [7, 8]' in shown.replace("\n", "").replace("  ", "")


def test_a_huge_example_is_not_checked_before_it_is_left_out(monkeypatch: Any) -> None:
    # a schema's example of 400,000 items was checked and fixed 20 times (1.2 s) for a text
    # that is then not shown
    from ue_magic.cells.openapi import _example

    def no_fixing(*args: Any) -> Any:
        raise AssertionError("checked an example that is not shown")

    monkeypatch.setattr(_example, "_fixed", no_fixing)
    example = {"a": 0, "big": list(range(400_000))}
    schema = {"type": "object", "example": example, "properties": {"a": {"type": "string"}}}
    body = {"content": {"application/json": {"schema": schema}}}
    paths = {"/x": {"post": {"requestBody": body, "responses": {"201": {"description": ""}}}}}
    view = api_view(load_description(spec(paths)), ["POST", "/x"])
    assert "over the 20,000 characters shown" in repr(view)
