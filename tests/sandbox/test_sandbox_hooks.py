"""The sandbox's test hooks (faults, latency, counters, reset, clients, seeding) and its object."""

from __future__ import annotations

import io
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from dotenv import dotenv_values

from ue_magic.sandbox import Sandbox, start
from ue_magic.sandbox.app import build_app
from ue_magic.sandbox.errors import NotFoundError
from ue_magic.sandbox.server import bind_socket
from ue_magic.sandbox.state import SandboxState

TYPES = "usage-metering/v1/meter-types"
METERS = "usage-metering/v1/meters"
TYPE_BODY = {"name": "hooks", "unit": "calls", "aggregation": {"type": "sum"}}


def token_fields(sb: Sandbox) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "audience": sb.base_url,
    }


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A client with a token, fetched before the test's faults are injected."""
    # verify=False: plain http on loopback, so skip loading CA certificates (25 ms a client)
    with httpx.Client(base_url=sandbox.base_url, timeout=10, verify=False) as client:
        token = client.post(sandbox.token_url, data=token_fields(sandbox)).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        sandbox.reset()
        yield client


# faults


def test_injected_status_hits_the_next_count_requests(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=503, count=2)
    first, second, third = (api.get(TYPES) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json() == {"error": "server_error", "message": "Injected 503 from the sandbox"}


def test_injected_429_carries_retry_after(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=429, retry_after=2)
    response = api.get(TYPES)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"] == "too_many_requests"
    sandbox.inject(status=429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    assert api.get(TYPES).headers["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            {"error": "custom", "detail": [1, 2]},
            "application/json",
            b'{"error": "custom", "detail": [1, 2]}',
        ),
        ("<html>Bad gateway</html>", "text/plain; charset=utf-8", b"<html>Bad gateway</html>"),
    ],
)
def test_injected_body(
    api: httpx.Client, sandbox: Sandbox, body: object, content_type: str, expected: bytes
) -> None:
    sandbox.inject(status=502, body=body)
    response = api.get(TYPES)
    assert response.status_code == 502
    assert response.headers["content-type"] == content_type
    assert response.content == expected


def test_injected_204_has_no_body(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=204)
    response = api.post(TYPES, json=TYPE_BODY)
    assert response.status_code == 204 and response.content == b""
    assert api.get(TYPES).status_code == 200


