"""Token endpoint failures: clear errors, retries and waits, the cool-down, nothing leaked."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime

import httpx
import pytest

from tests.auth.tokens import (
    SECRET,
    TOKEN_URL,
    Answer,
    Clocks,
    TokenServer,
    every_frame_leaks,
    frame_locals_leaks,
    leaks,
    make_creds,
    manager_for,
    many,
    oauth,
)
from ue_magic.core.credentials import Credentials, Secret
from ue_magic.core.token import (
    FAILURE_COOLDOWN,
    TokenManager,
)
from ue_magic.errors import (
    InvalidClientError,
    TokenError,
    TokenRateLimitedError,
    TokenServerError,
)

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
