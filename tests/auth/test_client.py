"""UsageEngineClient with httpx.MockTransport: URLs, origin guard, retries, masking, counters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from tests.mock_api import (
    API,
    SECRET,
    Answer,
    Backend,
    Clock,
    make_creds,
    status,
)
from ue_magic.core._client import MAX_RETRIES, ClientClosedError, ClientStats, UsageEngineClient
from ue_magic.core.token import TokenManager
from ue_magic.errors import ApiConnectionError, OriginError, TokenError, UsageEngineError


@pytest.mark.parametrize(
    ("api_url", "path", "expected"),
    [
        (API, "usage-metering/v1/meters", "https://api.example/usage-metering/v1/meters"),
        (API, "/usage-metering/v1/meters", "https://api.example/usage-metering/v1/meters"),
        ("https://api.example/base", "x?a=1", "https://api.example/base/x?a=1"),
        ("https://api.example/base/", "/x", "https://api.example/base/x"),
        (API, "https://api.example/abs", "https://api.example/abs"),
        (API, "https://API.example:443/abs", "https://api.example/abs"),
        ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/x", "http://127.0.0.1:8787/x"),
        (API, "//api.example/x", "https://api.example/x"),
        # the origin is the guard's unit, not the API URL's path (docs/guide/security.md)
        ("https://api.example/base/", "https://api.example/other", "https://api.example/other"),
        ("https://api.example/base/", "/../other", "https://api.example/other"),
        ("https://api.example/base/", "https://api.example/basex/y", "https://api.example/basex/y"),
    ],
)
def test_resolve_url_joins_to_the_api_url(api_url: str, path: str, expected: str) -> None:
    with UsageEngineClient(make_creds(api_url), transport=httpx.MockTransport(Backend())) as ue:
        assert str(ue.resolve_url(path)) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/usage-metering/v1/meters",
        "https://api.example.evil.example/",
        "https://api.example:8443/x",
        "http://api.example/x",
        "//evil.example/x",
        "ftp://api.example/x",
        "https://auth.example/oauth/token",
    ],
)
def test_another_origin_is_refused_before_anything_is_sent(
    url: str, client: UsageEngineClient, backend: Backend
) -> None:
    with pytest.raises(OriginError, match="Refusing to send the token"):
        client.get(url)
    with pytest.raises(OriginError):
        client.send(httpx.Request("GET", url))
    with pytest.raises(OriginError):
        client.build_request("GET", url)
    assert backend.api == [] and backend.token_calls == 0
    assert client.stats == ClientStats(requests=0, token_requests=0, retries=0)


def test_plain_http_off_loopback_is_named_in_the_refusal(client: UsageEngineClient) -> None:
    with pytest.raises(OriginError, match="plain http"):
        client.get("http://elsewhere.example/x")


def test_build_request_has_no_token_and_sends_nothing(
    client: UsageEngineClient, backend: Backend
) -> None:
    request = client.build_request(
        "post", "usage-metering/v1/meters", params={"a": "1"}, json={"k": 1}, headers={"X-A": "b"}
    )
    assert request.method == "POST"
    assert str(request.url) == "https://api.example/usage-metering/v1/meters?a=1"
    assert "authorization" not in request.headers and request.headers["x-a"] == "b"
    assert request.content == b'{"k":1}'
    assert backend.api == [] and backend.token_calls == 0


def test_the_token_is_sent_and_then_masked_on_the_response(
    client: UsageEngineClient, backend: Backend
) -> None:
    response = client.get("usage-metering/v1/meters")
    assert response.json() == {"ok": True}
    assert backend.bearers == ["Bearer tok-1"]
    assert response.request.headers["Authorization"] == "Bearer ***"
    assert client.stats == ClientStats(requests=1, token_requests=1, retries=0)


def test_a_thousand_calls_make_one_token_request(
    client: UsageEngineClient, backend: Backend
) -> None:
    for _ in range(1000):
        client.get("x")
    assert backend.token_calls == 1
    assert client.stats == ClientStats(requests=1000, token_requests=1, retries=0)


def test_a_401_renews_once_and_resends_once(
    client: UsageEngineClient, backend: Backend, clock: Clock
) -> None:
    client.token_manager.get_token()
    backend.queue.append(httpx.Response(401))
    response = client.get("x")
    assert response.status_code == 200
    assert backend.bearers == ["Bearer tok-1", "Bearer tok-2"]
    assert [r.status_code for r in response.history] == [401]
    assert response.request.headers["Authorization"] == "Bearer ***"
    assert client.stats == ClientStats(requests=2, token_requests=2, retries=0)


def test_a_second_401_is_returned(
    client: UsageEngineClient, backend: Backend, clock: Clock
) -> None:
    client.token_manager.get_token()
    clock.now += 60
    backend.queue += [httpx.Response(401), httpx.Response(401)]
    assert client.get("x").status_code == 401
    assert len(backend.api) == 2 and backend.token_calls == 2


@pytest.mark.parametrize("age", [0.0, 2.0, 60.0])
def test_a_persistent_401_does_not_cost_a_token_request_per_call(
    age: float,
    client: UsageEngineClient,
    backend: Backend,
    clock: Clock,
) -> None:
    """20 bulk items against an API that refuses every token: at most one renewal."""
    backend.default = lambda r: httpx.Response(401)
    client.token_manager.get_token()
    clock.now += age
    assert [client.get("x").status_code for _ in range(20)] == [401] * 20
    assert backend.token_calls == 2 and len(backend.api) == 21  # one renewal, young or old


def test_methods_send_what_they_say(client: UsageEngineClient, backend: Backend) -> None:
    client.post("a", json={"x": 1})
    client.put("b", content=b"raw", headers={"Content-Type": "text/plain"})
    client.patch("c", json=[1])
    client.delete("d", params={"force": "true"})
    client.get("e", timeout=1.5)
    sent = [(r.method, r.url.path, r.url.query.decode(), r.content) for r in backend.api]
    assert sent == [
        ("POST", "/a", "", b'{"x":1}'),
        ("PUT", "/b", "", b"raw"),
        ("PATCH", "/c", "", b"[1]"),
        ("DELETE", "/d", "force=true", b""),
        ("GET", "/e", "", b""),
    ]
    assert backend.api[-1].extensions["timeout"]["read"] == 1.5


RETRY_CASES = [
    # method, answers, request kwargs, API calls expected, final status
    pytest.param("GET", [status(503), status(502), status(504)], {}, 4, 200, id="get-5xx"),
    pytest.param("GET", [status(429)], {}, 2, 200, id="get-429"),
    pytest.param("GET", [status(500)], {}, 1, 500, id="get-500-not-retried"),
    pytest.param("GET", [status(503)] * 5, {}, 4, 503, id="get-bounded"),
    pytest.param("GET", [status(503)], {"retries": 0}, 1, 503, id="get-retries-0"),
    pytest.param("HEAD", [status(503)], {}, 2, 200, id="head"),
    pytest.param("OPTIONS", [status(503)], {}, 2, 200, id="options"),
    pytest.param("PUT", [status(503)], {}, 2, 200, id="put"),
    pytest.param("DELETE", [status(429)], {}, 2, 200, id="delete"),
    pytest.param("POST", [status(503)], {}, 1, 503, id="post-not-retried"),
    pytest.param("PATCH", [status(503)], {}, 1, 503, id="patch-not-retried"),
    pytest.param("POST", [status(503)] * 3, {"retries": 2}, 3, 503, id="post-retries-2"),
    pytest.param("PATCH", [status(429)], {"retries": 1}, 2, 200, id="patch-retries-1"),
    pytest.param("POST", [status(429)] * 2, {}, 3, 200, id="post-429-any-method"),
    pytest.param("PATCH", [status(429)] * 5, {}, 4, 429, id="patch-429-bounded"),
    pytest.param(
        "POST", [status(503)], {"headers": {"Idempotency-Key": "k1"}}, 2, 200, id="post-idem-key"
    ),
    pytest.param("POST", [status(400)], {"retries": 3}, 1, 400, id="post-400-never"),
    pytest.param("GET", [status(404)], {}, 1, 404, id="get-404-never"),
]


@pytest.mark.parametrize(("method", "answers", "kwargs", "calls", "final"), RETRY_CASES)
def test_retries_only_where_safe(
    method: str,
    answers: list[Answer],
    kwargs: dict[str, object],
    calls: int,
    final: int,
    client: UsageEngineClient,
    backend: Backend,
    sleeps: list[float],
) -> None:
    backend.queue += answers
    response = client.request(method, "x", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == final
    assert len(backend.api) == calls
    assert len(sleeps) == calls - 1 == client.stats.retries
    assert client.stats.requests == calls
    assert response.request.headers["Authorization"] == "Bearer ***"


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        ("2", 2.0),
        ("0", 0.0),
        ("0.25", 0.25),
        ("30", 30.0),  # max_retry_wait itself
        (format_datetime(datetime.now(timezone.utc) - timedelta(days=1), usegmt=True), 0.0),
    ],
)
def test_retry_after_is_honoured_and_capped(
    retry_after: str,
    wait: float,
    client: UsageEngineClient,
    backend: Backend,
    sleeps: list[float],
) -> None:
    backend.queue.append(status(429, **{"Retry-After": retry_after}))
    assert client.get("x").status_code == 200
    assert sleeps == [wait]


@pytest.mark.parametrize(
    "retry_after",
    [
        "31",
        "3600",
        "1e300",
        format_datetime(datetime.now(timezone.utc) + timedelta(days=1), usegmt=True),
    ],
)
def test_a_retry_after_beyond_the_cap_returns_the_answer_and_says_when(
    retry_after: str,
    client: UsageEngineClient,
    backend: Backend,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend.queue.append(status(429, **{"Retry-After": retry_after}))
    with caplog.at_level(logging.WARNING, logger="ue_magic"):
        response = client.get("x")
    assert response.status_code == 429 and sleeps == [] and len(backend.api) == 1
    assert "not retrying; try again after" in caplog.text and "longer than" in caplog.text
    assert response.request.headers["Authorization"] == "Bearer ***"


@pytest.mark.parametrize("retry_after", ["inf", "nan", "-inf", "soon"])
def test_an_unreadable_retry_after_means_backoff(
    retry_after: str, client: UsageEngineClient, backend: Backend, sleeps: list[float]
) -> None:
    backend.queue.append(status(503, **{"Retry-After": retry_after}))
    assert client.get("x").status_code == 200
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_backoff_grows_and_is_bounded_without_retry_after(
    backend: Backend, sleeps: list[float]
) -> None:
    backend.queue += [status(503)] * 6
    with UsageEngineClient(
        make_creds(),
        transport=httpx.MockTransport(backend),
        sleep=sleeps.append,
        max_retries=6,
        max_retry_wait=2.0,
    ) as ue:
        assert ue.get("x").status_code == 200
    ceilings = [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]
    assert len(sleeps) == 6
    assert all(c / 2 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ConnectTimeout("slow connect"),
    ],
)
def test_connection_errors_are_retried_for_idempotent_methods(
    error: Exception, client: UsageEngineClient, backend: Backend, sleeps: list[float]
) -> None:
    backend.queue.append(error)
    assert client.get("x").status_code == 200
    assert len(backend.api) == 2 and len(sleeps) == 1


def test_connection_errors_after_the_retries_raise_a_clear_error(
    client: UsageEngineClient, backend: Backend, sleeps: list[float]
) -> None:
    backend.queue += [httpx.ConnectError("Connection refused")] * 4
    with pytest.raises(ApiConnectionError) as info:
        client.get("usage-metering/v1/meters?secret=no")
    message = str(info.value)
    assert "GET https://api.example/usage-metering/v1/meters" in message
    assert "after 4 attempts" in message and "Connection refused" in message
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert "tok-1" not in message and SECRET not in message
    assert len(sleeps) == 3


def test_a_post_connection_error_is_not_retried(
    client: UsageEngineClient, backend: Backend, sleeps: list[float]
) -> None:
    backend.queue.append(httpx.ReadError("reset"))
    request = client.build_request("POST", "x", json={})
    with pytest.raises(ApiConnectionError):
        client.send(request)
    assert len(backend.api) == 1 and sleeps == []
    assert request.headers["Authorization"] == "Bearer ***"


def test_a_read_timeout_is_not_retried(
    client: UsageEngineClient, backend: Backend, sleeps: list[float]
) -> None:
    backend.queue.append(httpx.ReadTimeout("slow"))
    with pytest.raises(ApiConnectionError, match="timed out"):
        client.get("x")
    assert len(backend.api) == 1 and sleeps == []


def test_retries_are_logged_without_tokens(
    client: UsageEngineClient,
    backend: Backend,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ue_magic")
    backend.queue += [status(503, **{"Retry-After": "2"}), status(502)]
    client.get("x?q=hidden")
    messages = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert messages == [
        "ue_magic: GET https://api.example/x answered 503 Service Unavailable "
        "(as Retry-After asks); waiting 2.0 s before retry 1 of 3",
        f"ue_magic: GET https://api.example/x answered 502 Bad Gateway (backoff); "
        f"waiting {sleeps[1]:.1f} s before retry 2 of 3",
    ]
    assert "tok-1" not in caplog.text and SECRET not in caplog.text


def test_close_closes_what_the_client_made(backend: Backend) -> None:
    ue = UsageEngineClient(make_creds(), transport=httpx.MockTransport(backend))
    ue.get("x")
    ue.close()
    assert ue.token_manager.info is None
    for call in (lambda: ue.get("x"), lambda: list(ue.iter_pages("GET", "x"))):
        with pytest.raises(ClientClosedError, match=r"was closed .* ue_magic\.client\(\)") as info:
            call()
        assert isinstance(info.value, UsageEngineError) and info.value.__context__ is None
    assert len(backend.api) == 1


def test_a_given_token_manager_is_shared_and_left_open(backend: Backend) -> None:
    manager = TokenManager(make_creds(), transport=httpx.MockTransport(backend))
    for _ in range(2):
        with UsageEngineClient(
            make_creds(), transport=httpx.MockTransport(backend), token_manager=manager
        ) as ue:
            ue.get("x")
    assert backend.token_calls == 1 and manager.info is not None
    manager.close()


def test_repr_shows_where_and_who_but_no_secret(client: UsageEngineClient) -> None:
    client.get("x")
    text = repr(client)
    assert "https://api.example/" in text and "cid" in text
    assert SECRET not in text and "tok-1" not in text


@pytest.mark.parametrize("url", ["\x00", "http://exa mple.com:bad/"])
def test_an_invalid_url_is_a_clear_error(url: str, client: UsageEngineClient) -> None:
    with pytest.raises(UsageEngineError, match="not a valid URL"):
        client.get(url)


def bad_gzip(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}
    )


def raising(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("handler", "kwargs", "words"),
    [
        pytest.param(bad_gzip, {}, "the server has processed it", id="bad-gzip"),
        pytest.param(
            raising(httpx.DecodingError("broken")), {}, "DecodingError", id="decoding-error"
        ),
        pytest.param(raising(httpx.StreamClosed()), {}, "StreamClosed", id="stream-closed"),
        pytest.param(
            raising(httpx.TooManyRedirects("loop")), {}, "TooManyRedirects", id="redirects"
        ),
        pytest.param(
            raising(httpx.LocalProtocolError("bad header")),
            {},
            "LocalProtocolError",
            id="local-protocol",
        ),
        pytest.param(
            raising(httpx.ReadError(f"reset while sending Bearer tok-1 and {SECRET}")),
            {"retries": 0},
            "ReadError: reset while sending Bearer *** and ***",
            id="scrubbed",
        ),
    ],
)
def test_httpx_errors_become_api_connection_errors(
    handler: Callable[[httpx.Request], httpx.Response],
    kwargs: dict[str, object],
    words: str,
    client: UsageEngineClient,
    backend: Backend,
) -> None:
    backend.default = handler
    request = client.build_request("GET", "usage-metering/v1/meters?q=1")
    with pytest.raises(ApiConnectionError) as info:
        client.send(request, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert words in message and "GET https://api.example/usage-metering/v1/meters" in message
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert "tok-1" not in message and SECRET not in message
    assert request.headers["Authorization"] == "Bearer ***"


def test_a_stream_body_that_cannot_be_resent_is_a_clear_error(
    client: UsageEngineClient, backend: Backend
) -> None:
    """A real transport cannot send a consumed generator body again (MockTransport can)."""
    backend.queue.append(httpx.StreamConsumed())
    with pytest.raises(ApiConnectionError, match=r"StreamConsumed.*a stream cannot"):
        client.post("x", content=iter([b"a", b"b"]), retries=1)


def test_a_token_error_during_a_send_leaves_no_token_on_the_request(
    client: UsageEngineClient, backend: Backend, clock: Clock
) -> None:
    client.token_manager.get_token()
    clock.now += 60
    backend.queue.append(httpx.Response(401))
    request = client.build_request("GET", "x")
    backend.token = lambda number: ""  # type: ignore[method-assign]  # the renewal fails
    with pytest.raises(TokenError):
        client.send(request)
    assert request.headers["Authorization"] == "Bearer ***"


@pytest.mark.parametrize(("retries", "ok"), [(0, True), (MAX_RETRIES, True), (11, False)])
def test_retries_are_capped(
    retries: int, ok: bool, client: UsageEngineClient, backend: Backend
) -> None:
    if ok:
        assert client.get("x", retries=retries).status_code == 200
        with UsageEngineClient(make_creds(), max_retries=retries) as ue:
            assert ue.max_retries == retries
        return
    with pytest.raises(ValueError, match="at most 10"):
        client.get("x", retries=retries)
    with pytest.raises(ValueError, match="at most 10"):
        UsageEngineClient(make_creds(), max_retries=retries)
    assert backend.api == []
