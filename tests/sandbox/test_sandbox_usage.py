"""Usage records: the Meter processor's aggregations, thresholds, resets on the schedule (with
an injected clock), deleteOnReset, the usage hook, and the demo data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from ue_magic.sandbox import Sandbox, start
from ue_magic.sandbox.errors import ValidationError

from .api_helpers import client_for, get_token

UTC = timezone.utc
TYPES = "usage-metering/v1/meter-types"
METERS = "usage-metering/v1/meters"
DAILY = {"day": "*", "hour": "0", "minute": "0", "month": "*", "weekday": "*"}
START = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clocked() -> Iterator[tuple[Sandbox, Clock]]:
    clock = Clock(START)
    with start(clock=clock) as sb:
        yield sb, clock


@pytest.fixture
def sb(clocked: tuple[Sandbox, Clock]) -> Iterator[Sandbox]:
    sandbox, clock = clocked
    sandbox.reset(data=True)
    clock.now = START
    yield sandbox


@pytest.fixture
def clock(clocked: tuple[Sandbox, Clock]) -> Clock:
    return clocked[1]


@pytest.fixture
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sb, get_token(sb)) as client:
        yield client


def meter_of(api: httpx.Client, aggregation: str = "sum", **type_fields: Any) -> dict[str, Any]:
    """A meter type (daily reset unless told otherwise) and one meter of it for u1 / k1."""
    meter_fields = type_fields.pop("_m", {})
    body = {"name": "t", "unit": "calls", "aggregation": {"type": aggregation}}
    body |= {"resetSchedule": DAILY, **type_fields}
    meter_type = api.post(TYPES, json=body).json()
    meter_body = {"userId": "u1", "meterKey": "k1", "meterTypeId": meter_type["id"]}
    meter: dict[str, Any] = api.post(METERS, json={**meter_body, **meter_fields}).json()
    return meter


@pytest.mark.parametrize(
    ("aggregation", "values", "expected"),
    [
        ("sum", [5, 2.5, 10], 17.5),
        ("increment", [5, 2.5, 10], 3),
        ("minimum", [5, 2.5, 10], 2.5),
        ("maximum", [5, 2.5, 10], 10),
        ("minimum", [7], 7),  # the first record of a period sets it (not min(0, 7))
        ("maximum", [-3, -8], -3),
    ],
)
def test_each_aggregation(
    sb: Sandbox, api: httpx.Client, aggregation: str, values: list[float], expected: float
) -> None:
    meter = meter_of(api, aggregation)
    for value in values:
        sb.record_usage(user_id="u1", meter_key="k1", value=value)
    assert api.get(f"{METERS}/{meter['id']}").json()["value"] == expected


def test_records_reach_every_meter_of_the_user_and_key(sb: Sandbox, api: httpx.Client) -> None:
    first = meter_of(api)
    second = meter_of(api, "increment")
    other = api.post(
        METERS, json={"userId": "u2", "meterKey": "k1", "meterTypeId": first["meterTypeId"]}
    ).json()
    result = sb.record_usage([{"userId": "u1", "meterKey": "k1", "value": 4}])
    assert result["applied"] == 2 and result["skipped"] == 0
    assert {m["id"]: m["value"] for m in result["meters"]} == {first["id"]: 4, second["id"]: 1}
    assert api.get(f"{METERS}/{other['id']}").json()["value"] == 0
    by_type = sb.record_usage(
        {"userId": "u1", "meterKey": "k1", "value": 1, "meterTypeId": first["meterTypeId"]}
    )
    assert [m["id"] for m in by_type["meters"]] == [first["id"]]
    by_id = sb.record_usage(meter_id=other["id"], value=2)
    assert by_id["meters"][0]["value"] == 2


def test_thresholds_gain_reached_at_when_crossed(sb: Sandbox, api: httpx.Client) -> None:
    thresholds = [
        {"name": "90 percent", "capacityPercentage": 90, "customFields": {"action": "EMAIL"}},
        {"name": "hard limit", "absoluteValue": 100},
    ]
    meter = meter_of(api, capacity=100, thresholds=thresholds)
    sb.record_usage(user_id="u1", meter_key="k1", value=89, timestamp="2024-03-10T12:01:00Z")
    assert all(
        "reachedAt" not in t for t in api.get(f"{METERS}/{meter['id']}").json()["thresholds"]
    )
    sb.record_usage(user_id="u1", meter_key="k1", value=1, timestamp=1710072180000)  # 12:03
    sb.record_usage(user_id="u1", meter_key="k1", value=20, timestamp="2024-03-10T12:05:00+00:00")
    sb.record_usage(user_id="u1", meter_key="k1", value=5, timestamp="2024-03-10T12:07:00Z")
    stored = api.get(f"{METERS}/{meter['id']}").json()
    assert stored["value"] == 115
    assert [t.get("reachedAt") for t in stored["thresholds"]] == [
        "2024-03-10T12:03:00.000+00:00",  # reached exactly at 90, and kept at the first crossing
        "2024-03-10T12:05:00.000+00:00",
    ]
    assert stored["thresholds"][0]["customFields"] == {"action": "EMAIL"}


def test_meter_resets_at_its_schedule(sb: Sandbox, api: httpx.Client, clock: Clock) -> None:
    meter = meter_of(api, capacity=10, thresholds=[{"name": "all", "absoluteValue": 10}])
    assert meter["periodEnd"] == "2024-03-11T00:00:00.000+00:00"
    sb.record_usage(user_id="u1", meter_key="k1", value=12)
    clock.now = datetime(2024, 3, 10, 23, 59, tzinfo=UTC)
    assert api.get(f"{METERS}/{meter['id']}").json()["value"] == 12
    clock.now = datetime(2024, 3, 13, 8, 0, tzinfo=UTC)  # three resets later
    after = api.get(f"{METERS}/{meter['id']}").json()
    assert after["value"] == 0
    assert after["periodStart"] == "2024-03-13T00:00:00.000+00:00"
    assert after["periodEnd"] == "2024-03-14T00:00:00.000+00:00"
    assert after["thresholds"] == [{"name": "all", "absoluteValue": 10, "customFields": {}}]
    listed = api.get(METERS, params={"meterTypeId": meter["meterTypeId"]}).json()["meters"]
    assert listed == [after]


def test_records_apply_to_the_period_they_fall_in(
    sb: Sandbox, api: httpx.Client, clock: Clock
) -> None:
    meter_of(api)
    late = sb.record_usage(user_id="u1", meter_key="k1", value=5, timestamp="2024-03-01T00:00:00Z")
    assert (late["applied"], late["skipped"]) == (0, 1)  # before the meter's period began
    sb.record_usage(user_id="u1", meter_key="k1", value=5)
    tomorrow = sb.record_usage(user_id="u1", meter_key="k1", value=3, timestamp="2024-03-11T01:00Z")
    assert tomorrow["meters"][0]["value"] == 3  # the record's own time moved the period on
    assert tomorrow["meters"][0]["periodStart"] == "2024-03-11T00:00:00.000+00:00"


def test_last_day_of_month_schedule_resets(sb: Sandbox, api: httpx.Client, clock: Clock) -> None:
    clock.now = datetime(2024, 2, 10, tzinfo=UTC)
    schedule = {"day": "L", "hour": "0", "minute": "0", "month": "*", "weekday": "*"}
    meter = meter_of(api, resetSchedule=schedule)
    assert meter["periodEnd"] == "2024-02-29T00:00:00.000+00:00"
    sb.record_usage(user_id="u1", meter_key="k1", value=1)
    clock.now = datetime(2024, 3, 1, tzinfo=UTC)
    after = api.get(f"{METERS}/{meter['id']}").json()
    assert (after["value"], after["periodEnd"]) == (0, "2024-03-31T00:00:00.000+00:00")


def test_delete_on_reset_deletes_the_meter(sb: Sandbox, api: httpx.Client, clock: Clock) -> None:
    meter = meter_of(api, resetSchedule=DAILY, _m={"deleteOnReset": True})
    assert meter["deleteOnReset"] is True
    clock.now = START + timedelta(days=1)
    assert api.get(f"{METERS}/{meter['id']}").status_code == 404
    assert api.get(f"{TYPES}/{meter['meterTypeId']}").json()["numberOfMeters"] == 0


def test_meter_without_schedule_never_resets(sb: Sandbox, api: httpx.Client, clock: Clock) -> None:
    meter = meter_of(api, resetSchedule=None)
    assert meter["periodEnd"] is None
    sb.record_usage(user_id="u1", meter_key="k1", value=1)
    clock.now = START + timedelta(days=400)
    assert api.get(f"{METERS}/{meter['id']}").json()["value"] == 1


def test_meter_update_turns_on_delete_on_reset(
    sb: Sandbox, api: httpx.Client, clock: Clock
) -> None:
    meter = meter_of(api, resetSchedule=DAILY)
    patched = api.patch(f"{METERS}/{meter['id']}", json={"deleteOnReset": True})
    assert patched.status_code == 200 and patched.json()["deleteOnReset"] is True
    clock.now = START + timedelta(days=1)
    assert api.get(f"{METERS}/{meter['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"records": []}, "records"),
        ({"records": [{"userId": "u1", "value": 1}]}, "records[0]"),
        ([{"userId": "u1", "meterKey": "k1", "value": "1"}], "records[0].value"),
        ({"userId": "u1", "meterKey": "k1", "timestamp": "yesterday"}, "records[0].timestamp"),
        ({"userId": "", "meterKey": "k1"}, "records[0].userId"),
        ([{"userId": "u1", "meterKey": "k1", "value": 1}, 5], "records[1]"),  # all or nothing
    ],
)
def test_bad_usage_is_400_and_nothing_is_applied(
    sb: Sandbox, api: httpx.Client, body: object, field: str
) -> None:
    meter = meter_of(api)
    with httpx.Client(base_url=sb.base_url, timeout=10) as hooks:
        response = hooks.post("_sandbox/usage", json=body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert api.get(f"{METERS}/{meter['id']}").json()["value"] == 0


def test_a_sum_record_needs_a_value(sb: Sandbox, api: httpx.Client) -> None:
    meter_of(api)
    with pytest.raises(ValidationError, match="needs a value"):
        sb.record_usage(user_id="u1", meter_key="k1")


def test_usage_hook_over_http(sb: Sandbox, api: httpx.Client) -> None:
    meter = meter_of(api, "maximum")
    records = [{"userId": "u1", "meterKey": "k1", "value": v} for v in (3, 9, 4)]
    records.append({"userId": "nobody", "meterKey": "k1", "value": 1})
    with httpx.Client(base_url=sb.base_url, timeout=10) as hooks:
        answer = hooks.post("_sandbox/usage", json={"records": records})
    assert answer.status_code == 200
    assert (answer.json()["applied"], answer.json()["skipped"]) == (3, 1)
    assert api.get(f"{METERS}/{meter['id']}").json()["value"] == 9


def test_clock_hook_moves_time_and_reset_restores_it(
    sb: Sandbox, api: httpx.Client, clock: Clock
) -> None:
    meter = meter_of(api, resetSchedule=DAILY)
    sb.record_usage(user_id="u1", meter_key="k1", value=1)
    with httpx.Client(base_url=sb.base_url, timeout=10) as hooks:
        moved = hooks.post("_sandbox/clock", json={"now": "2024-03-12T00:00:00Z"})
        assert moved.json() == {"now": "2024-03-12T00:00:00.000+00:00"}
        assert api.get(f"{METERS}/{meter['id']}").json()["value"] == 0
        assert hooks.post("_sandbox/clock", json={"now": "soon"}).status_code == 400
        back = hooks.post("_sandbox/clock", json={"now": None})
    assert back.json()["now"] == "2024-03-10T12:00:00.000+00:00"  # the clock given to start()


def test_demo_data() -> None:
    with start(demo_data=True, token_rate=0) as sb, client_for(sb, get_token(sb)) as api:
        types = api.get(TYPES).json()["meterTypes"]
        meters = api.get(METERS).json()["meters"]
    assert len(types) >= 3 and {"API Counts", "Printing"} <= {t["category"] for t in types}
    assert {t["aggregation"]["type"] for t in types} >= {"sum", "increment", "maximum"}
    assert 200 <= len(meters) <= 1000
    assert sum(t["numberOfMeters"] for t in types) == len(meters)
    used = [m for m in meters if m["value"] != 0]
    assert len(used) > len(meters) / 2
    assert any("reachedAt" in t for m in meters for t in m["thresholds"])
    with start(demo_data=True, token_rate=0) as again, client_for(again, get_token(again)) as api:
        assert [m["value"] for m in api.get(METERS).json()["meters"]] == [
            m["value"] for m in meters
        ]
