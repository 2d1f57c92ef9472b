"""What an outside check of the sandbox found: meter updates that lost inherited limits or reached
thresholds, usage batches applied by halves, overage thresholds refused, schedules that never fire
accepted. Each test failed before its fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from ue_magic.sandbox import Sandbox, start

from .api_helpers import EXAMPLE_TYPE, METERS, TYPES, client_for, get_token, new_meter, new_type

HALF = {"name": "half", "capacityPercentage": 50, "customFields": {}}
HARD = {"name": "hard", "absoluteValue": 80, "customFields": {}}


@pytest.fixture(scope="module")
def fresh() -> Iterator[Sandbox]:
    with start() as sb:
        yield sb


@pytest.fixture
def sb(fresh: Sandbox) -> Iterator[Sandbox]:
    fresh.reset(data=True)
    yield fresh


@pytest.fixture
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb, get_token(sb)) as client:
        yield client


def limited_meter(api: httpx.Client) -> dict[str, Any]:
    """A meter of a type with capacity 100, a 50 % and an absolute 80 threshold."""
    meter_type = new_type(api, capacity=100, thresholds=[HALF, HARD])
    return new_meter(api, meter_type["id"], userId="101", meterKey="K")


def reached(meter: dict[str, Any]) -> dict[str, str | None]:
    return {t["name"]: t.get("reachedAt") for t in meter["thresholds"]}


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_setting_delete_on_reset_keeps_reached_thresholds(
    sb: Sandbox, api: httpx.Client, method: str
) -> None:
    """The documented meter update; it must not make a reached threshold fire again."""
    meter = limited_meter(api)
    sb.record_usage(user_id="101", meter_key="K", value=60)
    before = reached(api.get(f"{METERS}/{meter['id']}").json())
    assert before["half"] is not None and before["hard"] is None
    body: dict[str, Any] = {"deleteOnReset": True}
    if method == "PUT":
        body |= {"userId": "101", "meterKey": "K", "meterTypeId": meter["meterTypeId"]}
    answer = api.request(method, f"{METERS}/{meter['id']}", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["deleteOnReset"] is True
    assert reached(answer.json()) == before
    assert reached(api.get(f"{METERS}/{meter['id']}").json()) == before


def test_a_changed_threshold_loses_its_reached_at(sb: Sandbox, api: httpx.Client) -> None:
    meter = limited_meter(api)
    sb.record_usage(user_id="101", meter_key="K", value=60)
    raised = {**HALF, "capacityPercentage": 70}
    answer = api.patch(f"{METERS}/{meter['id']}", json={"thresholds": [raised, HARD]})
    assert answer.status_code == 200
    assert reached(answer.json()) == {"half": None, "hard": None}


def test_put_without_limits_keeps_what_the_meter_inherited(api: httpx.Client) -> None:
    meter = limited_meter(api)
    body = {"userId": "101", "meterKey": "K", "meterTypeId": meter["meterTypeId"]}
    answer = api.put(f"{METERS}/{meter['id']}", json={**body, "deleteOnReset": True})
    assert answer.status_code == 200
    assert answer.json()["capacity"] == 100
    assert answer.json()["thresholds"] == [HALF, HARD]
    cleared = api.put(f"{METERS}/{meter['id']}", json={**body, "capacity": None, "thresholds": []})
    assert (cleared.json()["capacity"], cleared.json()["thresholds"]) == (None, [])


def test_a_bad_record_in_a_batch_applies_none(sb: Sandbox, api: httpx.Client) -> None:
    summed = new_meter(api, new_type(api)["id"], userId="u", meterKey="sum")
    peak_type = new_type(api, aggregation={"type": "maximum"}, thresholds=[], capacity=None)
    new_meter(api, peak_type["id"], userId="u", meterKey="peak")
    records = [{"userId": "u", "meterKey": "sum", "value": 5}, {"userId": "u", "meterKey": "peak"}]
    with httpx.Client(base_url=sb.base_url, timeout=10) as hooks:
        answer = hooks.post("_sandbox/usage", json={"records": records})
    assert answer.status_code == 400
    assert answer.json()["field"] == "records[1].value"
    assert "needs a value" in answer.json()["message"]
    assert api.get(f"{METERS}/{summed['id']}").json()["value"] == 0


def test_overage_thresholds_above_100_percent_are_accepted(sb: Sandbox, api: httpx.Client) -> None:
    """Not documented as refused: 120 % of capacity is an ordinary overage warning."""
    over = {"name": "overage", "capacityPercentage": 120, "customFields": {}}
    meter_type = new_type(api, capacity=100, thresholds=[over])
    assert meter_type["thresholds"] == [over]
    new_meter(api, meter_type["id"], userId="o", meterKey="o")
    meters = sb.record_usage(user_id="o", meter_key="o", value=110)["meters"]
    assert "reachedAt" not in meters[0]["thresholds"][0]
    meters = sb.record_usage(user_id="o", meter_key="o", value=10)["meters"]
    assert meters[0]["thresholds"][0]["reachedAt"]


@pytest.mark.parametrize(
    ("day", "month"), [("30", "2"), ("31", "4,6,9,11"), ("30-31", "FEB"), ("L-30", "2")]
)
def test_a_schedule_that_never_fires_is_refused(api: httpx.Client, day: str, month: str) -> None:
    schedule = {**EXAMPLE_TYPE["resetSchedule"], "day": day, "month": month}
    answer = api.post(TYPES, json={**EXAMPLE_TYPE, "resetSchedule": schedule})
    assert answer.status_code == 400
    assert answer.json()["field"] == "resetSchedule"
    assert "never fires" in answer.json()["message"]


@pytest.mark.parametrize(
    ("schedule", "period_end_month_day"),
    [
        ({"day": "29", "month": "2", "weekday": "*"}, "02-29"),  # leap days only
        ({"day": "*/30", "month": "2", "weekday": "MON"}, "02-01"),  # 1 Feb on a Monday: rare
    ],
)
def test_rare_but_real_schedules_are_accepted(
    api: httpx.Client, schedule: dict[str, str], period_end_month_day: str
) -> None:
    body = {**EXAMPLE_TYPE, "resetSchedule": {**EXAMPLE_TYPE["resetSchedule"], **schedule}}
    answer = api.post(TYPES, json=body)
    assert answer.status_code == 201, answer.text
    meter = new_meter(api, answer.json()["id"])
    assert meter["periodEnd"] is not None
    assert meter["periodEnd"][5:10] == period_end_month_day


@pytest.mark.parametrize(
    ("day", "weekday"),
    [("15W", "?"), ("LW", "?"), ("?", "MON#2"), ("?", "FRIL"), ("*", "FRI-MON"), ("?", "5L")],
)
def test_quartz_schedules_are_accepted(api: httpx.Client, day: str, weekday: str) -> None:
    """The grammar is not public; DigitalRoute's `L` suggests Quartz, whose W, # and L are kept."""
    schedule = {**EXAMPLE_TYPE["resetSchedule"], "day": day, "weekday": weekday}
    created = api.post(TYPES, json={**EXAMPLE_TYPE, "resetSchedule": schedule})
    assert created.status_code == 201, created.text
    assert new_meter(api, created.json()["id"])["periodEnd"] is not None


