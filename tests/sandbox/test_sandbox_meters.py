"""Meters beyond create and delete: updates (PUT, PATCH under update:meters), list filters, and
the rules the examples relaxed (free categories, cron-like schedules)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ue_magic.sandbox import Sandbox

from .api_helpers import EXAMPLE_TYPE, client_for, get_token, new_meter, new_type

TYPES = "usage-metering/v1/meter-types"
METERS = "usage-metering/v1/meters"


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, get_token(sandbox)) as client:
        yield client


def test_patch_meter_changes_only_the_given_fields(api: httpx.Client) -> None:
    meter = new_meter(api, new_type(api)["id"], customFields={"plan": "gold"})
    patched = api.patch(f"{METERS}/{meter['id']}", json={"deleteOnReset": True})
    assert patched.status_code == 200
    body = patched.json()
    assert body["deleteOnReset"] is True
    assert body["customFields"] == {"plan": "gold"} and body["meterKey"] == meter["meterKey"]
    assert body["createdAt"] == meter["createdAt"] and body["id"] == meter["id"]
    assert api.get(f"{METERS}/{meter['id']}").json() == body
    cleared = api.patch(f"{METERS}/{meter['id']}", json={"customFields": None}).json()
    assert cleared["customFields"] == {} and cleared["deleteOnReset"] is True


def test_put_meter_replaces_the_editable_fields(api: httpx.Client) -> None:
    meter = new_meter(api, new_type(api)["id"], customFields={"plan": "gold"}, deleteOnReset=True)
    body = {"userId": "u-9", "meterKey": "k-9", "capacity": 50,
            "thresholds": [{"name": "half", "capacityPercentage": 50}]}  # fmt: skip
    replaced = api.put(f"{METERS}/{meter['id']}", json=body)
    assert replaced.status_code == 200
    stored = replaced.json()
    assert (stored["userId"], stored["meterKey"], stored["capacity"]) == ("u-9", "k-9", 50)
    assert stored["customFields"] == {} and stored["deleteOnReset"] is False  # back to defaults
    assert stored["thresholds"] == [{"name": "half", "capacityPercentage": 50, "customFields": {}}]
    assert stored["meterTypeId"] == meter["meterTypeId"] and stored["value"] == 0


def test_a_get_answer_can_be_sent_back_as_a_meter_put(api: httpx.Client) -> None:
    meter = new_meter(api, new_type(api)["id"])
    again = api.put(f"{METERS}/{meter['id']}", json=meter)
    assert again.status_code == 200
    assert {k: v for k, v in again.json().items() if k != "updatedAt"} == {
        k: v for k, v in meter.items() if k != "updatedAt"
    }


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("patch", {"deleteOnReset": "yes"}, "deleteOnReset"),
        ("patch", {"userId": None}, "userId"),
        ("patch", {"meterKey": "k" * 201}, "meterKey"),
        ("patch", {"capacity": -1}, "capacity"),
        (
            "patch",
            {"capacity": None, "thresholds": [{"name": "p", "capacityPercentage": 10}]},
            "thresholds[0].capacityPercentage",
        ),
        ("patch", {"meterTypeId": "another"}, "meterTypeId"),
        ("put", {"meterKey": "k"}, "userId"),
        ("put", ["userId"], "body"),
    ],
)  # fmt: skip
def test_bad_meter_updates_are_400(api: httpx.Client, method: str, body: Any, field: str) -> None:
    meter = new_meter(api, new_type(api)["id"])
    response = api.request(method.upper(), f"{METERS}/{meter['id']}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert api.get(f"{METERS}/{meter['id']}").json() == meter


def test_meter_update_to_an_existing_key_is_409_and_unknown_id_404(api: httpx.Client) -> None:
    type_id = new_type(api)["id"]
    first, second = new_meter(api, type_id), new_meter(api, type_id)
    clash = api.patch(f"{METERS}/{second['id']}", json={"meterKey": first["meterKey"]})
    assert clash.status_code == 409
    assert api.patch(f"{METERS}/nope", json={"deleteOnReset": True}).status_code == 404
    moved = api.patch(f"{METERS}/{second['id']}", json={"meterKey": "free-now"}).json()
    assert (
        api.post(
            METERS, json={"userId": "u-1", "meterKey": second["meterKey"], "meterTypeId": type_id}
        ).status_code
        == 201
    )  # the old key is free again
    assert moved["meterKey"] == "free-now"


def test_meters_filter_by_every_parameter_given(api: httpx.Client) -> None:
    type_a, type_b = new_type(api)["id"], new_type(api)["id"]
    a1 = new_meter(api, type_a, meterKey="stream-1", userId="101")
    a2 = new_meter(api, type_a, meterKey="stream-2", userId="101")
    b1 = new_meter(api, type_b, meterKey="stream-1", userId="102")

    def ids(**params: str) -> list[str]:
        return [m["id"] for m in api.get(METERS, params=params).json()["meters"]]

    assert ids(meterTypeId=type_a, meterKey="stream-1") == [a1["id"]]
    assert ids(meterTypeId=type_a) == [a1["id"], a2["id"]]
    assert set(ids(meterKey="stream-1")) >= {a1["id"], b1["id"]} and a2["id"] not in ids(
        meterKey="stream-1"
    )
    assert ids(meterTypeId=type_a, userId="101", meterKey="stream-2") == [a2["id"]]
    assert ids(meterTypeId=type_b, meterKey="stream-2") == []
    page = api.get(METERS, params={"meterTypeId": type_a, "meterKey": "stream-1", "limit": 1})
    assert page.json() == {"meters": [a1]}


@pytest.mark.parametrize("category", ["API Counts", "Printing", "L1_API_Requests", "DEFAULT"])
def test_category_is_a_free_label(api: httpx.Client, category: str) -> None:
    created = api.post(TYPES, json={**EXAMPLE_TYPE, "category": category})
    assert created.status_code == 201 and created.json()["category"] == category
    patched = api.patch(f"{TYPES}/{created.json()['id']}", json={"category": "Renamed"})
    assert patched.json()["category"] == "Renamed"


@pytest.mark.parametrize("day", ["L", "L-3", "1,15,L", "*/7", "1-7", "?"])
def test_cron_like_reset_days_are_accepted(api: httpx.Client, day: str) -> None:
    schedule = {**EXAMPLE_TYPE["resetSchedule"], "day": day}
    created = api.post(TYPES, json={**EXAMPLE_TYPE, "resetSchedule": schedule})
    assert created.status_code == 201, created.text
    meter = new_meter(api, created.json()["id"])
    assert meter["periodEnd"] is not None


@pytest.mark.parametrize("day", ["32", "L-40", "W", "x", ""])
def test_reset_days_that_cannot_be_a_schedule_are_refused(api: httpx.Client, day: str) -> None:
    schedule = {**EXAMPLE_TYPE["resetSchedule"], "day": day}
    response = api.post(TYPES, json={**EXAMPLE_TYPE, "resetSchedule": schedule})
    assert response.status_code == 400 and response.json()["field"] == "resetSchedule.day"
