"""Pure checks of request bodies: a body in, the fields to store out, or a ValidationError.

Documented rules: name <= 80 characters, description <= 200, externalRef <= 100 (its uniqueness
is the store's job), aggregation type one of sum/increment/minimum/maximum; category is a free
label. Everything else here is a guess, listed in the docstring of `app.py`. The limits are the
constants below: `openapi.py` builds the published schemas from the same constants.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from .errors import ValidationError
from .schedule import FIELDS, ever_fires, parse_field
from .timefmt import format_ts, parse_ts

AGGREGATIONS = ("sum", "increment", "minimum", "maximum")
DEFAULT_CATEGORY = "DEFAULT"
DEFAULT_TIMEZONE = "Etc/UTC"
MAX_NESTING = 32
# maximum lengths, in characters
MAX_NAME = 80
MAX_DESCRIPTION = 200
MAX_UNIT = 80
MAX_CATEGORY = 200
MAX_EXTERNAL_REF = 100
MAX_METER_TYPE_ID = 100
MAX_USER_ID = 200
MAX_METER_KEY = 200
MAX_TIMESTAMP = 40
SCHEDULE_FIELDS = ("day", "hour", "minute", "month", "weekday")
# what PUT and PATCH may change on a meter (the rest is its type's or the server's)
METER_EDITABLE = ("userId", "meterKey", "customFields", "deleteOnReset", "capacity", "thresholds")
Fields = dict[str, Any]


def meter_type_fields(body: object) -> Fields:
    """The editable fields of a meter type, defaults filled in (used by POST, PUT and PATCH)."""
    obj = _object(body, "body")
    capacity = _optional_number(obj, "capacity", minimum=0, exclusive=True)
    fields: Fields = {
        "name": _string(obj, "name", max_len=MAX_NAME, required=True),
        "description": _string(obj, "description", max_len=MAX_DESCRIPTION, allow_empty=True),
        "unit": _string(obj, "unit", max_len=MAX_UNIT, required=True),
        "category": _category(obj),
        "aggregation": _aggregation(obj),
        "resetSchedule": _reset_schedule(obj),
        "timezone": _timezone(obj),
        "capacity": capacity,
        "thresholds": _thresholds(obj, capacity),
        "externalRef": _string(obj, "externalRef", max_len=MAX_EXTERNAL_REF),
        "activeFrom": _timestamp(obj, "activeFrom"),
        "activeTo": _timestamp(obj, "activeTo"),
    }
    start, end = fields["activeFrom"], fields["activeTo"]
    if start and end and parse_ts(end) <= parse_ts(start):
        raise ValidationError("activeTo", "activeTo must be after activeFrom")
    return fields


def meter_fields(body: object) -> Fields:
    """The fields of a new meter; whether meterTypeId exists is the store's job."""
    obj = _object(body, "body")
    return {
        "meterTypeId": _string(obj, "meterTypeId", max_len=MAX_METER_TYPE_ID, required=True),
        "userId": _string(obj, "userId", max_len=MAX_USER_ID, required=True),
        "meterKey": _string(obj, "meterKey", max_len=MAX_METER_KEY, required=True),
        "customFields": _custom_fields(obj.get("customFields"), "customFields"),
        "deleteOnReset": _delete_on_reset(obj),
    }


def meter_update_fields(body: object) -> Fields:
    """The fields of a meter that PUT and PATCH may set (`METER_EDITABLE`), defaults filled in.

    A capacity or thresholds given here override what the meter inherited from its type; a
    capacityPercentage threshold needs a capacity in the same body."""
    obj = _object(body, "body")
    capacity = _optional_number(obj, "capacity", minimum=0, exclusive=True)
    return {
        "userId": _string(obj, "userId", max_len=MAX_USER_ID, required=True),
        "meterKey": _string(obj, "meterKey", max_len=MAX_METER_KEY, required=True),
        "customFields": _custom_fields(obj.get("customFields"), "customFields"),
        "deleteOnReset": _delete_on_reset(obj),
        "capacity": capacity,
        "thresholds": _thresholds(obj, capacity),
    }


