"""The conformance corpus (tests/data/conformance): every request DigitalRoute publishes is
accepted by the sandbox, and every answer has the documented shape and the published schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from ue_magic.sandbox import Sandbox, start

from .schemas import corpus, scenario_files, validator

SHAPES = corpus("shapes.json")["shapes"]
STAMP = re.compile(SHAPES["timestamp"]["pattern"])
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_.]+)\}\}")


@pytest.fixture(scope="module")
def fresh() -> Iterator[Sandbox]:
    """A sandbox of its own: the corpus looks meter types up by name, so no other test's data."""
    with start() as sb:
        yield sb


@pytest.fixture
def sb(fresh: Sandbox) -> Iterator[Sandbox]:
    fresh.reset(data=True)
    yield fresh


def fill(value: Any, names: dict[str, Any]) -> Any:
    """`{{name}}` in strings (keys and values), from what earlier steps saved."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return lookup(names, whole.group(1))
        return _PLACEHOLDER.sub(lambda m: str(lookup(names, m.group(1))), value)
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def operation_for(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The documented operation whose path template matches `path` (e.g. meters/{id})."""
    for template, item in document["paths"].items():
        pattern = re.escape(template.lstrip("/")).replace(r"\{id\}", "[^/]+")
        if re.fullmatch(pattern, path) and method.lower() in item:
            op: dict[str, Any] = item[method.lower()]
            return op
    raise AssertionError(f"{method} {path} is not in openapi.json")


def check_shape(answer: Any, schema_name: str) -> None:
    shape = SHAPES.get(schema_name)
    if shape is None:
        return
    assert set(shape["fields"]) <= set(answer), (schema_name, set(shape["fields"]) - set(answer))
    items = answer.get("meterTypes") or answer.get("meters") or [answer]
    for item in items:
        for key in ("createdAt", "updatedAt", "periodStart", "activeFrom"):
            if isinstance(item, dict) and key in item:
                assert STAMP.fullmatch(item[key]), (key, item[key])
    for key, kind in (("meterTypes", "MeterType"), ("meters", "Meter")):
        for item in answer.get(key, []) if isinstance(answer, dict) else []:
            assert set(SHAPES[kind]["fields"]) <= set(item)


def send(
    http: httpx.Client, document: dict[str, Any], step: dict[str, Any], names: dict[str, Any]
) -> httpx.Response:
    request = fill(step["request"], names)
    method, path = request["method"], request["path"]
    operation = operation_for(document, method, path)
    if "body" in request or "form" in request:
        sent = request.get("body", request.get("form"))
        schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        errors = list(validator(document, schema.rsplit("/", 1)[1]).iter_errors(sent))
        assert not errors, f"{method} {path}: the published body fails the schema: {errors[0]}"
    response = http.request(
        method,
        path,
        params=request.get("query"),
        json=request.get("body"),
        data=request.get("form"),
    )
    expect = step["expect"]
    assert response.status_code in expect["status"], (step["source"], response.text)
    if response.status_code == 204 or "schema" not in expect:
        return response
    answer = response.json()
    errors = list(validator(document, expect["schema"]).iter_errors(answer))
    assert not errors, f"{method} {path}: the answer fails {expect['schema']}: {errors[0]}"
    check_shape(answer, expect["schema"])
    if "count" in expect:
        key = "meterTypes" if "meterTypes" in answer else "meters"
        assert len(answer[key]) == expect["count"], (step["source"], answer)
    if "body" in expect:
        assert answer == expect["body"]
    for key, value in expect.get("fields", {}).items():
        assert answer[key] == value
    return response


def run(sb: Sandbox, name: str, before: Any = None, until: str | None = None) -> dict[str, Any]:
    """Sends a scenario's steps in order (up to the first whose source path holds `until`)."""
    document = httpx.get(sb.openapi_url).json()
    names: dict[str, Any] = {
        "clientId": sb.client_id,
        "clientSecret": sb.client_secret,
        "audience": sb.base_url,
    }
    with httpx.Client(base_url=sb.base_url, timeout=10) as http:
        token = http.post(
            sb.token_url,
            data={
                k: names[v]
                for k, v in (
                    ("client_id", "clientId"),
                    ("client_secret", "clientSecret"),
                    ("audience", "audience"),
                )
            }
            | {"grant_type": "client_credentials"},
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        for step in corpus(name)["steps"]:
            if until is not None and until in step["source"].get("path", ""):
                break
            if before is not None:
                before(http, step, names)
            if "forEach" in step:
                items = names[step["forEach"]]
                assert items, f"{step['source']}: nothing to repeat the request for"
                for item in items:
                    send(http, document, step, {**names, "item": item})
                continue
            response = send(http, document, step, names)
            for key, dotted in step.get("save", {}).items():
                names[key] = lookup(response.json(), dotted)
    return names


@pytest.mark.parametrize("name", scenario_files())
def test_every_published_request_is_accepted(sb: Sandbox, name: str) -> None:
    run(sb, name)


def test_every_step_names_its_source() -> None:
    for name in scenario_files():
        for step in corpus(name)["steps"]:
            source = step["source"]
            assert (
                "repository" in source and "path" in source and len(source["commit"]) == 40
            ) or (source.get("document") == "shared/usage-engine-api.md"), (name, source)


def test_the_purge_example_deletes_only_its_meter_key(sb: Sandbox) -> None:
    """The printing purge lists by meterTypeId and meterKey and deletes all it gets: a meter of
    the same type under another key must survive it."""
    other: dict[str, Any] = {}

    def plant(http: httpx.Client, step: dict[str, Any], names: dict[str, Any]) -> None:
        if "meterKey" in step["request"].get("query", {}) and not other:  # before the listing
            body = {
                "userId": "101",
                "meterKey": "another-stream",
                "meterTypeId": names["meterTypeId"],
            }
            other.update(http.post("usage-metering/v1/meters", json=body).json())

    run(sb, "printing-as-a-service.json", before=plant)
    with httpx.Client(base_url=sb.base_url, timeout=10) as http:
        assert other, "the purge step never came"
        token = http.post(
            sb.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "audience": sb.base_url,
            },
        ).json()["access_token"]
        left = http.get(
            "usage-metering/v1/meters", headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert [m["id"] for m in left["meters"]] == [other["id"]]


def test_the_printing_streams_usage_meters_as_the_processor_would(sb: Sandbox) -> None:
    usage = corpus("usage.json")
    sb.set_clock(lambda: datetime(2024, 5, 15, 9, tzinfo=timezone.utc))  # before the records
    run(sb, "printing-as-a-service.json", until="purge-meters")
    result = sb.record_usage(usage["records"])
    assert (result["applied"], result["skipped"]) == (len(usage["records"]), 0)
    values = {m["userId"]: m["value"] for m in result["meters"]}
    assert values == usage["expect"]["valueByUser"]
    reached = {m["userId"] for m in result["meters"] for t in m["thresholds"] if "reachedAt" in t}
    assert reached == set()  # 52 sheets is far from 90 % of 10000
