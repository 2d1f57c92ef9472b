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
from ue_magic._oauth import scrub
from ue_magic._retry import backoff_delay, parse_retry_after
from ue_magic.token import (
    DEFAULT_LIFETIME,
    FAILURE_COOLDOWN,
    MAX_LIFETIME,
    MIN_LIFETIME,
    TokenManager,
    decode_claims,
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


def test_401_renews_once_and_resends_once(
    manager: TokenManager, server: TokenServer, clocks: Clocks
) -> None:
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    clocks.advance(60)  # not brand new: see test_a_401_on_a_brand_new_token_is_the_answer
    resent = flow.send(httpx.Response(401))
    assert resent.headers["Authorization"] == f"Bearer {server.issued[1]}"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))  # a second 401 is the answer: no loop
    assert manager.token_requests == 2


def test_401_on_a_token_already_replaced_resends_without_renewing(
    manager: TokenManager, server: TokenServer, clocks: Clocks
) -> None:
    one, two = manager.auth.auth_flow(api_request()), manager.auth.auth_flow(api_request())
    next(one), next(two)  # both carry token 1
    clocks.advance(60)
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


def test_a_bytes_body_is_resent(manager: TokenManager, clocks: Clocks) -> None:
    flow = manager.auth.auth_flow(api_request(content=b'{"a": 1}'))
    next(flow)
    clocks.advance(60)
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
        oauth(429, "too_many_requests", "x", **{"Retry-After": "30"}),  # the cap itself: waited
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


def test_after_a_failure_and_its_cool_down_the_next_call_tries_again(
    server: TokenServer, manager: TokenManager, clocks: Clocks
) -> None:
    server.queue.append(oauth(401, "access_denied", "Unauthorized"))
    with pytest.raises(InvalidClientError):
        manager.get_token()
    clocks.advance(FAILURE_COOLDOWN)
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


# -- review fixes ---------------------------------------------------------------------------------
def every_frame_leaks(tb: TracebackType | None, secrets: list[str]) -> list[str]:
    """Secrets in the repr of any local of any frame below the test (ours, httpx's, ...)."""
    found = []
    tb = tb and tb.tb_next  # the first frame is the test's own
    while tb is not None:
        frame = tb.tb_frame
        for name, value in frame.f_locals.items():
            text = repr(value)
            found += [f"{frame.f_code.co_name}.{name}" for s in secrets if s in text]
        tb = tb.tb_next
    return found


def raw_answer(content: str) -> httpx.Response:
    """A 200 with a body written by hand (httpx's json= refuses Infinity and NaN)."""
    return httpx.Response(
        200, content=content.encode(), headers={"content-type": "application/json"}
    )


HUGE_EXP = make_jwt({"exp": 1e300, "n": "huge"})
NESTED_JWT = "x." + base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode() + ".y"


@pytest.mark.parametrize(
    ("body", "lifetime"),
    [
        ('{"access_token": "t1", "expires_in": 1e300}', MAX_LIFETIME),
        ('{"access_token": "t1", "expires_in": 1e400}', DEFAULT_LIFETIME),  # inf: ignored
        ('{"access_token": "t1", "expires_in": Infinity}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": "inf"}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": NaN}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": "nan"}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": -5}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": -1e300}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": 1e-9}', MIN_LIFETIME),
        ('{"access_token": "t1", "expires_in": 0.2}', MIN_LIFETIME),
        ('{"access_token": "t1", "expires_in": 99999999999999999999999999}', MAX_LIFETIME),
        ('{"access_token": "t1", "expires_in": %s}' % ("9" * 400), DEFAULT_LIFETIME),
        (f'{{"access_token": "{HUGE_EXP}"}}', MAX_LIFETIME),
        (f'{{"access_token": "{HUGE_EXP}", "expires_in": 60}}', 60.0),
        (f'{{"access_token": "{NESTED_JWT}", "expires_in": 60}}', 60.0),
    ],
)
def test_absurd_lifetimes_are_clamped(
    body: str, lifetime: float, server: TokenServer, manager: TokenManager
) -> None:
    server.queue.append(raw_answer(body))
    manager.get_token()
    assert manager.seconds_left() == pytest.approx(lifetime)
    assert manager.info is not None and manager.info.lifetime == pytest.approx(lifetime)


