"""The token cache: one token request per lifetime, renewal before expiry on two clocks, threads."""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest

from tests.auth.tokens import (
    SECRET,
    Answer,
    Clocks,
    TokenServer,
    api_request,
    every_frame_leaks,
    leaks,
    make_creds,
    make_jwt,
    manager_for,
    many,
    oauth,
)
from ue_magic.core.token import (
    DEFAULT_LIFETIME,
    FAILURE_COOLDOWN,
    TokenManager,
)
from ue_magic.errors import (
    TokenError,
    TokenServerError,
)


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
    flow = manager.auth.auth_flow(api_request())
    next(flow)  # the flow's frame now holds the token object, as a traceback would show it
    token = flow.gi_frame.f_locals["token"]  # type: ignore[union-attr]
    assert server.issued[0] in token.header  # it is the token itself, masked in its repr
    assert not leaks(repr(manager), server) and not leaks(repr(token), server)
    assert not leaks(repr(manager.auth), server)
    with pytest.raises(TypeError):
        pickle.dumps(manager)
    with pytest.raises(TypeError):
        pickle.dumps(token)


def test_renew_with_a_non_ascii_token_is_no_match(manager: TokenManager) -> None:
    first = manager.get_token()
    assert manager.renew("tökén") == first and manager.token_requests == 1


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
    asked, release = threading.Event(), threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        asked.set()
        release.wait(10)
        return TokenServer.__call__(server, request)

    server.queue.append(slow)
    renewer = threading.Thread(target=manager.get_token)  # another thread is renewing
    renewer.start()
    try:
        assert asked.wait(10)
        assert manager.get_token() == first  # not blocked: the current token is still good
    finally:
        release.set()
        renewer.join()
    assert manager.token_requests == 2
    second = manager.get_token()
    assert second != first
    clocks.advance(3595)  # 5 s left, less than half the margin: wait for the renewal
    assert manager.get_token() not in (first, second) and manager.token_requests == 3


def test_renew_keeps_the_failed_token_out_of_its_frame(
    server: TokenServer, manager: TokenManager
) -> None:
    first = manager.get_token()
    server.queue.append(httpx.Response(400, text="no"))
    with pytest.raises(TokenError) as info:
        manager.renew(first)
    assert not every_frame_leaks(info.value.__traceback__, [first, SECRET])