def test_a_record_with_a_category_reaches_only_that_categorys_meters(
    sb: Sandbox, api: httpx.Client
) -> None:
    """DigitalRoute's botbot example: one user and meter key in an L1 and an L2 meter type; the
    Meter processor's guiding rule picks the category, so an L1 record must not count in L2."""
    level1 = new_type(api, category="L1_API_Requests", thresholds=[], capacity=None)
    level2 = new_type(api, category="L2_API_Requests", thresholds=[], capacity=None)
    first = new_meter(api, level1["id"], userId="Cloud AI", meterKey="2c83")
    second = new_meter(api, level2["id"], userId="Cloud AI", meterKey="2c83")
    record = {"userId": "Cloud AI", "meterKey": "2c83", "value": 3, "category": "L1_API_Requests"}
    with httpx.Client(base_url=sb.base_url, timeout=10) as hooks:
        assert hooks.post("_sandbox/usage", json=record).json()["applied"] == 1
    sb.record_usage(user_id="Cloud AI", meter_key="2c83", value=4, category="L2_API_Requests")
    assert api.get(f"{METERS}/{first['id']}").json()["value"] == 3
    assert api.get(f"{METERS}/{second['id']}").json()["value"] == 4
    nowhere = sb.record_usage(user_id="Cloud AI", meter_key="2c83", value=1, category="Printing")
    assert (nowhere["applied"], nowhere["skipped"]) == (0, 1)


EVERY_MINUTE = {"day": "*", "hour": "*", "minute": "*", "month": "*", "weekday": "*"}


@pytest.fixture
def clocked() -> Iterator[tuple[Sandbox, list[datetime]]]:
    now = [datetime(2026, 1, 10, 12, 0, 30, tzinfo=timezone.utc)]
    with start(clock=lambda: now[0]) as sb:
        yield sb, now


def test_a_clock_years_ahead_resets_a_per_minute_meter_at_once(
    clocked: tuple[Sandbox, list[datetime]],
) -> None:
    """Stepping through every minute of two years held the store's lock for minutes."""
    sb, now = clocked
    with client_for(sb, get_token(sb)) as api:
        meter = new_meter(api, new_type(api, resetSchedule=EVERY_MINUTE)["id"])
        sb.record_usage(meter_id=meter["id"], value=5)
        now[0] = datetime(2028, 3, 1, 8, 30, 45, tzinfo=timezone.utc)
        answer = api.get(f"{METERS}/{meter['id']}", timeout=20)
    assert answer.status_code == 200
    stored = answer.json()
    assert stored["value"] == 0
    assert stored["periodStart"] == "2028-03-01T08:30:00.000+00:00"
    assert stored["periodEnd"] == "2028-03-01T08:31:00.000+00:00"


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:30Z", 253402300799999])
def test_a_record_at_the_end_of_the_calendar_is_no_server_error(
    clocked: tuple[Sandbox, list[datetime]], stamp: str | int
) -> None:
    sb, _ = clocked
    with client_for(sb, get_token(sb)) as api:
        meter = new_meter(api, new_type(api, resetSchedule=EVERY_MINUTE)["id"])
        with httpx.Client(base_url=sb.base_url, timeout=20) as hooks:
            record = {"meterId": meter["id"], "value": 2, "timestamp": stamp}
            answer = hooks.post("_sandbox/usage", json=record)
        assert answer.status_code == 200, answer.text
        stored = api.get(f"{METERS}/{meter['id']}").json()
    assert (stored["value"], stored["periodEnd"]) == (2, None)  # no minute after the last one
    assert stored["periodStart"] == "9999-12-31T23:59:00.000+00:00"
