"""`{base}openapi.json`: a valid OpenAPI 3.1 document that tells the truth about the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from ue_magic.sandbox import Sandbox, start
from ue_magic.sandbox.app import build_app
from ue_magic.sandbox.state import SandboxState

from .api_helpers import EXAMPLE_TYPE, client_for, get_token
from .schemas import corpus, scenario_files, validator

TYPES = "usage-metering/v1/meter-types"
METERS = "usage-metering/v1/meters"


@pytest.fixture
def document(sandbox: Sandbox) -> dict[str, Any]:
    response = httpx.get(sandbox.openapi_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    doc: dict[str, Any] = response.json()
    return doc


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, get_token(sandbox)) as client:
        yield client


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]


def test_it_is_valid_openapi_3_1(document: dict[str, Any], sandbox: Sandbox) -> None:
    validate(document)  # openapi-spec-validator: raises on any fault
    assert document["openapi"].startswith("3.1.")
    assert sandbox.openapi_url == sandbox.base_url + "openapi.json"


def test_security_scheme_is_client_credentials_with_the_token_url(
    document: dict[str, Any], sandbox: Sandbox
) -> None:
    scheme = document["components"]["securitySchemes"]["oauth2"]
    flow = scheme["flows"]["clientCredentials"]
    assert scheme["type"] == "oauth2"
    assert flow["tokenUrl"] == sandbox.token_url
    assert set(flow["scopes"]) == set(sandbox.scopes)
    assert document["servers"][0]["url"] + "/" == sandbox.base_url


def test_every_operation_has_an_id_a_summary_and_its_scopes(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    for method, path, op in operations(document):
        assert op["summary"].strip(), (method, path)
        assert isinstance(op["security"], list)
        if path.startswith("/usage-metering/"):
            ((requirement,),) = [list(r.items()) for r in op["security"]]
            assert requirement[0] == "oauth2" and len(requirement[1]) == 1, (method, path)


def test_list_parameters_are_documented(document: dict[str, Any]) -> None:
    def names(path: str) -> set[str]:
        return {p["name"] for p in document["paths"][path]["get"]["parameters"]}

    assert names(f"/{TYPES}") == {"name", "limit", "pageToken"}
    assert {"meterTypeId", "meterKey", "limit", "pageToken"} <= names(f"/{METERS}")


def test_every_route_of_the_app_is_documented(document: dict[str, Any], sandbox: Sandbox) -> None:
    app = build_app(SandboxState.create(sandbox.base_url))
    routes = [r for r in app.app.routes if isinstance(r, Route)]  # type: ignore[attr-defined]
    assert len(routes) > 10
    for route in routes:
        documented = {m.upper() for m in document["paths"][route.path]}
        assert (route.methods or set()) - {"HEAD"} == documented, route.path


def test_every_documented_operation_answers(
    document: dict[str, Any], sandbox: Sandbox, api: httpx.Client
) -> None:
    for method, path, _ in operations(document):
        if path.startswith("/_sandbox/"):
            continue  # the hooks have tests of their own, and some change the sandbox
        response = api.request(method, path.replace("{id}", "x").lstrip("/"), json={})
        assert response.status_code != 405, (method, path)
        if response.status_code == 404:
            assert not response.json()["message"].startswith("no route"), (method, path)


def test_each_scope_in_the_document_is_the_one_the_server_asks_for(
    document: dict[str, Any], sandbox: Sandbox
) -> None:
    for method, path, op in operations(document):
        if not op["security"]:
            continue
        (scope,) = op["security"][0]["oauth2"]
        client_id = f"no-{method}-{path}"
        sandbox.add_client(client_id, "s", [s for s in sandbox.scopes if s != scope])
        with client_for(sandbox, get_token(sandbox, client_id, "s")) as client:
            response = client.request(method, path.replace("{id}", "x").lstrip("/"), json={})
        assert response.status_code == 403, (method, path, response.text)
        assert scope in response.json()["message"]


def test_every_corpus_body_validates_against_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for name in scenario_files():
        for step in corpus(name)["steps"]:
            body = step["request"].get("body", step["request"].get("form"))
            if body is None:
                continue
            path = "/" + step["request"]["path"]
            template = next(
                p
                for p in document["paths"]
                if p == path or (p.endswith("{id}") and path.startswith(p[: -len("{id}")]))
            )
            op = document["paths"][template][step["request"]["method"].lower()]
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            errors = list(validator(document, ref.rsplit("/", 1)[1]).iter_errors(body))
            assert not errors, (name, step["source"], errors[0].message)
            checked += 1
    assert checked >= 30
    records = corpus("usage.json")["records"]
    errors = list(validator(document, "UsageRecords").iter_errors({"records": records}))
    assert not errors, errors[0].message


def _type(**changes: Any) -> dict[str, Any]:
    return {**EXAMPLE_TYPE, **changes}


REFUSED: list[tuple[str, str, dict[str, Any]]] = [
    ("MeterTypeInput", TYPES, _type(name="x" * 81)),
    ("MeterTypeInput", TYPES, _type(name="   ")),
    ("MeterTypeInput", TYPES, {k: v for k, v in EXAMPLE_TYPE.items() if k != "unit"}),
    ("MeterTypeInput", TYPES, _type(description="d" * 201)),
    ("MeterTypeInput", TYPES, _type(category=7)),
    ("MeterTypeInput", TYPES, _type(aggregation={"type": "average"})),
    ("MeterTypeInput", TYPES, _type(capacity=0)),
    ("MeterTypeInput", TYPES, _type(externalRef="r" * 101)),
    ("MeterTypeInput", TYPES, _type(thresholds=[{"name": "a"}])),
    ("MeterTypeInput", TYPES, _type(thresholds=[{"name": "a", "capacityPercentage": -5}])),
    ("MeterTypeInput", TYPES, _type(thresholds=[{"name": "a", "absoluteValue": -1}])),
    (
        "MeterTypeInput",
        TYPES,
        _type(thresholds=[{"name": "a", "absoluteValue": 1, "capacityPercentage": 5}]),
    ),
    ("MeterTypeInput", TYPES, _type(resetSchedule={"day": "1"})),
    ("MeterTypeInput", TYPES, _type(resetSchedule={**EXAMPLE_TYPE["resetSchedule"], "day": "§"})),
    ("MeterInput", METERS, {"userId": "u", "meterKey": "k"}),
    ("MeterInput", METERS, {"userId": "u" * 201, "meterKey": "k", "meterTypeId": "t"}),
    ("MeterInput", METERS, {"userId": "u", "meterKey": "", "meterTypeId": "t"}),
    ("MeterInput", METERS, {"userId": "u", "meterKey": "k", "meterTypeId": "t", "customFields": 3}),
    (
        "MeterInput",
        METERS,
        {"userId": "u", "meterKey": "k", "meterTypeId": "t", "deleteOnReset": 1},
    ),
]


@pytest.mark.parametrize(("schema", "path", "body"), REFUSED)
def test_bodies_the_sandbox_refuses_fail_the_schema(
    document: dict[str, Any], api: httpx.Client, schema: str, path: str, body: dict[str, Any]
) -> None:
    assert api.post(path, json=body).status_code == 400
    assert list(validator(document, schema).iter_errors(body)), "the schema lets it through"


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ("MeterTypeInput", "name"),
        ("MeterTypeInput", "description"),
        ("MeterTypeInput", "unit"),
        ("MeterTypeInput", "category"),
        ("MeterTypeInput", "externalRef"),
        ("MeterInput", "userId"),
        ("MeterInput", "meterKey"),
    ],
)
def test_published_lengths_are_the_enforced_ones(
    document: dict[str, Any], api: httpx.Client, schema: str, field: str
) -> None:
    limit = document["components"]["schemas"][schema]["properties"][field]["maxLength"]
    if schema == "MeterTypeInput":
        path, base = TYPES, dict(EXAMPLE_TYPE)
    else:
        meter_type = api.post(TYPES, json=EXAMPLE_TYPE).json()
        path, base = METERS, {"userId": "u", "meterKey": "k", "meterTypeId": meter_type["id"]}
    check = validator(document, schema)
    longest, too_long = {**base, field: "a" * limit}, {**base, field: "a" * (limit + 1)}
    assert check.is_valid(longest) and not check.is_valid(too_long)
    assert api.post(path, json=longest).status_code == 201
    refused = api.post(path, json=too_long)
    assert refused.status_code == 400 and refused.json()["field"] == field


def test_answers_match_their_schemas(document: dict[str, Any], api: httpx.Client) -> None:
    meter_type = api.post(TYPES, json=EXAMPLE_TYPE).json()
    body = {"userId": "u", "meterKey": "k", "meterTypeId": meter_type["id"]}
    meter = api.post(METERS, json=body).json()
    error = api.post(METERS, json={}).json()
    for schema, answer in [
        ("MeterType", meter_type),
        ("Meter", meter),
        ("MeterTypeList", api.get(TYPES, params={"limit": 1}).json()),
        ("MeterList", api.get(METERS, params={"meterTypeId": meter_type["id"]}).json()),
        ("Error", error),
    ]:
        errors = list(validator(document, schema).iter_errors(answer))
        assert not errors, (schema, errors[0].message)


HOOK_BODIES = [
    ("reset", "SandboxReset", {"data": True}, {"data": "yes"}),
    ("faults", "SandboxFault", {"status": 503, "count": 1, "path_prefix": "/x"}, {"count": 0}),
    ("faults", "SandboxFault", {"target": "token", "delay": 0}, {"target": "db"}),
    ("faults", "SandboxFault", {"retry_after": 2}, {"colour": "red"}),
    ("latency", "SandboxLatency", {"seconds": 0}, {"seconds": -1}),
    ("clients", "SandboxClient", {"client_id": "c", "client_secret": "s", "scopes": ""}, {}),
    ("seed", "SandboxSeed", {"n": 2}, {"n": -1}),
    ("rates", "SandboxRates", {"token": "10/5", "api": 0}, {"token": "fast"}),
    ("rates", "SandboxRates", {"api": None}, {"burst": 5}),
    ("clock", "SandboxClock", {"now": "2024-05-01T00:00:00Z"}, {"now": "tomorrow"}),
]


@pytest.fixture(scope="module")
def own() -> Iterator[Sandbox]:
    """Hooks change the sandbox they are sent to: not the session's."""
    with start() as sb:
        yield sb


