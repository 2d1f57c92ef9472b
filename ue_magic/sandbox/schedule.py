"""Reset schedules: cron-like fields (`minute hour day month weekday`) and the next reset time.

A meter's period ends at the next time its type's reset schedule fires, in the type's timezone.
The field syntax is a guess (the docs only show `"0"`, `"1"` and `"*"`): each field is a comma list
of `*`, `N`, `A-B`, with an optional `/STEP`, as in cron; weekday 0 and 7 are Sunday. When both day
and weekday are restricted, either one matching is enough, as in cron.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

FIELDS: dict[str, tuple[int, int]] = {
    "minute": (0, 59),
    "hour": (0, 23),
    "day": (1, 31),
    "month": (1, 12),
    "weekday": (0, 7),
}
_SEARCH_DAYS = 366 * 8  # long enough to find Feb 29 on a given weekday


def parse_field(text: str, name: str) -> frozenset[int]:
    """The values a field allows; ValueError with a readable message if it is malformed."""
    low, high = FIELDS[name]
    values: set[int] = set()
    for part in text.split(","):
        values.update(_parse_part(part.strip(), low, high, name))
    if name == "weekday" and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


def _parse_part(part: str, low: int, high: int, name: str) -> range:
    span, _, step_text = part.partition("/")
    step = _number(step_text, 1, high - low + 1, name) if step_text else 1
    if span == "*":
        return range(low, high + 1, step)
    first_text, dash, last_text = span.partition("-")
    first = _number(first_text, low, high, name)
    last = _number(last_text, low, high, name) if dash else (high if step_text else first)
    if last < first:
        raise ValueError(f"{name} range {span!r} runs backwards")
    return range(first, last + 1, step)


def _number(text: str, low: int, high: int, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise ValueError(f"{name} must be '*' or numbers from {low} to {high}, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{name} value {value} is outside {low}..{high}")
    return value


def next_reset(schedule: Mapping[str, str], timezone: str, after: datetime) -> datetime | None:
    """The first moment after `after` that the schedule matches, or None if it never does."""
    allowed = {name: parse_field(schedule[name], name) for name in FIELDS}
    zone = ZoneInfo(timezone)
    start = after.astimezone(zone).date()
    hours, minutes = sorted(allowed["hour"]), sorted(allowed["minute"])
    for offset in range(_SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if not _day_matches(day, allowed, schedule):
            continue
        for hour in hours:
            for minute in minutes:
                moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                if moment > after:
                    return moment
    return None


def _day_matches(
    day: date, allowed: Mapping[str, frozenset[int]], schedule: Mapping[str, str]
) -> bool:
    if day.month not in allowed["month"]:
        return False
    day_ok = day.day in allowed["day"]
    weekday_ok = (day.isoweekday() % 7) in allowed["weekday"]
    day_star = schedule["day"].strip().startswith("*")
    weekday_star = schedule["weekday"].strip().startswith("*")
    if not day_star and not weekday_star:
        return day_ok or weekday_ok
    return day_ok and weekday_ok
