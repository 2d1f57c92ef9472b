"""UsageEngineClient against the sandbox on loopback: token reuse, renewal, retries, secrets."""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from ue_magic.core._client import ClientStats, UsageEngineClient
from ue_magic.core.credentials import Credentials
from ue_magic.core.token import TokenManager
from ue_magic.errors import ApiConnectionError, InvalidClientError, OriginError, UsageEngineError
from ue_magic.sandbox import Sandbox, start

TYPES = "usage-metering/v1/meter-types"
METERS = "usage-metering/v1/meters"


def make_client(env: dict[str, str], folder: Path, **kw: Any) -> UsageEngineClient:
    return UsageEngineClient(Credentials.from_env(environ=env, cwd=folder), **kw)


def meter_type(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "unit": "calls",
        "category": "DEFAULT",
        "aggregation": {"type": "sum"},
        "resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"},
        "timezone": "Etc/UTC",
        "capacity": 10,
        "thresholds": [],
    }


def route(sandbox: Sandbox, key: str) -> int:
    return int(sandbox.counters()["by_route"].get(key, 0))


# -- one token per lifetime -----------------------------------------------------------------------
def test_a_thousand_calls_make_one_token_request(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    with make_client(sandbox_env, tmp_path) as ue:
        statuses = {ue.get(TYPES, params={"name": "none-such"}).status_code for _ in range(1000)}
        assert statuses == {200}
        counters = sandbox.counters()
        assert counters["token_requests"] == 1 == counters["tokens_issued"]
        assert counters["api_requests"] == 1000
        assert ue.stats == ClientStats(requests=1000, token_requests=1, retries=0)


def run_threads(count: int, work: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_32_threads_across_real_expiries_make_one_token_request_per_expiry(
    tmp_path: Path,
) -> None:
    """Tokens live 2 s; threads call until the third token has been fetched, then stop.

    A fourth token request could only come from a duplicate (the bug this test is after) or
    from the third token going stale (about a second later), long after every thread stopped.
    """
    with start(token_ttl=2) as sb, make_client(sb.env(), tmp_path) as ue:
        manager = ue.token_manager
        statuses: list[int] = []
        deadline = time.monotonic() + 60  # a guard against a hang, not an assertion

        def work() -> None:
            while manager.token_requests < 3 and time.monotonic() < deadline:
                statuses.append(ue.get(TYPES, params={"name": "none-such"}).status_code)

        assert run_threads(32, work) == []
        counters = sb.counters()
        assert counters["token_requests"] == 3 == counters["tokens_issued"]
        assert manager.token_requests == 3
        assert set(statuses) == {200}
        # A request lost on a broken keep-alive connection never reaches the server and is
        # retried: the client counts it, the server does not.
        stats = ue.stats
        assert (
            counters["api_requests"] <= stats.requests <= counters["api_requests"] + stats.retries
        )


class SteppedClock:
    """A monotonic clock the test moves: expiry happens exactly when the test says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def client_with_token_aged(
    age: float, env: dict[str, str], folder: Path
) -> Iterator[UsageEngineClient]:
    """A client whose first token was fetched ``age`` seconds ago (by a stepped clock)."""
    clock = SteppedClock()
    creds = Credentials.from_env(environ=env, cwd=folder)
    manager = TokenManager(creds, clock=clock)
    try:
        with UsageEngineClient(creds, token_manager=manager) as ue:
            ue.token_manager.get_token()
            clock.now += age
            yield ue
    finally:
        manager.close()


def test_32_threads_renew_exactly_once_per_expiry_with_a_stepped_clock(tmp_path: Path) -> None:
    clock = SteppedClock()
    with start(token_ttl=60) as sb:
        creds = Credentials.from_env(environ=sb.env(), cwd=tmp_path)
        manager = TokenManager(creds, clock=clock)
        with UsageEngineClient(creds, token_manager=manager) as ue:
            for expiry in range(1, 5):
                barrier = threading.Barrier(32)

                def work(barrier: threading.Barrier = barrier) -> None:
                    barrier.wait()
                    for _ in range(3):
                        assert ue.get(TYPES, params={"name": "x"}).status_code == 200

                assert run_threads(32, work) == []
                assert sb.counters()["token_requests"] == expiry
                clock.now += 60  # past the renewal point of every token
            assert sb.counters()["api_requests"] == 4 * 32 * 3
        manager.close()


# -- a refused token ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "key", "status"),
    [
        ("GET", TYPES, {}, f"GET /{TYPES}", 200),
        ("POST", TYPES, {"json": meter_type("renewal-test")}, f"POST /{TYPES}", 201),
        ("DELETE", f"{METERS}/no-such-id", {}, f"DELETE /{METERS}/no-such-id", 404),
    ],
)
def test_a_refused_token_is_renewed_once_and_resent_once(
    method: str,
    path: str,
    kwargs: dict[str, Any],
    key: str,
    status: int,
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    tmp_path: Path,
) -> None:
    with client_with_token_aged(60, sandbox_env, tmp_path) as ue:
        sandbox.inject(target="api", status=401, count=1)
        response = ue.request(method, path, **kwargs)
        assert [r.status_code for r in response.history] == [401]
        assert response.status_code == status or (status == 201 and response.status_code == 200)
        assert sandbox.counters()["token_requests"] == 2
        assert route(sandbox, key) == 2
        assert ue.stats == ClientStats(requests=2, token_requests=2, retries=0)


@pytest.mark.parametrize("age", [0, 60])
def test_renewal_contract_a_token_refused_twice_gives_the_401(
    age: float, sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    """Young or old, a refused token is renewed once; the renewed one refused too is the answer,
    and is not renewed again on the next call."""
    with client_with_token_aged(age, sandbox_env, tmp_path) as ue:
        sandbox.inject(target="api", status=401, count=5)
        assert ue.get(TYPES).status_code == 401
        assert sandbox.counters()["token_requests"] == 2
        assert route(sandbox, f"GET /{TYPES}") == 2
        assert ue.get(TYPES).status_code == 401
        assert sandbox.counters()["token_requests"] == 2


# -- retries --------------------------------------------------------------------------------------
RETRIES = [
    # method, path, kwargs, fault, requests to the route, waits (None: backoff), final status
    pytest.param(
        "GET",
        TYPES,
        {},
        {"status": 503, "count": 2, "retry_after": 2},
        3,
        [2.0, 2.0],
        200,
        id="get-503-retry-after",
    ),
    pytest.param(
        "GET",
        TYPES,
        {},
        {"status": 429, "count": 1, "retry_after": 90},
        1,
        [],
        429,
        id="get-429-beyond-the-cap",
    ),
    pytest.param(
        "GET",
        TYPES,
        {},
        {"status": 429, "retry_after": "Fri, 01 Jan 2100 00:00:00 GMT"},
        1,
        [],
        429,
        id="get-429-http-date",
    ),
    pytest.param(
        "GET",
        TYPES,
        {},
        {"status": 429, "count": 1, "retry_after": 30},
        2,
        [30.0],
        200,
        id="get-429-at-the-cap",
    ),
    pytest.param("GET", TYPES, {}, {"status": 502, "count": 9}, 4, None, 502, id="get-bounded"),
    pytest.param("GET", TYPES, {}, {"status": 500}, 1, [], 500, id="get-500"),
    pytest.param("GET", TYPES, {}, {"status": None, "drop": True}, 2, None, 200, id="get-drop"),
    pytest.param(
        "POST", TYPES, {"json": meter_type("r1")}, {"status": 503}, 1, [], 503, id="post-503"
    ),
    pytest.param(
        "POST",
        TYPES,
        {"json": meter_type("r2"), "retries": 1},
        {"status": 503},
        2,
        None,
        201,
        id="post-retries-1",
    ),
    pytest.param(
        "POST",
        TYPES,
        {"json": meter_type("r3"), "headers": {"Idempotency-Key": "k"}},
        {"status": 429, "retry_after": 1},
        2,
        [1.0],
        201,
        id="post-idempotency-key",
    ),
    pytest.param(
        "PUT",
        f"{TYPES}/nope",
        {"json": meter_type("r4")},
        {"status": 504},
        2,
        None,
        404,
        id="put-504",
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "fault", "hits", "waits", "final"), RETRIES)
def test_retries_happen_only_where_they_should(
    method: str,
    path: str,
    kwargs: dict[str, Any],
    fault: dict[str, Any],
    hits: int,
    waits: list[float] | None,
    final: int,
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    tmp_path: Path,
) -> None:
    sleeps: list[float] = []
    with make_client(sandbox_env, tmp_path, sleep=sleeps.append) as ue:
        sandbox.inject(target="api", path_prefix=f"/{path}", **fault)
        response = ue.request(method, path, **kwargs)
        assert response.status_code == final or (final == 201 and response.status_code == 200)
        assert route(sandbox, f"{method} /{path}") == hits
        if waits is None:
            assert len(sleeps) == hits - 1 and all(0 < s <= 30 for s in sleeps)
        else:
            assert sleeps == waits
        assert ue.stats.retries == hits - 1


def test_connection_errors_after_the_retries_raise_api_connection_error(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    sleeps: list[float] = []
    with make_client(sandbox_env, tmp_path, sleep=sleeps.append) as ue:
        sandbox.inject(target="api", status=None, drop=True, count=4)
        with pytest.raises(ApiConnectionError, match="after 4 attempts") as info:
            ue.get(TYPES)
        assert info.value.__context__ is None and info.value.__cause__ is None
        assert len(sleeps) == 3 and route(sandbox, f"GET /{TYPES}") == 4


# -- origins --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make_url",
    [
        lambda base: base.replace("127.0.0.1", "localhost") + TYPES,  # same server, other origin
        lambda base: "https://example.com/" + TYPES,
        lambda base: base.replace("http://", "https://") + TYPES,
    ],
)
def test_another_origin_is_refused_and_nothing_is_sent(
    make_url: Any, sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    with make_client(sandbox_env, tmp_path) as ue:
        with pytest.raises(OriginError):
            ue.get(make_url(sandbox.base_url))
        counters = sandbox.counters()
        assert counters["api_requests"] == 0 and counters["token_requests"] == 0


def test_an_absolute_url_on_the_api_origin_is_fine(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    with make_client(sandbox_env, tmp_path) as ue:
        assert ue.get(sandbox.base_url + TYPES).status_code == 200


# -- pages ----------------------------------------------------------------------------------------
def test_iter_pages_walks_a_list(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    type_id = sandbox.seed_meters(7)
    with make_client(sandbox_env, tmp_path) as ue:
        pages = list(ue.iter_pages("GET", METERS, params={"meterTypeId": type_id, "limit": 3}))
    assert [len(p.json()["meters"]) for p in pages] == [3, 3, 1]
    ids = [m["id"] for p in pages for m in p.json()["meters"]]
    assert len(set(ids)) == 7


# -- secrets and tokens are nowhere ---------------------------------------------------------------
def locals_text(tb: TracebackType | None) -> str:
    """What %xmode Verbose would print for our frames: every local's repr."""
    parts = []
    while tb is not None:
        if "ue_magic" in tb.tb_frame.f_code.co_filename:
            parts += [repr(value) for value in tb.tb_frame.f_locals.values()]
        tb = tb.tb_next
    return "\n".join(parts)


def exception_text(exc: BaseException) -> str:
    return f"{exc}\n{exc!r}\n{exc.args!r}\n{locals_text(exc.__traceback__)}"


def response_text(response: httpx.Response) -> str:
    parts = []
    for r in [*response.history, response]:
        assert r.request.headers["authorization"] == "Bearer ***"
        parts += [repr(r), repr(r.request), repr(r.headers), repr(r.request.headers)]
        parts += [f"{k}: {v}" for k, v in r.request.headers.multi_items()]
    return "\n".join(parts)


def test_secrets_and_tokens_appear_nowhere(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx and httpcore
    texts: list[str] = []
    errors: list[BaseException] = []
    creds = Credentials.from_env(environ=sandbox_env, cwd=tmp_path)
    with UsageEngineClient(creds, sleep=lambda s: None) as ue:
        responses = [ue.get(TYPES)]
        sandbox.inject(target="api", status=401)
        responses.append(ue.get(TYPES))
        sandbox.inject(target="api", status=503, retry_after=0)
        responses.append(ue.post(TYPES, json=meter_type("audit"), retries=1))
        ue.token_manager.renew()
        sandbox.inject(target="api", status=None, drop=True, count=4)
        for call in (lambda: ue.get(TYPES), lambda: ue.get("https://example.com/x")):
            with pytest.raises(UsageEngineError) as info:
                call()
            errors.append(info.value)
        for thing in (ue, creds, ue.token_manager):
            with pytest.raises(TypeError):
                pickle.dumps(thing)
        texts += [repr(ue), str(ue), repr(creds), str(creds), repr(ue.token_manager)]
        texts += [repr(ue.token_manager.info), repr(ue.stats), repr(ue.token_manager.auth)]
        texts += [response_text(r) for r in responses]
    wrong = Credentials.from_env(environ=sandbox_env, cwd=tmp_path, client_secret="nope-secret")
    with pytest.raises(InvalidClientError) as info:
        UsageEngineClient(wrong).get(TYPES)
    errors.append(info.value)
    texts += [exception_text(e) for e in errors]
    texts += [caplog.text, *(repr(r.__dict__) for r in caplog.records)]
    assert len(sandbox.issued_tokens) >= 3
    secrets = [sandbox.client_secret, "nope-secret", *sandbox.issued_tokens]
    found = [s[:8] for s in secrets for text in texts if s in text]
    assert found == []
    assert any("token received" in r.getMessage() for r in caplog.records)