@pytest.mark.parametrize(("hook", "schema", "good", "bad"), HOOK_BODIES)
def test_hook_bodies_are_documented_as_the_hooks_check_them(
    own: Sandbox, hook: str, schema: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    doc = httpx.get(own.openapi_url).json()
    body_ref = doc["paths"][f"/_sandbox/{hook}"]["post"]["requestBody"]["content"]
    assert body_ref["application/json"]["schema"]["$ref"].endswith(f"/{schema}")
    check = validator(doc, schema)
    with httpx.Client(base_url=own.base_url, timeout=10) as hooks:
        accepted = hooks.post(f"_sandbox/{hook}", json=good)
        refused = hooks.post(f"_sandbox/{hook}", json=bad)
        hooks.post("_sandbox/reset", json={"data": True})
    assert accepted.status_code in (200, 201), accepted.text
    assert not list(check.iter_errors(good))
    assert refused.status_code == 400, refused.text
    assert list(check.iter_errors(bad)), "the schema lets through what the hook refuses"


@pytest.mark.parametrize("path", [TYPES, METERS])
@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "ten"}, {"pageToken": "forged"}])
def test_a_bad_list_parameter_answers_a_documented_status(
    document: dict[str, Any], api: httpx.Client, path: str, params: dict[str, str]
) -> None:
    answer = api.get(path, params=params)
    assert answer.status_code == 400
    responses = document["paths"]["/" + path]["get"]["responses"]
    assert "400" in responses, "the list answers 400 but its description does not say so"
    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


