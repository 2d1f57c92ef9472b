"""The DataFrame rules themselves, on plain values (no server): which list, which columns,
which datetimes, and what is refused."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest

from ue_magic.cells._bulk_report import BulkFailure, BulkResult
from ue_magic.cells.frame import as_frame, records_of
from ue_magic.errors import UsageEngineError

METERS = [
    {"id": "m1", "aggregation": {"type": "sum"}, "thresholds": [{"name": "t"}], "value": 1},
    {"id": "m2", "aggregation": {"type": "max"}, "thresholds": [], "value": 2},
]


@pytest.mark.parametrize(
    ("body", "key", "rows"),
    [
        (METERS, None, 2),
        ({"meters": METERS, "nextPageToken": "x"}, "meters", 2),
        ({"count": 0, "meters": []}, "meters", 0),
        ([], None, 0),
    ],
    ids=["top-level", "inside-an-object", "empty-inside", "empty-top-level"],
)
def test_the_list_is_found_as_table_finds_it(body: Any, key: str | None, rows: int) -> None:
    found = records_of(body)
    assert found is not None and found[0] == key and len(found[1]) == rows


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"id": "t1", "name": "x", "thresholds": [{"name": "a"}]}, "an object with the keys id"),
        (["a", "b"], "a list of 2 values (strings), not all objects"),
        ([{"a": 1}, 2], "a list of 2 values (numbers, objects), not all objects"),
        ("hello", "text (5 characters)"),
        (b"\x00\x01", "2 bytes of binary data"),
        (None, "an empty body"),
        ({}, "an empty object"),
        (3, "the JSON value 3"),
    ],
    ids=["one-record", "strings", "mixed", "text", "bytes", "empty", "empty-object", "number"],
)
def test_an_answer_without_a_list_says_what_it_is(body: Any, said: str) -> None:
    """One record's list (a meter type's thresholds) is not the answer's list."""
    with pytest.raises(UsageEngineError, match="--df needs a list of objects") as raised:
        as_frame(body)
    assert said in str(raised.value) and "the answer is in _ue" in str(raised.value)
    assert as_frame(body, strict=False) == (body, [])  # the setting: the answer as it is


def test_nested_objects_are_dotted_columns_where_their_parent_was() -> None:
    frame, notes = as_frame(METERS)
    assert list(frame.columns) == ["id", "aggregation.type", "thresholds", "value"]
    assert frame["aggregation.type"].tolist() == ["sum", "max"]
    assert frame["thresholds"].tolist() == [[{"name": "t"}], []]  # lists stay in their cells
    assert notes == []


def test_columns_pick_in_order_a_parent_picks_its_nested_columns() -> None:
    frame, notes = as_frame(METERS, columns=["value", "aggregation", "id"])
    assert list(frame.columns) == ["value", "aggregation.type", "id"]
    assert notes == []


def test_a_column_no_row_has_is_empty_and_named_in_a_note() -> None:
    frame, notes = as_frame(METERS, columns=["id", "vlaue"])
    assert list(frame.columns) == ["id", "vlaue"] and frame["vlaue"].isna().all()
    assert len(notes) == 1 and "`vlaue`" in notes[0] and "id, aggregation.type" in notes[0]


def test_an_empty_list_has_the_columns_asked_for() -> None:
    """An account with no meters still gets the columns a notebook goes on to use."""
    frame, notes = as_frame({"meters": []}, columns=["id", "value"])
    assert list(frame.columns) == ["id", "value"] and len(frame) == 0 and notes == []


STAMPS = ["2026-12-07T10:00:00Z", "2026-12-07T12:30:00.5+02:00"]


@pytest.mark.parametrize(
    ("values", "converted"),
    [
        (STAMPS, True),
        ([*STAMPS, None], True),
        (["2026-12-07", "2026-12-08"], False),  # a date alone is not a date-time
        (["2026-12-07T10:00:00", "2026-12-07T11:00:00"], False),  # no offset: zone unknown
        ([STAMPS[0], "soon"], False),  # never half-converted
        (["20261207", "20261208"], False),
        ([None, None], False),
    ],
    ids=["offsets", "with-null", "dates", "no-offset", "one-not", "digits", "all-null"],
)
def test_a_column_of_rfc3339_date_times_becomes_utc_datetimes(
    values: list[Any], converted: bool
) -> None:
    frame, _ = as_frame([{"at": value} for value in values])
    assert isinstance(frame["at"].dtype, pd.DatetimeTZDtype) is converted
    if converted:
        assert frame["at"][1] == pd.Timestamp("2026-12-07T10:30:00.5Z")
        assert str(frame["at"].dt.tz) == "UTC"


