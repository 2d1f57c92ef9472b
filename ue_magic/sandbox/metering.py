"""What the service's Meter processor does to a meter, as pure functions on meter records.

A usage record adds to a meter by the meter's aggregation: `sum` adds the value, `increment`
counts records (the value is ignored), `minimum` and `maximum` keep the smallest or largest value
seen in the period (the first record of a period sets it). A threshold gains `reachedAt` (the
record's time) the first time the value reaches its limit: `absoluteValue`, or
`capacityPercentage` percent of `capacity`. At `periodEnd` the meter resets: value 0, thresholds
without `reachedAt`, the period moves on to the schedule's next reset (or, with `deleteOnReset`,
the meter is deleted). Records whose time falls before the current period are late and skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import ValidationError
from .schedule import next_reset, previous_reset
from .timefmt import format_ts, parse_ts
from .validate import (
    MAX_CATEGORY,
    MAX_METER_KEY,
    MAX_METER_TYPE_ID,
    MAX_TIMESTAMP,
    MAX_USER_ID,
    is_number,
)

Record = dict[str, Any]
MAX_RECORDS = 100_000


@dataclass(frozen=True)
class Usage:
    """One usage record, checked: which meters it is for, its value and its time."""

    value: float | None
    timestamp: datetime | None
    user_id: str | None = None
    meter_key: str | None = None
    meter_id: str | None = None
    meter_type_id: str | None = None
    category: str | None = None  # the Meter processor's guiding rules match a category


def parse_usage(body: object) -> list[Usage]:
    """`{"records": [...]}`, a list of records, or one record -> checked Usage (ValidationError)."""
    if isinstance(body, dict) and "records" in body:
        body = body["records"]
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ValidationError("records", "records must hold at least one usage record")
    if len(items) > MAX_RECORDS:
        raise ValidationError("records", f"at most {MAX_RECORDS} usage records at a time")
    return [_usage(item, f"records[{i}]") for i, item in enumerate(items)]


def _usage(item: object, where: str) -> Usage:
    if not isinstance(item, dict):
        raise ValidationError(where, f"{where} must be a JSON object")
    strings = {}
    for name, limit in (
        ("userId", MAX_USER_ID),
        ("meterKey", MAX_METER_KEY),
        ("meterId", MAX_METER_TYPE_ID),
        ("meterTypeId", MAX_METER_TYPE_ID),
        ("category", MAX_CATEGORY),
    ):
        value = item.get(name)
        if (
            name in ("userId", "meterKey")
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            value = str(value)  # the printing example's printerId is a number: matched as text
        if value is not None and (not isinstance(value, str) or not value or len(value) > limit):
            raise ValidationError(
                f"{where}.{name}", f"{where}.{name} must be a string of 1 to {limit} characters"
            )
        strings[name] = value
    if strings["meterId"] is None and (strings["userId"] is None or strings["meterKey"] is None):
        raise ValidationError(where, f"{where} needs meterId, or userId and meterKey")
    value = item.get("value")
    if value is not None and not is_number(value):
        raise ValidationError(f"{where}.value", f"{where}.value must be a number")
    return Usage(
        value=value,
        timestamp=_timestamp(item.get("timestamp"), f"{where}.timestamp"),
        user_id=strings["userId"],
        meter_key=strings["meterKey"],
        meter_id=strings["meterId"],
        meter_type_id=strings["meterTypeId"],
        category=strings["category"],
    )


def _timestamp(value: object, where: str) -> datetime | None:
    """ISO 8601 text or epoch milliseconds, as the Meter processor accepts."""
    if value is None:
        return None
    message = f"{where} must be ISO 8601 text or epoch milliseconds"
    if is_number(value):
        assert isinstance(value, (int, float))
        try:
            return datetime.fromtimestamp(value / 1000, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValidationError(where, message) from None
    if not isinstance(value, str) or len(value) > MAX_TIMESTAMP:
        raise ValidationError(where, message)
    try:
        return parse_ts(value)
    except ValueError:
        raise ValidationError(where, message) from None


def limit_of(threshold: Mapping[str, Any], capacity: float | None) -> float | None:
    if threshold.get("absoluteValue") is not None:
        return float(threshold["absoluteValue"])
    percent = threshold.get("capacityPercentage")
    if percent is None or capacity is None:
        return None
    return float(capacity) * float(percent) / 100


def keep_reached(
    old: list[Record], old_capacity: float | None, new: list[Record], new_capacity: float | None
) -> list[Record]:
    """Thresholds after a meter update: one that stays the same (name and limit) keeps its
    `reachedAt`, so an update that only sets deleteOnReset does not make it fire again."""
    reached = {
        (t["name"], limit_of(t, old_capacity)): t["reachedAt"] for t in old if "reachedAt" in t
    }
    kept = []
    for threshold in new:
        stamp = reached.get((threshold["name"], limit_of(threshold, new_capacity)))
        kept.append({**threshold, "reachedAt": stamp} if stamp else threshold)
    return kept


def apply(meter: Record, usage: Usage, at: datetime, first_in_period: bool) -> Record:
    """The meter after one record (a new dict); ValidationError if the value is missing."""
    kind = meter["aggregation"]["type"]
    if kind == "increment":
        value = meter["value"] + 1
    elif usage.value is None:
        raise ValidationError("value", f"a record for a {kind} meter needs a value")
    elif kind == "sum":
        value = meter["value"] + usage.value
    elif first_in_period:
        value = usage.value
    elif kind == "minimum":
        value = min(meter["value"], usage.value)
    else:
        value = max(meter["value"], usage.value)
    stamp = format_ts(at)
    thresholds = []
    for threshold in meter["thresholds"]:
        limit = limit_of(threshold, meter["capacity"])
        if "reachedAt" not in threshold and limit is not None and value >= limit:
            threshold = {**threshold, "reachedAt": stamp}
        thresholds.append(threshold)
    return {**meter, "value": value, "thresholds": thresholds, "updatedAt": stamp}


def reset(meter: Record, now: datetime) -> Record | None:
    """The meter after every reset due by `now`, or None if one of them deletes it."""
    end_text = meter["periodEnd"]
    if end_text is None or parse_ts(end_text) > now:
        return meter
    if meter["deleteOnReset"]:
        return None
    # the period `now` falls in, found directly: stepping through every period in between
    # would take a per-minute schedule millions of steps when the clock jumps years ahead
    schedule, zone = meter["resetSchedule"], meter["timezone"]
    ended = parse_ts(end_text)
    start = max(ended, previous_reset(schedule, zone, now) or ended)
    end = next_reset(schedule, zone, start)
    while end is not None and end <= now:  # a DST fold can leave one period behind
        start, end = end, next_reset(schedule, zone, end)
    thresholds = [{k: v for k, v in t.items() if k != "reachedAt"} for t in meter["thresholds"]]
    return {
        **meter,
        "value": 0,
        "thresholds": thresholds,
        "periodStart": format_ts(start),
        "periodEnd": format_ts(end) if end else None,
        "updatedAt": format_ts(start),
    }