@pytest.mark.parametrize("stamp", ["2024-01-01", "2024-01-01T08:00:00", "2024-01-01T08:00+02:00"])
def test_timestamps_the_sandbox_takes_pass_the_schema(
    document: dict[str, Any], api: httpx.Client, stamp: str
) -> None:
    """ISO 8601 forms the server accepts must not be refused by a client that trusts the schema."""
    body = {**EXAMPLE_TYPE, "name": "stamped", "activeFrom": stamp}
    assert api.post(TYPES, json=body).status_code == 201
    assert not list(validator(document, "MeterTypeInput").iter_errors(body))
    clock = {"now": stamp}
    assert not list(validator(document, "SandboxClock").iter_errors(clock))
    record = {"userId": "u", "meterKey": "k", "value": 1, "timestamp": stamp}
    assert not list(validator(document, "UsageRecords").iter_errors(record))


@pytest.mark.parametrize("stamp", ["", "yesterday", "2024" + "0" * 40])
def test_usage_timestamps_the_sandbox_refuses_fail_the_schema(
    document: dict[str, Any], sandbox: Sandbox, stamp: str
) -> None:
    record = {"userId": "nobody", "meterKey": "none", "value": 1, "timestamp": stamp}
    with httpx.Client(base_url=sandbox.base_url, timeout=10) as hooks:
        assert hooks.post("_sandbox/usage", json=record).status_code == 400
    assert list(validator(document, "UsageRecords").iter_errors(record))
