"""Pure parts of the sandbox: reset schedules, page tokens, token bodies, validators."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ue_magic.sandbox.errors import OAuthError, ValidationError
from ue_magic.sandbox.oauth import parse_token_body
from ue_magic.sandbox.paging import encode_token, paginate
from ue_magic.sandbox.schedule import next_reset, parse_field, previous_reset
from ue_magic.sandbox.validate import meter_fields, meter_type_fields

UTC = timezone.utc
MONTHLY = {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"}


@pytest.mark.parametrize(
    ("text", "name", "values"),
    [
        ("*", "hour", set(range(24))),
        ("*/15", "minute", {0, 15, 30, 45}),
        ("1-5", "weekday", {1, 2, 3, 4, 5}),
        ("7", "weekday", {0}),
        ("1,15", "day", {1, 15}),
        ("10-20/5", "minute", {10, 15, 20}),
        ("3/4", "month", {3, 7, 11}),
        ("L", "day", {-1}),
        ("1,L", "day", {1, -1}),
        ("L-2", "day", {-3}),
        ("?", "weekday", set(range(7))),
        ("MON-FRI", "weekday", {1, 2, 3, 4, 5}),
        ("jan,jul", "month", {1, 7}),
        ("FRI-MON", "weekday", {5, 6, 0, 1}),  # a range past the end wraps, as in Quartz
        ("22-2/2", "hour", {22, 0, 2}),
        ("15W", "day", {115}),
        ("LW", "day", {100}),
        ("MON#2", "weekday", {121}),
        ("5L", "weekday", {205}),
    ],
)
def test_parse_field(text: str, name: str, values: set[int]) -> None:
    assert parse_field(text, name) == values


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("60", "minute"),
        ("0", "day"),
        ("13", "month"),
        ("1-2-3", "hour"),
        ("", "hour"),
        ("*/0", "minute"),
        ("a", "day"),
        ("1-", "day"),
        ("٣", "day"),
        ("99999", "minute"),
        ("L", "hour"),
        ("L-31", "day"),
        ("1-15W", "day"),
        ("W", "day"),
        ("32W", "day"),
        ("MON#6", "weekday"),
        ("#2", "weekday"),
        ("8L", "weekday"),
        ("FOO", "month"),
        ("MON", "month"),
    ],
)
def test_parse_field_refuses(text: str, name: str) -> None:
    with pytest.raises(ValueError):
        parse_field(text, name)


@pytest.mark.parametrize(
    ("schedule", "zone", "after", "expected"),
    [
        (
            MONTHLY,
            "Etc/UTC",
            datetime(2024, 1, 15, 12, tzinfo=UTC),
            datetime(2024, 2, 1, tzinfo=UTC),
        ),
        (
            MONTHLY,
            "Etc/UTC",
            datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
            datetime(2024, 2, 1, tzinfo=UTC),
        ),
        (
            MONTHLY,
            "Europe/Stockholm",  # midnight in Stockholm is 23:00 UTC the day before (winter)
            datetime(2024, 1, 15, tzinfo=UTC),
            datetime(2024, 1, 31, 23, tzinfo=UTC),
        ),
        (
            {"day": "*", "hour": "6", "minute": "30", "month": "*", "weekday": "1"},  # Mondays
            "Etc/UTC",
            datetime(2024, 3, 6, tzinfo=UTC),  # a Wednesday
            datetime(2024, 3, 11, 6, 30, tzinfo=UTC),
        ),
        (
            {
                "day": "13",
                "hour": "0",
                "minute": "0",
                "month": "*",
                "weekday": "5",
            },  # 13th OR Friday
            "Etc/UTC",
            datetime(2024, 3, 9, tzinfo=UTC),  # Saturday; Wednesday the 13th comes first
            datetime(2024, 3, 13, tzinfo=UTC),
        ),
        (
            {"day": "29", "hour": "0", "minute": "0", "month": "2", "weekday": "*"},
            "Etc/UTC",
            datetime(2024, 3, 1, tzinfo=UTC),
            datetime(2028, 2, 29, tzinfo=UTC),
        ),
        (
            {"day": "L", "hour": "0", "minute": "0", "month": "*", "weekday": "*"},
            "Etc/UTC",
            datetime(2024, 2, 10, tzinfo=UTC),  # a leap year: the last day is the 29th
            datetime(2024, 2, 29, tzinfo=UTC),
        ),
        (
            {"day": "L", "hour": "23", "minute": "59", "month": "*", "weekday": "*"},
            "Etc/UTC",
            datetime(2023, 4, 30, 23, 59, tzinfo=UTC),  # just fired: next is May 31
            datetime(2023, 5, 31, 23, 59, tzinfo=UTC),
        ),
        (
            {"day": "15W", "hour": "0", "minute": "0", "month": "*", "weekday": "?"},
            "Etc/UTC",
            datetime(2026, 2, 1, tzinfo=UTC),  # the 15th is a Sunday: Monday the 16th
            datetime(2026, 2, 16, tzinfo=UTC),
        ),
        (
            {"day": "1W", "hour": "0", "minute": "0", "month": "*", "weekday": "?"},
            "Etc/UTC",
            datetime(2025, 10, 15, tzinfo=UTC),  # 1 Nov is a Saturday: Monday the 3rd, not Oct
            datetime(2025, 11, 3, tzinfo=UTC),
        ),
        (
            {"day": "LW", "hour": "0", "minute": "0", "month": "*", "weekday": "?"},
            "Etc/UTC",
            datetime(2026, 5, 1, tzinfo=UTC),  # 31 May is a Sunday: Friday the 29th
            datetime(2026, 5, 29, tzinfo=UTC),
        ),
        (
            {"day": "?", "hour": "0", "minute": "0", "month": "*", "weekday": "MON#2"},
            "Etc/UTC",
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2026, 12, 14, tzinfo=UTC),
        ),
        (
            {"day": "?", "hour": "0", "minute": "0", "month": "*", "weekday": "FRIL"},
            "Etc/UTC",
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2026, 12, 25, tzinfo=UTC),
        ),
        (
            {"day": "*", "hour": "0", "minute": "0", "month": "*", "weekday": "FRI-MON"},
            "Etc/UTC",
            datetime(2026, 12, 1, 1, tzinfo=UTC),  # a Tuesday
            datetime(2026, 12, 4, tzinfo=UTC),
        ),
        (
            {"day": "L-1", "hour": "0", "minute": "0", "month": "FEB", "weekday": "?"},
            "Etc/UTC",
            datetime(2023, 1, 1, tzinfo=UTC),
            datetime(2023, 2, 27, tzinfo=UTC),
        ),
    ],
)
def test_next_reset(
    schedule: dict[str, str], zone: str, after: datetime, expected: datetime
) -> None:
    assert next_reset(schedule, zone, after) == expected


def test_next_reset_that_never_comes() -> None:
    never = {"day": "31", "hour": "0", "minute": "0", "month": "2", "weekday": "*"}
    assert next_reset(never, "Etc/UTC", datetime(2024, 1, 1, tzinfo=UTC)) is None


def test_paginate() -> None:
    items = list(range(7))
    assert paginate(items, {}, None) == (items, None)
    assert paginate(items, {"limit": "3"}, None) == ([0, 1, 2], encode_token(3))
    assert paginate(items, {"pageToken": encode_token(3)}, 3) == ([3, 4, 5], encode_token(6))
    assert paginate(items, {"pageToken": encode_token(6)}, 3) == ([6], None)
    assert paginate(items, {"pageToken": encode_token(99)}, None) == ([], None)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/x-www-form-urlencoded", b"a=1&b=x%20y", {"a": "1", "b": "x y"}),
        ("application/x-www-form-urlencoded; charset=UTF-8", b"a=%C3%A9", {"a": "é"}),
        ("application/json", b'{"a": "1", "b": null}', {"a": "1"}),
        ("application/vnd.api+json", b'{"a": "1"}', {"a": "1"}),
        ("", b'  {"a": "1"}', {"a": "1"}),
        ("", b"a=1", {"a": "1"}),
        ("application/x-www-form-urlencoded", b"", {}),
    ],
)
def test_parse_token_body(content_type: str, body: bytes, expected: dict[str, str]) -> None:
    assert parse_token_body(content_type, body) == expected


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=90),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=20,
)
TYPE_KEYS = st.sampled_from(
    ["name", "description", "unit", "category", "aggregation", "resetSchedule", "timezone",
     "capacity", "thresholds", "externalRef", "activeFrom", "activeTo", "type", "day",
     "hour", "minute", "month", "weekday", "capacityPercentage", "absoluteValue",
     "customFields", "userId", "meterKey", "meterTypeId", "deleteOnReset"]
)  # fmt: skip
PLAUSIBLE = st.recursive(
    JSON,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(TYPE_KEYS, children, max_size=8)
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(PLAUSIBLE)
def test_validators_only_ever_raise_validation_errors(body: Any) -> None:
    for validate in (meter_type_fields, meter_fields):
        try:
            fields = validate(body)
        except ValidationError as exc:
            assert exc.field and exc.message
        else:
            json.dumps(fields, allow_nan=False)  # what is accepted can be answered


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["", "application/json", "application/x-www-form-urlencoded", "text/plain"]),
    st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()),
)
def test_token_body_parser_only_ever_raises_oauth_errors(content_type: str, body: bytes) -> None:
    try:
        fields = parse_token_body(content_type, body)
    except OAuthError as exc:
        assert exc.status == 400 and exc.error == "invalid_request"
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@pytest.mark.parametrize(
    ("schedule", "zone", "at", "expected"),
    [
        (MONTHLY, "Etc/UTC", datetime(2024, 3, 15, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        (MONTHLY, "Etc/UTC", datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        (
            {"day": "L", "hour": "23", "minute": "59", "month": "*", "weekday": "*"},
            "Europe/Stockholm",  # 23:59 in Stockholm on 29 Feb 2024 is 22:59 UTC
            datetime(2024, 3, 10, tzinfo=UTC),
            datetime(2024, 2, 29, 22, 59, tzinfo=UTC),
        ),
        (
            {"day": "29", "hour": "0", "minute": "0", "month": "2", "weekday": "*"},
            "Etc/UTC",
            datetime(2027, 6, 1, tzinfo=UTC),
            datetime(2024, 2, 29, tzinfo=UTC),
        ),
    ],
)
def test_previous_reset(
    schedule: dict[str, str], zone: str, at: datetime, expected: datetime
) -> None:
    assert previous_reset(schedule, zone, at) == expected


def test_resets_past_the_calendar_are_none() -> None:
    assert next_reset(MONTHLY, "Etc/UTC", datetime(9999, 12, 2, tzinfo=UTC)) is None
    second = {**MONTHLY, "day": "2"}
    assert previous_reset(second, "Etc/UTC", datetime(1, 1, 1, 12, tzinfo=UTC)) is None
