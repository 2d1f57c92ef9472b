"""Reset schedules: cron-like fields (`minute hour day month weekday`) and the next reset time.

A meter's period ends at the next time its type's reset schedule fires, in the type's timezone.
The full grammar is not public (the docs show `"0"`, `"1"`, `"*"` and, in an answer, day `"L"`),
so this accepts cron's and Quartz's broadly: each field is a comma list of `*`, `?` (same as `*`),
`N`, `A-B` (a range that runs past the end wraps: `FRI-MON`, hours `22-2`), with an optional
`/STEP`; month names (JAN..DEC) and weekday names (SUN..SAT); weekday 0 and 7 are Sunday (cron's
numbering, not Quartz's 1 = Sunday: names mean the same in both). Day `L` is the last day of the
month, `L-N` N days before it, `NW` the weekday (Monday to Friday) nearest day N in the same month,
`LW` the last weekday of the month. Weekday `D#K` is the K-th such weekday of the month (`MON#2`),
`DL` the last one (`FRIL`, `5L`), `L` alone Saturday. When both day and weekday are restricted,
either one matching is enough, as in cron.

Values that need the calendar are encoded in the sets `parse_field` returns: days counted from the
end are negative (`L` is -1, `L-N` is -(N+1)); `NW` is 100+N and `LW` 100; weekday `D#K` is
100+10*K+D and `DL` 200+D.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

FIELDS: dict[str, tuple[int, int]] = {
    "minute": (0, 59),
    "hour": (0, 23),
    "day": (1, 31),
    "month": (1, 12),
    "weekday": (0, 7),
}
_NAMES: dict[str, dict[str, int]] = {
    "month": {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name},
    "weekday": {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6},
}
# 28 years: the weekdays of the calendar repeat (1901-2099), so a schedule that matches no day in
# that long never fires (a Monday the 29th of February comes once in 28 years)
_SEARCH_DAYS = 366 * 28 + 7
_ANY_START = datetime(2000, 1, 1, tzinfo=ZoneInfo("Etc/UTC"))
_MAX_LAST_OFFSET = 30


def parse_field(text: str, name: str) -> frozenset[int]:
    """The values a field allows; ValueError with a readable message if it is malformed.

    Day values counted from the end of the month are negative: `L` is -1, `L-N` is -(N+1)."""
    low, high = FIELDS[name]
    if not text.strip():
        raise ValueError(f"{name} must not be empty")
    values: set[int] = set()
    for part in text.split(","):
        values.update(_parse_part(part.strip().upper(), low, high, name))
    if name == "weekday" and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


W_BASE = 100  # day: 100+N is "the weekday nearest N", 100 itself "the last weekday"
NTH_BASE = 100  # weekday: 100+10*K+D is "the K-th weekday D of the month"
LAST_BASE = 200  # weekday: 200+D is "the last weekday D of the month"


def _parse_part(part: str, low: int, high: int, name: str) -> range | list[int]:
    if name == "day" and part == "LW":
        return [W_BASE]
    if name == "day" and part.endswith("W") and "-" not in part and "/" not in part:
        return [W_BASE + _number(part[:-1], low, high, name)]
    if name == "day" and part.startswith("L"):
        offset_text = part[1:]
        if not offset_text:
            return [-1]
        if not offset_text.startswith("-"):
            raise ValueError(f"day {part!r}: after L only -N or W may follow (L-3, LW)")
        return [-(_number(offset_text[1:], 0, _MAX_LAST_OFFSET, name) + 1)]
    if name == "weekday" and "#" in part:
        day_text, _, nth_text = part.partition("#")
        nth = _number(nth_text, 1, 5, "weekday#")
        return [NTH_BASE + 10 * nth + _number(day_text, low, high, name) % 7]
    if name == "weekday" and part == "L":
        return [6]  # Quartz: L alone is the last day of the week
    if name == "weekday" and part.endswith("L"):
        return [LAST_BASE + _number(part[:-1], low, high, name) % 7]
    span, _, step_text = part.partition("/")
    step = _number(step_text, 1, high - low + 1, name) if step_text else 1
    if span in ("*", "?"):
        return range(low, high + 1, step)
    first_text, dash, last_text = span.partition("-")
    first = _number(first_text, low, high, name)
    last = _number(last_text, low, high, name) if dash else (high if step_text else first)
    if last < first:  # wraps past the end, as Quartz allows: FRI-MON, 22-2
        top = 6 if name == "weekday" else high
        low_end = 0 if name == "weekday" else low
        return [*range(first, top + 1), *range(low_end, last + 1)][::step]
    return range(first, last + 1, step)


def _number(text: str, low: int, high: int, name: str) -> int:
    named = _NAMES.get(name, {}).get(text)
    if named is not None:
        return named
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise ValueError(f"{name} must be '*' or numbers from {low} to {high}, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{name} value {value} is outside {low}..{high}")
    return value


def next_reset(schedule: Mapping[str, str], timezone: str, after: datetime) -> datetime | None:
    """The first moment after `after` that the schedule matches, or None if it never does (or
    not before the end of the calendar, year 9999)."""
    for moment in _moments(schedule, timezone, after, step=1):
        if moment > after:
            return moment
    return None


def previous_reset(schedule: Mapping[str, str], timezone: str, at: datetime) -> datetime | None:
    """The last moment at or before `at` that the schedule matches, or None: with next_reset,
    the period `at` falls in, found without stepping through the periods in between."""
    for moment in _moments(schedule, timezone, at, step=-1):
        if moment <= at:
            return moment
    return None


def _moments(
    schedule: Mapping[str, str], timezone: str, around: datetime, step: int
) -> Iterator[datetime]:
    """The schedule's moments day by day from `around`'s date, forwards (step 1) or backwards."""
    allowed = {name: parse_field(str(schedule[name]), name) for name in FIELDS}
    zone = ZoneInfo(timezone)
    hours = sorted(allowed["hour"], reverse=step < 0)
    minutes = sorted(allowed["minute"], reverse=step < 0)
    try:
        start = around.astimezone(zone).date()
        for offset in range(_SEARCH_DAYS):
            day = start + timedelta(days=offset * step)
            if not _day_matches(day, allowed, schedule):
                continue
            for hour in hours:
                for minute in minutes:
                    yield datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    except OverflowError:  # past year 9999 or before year 1: the calendar ends
        return


def ever_fires(schedule: Mapping[str, str]) -> bool:
    """False for a schedule no date matches (day 30 of month 2); the fields must parse."""
    return next_reset(schedule, "Etc/UTC", _ANY_START) is not None


def _day_matches(
    day: date, allowed: Mapping[str, frozenset[int]], schedule: Mapping[str, str]
) -> bool:
    if day.month not in allowed["month"]:
        return False
    last = calendar.monthrange(day.year, day.month)[1]
    days, weekdays = allowed["day"], allowed["weekday"]
    weekday = day.isoweekday() % 7
    day_ok = day.day in days or (day.day - last - 1) in days or _nearest_weekday(day, last, days)
    weekday_ok = (
        weekday in weekdays
        or NTH_BASE + 10 * ((day.day - 1) // 7 + 1) + weekday in weekdays
        or (day.day + 7 > last and LAST_BASE + weekday in weekdays)
    )
    day_star = str(schedule["day"]).strip().startswith(("*", "?"))
    weekday_star = str(schedule["weekday"]).strip().startswith(("*", "?"))
    if not day_star and not weekday_star:
        return day_ok or weekday_ok
    return day_ok and weekday_ok


def _nearest_weekday(day: date, last: int, days: frozenset[int]) -> bool:
    """Whether `day` is the `NW` (or `LW`) of its month for some N in `days`."""
    if day.isoweekday() > 5:
        return False
    for code in days:
        if not W_BASE <= code <= W_BASE + 31:
            continue
        target = code - W_BASE or last
        if target > last:
            continue
        wanted = day.replace(day=target)
        if wanted.isoweekday() == 6:  # Saturday: the Friday before, or Monday if that is last month
            wanted += timedelta(days=-1 if target > 1 else 2)
        elif wanted.isoweekday() == 7:  # Sunday: the Monday after, or Friday if that is next month
            wanted += timedelta(days=1 if target < last else -2)
        if wanted == day:
            return True
    return False