def _delete_on_reset(obj: Mapping[str, Any]) -> bool:
    value = obj.get("deleteOnReset", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError("deleteOnReset", "deleteOnReset must be true or false")
    return value


def merge_patch(current: Mapping[str, Any], patch: object) -> Fields:
    """RFC 7396 at the top level: given keys replace, null removes (back to the default)."""
    obj = _object(patch, "body")
    merged = dict(current)
    for key, value in obj.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _object(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(field, f"{field} must be a JSON object")
    return value


def _string(
    obj: Mapping[str, Any],
    field: str,
    *,
    max_len: int,
    required: bool = False,
    allow_empty: bool = False,
    path: str | None = None,
) -> str | None:
    where = path or field
    value = obj.get(field)
    if value is None:
        if required:
            raise ValidationError(where, f"{where} is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(where, f"{where} must be a string")
    if not allow_empty and not value.strip():
        raise ValidationError(where, f"{where} must not be empty")
    if len(value) > max_len:
        raise ValidationError(where, f"{where} must be at most {max_len} characters")
    return value


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _optional_number(
    obj: Mapping[str, Any], field: str, *, minimum: float, exclusive: bool, path: str | None = None
) -> float | int | None:
    where = path or field
    value = obj.get(field)
    if value is None:
        return None
    if not is_number(value):
        raise ValidationError(where, f"{where} must be a number")
    if value < minimum or (exclusive and value == minimum):
        relation = "greater than" if exclusive else "at least"
        raise ValidationError(where, f"{where} must be {relation} {minimum}")
    return value


def _category(obj: Mapping[str, Any]) -> str:
    """A free label ("API Counts", "Printing"); a new one simply comes into being."""
    value = _string(obj, "category", max_len=MAX_CATEGORY)
    return DEFAULT_CATEGORY if value is None else value


def _aggregation(obj: Mapping[str, Any]) -> dict[str, str]:
    value = obj.get("aggregation")
    if value is None:
        raise ValidationError("aggregation", "aggregation is required")
    if not isinstance(value, dict):
        raise ValidationError("aggregation", "aggregation must be a JSON object")
    kind = value.get("type")
    if kind not in AGGREGATIONS:
        raise ValidationError(
            "aggregation.type", f"aggregation.type must be one of {', '.join(AGGREGATIONS)}"
        )
    return {"type": kind}


def _reset_schedule(obj: Mapping[str, Any]) -> dict[str, str] | None:
    value = obj.get("resetSchedule")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError("resetSchedule", "resetSchedule must be a JSON object")
    schedule: dict[str, str] = {}
    for name in SCHEDULE_FIELDS:
        where = f"resetSchedule.{name}"
        item = value.get(name)
        if item is None:
            raise ValidationError(where, f"{where} is required")
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise ValidationError(where, f"{where} must be a string")
        try:
            parse_field(item, name)
        except ValueError as exc:
            raise ValidationError(where, f"{where}: {exc}") from None
        schedule[name] = item
    assert set(schedule) == set(FIELDS)
    if not ever_fires(schedule):
        raise ValidationError(
            "resetSchedule",
            "resetSchedule never fires (such as day 30 of month 2): pick a real date",
        )
    return schedule


def _timezone(obj: Mapping[str, Any]) -> str:
    value = obj.get("timezone")
    if value is None:
        return DEFAULT_TIMEZONE
    if not isinstance(value, str) or not _known_zone(value):
        raise ValidationError("timezone", "timezone must be an IANA time zone such as Etc/UTC")
    return value


def _known_zone(name: str) -> bool:
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError, ...: all mean "not a zone"
        return False
    return True


def _thresholds(obj: Mapping[str, Any], capacity: float | None) -> list[dict[str, Any]]:
    value = obj.get("thresholds")
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError("thresholds", "thresholds must be a list")
    return [_threshold(item, f"thresholds[{i}]", capacity) for i, item in enumerate(value)]


def _threshold(item: object, where: str, capacity: float | None) -> dict[str, Any]:
    obj = _object(item, where)
    name = _string(obj, "name", max_len=MAX_NAME, required=True, path=f"{where}.name")
    given = [key for key in ("capacityPercentage", "absoluteValue") if obj.get(key) is not None]
    if len(given) != 1:
        raise ValidationError(
            where, f"{where} needs exactly one of capacityPercentage and absoluteValue"
        )
    threshold: dict[str, Any] = {"name": name}
    if given[0] == "capacityPercentage":
        percent = _optional_number(
            obj, "capacityPercentage", minimum=0, exclusive=True, path=f"{where}.capacityPercentage"
        )
        if capacity is None:
            raise ValidationError(
                f"{where}.capacityPercentage", "a capacityPercentage threshold needs a capacity"
            )
        threshold["capacityPercentage"] = percent
    else:
        threshold["absoluteValue"] = _optional_number(
            obj, "absoluteValue", minimum=0, exclusive=False, path=f"{where}.absoluteValue"
        )
    threshold["customFields"] = _custom_fields(obj.get("customFields"), f"{where}.customFields")
    return threshold


def _custom_fields(value: object, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    fields = _object(value, where)
    if _depth(fields) > MAX_NESTING:
        raise ValidationError(where, f"{where} is nested more than {MAX_NESTING} levels deep")
    return fields


def _depth(value: object) -> int:
    """Nesting depth without recursion (deep JSON must not blow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            items: list[object] = list(item.values())
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in items)
    return deepest


def _timestamp(obj: Mapping[str, Any], field: str) -> str | None:
    value = obj.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TIMESTAMP:
        raise ValidationError(field, f"{field} must be an ISO 8601 timestamp")
    try:
        return format_ts(parse_ts(value))
    except (ValueError, OverflowError):
        raise ValidationError(field, f"{field} must be an ISO 8601 timestamp") from None
