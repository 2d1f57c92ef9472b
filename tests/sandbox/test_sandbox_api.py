"""The sandbox's usage metering API through real HTTP: routes, validation, errors, pagination."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from ue_magic.sandbox import Sandbox, start

from .api_helpers import (
    EXAMPLE_TYPE,
    METERS,
    TIMESTAMP,
    TYPES,
    client_for,
    get_token,
    new_meter,
    new_type,
)


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, get_token(sandbox)) as client:
        yield client


# meter types


def test_create_meter_type_returns_201_and_the_stored_object(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    response = api.post(TYPES, json=EXAMPLE_TYPE)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/{TYPES}/{body['id']}"
    for key, value in EXAMPLE_TYPE.items():
        assert body[key] == value, key
    uuid.UUID(body["id"])
    assert body["accountId"] == sandbox.account_id
    assert body["externalRef"] is None and body["activeTo"] is None
    assert body["numberOfMeters"] == 0
    for key in ("createdAt", "updatedAt", "activeFrom"):
        assert TIMESTAMP.match(body[key]), body[key]


def test_meter_type_defaults(api: httpx.Client) -> None:
    body = new_type(
        api,
        category=None,
        timezone=None,
        thresholds=None,
        capacity=None,
        resetSchedule=None,
        description=None,
    )
    assert body["category"] == "DEFAULT"
    assert body["timezone"] == "Etc/UTC"
    assert body["thresholds"] == []
    assert body["capacity"] is None and body["resetSchedule"] is None
    assert body["activeFrom"] == body["createdAt"]


def test_list_meter_types_filters_by_name(api: httpx.Client) -> None:
    created = new_type(api)
    new_type(api)
    response = api.get(TYPES, params={"name": created["name"]})
    assert response.status_code == 200
    assert response.json() == {"meterTypes": [created]}
    everything = api.get(TYPES).json()["meterTypes"]
    assert created in everything and len(everything) >= 2


def test_get_put_patch_delete_meter_type(api: httpx.Client) -> None:
    created = new_type(api, externalRef=f"ref-{uuid.uuid4()}")
    path = f"{TYPES}/{created['id']}"
    assert api.get(path).json() == created

    replaced = api.put(path, json={"name": "renamed", "unit": "GB", "aggregation": {"type": "max"}})
    assert replaced.status_code == 400 and replaced.json()["field"] == "aggregation.type"
    replaced = api.put(
        path, json={"name": "renamed", "unit": "GB", "aggregation": {"type": "maximum"}}
    )
    assert replaced.status_code == 200
    body = replaced.json()
    assert (body["name"], body["unit"], body["aggregation"]) == (
        "renamed",
        "GB",
        {"type": "maximum"},
    )
    assert body["thresholds"] == [] and body["externalRef"] is None  # PUT replaces everything
    assert body["id"] == created["id"] and body["createdAt"] == created["createdAt"]

    patched = api.patch(path, json={"description": "patched", "capacity": 5})
    assert patched.status_code == 200
    assert patched.json()["description"] == "patched" and patched.json()["name"] == "renamed"
    removed = api.patch(path, json={"capacity": None}).json()
    assert removed["capacity"] is None and removed["description"] == "patched"
    assert api.get(path).json() == removed

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_get_answer_can_be_sent_back_as_put_body(api: httpx.Client) -> None:
    created = new_type(api)
    response = api.put(f"{TYPES}/{created['id']}", json=created)
    assert response.status_code == 200
    same = response.json()
    assert {k: v for k, v in same.items() if k != "updatedAt"} == {
        k: v for k, v in created.items() if k != "updatedAt"
    }


def test_external_ref_is_unique(api: httpx.Client) -> None:
    ref = f"ref-{uuid.uuid4()}"
    first = new_type(api, externalRef=ref)
    duplicate = api.post(TYPES, json={**EXAMPLE_TYPE, "externalRef": ref})
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "externalRef"
    other = new_type(api)
    assert api.patch(f"{TYPES}/{other['id']}", json={"externalRef": ref}).status_code == 409
    # keeping its own ref is fine, and a deleted type frees its ref
    assert api.patch(f"{TYPES}/{first['id']}", json={"externalRef": ref}).status_code == 200
    assert api.delete(f"{TYPES}/{first['id']}").status_code == 204
    assert api.patch(f"{TYPES}/{other['id']}", json={"externalRef": ref}).status_code == 200


def long(n: int) -> str:
    return "x" * n


TYPE_RULES: list[tuple[dict[str, Any], str]] = [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": 5}, "name"),
    ({"name": long(81)}, "name"),
    ({"description": long(201)}, "description"),
    ({"description": ["a"]}, "description"),
    ({"unit": None}, "unit"),
    ({"unit": long(81)}, "unit"),
    ({"category": 5}, "category"),
    ({"category": "  "}, "category"),
    ({"category": long(201)}, "category"),
    ({"aggregation": None}, "aggregation"),
    ({"aggregation": "sum"}, "aggregation"),
    ({"aggregation": {"type": "average"}}, "aggregation.type"),
    ({"aggregation": {}}, "aggregation.type"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": 3}, "timezone"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": -1}, "capacity"),
    ({"capacity": "10"}, "capacity"),
    ({"capacity": True}, "capacity"),
    ({"externalRef": long(101)}, "externalRef"),
    ({"externalRef": 12}, "externalRef"),
    ({"thresholds": {"name": "x"}}, "thresholds"),
    ({"thresholds": ["x"]}, "thresholds[0]"),
    ({"thresholds": [{"capacityPercentage": 5}]}, "thresholds[0].name"),
    ({"thresholds": [{"name": long(81), "absoluteValue": 5}]}, "thresholds[0].name"),
    ({"thresholds": [{"name": "a"}]}, "thresholds[0]"),
    ({"thresholds": [{"name": "a", "capacityPercentage": 5, "absoluteValue": 5}]}, "thresholds[0]"),
    (
        {"thresholds": [{"name": "a", "capacityPercentage": -5}]},
        "thresholds[0].capacityPercentage",
    ),
    ({"thresholds": [{"name": "a", "capacityPercentage": 0}]}, "thresholds[0].capacityPercentage"),
    ({"thresholds": [{"name": "a", "absoluteValue": -1}]}, "thresholds[0].absoluteValue"),
    (
        {"thresholds": [{"name": "a", "absoluteValue": 1}, {"name": "b", "absoluteValue": "1"}]},
        "thresholds[1].absoluteValue",
    ),
    (
        {"thresholds": [{"name": "a", "absoluteValue": 1, "customFields": []}]},
        "thresholds[0].customFields",
    ),
    (
        {"capacity": None, "thresholds": [{"name": "a", "capacityPercentage": 50}]},
        "thresholds[0].capacityPercentage",
    ),
    ({"resetSchedule": "monthly"}, "resetSchedule"),
    (
        {"resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*"}},
        "resetSchedule.weekday",
    ),
    (
        {"resetSchedule": {"day": "32", "hour": "0", "minute": "0", "month": "*", "weekday": "*"}},
        "resetSchedule.day",
    ),
    (
        {"resetSchedule": {"day": "1", "hour": "24", "minute": "0", "month": "*", "weekday": "*"}},
        "resetSchedule.hour",
    ),
    (
        {"resetSchedule": {"day": "1", "hour": "0", "minute": "x", "month": "*", "weekday": "*"}},
        "resetSchedule.minute",
    ),
    (
        {
            "resetSchedule": {
                "day": "1",
                "hour": "0",
                "minute": "0",
                "month": "5-2-1",
                "weekday": "*",
            }
        },
        "resetSchedule.month",
    ),
    (
        {"resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": [1]}},
        "resetSchedule.weekday",
    ),
    ({"activeFrom": "yesterday"}, "activeFrom"),
    ({"activeTo": 5}, "activeTo"),
    (
        {"activeFrom": "2024-01-02T00:00:00Z", "activeTo": "2024-01-01T00:00:00Z"},
        "activeTo",
    ),
]


@pytest.mark.parametrize(("change", "field"), TYPE_RULES)
def test_meter_type_validation(api: httpx.Client, change: dict[str, Any], field: str) -> None:
    response = api.post(TYPES, json={**EXAMPLE_TYPE, **change})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["field"] == field
    assert isinstance(body["message"], str) and body["message"]


def test_validation_message_names_the_rule(api: httpx.Client) -> None:
    response = api.post(TYPES, json={**EXAMPLE_TYPE, "name": long(81)})
    assert response.json() == {
        "error": "validation_error",
        "message": "name must be at most 80 characters",
        "field": "name",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"name": long(80), "description": long(200), "externalRef": long(100)},
        {"aggregation": {"type": "increment"}},
        {"aggregation": {"type": "minimum"}},
        {"timezone": "Europe/Stockholm"},
        {
            "resetSchedule": {
                "day": "*",
                "hour": "*/6",
                "minute": "0,30",
                "month": "1-12",
                "weekday": "1-5",
            }
        },
        {"resetSchedule": {"day": 1, "hour": 0, "minute": 0, "month": "*", "weekday": "*"}},
        {"capacity": 0.5, "thresholds": [{"name": "a", "capacityPercentage": 100}]},
        {"activeFrom": "2024-01-01T00:00:00Z", "activeTo": "2025-01-01T00:00:00+02:00"},
        {"unknownField": "ignored"},
    ],
)
def test_valid_meter_type_variants(api: httpx.Client, change: dict[str, Any]) -> None:
    response = api.post(TYPES, json={**EXAMPLE_TYPE, **change})
    assert response.status_code == 201, response.text
    assert "unknownField" not in response.json()


def test_timestamps_are_normalised_to_utc(api: httpx.Client) -> None:
    body = new_type(api, activeFrom="2024-01-01T02:00:00+02:00")
    assert body["activeFrom"] == "2024-01-01T00:00:00.000+00:00"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_validates_too(api: httpx.Client, method: str) -> None:
    created = new_type(api)
    response = getattr(api, method)(f"{TYPES}/{created['id']}", json={"name": long(81)})
    assert response.status_code == 400 and response.json()["field"] == "name"


def test_patch_that_breaks_a_threshold_is_refused(api: httpx.Client) -> None:
    created = new_type(api)
    response = api.patch(f"{TYPES}/{created['id']}", json={"capacity": None})
    assert response.status_code == 400
    assert response.json()["field"] == "thresholds[0].capacityPercentage"


# meters


def test_meter_inherits_from_its_type(api: httpx.Client) -> None:
    meter_type = new_type(api, timezone="Europe/Stockholm")
    response = api.post(
        METERS,
        json={
            "userId": "user-7",
            "meterKey": "key-7",
            "meterTypeId": meter_type["id"],
            "customFields": {"plan": "gold"},
        },
    )
    assert response.status_code == 201
    meter = response.json()
    assert response.headers["location"] == f"/{METERS}/{meter['id']}"
    uuid.UUID(meter["id"])
    for key in ("unit", "aggregation", "capacity", "thresholds", "resetSchedule", "timezone"):
        assert meter[key] == meter_type[key], key
    assert meter["meterTypeId"] == meter_type["id"]
    assert meter["meterTypeName"] == meter_type["name"]
    assert (meter["userId"], meter["meterKey"]) == ("user-7", "key-7")
    assert meter["value"] == 0
    assert meter["deleteOnReset"] is False
    assert meter["customFields"] == {"plan": "gold"}
    for key in ("createdAt", "updatedAt", "periodStart", "periodEnd"):
        assert TIMESTAMP.match(meter[key]), key
    # the period ends when the schedule (day 1, 00:00) next fires in the type's timezone
    end = datetime.fromisoformat(meter["periodEnd"]).astimezone(ZoneInfo("Europe/Stockholm"))
    assert (end.day, end.hour, end.minute) == (1, 0, 0)
    assert datetime.fromisoformat(meter["periodEnd"]) > datetime.fromisoformat(meter["periodStart"])


def test_meter_without_schedule_has_no_period_end(api: httpx.Client) -> None:
    meter = new_meter(api, new_type(api, resetSchedule=None)["id"], deleteOnReset=True)
    assert meter["periodEnd"] is None
    assert meter["deleteOnReset"] is True


def test_meter_routes_and_number_of_meters(api: httpx.Client) -> None:
    meter_type = new_type(api)
    other_type = new_type(api)
    meters = [new_meter(api, meter_type["id"]) for _ in range(3)]
    new_meter(api, other_type["id"])
    listed = api.get(METERS, params={"meterTypeId": meter_type["id"]})
    assert listed.status_code == 200
    assert listed.json() == {"meters": meters}
    assert api.get(f"{TYPES}/{meter_type['id']}").json()["numberOfMeters"] == 3
    all_ids = {m["id"] for m in api.get(METERS).json()["meters"]}
    assert {m["id"] for m in meters} <= all_ids

    path = f"{METERS}/{meters[0]['id']}"
    assert api.get(path).json() == meters[0]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404
    assert api.get(f"{TYPES}/{meter_type['id']}").json()["numberOfMeters"] == 2
    assert api.get(METERS, params={"meterTypeId": "no-such-type"}).json() == {"meters": []}


def test_deleting_a_type_with_meters_is_409(api: httpx.Client) -> None:
    meter_type = new_type(api)
    meter = new_meter(api, meter_type["id"])
    response = api.delete(f"{TYPES}/{meter_type['id']}")
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert api.delete(f"{METERS}/{meter['id']}").status_code == 204
    assert api.delete(f"{TYPES}/{meter_type['id']}").status_code == 204


def test_duplicate_meter_is_409(api: httpx.Client) -> None:
    meter_type = new_type(api)
    new_meter(api, meter_type["id"], meterKey="same")
    again = api.post(
        METERS, json={"userId": "u-1", "meterKey": "same", "meterTypeId": meter_type["id"]}
    )
    assert again.status_code == 409
    assert again.json()["field"] == "meterKey"
    new_meter(api, meter_type["id"], meterKey="same", userId="u-2")  # another user is fine


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


METER_RULES: list[tuple[dict[str, Any], str]] = [
    ({"userId": None}, "userId"),
    ({"userId": ""}, "userId"),
    ({"userId": 7}, "userId"),
    ({"userId": long(201)}, "userId"),
    ({"meterKey": None}, "meterKey"),
    ({"meterKey": long(201)}, "meterKey"),
    ({"meterTypeId": None}, "meterTypeId"),
    ({"meterTypeId": "no-such-type"}, "meterTypeId"),
    ({"meterTypeId": str(uuid.uuid4())}, "meterTypeId"),
    ({"deleteOnReset": "yes"}, "deleteOnReset"),
    ({"customFields": "x"}, "customFields"),
    ({"customFields": {"a": nested(40)}}, "customFields"),
]


@pytest.mark.parametrize(("change", "field"), METER_RULES)
def test_meter_validation(api: httpx.Client, change: dict[str, Any], field: str) -> None:
    meter_type = new_type(api)
    body = {"userId": "u", "meterKey": "k", "meterTypeId": meter_type["id"], **change}
    response = api.post(METERS, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "validation_error"
    assert response.json()["field"] == field


# errors common to every route


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{TYPES}/{{id}}"),
        ("PUT", f"{TYPES}/{{id}}"),
        ("PATCH", f"{TYPES}/{{id}}"),
        ("DELETE", f"{TYPES}/{{id}}"),
        ("GET", f"{METERS}/{{id}}"),
        ("DELETE", f"{METERS}/{{id}}"),
    ],
)
def test_unknown_id_is_404(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path.format(id=uuid.uuid4()), json=EXAMPLE_TYPE)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", TYPES, {"GET", "HEAD", "POST"}),
        ("PUT", METERS, {"GET", "HEAD", "POST"}),
        ("POST", f"{TYPES}/x", {"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
        ("POST", f"{METERS}/x", {"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
        ("OPTIONS", METERS, {"GET", "HEAD", "POST"}),
    ],
)
def test_wrong_method_is_405_with_allow(
    api: httpx.Client, method: str, path: str, allowed: set[str]
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert set(response.headers["allow"].split(", ")) == allowed


@pytest.mark.parametrize(
    "path", ["nothing-here", "usage-metering/v2/meters", f"{METERS}/", f"{TYPES}/a/b", ""]
)
def test_unknown_path_is_404_json(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "content",
    [
        b"{broken",
        b"",
        b"   ",
        b'{"name": NaN}',
        b'{"capacity": 1e999}',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_invalid_json_is_400(api: httpx.Client, content: bytes) -> None:
    response = api.post(TYPES, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_invalid_json_names_line_and_column(api: httpx.Client) -> None:
    response = api.post(TYPES, content=b'{\n  "name": }')
    assert "line 2 column" in response.json()["message"]


@pytest.mark.parametrize("body", [[EXAMPLE_TYPE], "text", 5, None, True])
def test_body_must_be_an_object(api: httpx.Client, body: object) -> None:
    response = api.post(TYPES, content=json.dumps(body))
    assert response.status_code == 400
    assert response.json()["field"] == "body"


def test_patch_body_must_be_an_object(api: httpx.Client) -> None:
    created = new_type(api)
    response = api.patch(f"{TYPES}/{created['id']}", json=["name"])
    assert response.status_code == 400 and response.json()["field"] == "body"


def test_body_over_one_megabyte_is_413(api: httpx.Client) -> None:
    big = {**EXAMPLE_TYPE, "description": "x" * (1024 * 1024)}
    response = api.post(TYPES, json=big)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_streamed_body_over_one_megabyte_is_413(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = api.post(TYPES, content=chunks())
    assert response.status_code == 413


def test_body_of_exactly_one_megabyte_is_read(api: httpx.Client) -> None:
    prefix = b'{"name": "n", "unit": "u", "aggregation": {"type": "sum"}, "pad": "'
    content = prefix + b"x" * (1024 * 1024 - len(prefix) - 2) + b'"}'
    assert len(content) == 1024 * 1024
    assert api.post(TYPES, content=content).status_code == 201


# pagination


def test_pagination_with_limit_walks_every_item_once(api: httpx.Client, sandbox: Sandbox) -> None:
    type_id = sandbox.seed_meters(25)
    everything = api.get(METERS, params={"meterTypeId": type_id}).json()
    assert "nextPageToken" not in everything
    seen, params, pages = [], {"meterTypeId": type_id, "limit": "10"}, 0
    while True:
        body = api.get(METERS, params=params).json()
        seen += body["meters"]
        pages += 1
        if "nextPageToken" not in body:
            break
        params = {**params, "pageToken": body["nextPageToken"]}
    assert pages == 3
    assert seen == everything["meters"]


def test_page_size_setting_pages_without_limit() -> None:
    with start(page_size=4) as sb, client_for(sb, get_token(sb)) as client:
        for i in range(6):
            client.post(TYPES, json={**EXAMPLE_TYPE, "name": f"n{i}"}).raise_for_status()
        first = client.get(TYPES).json()
        assert len(first["meterTypes"]) == 4 and "nextPageToken" in first
        second = client.get(TYPES, params={"pageToken": first["nextPageToken"]}).json()
        assert [t["name"] for t in second["meterTypes"]] == ["n4", "n5"]
        assert "nextPageToken" not in second
        big = client.get(TYPES, params={"limit": "1000"}).json()
        assert len(big["meterTypes"]) == 6 and "nextPageToken" not in big


def test_exact_last_page_has_no_next_token(api: httpx.Client, sandbox: Sandbox) -> None:
    type_id = sandbox.seed_meters(10)
    body = api.get(METERS, params={"meterTypeId": type_id, "limit": "10"}).json()
    assert len(body["meters"]) == 10 and "nextPageToken" not in body


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "9" * 5000}, "limit"),
        ({"pageToken": "garbage!"}, "pageToken"),
        ({"pageToken": "bzp4"}, "pageToken"),  # base64 of "o:x"
        ({"pageToken": ""}, "pageToken"),
    ],
)
@pytest.mark.parametrize("path", [TYPES, METERS])
def test_bad_paging_parameters_are_400(
    api: httpx.Client, path: str, params: dict[str, str], field: str
) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_big_list_comes_back_whole(api: httpx.Client, sandbox: Sandbox) -> None:
    type_id = sandbox.seed_meters(5000)
    body = api.get(METERS, params={"meterTypeId": type_id}).json()
    assert len(body["meters"]) == 5000
    assert len({m["id"] for m in body["meters"]}) == 5000
    one = body["meters"][1234]
    assert api.get(f"{METERS}/{one['id']}").json() == one
    assert api.get(f"{TYPES}/{type_id}").json()["numberOfMeters"] == 5000
