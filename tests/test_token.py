"""TokenManager and BearerAuth, stepped by hand with an injected clock and httpx.MockTransport."""

from __future__ import annotations

import base64
import json
import logging
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.utils import format_datetime
from types import TracebackType
from urllib.parse import parse_qs

import httpx
import pytest

from ue_magic.credentials import Credentials, Secret
from ue_magic.errors import (
    InvalidClientError,
    OriginError,
    TokenError,
    TokenRateLimitedError,
    TokenServerError,
)
from ue_magic.token import (
    DEFAULT_LIFETIME,
    TokenManager,
    backoff_delay,
    decode_claims,
    parse_retry_after,
    renew_margin,
)

SECRET = "the-Secret-42"
TOKEN_URL = "https://auth.example/oauth/token"


def make_creds(scope: str | None = None, audience: str = "https://api.example/") -> Credentials:
    return Credentials(
        client_id="cid",
        client_secret=Secret(SECRET),
        region="eu",
        audience=audience,
        api_url="https://api.example/",
        token_url=TOKEN_URL,
        scope=scope,
    )


def make_jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


class Clocks:
    """A monotonic and a wall clock that move only when told."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = 1_700_000_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float, *, mono: bool = True, wall: bool = True) -> None:
        self.mono += seconds if mono else 0
        self.wall += seconds if wall else 0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class TokenServer:
    """A token endpoint for MockTransport: queued odd answers first, then fresh tokens."""

    def __init__(self, clocks: Clocks, *, lifetime: int = 3600, jwt: bool = True) -> None:
        self.clocks = clocks
        self.lifetime = lifetime
        self.jwt = jwt
        self.queue: list[Answer] = []
        self.forms: list[dict[str, list[str]]] = []
        self.issued: list[str] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.forms.append(parse_qs(request.content.decode()))
        self.headers.append(request.headers)
        if self.queue:
            answer = self.queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer if isinstance(answer, httpx.Response) else answer(request)
        number = len(self.issued) + 1
        if self.jwt:
            now = int(self.clocks.wall)
            token = make_jwt(
                {
                    "iat": now,
                    "exp": now + self.lifetime,
                    "scope": "read:meters create:meters",
                    "accountId": "acct-1",
                    "n": number,
                }
            )
        else:
            token = f"opaque-token-{number}"
        self.issued.append(token)
        body = {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}
        if not self.jwt:
            body["scope"] = "a:b c:d"
        return httpx.Response(200, json=body)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def server(clocks: Clocks) -> TokenServer:
    return TokenServer(clocks)


def manager_for(server: TokenServer, clocks: Clocks, **kw: object) -> TokenManager:
    return TokenManager(
        kw.pop("credentials", None) or make_creds(),  # type: ignore[arg-type]
        transport=httpx.MockTransport(server),
        clock=clocks.monotonic,
        wall_clock=clocks.time,
        sleep=clocks.sleep,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def manager(server: TokenServer, clocks: Clocks) -> Iterator[TokenManager]:
    tm = manager_for(server, clocks)
    yield tm
    tm.close()


def leaks(text: str, server: TokenServer) -> list[str]:
    return [s for s in [SECRET, *server.issued] if s in text]


def frame_locals_leaks(tb: TracebackType | None, server: TokenServer) -> list[str]:
    """Secrets or tokens shown by the locals of our frames, as %xmode Verbose would print them."""
    found = []
    while tb is not None:
        frame = tb.tb_frame
        if "ue_magic" in frame.f_code.co_filename:
            for name, value in frame.f_locals.items():
                found += [f"{frame.f_code.co_name}.{name}" for _ in leaks(repr(value), server)]
        tb = tb.tb_next
    return found


# -- the token request ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scope", "audience"),
    [(None, "https://api.example/"), ("read:meters", "https://api.example"), ("a b", "urn:x")],
)
def test_form_has_the_fields_exactly_and_the_same_on_renewal(
    scope: str | None, audience: str, server: TokenServer, clocks: Clocks
) -> None:
    tm = manager_for(server, clocks, credentials=make_creds(scope, audience))
    tm.get_token()
    tm.renew()
    expected = {
        "grant_type": ["client_credentials"],
        "client_id": ["cid"],
        "client_secret": [SECRET],
        "audience": [audience],
    }
    if scope:
        expected["scope"] = [scope]
    assert server.forms == [expected, expected]
    assert server.headers[0]["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in server.headers[0]


def test_many_calls_make_one_token_request(manager: TokenManager, server: TokenServer) -> None:
    tokens = {manager.get_token() for _ in range(1000)}
    assert tokens == {server.issued[0]}
    assert manager.token_requests == 1 == len(server.forms)


@pytest.mark.parametrize(
    ("lifetime", "renew_after"),
    [(3600, 3300.0), (600, 540.0), (60, 54.0), (2, 1.8)],
)
def test_renews_once_at_the_margin_before_expiry(
    lifetime: int, renew_after: float, clocks: Clocks
) -> None:
    server = TokenServer(clocks, lifetime=lifetime, jwt=False)
    tm = manager_for(server, clocks)
    first = tm.get_token()
    clocks.advance(renew_after - 0.01)
    assert tm.get_token() == first and tm.token_requests == 1
    clocks.advance(0.02)
    second = tm.get_token()
    assert second != first and tm.token_requests == 2
    assert tm.get_token() == second and tm.token_requests == 2


@pytest.mark.parametrize(("mono", "wall"), [(True, False), (False, True)])
def test_either_clock_alone_passing_the_deadline_renews(
    mono: bool, wall: bool, manager: TokenManager, clocks: Clocks
) -> None:
    """A laptop that slept: the monotonic clock may stand still while the wall clock moves."""
    manager.get_token()
    clocks.advance(3301, mono=mono, wall=wall)
    manager.get_token()
    assert manager.token_requests == 2


def test_jwt_exp_rounded_down_wins_over_expires_in(clocks: Clocks) -> None:
    clocks.wall = 1_700_000_000.9  # the server truncates iat: exp is 0.9 s sooner than expires_in
    server = TokenServer(clocks, lifetime=2)
    tm = manager_for(server, clocks)
    tm.get_token()
    assert tm.seconds_left() == pytest.approx(1.1)
    clocks.advance(1.1 * 0.9 + 0.01)
    tm.get_token()
    assert tm.token_requests == 2


def test_expiry_uses_expires_in_when_the_wall_clock_is_far_ahead(clocks: Clocks) -> None:
    server = TokenServer(clocks, lifetime=3600)
    tm = manager_for(server, clocks)

    def skewed(request: httpx.Request) -> httpx.Response:
        token = make_jwt({"exp": int(clocks.wall) - 7200})  # our clock is 3 h ahead
        return httpx.Response(200, json={"access_token": token, "expires_in": 3600})

    server.queue.append(skewed)
    tm.get_token()
    assert tm.seconds_left() == pytest.approx(3600)


@pytest.mark.parametrize(
    ("body", "account", "scopes", "lifetime"),
    [
        (
            {
                "access_token": make_jwt({"accountId": "A1", "scope": "x y", "exp": 1_700_000_100}),
                "expires_in": 3600,
            },
            "A1",
            ("x", "y"),
            100.0,
        ),
        ({"access_token": "opaque", "expires_in": 60, "scope": "p q"}, None, ("p", "q"), 60.0),
        ({"access_token": "opaque", "expires_in": "120"}, None, (), 120.0),
        ({"access_token": "opaque"}, None, (), DEFAULT_LIFETIME),
        ({"access_token": "a.b.c", "expires_in": 5, "scope": "s"}, None, ("s",), 5.0),
        (
            {"access_token": make_jwt({"permissions": ["r", "w"]}), "scope": "r w"},
            None,
            ("r", "w"),
            DEFAULT_LIFETIME,
        ),
    ],
)
def test_token_info_from_claims_or_from_the_answer(
    body: dict[str, object],
    account: str | None,
    scopes: tuple[str, ...],
    lifetime: float,
    server: TokenServer,
    manager: TokenManager,
    clocks: Clocks,
) -> None:
    server.queue.append(httpx.Response(200, json=body))
    assert manager.info is None and manager.seconds_left() is None
    manager.get_token()
    info = manager.info
    assert info is not None
    assert (info.account_id, info.scopes, info.client_id) == (account, scopes, "cid")
    assert info.issued_at == datetime.fromtimestamp(clocks.wall, timezone.utc)
    assert info.lifetime == pytest.approx(lifetime)
    assert manager.seconds_left() == pytest.approx(lifetime)
    assert str(body["access_token"]) not in repr(info)


def test_renew_only_replaces_the_token_that_failed(manager: TokenManager) -> None:
    first = manager.get_token()
    second = manager.renew(first)
    assert second != first and manager.token_requests == 2
    assert manager.renew(first) == second and manager.token_requests == 2  # already replaced
    third = manager.renew()
    assert third not in (first, second) and manager.token_requests == 3


def test_forget_drops_the_token(manager: TokenManager) -> None:
    first = manager.get_token()
    manager.forget()
    assert manager.info is None
    assert manager.get_token() != first and manager.token_requests == 2


def test_threads_share_one_token_request(server: TokenServer) -> None:
    """The lock holder checks again: 32 threads starting together make one token request."""
    slow_server = server
    real = TokenManager(make_creds(), transport=httpx.MockTransport(slow_server))
    barrier = threading.Barrier(32)
    seen: list[str] = []

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)  # a slow token endpoint widens the window for a double request
        return TokenServer.__call__(slow_server, request)

    slow_server.queue.append(slow)

    def work() -> None:
        barrier.wait()
        seen.append(real.get_token())

    threads = [threading.Thread(target=work) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert real.token_requests == 1 and len(set(seen)) == 1 and len(seen) == 32


def test_manager_and_token_hide_themselves(manager: TokenManager, server: TokenServer) -> None:
    manager.get_token()
    assert not leaks(repr(manager), server) and not leaks(repr(manager._token), server)
    assert not leaks(repr(manager.auth), server)
    with pytest.raises(TypeError):
        pickle.dumps(manager)
    with pytest.raises(TypeError):
        pickle.dumps(manager._token)


# -- the auth flow, stepped by hand ---------------------------------------------------------------
def api_request(**kw: object) -> httpx.Request:
    return httpx.Request("GET", "https://api.example/usage-metering/v1/meters", **kw)  # type: ignore[arg-type]


def test_auth_flow_puts_the_bearer_token_on(manager: TokenManager, server: TokenServer) -> None:
    flow = manager.auth.auth_flow(api_request())
    sent = next(flow)
    assert sent.headers["Authorization"] == f"Bearer {server.issued[0]}"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    assert manager.token_requests == 1


def test_401_renews_once_and_resends_once(manager: TokenManager, server: TokenServer) -> None:
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    resent = flow.send(httpx.Response(401))
    assert resent.headers["Authorization"] == f"Bearer {server.issued[1]}"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))  # a second 401 is the answer: no loop
    assert manager.token_requests == 2


def test_401_on_a_token_already_replaced_resends_without_renewing(
    manager: TokenManager, server: TokenServer
) -> None:
    one, two = manager.auth.auth_flow(api_request()), manager.auth.auth_flow(api_request())
    next(one), next(two)  # both carry token 1
    assert one.send(httpx.Response(401)).headers["Authorization"] == f"Bearer {server.issued[1]}"
    assert two.send(httpx.Response(401)).headers["Authorization"] == f"Bearer {server.issued[1]}"
    assert manager.token_requests == 2


@pytest.mark.parametrize("status", [200, 403, 404, 500])
def test_other_statuses_do_not_renew(status: int, manager: TokenManager) -> None:
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(status))
    assert manager.token_requests == 1


def test_a_streamed_body_is_not_resent(manager: TokenManager) -> None:
    flow = manager.auth.auth_flow(api_request(content=iter([b"x"])))
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))
    assert manager.token_requests == 1


def test_a_bytes_body_is_resent(manager: TokenManager) -> None:
    flow = manager.auth.auth_flow(api_request(content=b'{"a": 1}'))
    next(flow)
    assert flow.send(httpx.Response(401)).content == b'{"a": 1}'


# -- token endpoint failures ----------------------------------------------------------------------
def oauth(status: int, error: str, description: str, **headers: str) -> httpx.Response:
    body = {"error": error, "error_description": description}
    return httpx.Response(status, json=body, headers=headers)


def many(answer: Callable[[], Answer], count: int = 4) -> list[Answer]:
    return [answer() for _ in range(count)]


FAILURES = [
    pytest.param(
        [oauth(401, "access_denied", "Unauthorized")],
        InvalidClientError,
        "The token endpoint https://auth.example/oauth/token refused client id 'cid' "
        "(401 access_denied: Unauthorized). Check UE_CLIENT_ID and UE_CLIENT_SECRET.",
        1,
        id="wrong-secret",
    ),
    pytest.param(
        [oauth(401, "invalid_client", "bad client")],
        InvalidClientError,
        "UE_CLIENT_SECRET",
        1,
        id="invalid-client",
    ),
    pytest.param(
        [oauth(403, "access_denied", "Service not found: https://api.example/")],
        InvalidClientError,
        "UE_AUDIENCE",
        1,
        id="unknown-audience",
    ),
    pytest.param(
        [oauth(400, "invalid_request", "Unknown audience")],
        InvalidClientError,
        "audience",
        1,
        id="unknown-audience-400",
    ),
    pytest.param(
        [oauth(400, "unsupported_grant_type", "nope")],
        TokenError,
        "unsupported_grant_type",
        1,
        id="other-400",
    ),
    pytest.param([httpx.Response(404, text="no")], TokenError, "404 Not Found", 1, id="404"),
    pytest.param(
        many(lambda: oauth(429, "too_many_requests", "slow down", **{"Retry-After": "7"})),
        TokenRateLimitedError,
        "429 Too Many Requests (4 attempts)",
        4,
        id="rate-limited",
    ),
    pytest.param(
        many(lambda: httpx.Response(503, text="down")),
        TokenServerError,
        "503 Service Unavailable",
        4,
        id="5xx",
    ),
    pytest.param(
        many(lambda: httpx.ConnectError("connection refused")),
        TokenServerError,
        "Could not reach the token endpoint",
        4,
        id="connect-error",
    ),
    pytest.param(
        [httpx.ReadTimeout("timed out")],
        TokenServerError,
        "did not answer within 10 s",
        1,
        id="timeout",
    ),
    pytest.param(
        [httpx.Response(200, text="<html>", headers={"content-type": "text/html"})],
        TokenServerError,
        "not a JSON object (text/html)",
        1,
        id="not-json",
    ),
    pytest.param(
        [httpx.Response(200, json={"token": "x"})],
        TokenServerError,
        "without an access_token",
        1,
        id="no-access-token",
    ),
    pytest.param(
        [httpx.Response(200, json={"access_token": "a\nb"})],
        TokenServerError,
        "in a header",
        1,
        id="bad-token",
    ),
    pytest.param(
        [httpx.Response(302, headers={"location": "https://elsewhere.example/t"})],
        TokenError,
        "redirects to https://elsewhere.example/t",
        1,
        id="redirect",
    ),
    pytest.param(
        [oauth(401, "access_denied", f"bad secret {SECRET}")],
        InvalidClientError,
        "***",
        1,
        id="server-echoes-the-secret",
    ),
]


@pytest.mark.parametrize(("answers", "error", "text", "requests"), FAILURES)
def test_token_endpoint_failures_give_clear_errors(
    answers: list[Answer],
    error: type[Exception],
    text: str,
    requests: int,
    server: TokenServer,
    manager: TokenManager,
    clocks: Clocks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.queue.extend(answers)
    caplog.set_level(logging.DEBUG, logger="ue_magic")
    with pytest.raises(error) as info:
        manager.get_token()
    assert type(info.value) is error
    assert text in str(info.value)
    assert len(server.forms) == requests == manager.token_requests
    assert len(clocks.sleeps) == requests - 1
    assert all(0 < wait <= 30 for wait in clocks.sleeps)
    exc = info.value
    assert exc.__cause__ is None and exc.__context__ is None
    assert not leaks(str(exc) + repr(exc), server)
    assert not frame_locals_leaks(exc.__traceback__, server)
    assert caplog.records and not leaks(caplog.text, server)


def test_rate_limit_waits_for_retry_after_then_succeeds(
    server: TokenServer, manager: TokenManager, clocks: Clocks
) -> None:
    later = format_datetime(datetime.fromtimestamp(clocks.wall + 12, timezone.utc), usegmt=True)
    server.queue += [
        oauth(429, "too_many_requests", "x", **{"Retry-After": "3"}),
        oauth(429, "too_many_requests", "x", **{"Retry-After": later}),
        oauth(429, "too_many_requests", "x", **{"Retry-After": "9999"}),
    ]
    assert manager.get_token() == server.issued[0]
    assert clocks.sleeps == [3.0, 12.0, 30.0]
    assert manager.token_requests == 4


@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(502),
        httpx.Response(500),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("dropped"),
    ],
)
def test_transient_failures_are_retried_with_backoff(
    first: Answer, server: TokenServer, manager: TokenManager, clocks: Clocks
) -> None:
    server.queue.append(first)
    assert manager.get_token() == server.issued[0]
    assert manager.token_requests == 2 and len(clocks.sleeps) == 1
    assert 0.25 <= clocks.sleeps[0] <= 0.5


def test_max_attempts_bounds_the_retries(server: TokenServer, clocks: Clocks) -> None:
    tm = manager_for(server, clocks, max_attempts=2)
    server.queue += many(lambda: httpx.Response(503), 5)
    with pytest.raises(TokenServerError, match="after 2 attempts"):
        tm.get_token()
    assert tm.token_requests == 2


def test_after_a_failure_the_next_call_tries_again(
    server: TokenServer, manager: TokenManager
) -> None:
    server.queue.append(oauth(401, "access_denied", "Unauthorized"))
    with pytest.raises(InvalidClientError):
        manager.get_token()
    assert manager.get_token() == server.issued[0]
    assert manager.token_requests == 2


def test_the_auth_flow_raises_the_token_error(server: TokenServer, manager: TokenManager) -> None:
    server.queue.append(oauth(401, "access_denied", "Unauthorized"))
    with pytest.raises(InvalidClientError):
        next(manager.auth.auth_flow(api_request()))


def test_debug_log_says_what_happened_without_secrets(
    manager: TokenManager, server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ue_magic")
    manager.get_token()
    manager.renew()
    messages = [r.getMessage() for r in caplog.records if r.name == "ue_magic"]
    assert sum("requesting a token" in m for m in messages) == 2
    assert sum("token received" in m for m in messages) == 2
    assert not leaks(caplog.text, server)


# -- helpers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "claims"),
    [
        ("opaque", {}),
        ("a.b.c", {}),
        ("a.!!!.c", {}),
        (f"x.{base64.urlsafe_b64encode(b'[1]').decode()}.y", {}),
        (make_jwt({"accountId": "u"}), {"accountId": "u"}),
        (make_jwt({"k": "ünï"}), {"k": "ünï"}),
    ],
)
def test_decode_claims(token: str, claims: dict[str, object]) -> None:
    assert decode_claims(token) == claims


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("5", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("Tue, 14 Nov 2023 22:13:40 GMT", 20.0),
        ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=1_700_000_000.0) == seconds


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 10])
def test_backoff_is_bounded_with_jitter(attempt: int) -> None:
    ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
    waits = [backoff_delay(attempt, cap=8.0) for _ in range(200)]
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    assert len(set(waits)) > 1


@pytest.mark.parametrize(("lifetime", "margin"), [(3600, 300), (1000, 100), (2, 0.2), (0, 0)])
def test_renew_margin(lifetime: float, margin: float) -> None:
    assert renew_margin(lifetime) == pytest.approx(margin)


def test_the_auth_refuses_another_origin(manager: TokenManager) -> None:
    """Plugged into someone else's httpx client, the auth still keeps the token at home."""
    with httpx.Client(
        auth=manager.auth, transport=httpx.MockTransport(lambda r: httpx.Response(200))
    ) as other:
        with pytest.raises(OriginError, match=r"evil\.example"):
            other.get("https://evil.example/x")
        assert other.get("https://api.example:443/x").status_code == 200
    assert manager.token_requests == 1


def test_renew_with_a_non_ascii_token_is_no_match(manager: TokenManager) -> None:
    first = manager.get_token()
    assert manager.renew("tökén") == first and manager.token_requests == 1