@pytest.mark.parametrize(
    "error",
    [OverflowError("date value out of range"), RecursionError(), ValueError(), TypeError()],
)
def test_any_error_while_making_the_token_is_a_clean_token_error(
    error: Exception,
    server: TokenServer,
    manager: TokenManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing between the answer and the token may escape with the token in a frame's locals."""

    def broken(*args: object) -> float:
        raise error

    monkeypatch.setattr("ue_magic._oauth._remaining", broken)
    with pytest.raises(TokenServerError, match="cannot read") as info:
        manager.get_token()
    exc = info.value
    assert exc.__cause__ is None and exc.__context__ is None
    assert not every_frame_leaks(exc.__traceback__, [SECRET, *server.issued])


@pytest.mark.parametrize(
    "content",
    [
        '{"access_token": "t", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["nested-200", "nested-list"],
)
def test_an_answer_nested_too_deeply_is_a_clean_token_error(
    content: str, server: TokenServer, manager: TokenManager
) -> None:
    server.queue.append(raw_answer(content))
    with pytest.raises(TokenServerError, match="not a JSON object") as info:
        manager.get_token()
    assert info.value.__context__ is None
    server.queue.append(httpx.Response(400, content=content.encode()))
    with pytest.raises(TokenError) as info:
        manager.renew()
    assert info.value.__context__ is None


def test_decode_claims_survives_deep_nesting_and_odd_input() -> None:
    assert decode_claims(NESTED_JWT) == {}
    assert decode_claims("a.ü.c") == {}
    assert decode_claims(None) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda: httpx.Response(500, text="boom"), id="500"),
        pytest.param(lambda: httpx.ConnectError("refused"), id="connect-error"),
        pytest.param(lambda: oauth(401, "invalid_client", "revoked"), id="revoked"),
        pytest.param(lambda: oauth(429, "slow", "down", **{"Retry-After": "9999"}), id="429"),
    ],
)
def test_a_failed_early_renewal_keeps_the_token_until_it_expires(
    answer: Callable[[], Answer],
    server: TokenServer,
    manager: TokenManager,
    clocks: Clocks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = manager.get_token()
    clocks.advance(3400)  # 200 s left: inside the renewal margin
    server.queue += [answer() for _ in range(20)]
    with caplog.at_level(logging.WARNING, logger="ue_magic"):
        assert manager.get_token() == first
    assert manager.token_requests == 2  # one attempt: the token still works
    assert "could not renew the token early" in caplog.text and "200 s" in caplog.text
    assert not leaks(caplog.text, server)
    for _ in range(50):  # within the cool-down: no token request, no warning
        assert manager.get_token() == first
    assert manager.token_requests == 2
    clocks.advance(FAILURE_COOLDOWN)
    assert manager.get_token() == first  # tried again, failed again, still valid
    assert manager.token_requests == 3
    clocks.advance(200 - FAILURE_COOLDOWN)  # now it has expired
    with pytest.raises(TokenError):
        manager.get_token()


@pytest.mark.parametrize(("mono", "wall"), [(True, False), (False, True), (True, True)])
def test_a_token_expired_on_either_clock_is_not_kept_after_a_failed_renewal(
    mono: bool, wall: bool, server: TokenServer, manager: TokenManager, clocks: Clocks
) -> None:
    manager.get_token()
    clocks.advance(3300.5)  # in the margin on both clocks
    clocks.advance(400, mono=mono, wall=wall)  # expired on one clock (or both)
    server.queue += many(lambda: httpx.Response(503), 4)
    with pytest.raises(TokenServerError, match="after 4 attempts"):
        manager.get_token()


def test_threads_do_not_wait_for_an_early_renewal(
    manager: TokenManager, clocks: Clocks, server: TokenServer
) -> None:
    first = manager.get_token()
    clocks.advance(3400)
    with manager._lock:  # another thread is renewing right now
        assert manager.get_token() == first
    clocks.advance(195)  # 5 s left, less than half the margin: wait for the renewal
    assert manager.get_token() != first and manager.token_requests == 2


@pytest.mark.parametrize(
    ("age", "after_401", "renews"),
    [
        (0.0, False, False),
        (4.9, False, False),
        (5.0, False, True),
        (3000.0, False, True),
        (5.0, True, False),
        (59.0, True, False),
        (60.0, True, True),
    ],
)
def test_a_401_on_a_brand_new_token_is_the_answer(
    age: float, after_401: bool, renews: bool, manager: TokenManager, clocks: Clocks
) -> None:
    manager.get_token()
    assert manager._token is not None
    manager._token.after_401 = after_401
    clocks.advance(age)
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    if renews:
        flow.send(httpx.Response(401))
        assert manager.token_requests == 2
    else:
        with pytest.raises(StopIteration):
            flow.send(httpx.Response(401))
        assert manager.token_requests == 1


def test_a_persistent_401_costs_one_renewal_not_one_per_call(
    manager: TokenManager, clocks: Clocks
) -> None:
    manager.get_token()
    clocks.advance(60)
    for _ in range(20):
        flow = manager.auth.auth_flow(api_request())
        next(flow)
        try:
            flow.send(httpx.Response(401))
            flow.send(httpx.Response(401))
        except StopIteration:
            pass
    assert manager.token_requests == 2


@pytest.mark.parametrize(
    ("answers", "error", "requests"),
    [
        (many(lambda: httpx.Response(503)), TokenServerError, 4),
        ([oauth(401, "access_denied", "no")], InvalidClientError, 1),
        ([httpx.ConnectError("refused")] * 4, TokenServerError, 4),
    ],
)
def test_a_failure_is_the_answer_for_a_cool_down(
    answers: list[Answer],
    error: type[TokenError],
    requests: int,
    server: TokenServer,
    manager: TokenManager,
    clocks: Clocks,
) -> None:
    server.queue += answers
    with pytest.raises(error) as first:
        manager.get_token()
    for _ in range(10):
        clocks.advance(FAILURE_COOLDOWN / 20)
        with pytest.raises(error) as again:
            manager.get_token()
        assert str(again.value) == str(first.value) and again.value is not first.value
        assert again.value.__context__ is None
    assert manager.token_requests == requests
    clocks.advance(FAILURE_COOLDOWN / 2)
    assert manager.get_token() == server.issued[0]
    assert manager.token_requests == requests + 1


def test_threads_waiting_for_a_failing_fetch_share_its_error(server: TokenServer) -> None:
    """16 threads and a down endpoint: one round of attempts, not one round per thread."""
    tm = TokenManager(
        make_creds(), transport=httpx.MockTransport(server), sleep=lambda s: time.sleep(0.01)
    )

    def down(request: httpx.Request) -> httpx.Response:
        time.sleep(0.02)
        return httpx.Response(503)

    server.queue += [down] * 100
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            tm.get_token()
        except TokenServerError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 16 and tm.token_requests == 4
    tm.close()


def test_a_retry_after_beyond_the_cap_gives_up_at_once_and_says_when(
    server: TokenServer, manager: TokenManager, clocks: Clocks
) -> None:
    server.queue += many(lambda: oauth(429, "slow", "down", **{"Retry-After": "120"}))
    with pytest.raises(TokenRateLimitedError) as info:
        manager.get_token()
    message = str(info.value)
    assert "asks to wait 120 s" in message and "30 s" in message
    assert "try again after " in message and "UTC" in message
    assert manager.token_requests == 1 and clocks.sleeps == []


@pytest.mark.parametrize(
    ("answer", "wait", "level", "words"),
    [
        (oauth(429, "slow", "down", **{"Retry-After": "7"}), 7.0, logging.WARNING, "Retry-After"),
        (httpx.Response(503, headers={"Retry-After": "2"}), 2.0, logging.INFO, "Retry-After"),
        (httpx.Response(502), None, logging.INFO, "backoff"),
    ],
)
def test_every_wait_is_logged_with_its_length_and_reason(
    answer: Answer,
    wait: float | None,
    level: int,
    words: str,
    server: TokenServer,
    manager: TokenManager,
    clocks: Clocks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.queue.append(answer)
    with caplog.at_level(logging.INFO, logger="ue_magic"):
        manager.get_token()
    waits = [r for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 1 and waits[0].levelno == level
    message = waits[0].getMessage()
    assert words in message and f"{clocks.sleeps[0]:.1f} s" in message
    assert str(answer.status_code) in message and "attempt 2 of 4" in message
    if wait is not None:
        assert clocks.sleeps == [wait]


def test_a_closed_manager_says_so(manager: TokenManager) -> None:
    manager.close()
    with pytest.raises(TokenError, match="was closed"):
        manager.get_token()
    assert manager.token_requests == 0


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("c\udc80", SECRET), ("cid", SECRET + "\udc80")],
    ids=["bad-id", "bad-secret"],
)
def test_a_token_request_that_cannot_be_built_is_a_clean_error(
    client_id: str, secret: str, server: TokenServer, clocks: Clocks
) -> None:
    creds = Credentials(client_id, Secret(secret), "eu", "a", "https://api.example/", TOKEN_URL)
    tm = manager_for(server, clocks, credentials=creds)
    with pytest.raises(TokenError, match="Could not build the token request") as info:
        tm.get_token()
    assert info.value.__context__ is None
    assert not every_frame_leaks(info.value.__traceback__, [SECRET])
    assert tm.token_requests == 0 and server.forms == []


@pytest.mark.parametrize(
    "error",
    [httpx.DecodingError("bad gzip"), RuntimeError("odd transport"), httpx.StreamConsumed()],
)
def test_other_errors_of_the_token_request_are_clean_token_errors(
    error: Exception, server: TokenServer, manager: TokenManager
) -> None:
    server.queue.append(error)
    with pytest.raises(TokenServerError, match=type(error).__name__) as info:
        manager.get_token()
    assert info.value.__context__ is None
    assert not every_frame_leaks(info.value.__traceback__, [SECRET])


def test_a_real_bad_gzip_answer_is_a_clean_token_error(
    server: TokenServer, manager: TokenManager
) -> None:
    server.queue.append(
        httpx.Response(
            200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}
        )
    )
    with pytest.raises(TokenServerError, match="DecodingError"):
        manager.get_token()


def test_renew_keeps_the_failed_token_out_of_its_frame(
    server: TokenServer, manager: TokenManager
) -> None:
    first = manager.get_token()
    server.queue.append(httpx.Response(400, text="no"))
    with pytest.raises(TokenError) as info:
        manager.renew(first)
    assert not every_frame_leaks(info.value.__traceback__, [first, SECRET])


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        ("s", "server_error: bad", "server_error: bad"),
        ("s", "bad secret s here", "bad secret *** here"),
        ("abc", "xabcx abc", "xabcx ***"),
        ("short-1", "short-1x short-1", "short-1x ***"),
        ("longer-secret", "xlonger-secretx", "x***x"),
        ("", "anything", "anything"),
    ],
)
def test_scrub_removes_long_secrets_anywhere_and_short_ones_as_whole_words(
    secret: str, text: str, expected: str
) -> None:
    assert scrub(text, secret) == expected