def test_a_field_the_description_declares_is_a_datetime_without_values_or_offsets() -> None:
    rows = {"meters": [{"end": None, "start": "2026-12-07T10:00:00"}, {"end": None}]}
    frame, _ = as_frame(rows, declared=lambda key: {"end", "start"} if key == "meters" else ())
    assert isinstance(frame["end"].dtype, pd.DatetimeTZDtype) and frame["end"].isna().all()
    assert frame["start"][0] == pd.Timestamp("2026-12-07T10:00:00Z")  # no offset: UTC
    bad, _ = as_frame([{"end": "later"}], declared=lambda key: {"end"})
    assert bad["end"].tolist() == ["later"]  # declared, but not a date-time: left as it is


def test_the_bulk_frame_names_item_fields_and_keeps_its_own_columns_apart() -> None:
    items = [{"user": "a", "plan": "x"}, {"user": "b", "plan": "y"}, {"user": "c", "plan": "z"}]
    result = BulkResult(items, ["user"], keep_results=True)
    result.record_ok(0, {"id": "m1", "status": "active", "createdAt": STAMPS[0]}, 201)
    answer = httpx.Response(409, json={"error": "conflict", "message": "exists"})
    failure = BulkFailure(1, items[1], 409, "exists", answer.json(), answer)
    result.record_failure(failure, None)
    result.record_not_sent(2, "interrupted")
    frame = result.to_frame()
    assert list(frame.columns) == [
        "item.user",
        "outcome",
        "status",
        "why",
        "id",
        "body.status",  # the body's own "status" is not the run's
        "createdAt",
        "error",
        "message",
    ]
    assert frame["item.user"].tolist() == ["a", "b", "c"]
    assert frame["outcome"].tolist() == ["ok", "failed", "not sent"]
    assert frame["status"].tolist() == [201, 409, pd.NA]
    assert frame["why"].tolist() == [None, None, "interrupted"]
    assert frame["message"].tolist()[1] == "exists" and frame["id"].tolist()[0] == "m1"
    assert isinstance(frame["createdAt"].dtype, pd.DatetimeTZDtype)


def test_the_bulk_frame_of_whole_items() -> None:
    """Items the template used whole: a text is the `item` column, an object its fields."""
    texts = BulkResult(["a", "b"], keep_results=True)
    texts.record_ok(0, ["not", "an", "object"], 200)
    texts.record_ok(1, None, 204)
    frame = texts.to_frame()
    assert frame["item"].tolist() == ["a", "b"]
    assert frame["body"].tolist() == [["not", "an", "object"], None]
    objects = BulkResult([{"user": "a", "plan": {"tier": 1}}])
    assert list(objects.to_frame().columns)[:2] == ["item.user", "item.plan.tier"]


def test_a_literal_dotted_key_and_a_nested_field_keep_both_values() -> None:
    """customFields keys are the users': a key ``a.b`` beside ``a: {b}`` loses neither value."""
    frame, notes = as_frame([{"a.b": 1, "a": {"b": 2}}, {"c": {"x.y": 3, "x": {"y": 4}}}])
    assert frame["a.b (key)"].tolist()[0] == 1 and frame["a.b"].tolist()[0] == 2
    assert frame["c.x.y (key)"].tolist()[1] == 3 and frame["c.x.y"].tolist()[1] == 4
    assert any("`a.b (key)`" in note for note in notes)
    plain, none = as_frame([{"a.b": 1, "c": {"d": 2}}])  # no clash: the names as they are
    assert list(plain.columns) == ["a.b", "c.d"] and none == []


def test_of_several_lists_a_note_says_which_one_the_rows_are() -> None:
    frame, notes = as_frame({"items": [{"id": "1"}], "meters": [{"id": "2"}, {"id": "3"}]})
    assert frame["id"].tolist() == ["1"]
    assert len(notes) == 1 and "`items`" in notes[0] and "`meters`" in notes[0]
    assert as_frame({"meters": [{"id": "2"}], "next": None})[1] == []


def test_id_like_columns_stay_text_and_every_datetime_has_one_unit() -> None:
    stamp = "2026-12-07T10:00:00Z"
    frame, _ = as_frame([{"id": stamp, "meterId": stamp, "t": stamp, "none": None}])
    assert frame["id"].tolist() == [stamp] and frame["meterId"].tolist() == [stamp]
    nulls, _ = as_frame([{"t": stamp, "periodStart": None}], declared=lambda key: {"periodStart"})
    assert str(nulls["t"].dtype) == str(nulls["periodStart"].dtype) == "datetime64[us, UTC]"