def test_dropped_connection_is_a_transport_error(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(drop=True)
    with pytest.raises(httpx.TransportError):
        api.get(TYPES)
    assert api.get(TYPES).status_code == 200  # a new connection works


def test_delay_holds_the_answer(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=None, delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        api.get(TYPES, timeout=0.1)
    assert api.get(TYPES).status_code == 200  # the delay was used up


def test_delay_then_status(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=504, delay=0.05)
    assert api.get(TYPES).status_code == 504


def test_token_faults_use_the_auth0_shape(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(target="token", status=503)
    response = api.post(sandbox.token_url, data=token_fields(sandbox))
    assert response.status_code == 503
    assert set(response.json()) == {"error", "error_description"}
    assert api.get(TYPES).status_code == 200  # API requests are not the token target
    assert api.post(sandbox.token_url, data=token_fields(sandbox)).status_code == 200
    counters = sandbox.counters()
    assert counters["token_requests"] == 2 and counters["tokens_issued"] == 1


def test_token_endpoint_can_drop_and_rate_limit(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(target="token", drop=True)
    sandbox.inject(target="token", status=429, retry_after=1)
    with pytest.raises(httpx.TransportError):
        api.post(sandbox.token_url, data=token_fields(sandbox))
    limited = api.post(sandbox.token_url, data=token_fields(sandbox))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"


def test_path_prefix_picks_the_requests(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=500, path_prefix="/usage-metering/v1/meters")
    assert api.get(TYPES).status_code == 200
    assert api.get(METERS).status_code == 500
    assert api.get(METERS).status_code == 200


def test_faults_queue_in_order(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=500)
    sandbox.inject(status=502, count=2)
    assert [api.get(TYPES).status_code for _ in range(4)] == [500, 502, 502, 200]


def test_faulted_requests_are_counted(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(status=503, count=2)
    sandbox.inject(drop=True)
    for _ in range(2):
        api.get(TYPES)
    with pytest.raises(httpx.TransportError):
        api.get(METERS)
    api.get(METERS)
    counters = sandbox.counters()
    assert counters["api_requests"] == 4
    assert counters["by_route"] == {
        "GET /usage-metering/v1/meter-types": 2,
        "GET /usage-metering/v1/meters": 2,
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target": "jwks"},
        {"status": 99},
        {"status": 600},
        {"status": "503"},
        {"count": 0},
        {"delay": -1},
        {"delay": float("nan")},
        {"retry_after": -5},
        {"retry_after": "line\r\nbreak"},
        {"body": object()},
        {"path_prefix": 5},
    ],
)
def test_bad_faults_are_refused(sandbox: Sandbox, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        sandbox.inject(**kwargs)


# latency, counters, reset


def test_latency_slows_every_api_request_until_reset(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_latency(2.0)
    with pytest.raises(httpx.ReadTimeout):
        api.get(TYPES, timeout=0.2)
    # the token endpoint and the hooks are not slowed down
    assert api.post(sandbox.token_url, data=token_fields(sandbox), timeout=0.5).status_code == 200
    assert api.get("_sandbox/counters", timeout=0.5).status_code == 200
    sandbox.reset()
    assert api.get(TYPES, timeout=1).status_code == 200


def test_latency_given_at_start_survives_reset() -> None:
    with start(latency=0.6) as sb, httpx.Client(base_url=sb.base_url, verify=False) as http:
        sb.reset()
        with pytest.raises(httpx.ReadTimeout):
            http.get("nothing", timeout=0.1)
        sb.set_latency(0)
        assert http.get("nothing", timeout=1).status_code == 404


def test_counters_by_route_use_the_literal_path(api: httpx.Client, sandbox: Sandbox) -> None:
    created = api.post(TYPES, json=TYPE_BODY).json()
    api.get(f"{TYPES}/{created['id']}", params={"x": "1"})
    api.get("does/not/exist")
    api.get("_sandbox/counters")  # hooks are not API requests
    counters = sandbox.counters()
    assert counters == {
        "token_requests": 0,
        "tokens_issued": 0,
        "api_requests": 3,
        "description_requests": 0,
        "by_route": {
            "POST /usage-metering/v1/meter-types": 1,
            f"GET /usage-metering/v1/meter-types/{created['id']}": 1,
            "GET /does/not/exist": 1,
        },
    }
    counters["by_route"].clear()  # a snapshot: changing it changes nothing
    assert sandbox.counters()["api_requests"] == 3


def test_reset_clears_counters_and_faults_but_keeps_data_and_tokens(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    created = api.post(TYPES, json=TYPE_BODY).json()
    tokens_before = sandbox.issued_tokens
    sandbox.inject(status=500, count=5)
    sandbox.reset()
    assert sandbox.counters() == {
        "token_requests": 0,
        "tokens_issued": 0,
        "api_requests": 0,
        "description_requests": 0,
        "by_route": {},
    }
    assert api.get(f"{TYPES}/{created['id']}").status_code == 200
    assert sandbox.issued_tokens == tokens_before and tokens_before


def test_reset_with_data_empties_the_store() -> None:
    with start() as sb, httpx.Client(base_url=sb.base_url, verify=False) as http:
        token = http.post(sb.token_url, data=token_fields(sb)).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        type_id = sb.seed_meters(3)
        sb.reset(data=True)
        assert http.get(TYPES).json() == {"meterTypes": []}
        assert http.get(METERS).json() == {"meters": []}
        assert http.get(f"{TYPES}/{type_id}").status_code == 404


# seeding and clients


def test_seed_meters_makes_a_type_or_fills_a_given_one(api: httpx.Client, sandbox: Sandbox) -> None:
    type_id = sandbox.seed_meters(7)
    assert api.get(f"{TYPES}/{type_id}").json()["numberOfMeters"] == 7
    assert sandbox.seed_meters(5, type_id) == type_id
    meters = api.get(METERS, params={"meterTypeId": type_id}).json()["meters"]
    assert len(meters) == 12
    assert len({(m["userId"], m["meterKey"]) for m in meters}) == 12
    assert all(m["meterTypeId"] == type_id and m["value"] == 0 for m in meters)
    assert api.get(f"{METERS}/{meters[-1]['id']}").json() == meters[-1]
    with pytest.raises(NotFoundError):
        sandbox.seed_meters(1, str(uuid.uuid4()))


def test_seeding_from_a_thread_while_the_api_is_busy(api: httpx.Client, sandbox: Sandbox) -> None:
    type_id = api.post(TYPES, json=TYPE_BODY).json()["id"]

    def create(i: int) -> int:
        body = {"userId": "u", "meterKey": f"api-{i}", "meterTypeId": type_id}
        return api.post(METERS, json=body).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = pool.map(create, range(100))
        for _ in range(10):
            sandbox.seed_meters(50, type_id)
        assert set(statuses) == {201}
    listed = api.get(METERS, params={"meterTypeId": type_id}).json()["meters"]
    assert len(listed) == 600 == len({m["id"] for m in listed})
    assert api.get(f"{TYPES}/{type_id}").json()["numberOfMeters"] == 600


# the hooks over HTTP


@pytest.fixture
def hooks(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url + "_sandbox/", timeout=10, verify=False) as client:
        yield client


def test_http_hooks_drive_the_same_state(hooks: httpx.Client, sandbox: Sandbox) -> None:
    assert hooks.get("counters").json()["api_requests"] == 0
    assert hooks.post("faults", json={"status": 418, "count": 1}).status_code == 201
    assert httpx.get(sandbox.base_url + "x", verify=False).status_code == 418
    assert hooks.get("counters").json()["api_requests"] == 1
    assert hooks.post("latency", json={"seconds": 0.5}).json() == {"latency": 0.5}
    assert hooks.post("reset", json={}).json() == {"reset": True, "data": False}
    assert sandbox.counters()["api_requests"] == 0
    assert hooks.post("reset").status_code == 200  # no body at all is fine too
    created = hooks.post(
        "clients", json={"client_id": "c2", "client_secret": "s2", "scopes": "read:meters"}
    )
    assert created.json() == {"client_id": "c2", "scopes": ["read:meters"]}
    fields = {**token_fields(sandbox), "client_id": "c2", "client_secret": "s2"}
    assert httpx.post(sandbox.token_url, data=fields, verify=False).json()["scope"] == "read:meters"
    seeded = hooks.post("seed", json={"n": 3}).json()
    assert seeded["seeded"] == 3
    assert (
        hooks.post("seed", json={"n": 2, "meterTypeId": seeded["meterTypeId"]}).status_code == 201
    )


@pytest.mark.parametrize(
    ("hook", "body", "field"),
    [
        ("faults", {"status": "x"}, "fault"),
        ("faults", {"target": "nowhere"}, "fault"),
        ("faults", {"statuss": 500}, "statuss"),
        ("latency", {"seconds": -1}, "seconds"),
        ("latency", {"seconds": "slow"}, "seconds"),
        ("reset", {"data": "yes"}, "data"),
        ("clients", {"client_id": "", "client_secret": "s", "scopes": ""}, "client_id"),
        ("clients", {"client_id": "a", "client_secret": "s", "scopes": 5}, "scopes"),
        ("seed", {"n": -1}, "n"),
        ("seed", {"n": 1, "meterTypeId": 5}, "meterTypeId"),
        ("seed", [1], "body"),
    ],
)
def test_bad_hook_bodies_are_400(hooks: httpx.Client, hook: str, body: object, field: str) -> None:
    response = hooks.post(hook, json=body)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_hooks_refuse_other_methods_and_unknown_names(hooks: httpx.Client) -> None:
    assert hooks.post("counters").status_code == 405
    assert hooks.get("reset").status_code == 405
    unknown = hooks.get("nothing")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


@pytest.mark.parametrize(("peer", "status"), [("10.1.2.3", 403), ("127.0.0.1", 200), ("::1", 200)])
def test_hooks_answer_loopback_peers_only(peer: str, status: int) -> None:
    app = build_app(SandboxState.create("http://sandbox.test/"))
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
            return await client.get("/_sandbox/counters")

    import asyncio

    assert asyncio.run(call()).status_code == status


# the Python object


def test_urls_and_env_point_at_the_sandbox(sandbox: Sandbox) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:") and sandbox.base_url.endswith("/")
    assert sandbox.api_url == sandbox.base_url
    assert sandbox.token_url == sandbox.base_url + "authentication/v1/oauth/token"
    assert sandbox.jwks_url == sandbox.base_url + ".well-known/jwks.json"
    assert sandbox.env() == {
        "UE_CLIENT_ID": sandbox.client_id,
        "UE_CLIENT_SECRET": sandbox.client_secret,
        "UE_AUDIENCE": sandbox.base_url,
        "UE_TOKEN_URL": sandbox.token_url,
        "UE_API_URL": sandbox.base_url,
    }
    assert dotenv_values(stream=io.StringIO(sandbox.env_lines())) == sandbox.env()


def test_env_lines_quote_awkward_secrets() -> None:
    awkward = 'a b"c#d\\e'
    with start(client_id="my-client", client_secret=awkward) as sb:
        assert sb.client_secret == awkward
        assert dotenv_values(stream=io.StringIO(sb.env_lines())) == sb.env()


def test_random_credentials_differ_between_sandboxes(sandbox: Sandbox) -> None:
    with start() as other:
        assert other.client_secret != sandbox.client_secret
        assert other.client_id != sandbox.client_id
        assert other.account_id != sandbox.account_id
        assert len(other.client_secret) >= 32


def test_repr_shows_no_secret(sandbox: Sandbox) -> None:
    assert sandbox.client_secret not in repr(sandbox)
    assert sandbox.base_url in repr(sandbox)


@pytest.mark.parametrize(
    "kwargs", [{"token_ttl": 0}, {"page_size": 0}, {"page_size": 1001}, {"latency": -1}]
)
def test_bad_settings_are_refused_at_start(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        start(**kwargs)


def test_stop_closes_the_port() -> None:
    sb = start()
    port = int(sb.base_url.rsplit(":", 1)[1].strip("/"))
    sb.stop()
    assert "stopped" in repr(sb)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_start_on_a_given_port_and_a_busy_one() -> None:
    probe = bind_socket("127.0.0.1", 0)
    port = probe.getsockname()[1]
    probe.close()
    with start(port=port) as sb:
        assert sb.base_url == f"http://127.0.0.1:{port}/"
        with pytest.raises(OSError):
            start(port=port)


def test_accepted_connections_get_tcp_nodelay() -> None:
    """asyncio sets TCP_NODELAY only on sockets whose proto is TCP; without it each small answer
    waits for a delayed ACK (~40 ms), which would distort every benchmark."""
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_sandbox_works_from_many_threads(sandbox: Sandbox) -> None:
    sandbox.set_rates(token=0)  # 40 logins at once is the point here, not the rate limit
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with httpx.Client(base_url=sandbox.base_url, verify=False) as http:
                for _ in range(10):
                    assert (
                        http.post(sandbox.token_url, data=token_fields(sandbox)).status_code == 200
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sandbox.counters()["tokens_issued"] == 40


def test_the_description_is_counted_apart_from_api_requests(sandbox: Sandbox) -> None:
    """A client's one-time fetch of openapi.json is not an API call: tests that count what a
    cell sent must not see it."""
    answer = httpx.get(sandbox.openapi_url)
    assert answer.status_code == 200 and answer.json()["openapi"].startswith("3.1")
    counters = sandbox.counters()
    assert counters["description_requests"] == 1
    assert counters["api_requests"] == 0
