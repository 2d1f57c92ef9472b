"""The one retry policy: what is retried, for which methods, how long to wait; the loop."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from ue_magic import UsageEngineClient
from ue_magic.core._retry import (
    API_STATUSES,
    TOKEN_STATUSES,
    Retry,
    RetryPolicy,
    StatusRule,
    backoff_delay,
    run,
)
from ue_magic.core.credentials import Credentials, Secret

API = "https://api.example/"
TOKEN_URL = "https://auth.example/oauth/token"


def policy(**kw: object) -> tuple[RetryPolicy, list[float]]:
    sleeps: list[float] = []
    return RetryPolicy(sleep=sleeps.append, clock=lambda: 1_700_000_000.0, **kw), sleeps  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "keyed", "status", "explicit", "expected"),
    [
        ("GET", False, 503, None, 3),
        ("DELETE", False, None, None, 3),  # no answer at all (a connection error)
        ("POST", False, 503, None, 0),
        ("POST", True, 503, None, 3),  # an Idempotency-Key makes a repeat safe
        ("PATCH", False, 429, None, 3),  # a 429 was not processed: every method
        ("POST", False, 429, None, 3),
        ("POST", False, 503, 2, 2),  # the caller's own count wins for every method
        ("GET", False, 503, 0, 0),
    ],
)
def test_retries_for_method_key_and_status(
    method: str, keyed: bool, status: int | None, explicit: int | None, expected: int
) -> None:
    assert policy()[0].retries_for(method, keyed, status, explicit) == expected


def test_a_status_rule_can_retry_every_method() -> None:
    """ "A 429 is retried for every method" is one rule of the API's table, not a new loop."""
    assert API_STATUSES[429] == StatusRule(any_method=True)
    assert not any(API_STATUSES[s].any_method for s in (502, 503, 504))
    strict = policy(statuses={**API_STATUSES, 429: StatusRule()})[0]
    assert strict.retries_for("POST", False, 429) == 0
    assert strict.retries_for("POST", False, 503) == 0


def test_statuses_of_the_api_and_of_the_token_endpoint() -> None:
    api, token = policy()[0], policy(statuses=TOKEN_STATUSES)[0]
    assert [s for s in (400, 429, 500, 502, 503, 504) if api.retries_status(s)] == [
        429,
        502,
        503,
        504,
    ]
    assert all(token.retries_status(s) for s in (429, 500, 501, 599))
    assert not token.retries_status(400) and not token.retries_status(401)


def test_delay_follows_retry_after_else_backs_off_with_the_jitter_seam() -> None:
    fixed = policy(random=lambda: 1.0, backoff_base=0.5, max_wait=3.0)[0]
    assert fixed.delay(1, 7.0) == (7.0, "as Retry-After asks")
    assert [fixed.delay(n, None)[0] for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]
    low = replace(fixed, random=lambda: 0.0)
    assert low.delay(3, None) == (1.0, "backoff")  # jitter: half to all of the ceiling


def test_retry_after_uses_the_policy_clock_for_dates() -> None:
    timed = policy()[0]
    assert timed.retry_after("Tue, 14 Nov 2023 22:13:40 GMT") == 20.0  # 1_700_000_020
    assert timed.retry_after("12") == 12.0 and timed.retry_after("soon") is None


def test_backoff_never_exceeds_the_cap() -> None:
    assert all(backoff_delay(n, cap=2.0) <= 2.0 for n in range(1, 30))


def what(retry: int, limit: int) -> str:
    return f"retry {retry} of {limit}"


def test_run_sleeps_between_tries_and_counts_them(caplog: pytest.LogCaptureFixture) -> None:
    timed, sleeps = policy(random=lambda: 1.0)
    answers = ["busy", "busy", "ok"]
    retried: list[object] = []
    with caplog.at_level(logging.INFO, "ue_magic"):
        done = run(
            timed,
            lambda: answers.pop(0),
            lambda outcome: Retry("it was busy", 503) if outcome == "busy" else None,
            lambda reason: 3,
            what,
            on_retry=retried.append,
        )
    assert (done.outcome, done.attempts, done.too_long) == ("ok", 3, None)
    assert sleeps == [0.5, 1.0] and retried == ["busy", "busy"]
    assert "it was busy (backoff); waiting 1.0 s before retry 2 of 3" in caplog.text


def test_run_stops_when_the_retries_are_used() -> None:
    timed, sleeps = policy()
    done = run(timed, lambda: "busy", lambda o: Retry("busy", 503, 1.0), lambda r: 2, what)
    assert (done.outcome, done.attempts) == ("busy", 3) and sleeps == [1.0, 1.0]


def test_run_does_not_wait_longer_than_max_wait() -> None:
    timed, sleeps = policy(max_wait=10.0)
    done = run(timed, lambda: "busy", lambda o: Retry("busy", 429, 60.0), lambda r: 3, what)
    assert (done.attempts, done.too_long) == (1, 60.0) and sleeps == []
    assert timed.try_again_at(60.0).endswith("UTC")


def test_no_retry_allowed_ends_before_the_wait_is_judged() -> None:
    timed, sleeps = policy(max_wait=10.0)
    done = run(timed, lambda: "busy", lambda o: Retry("busy", 429, 60.0), lambda r: 0, what)
    assert (done.attempts, done.too_long) == (1, None) and sleeps == []


def test_the_client_and_its_token_manager_share_sleep_and_wait_cap() -> None:
    creds = Credentials("cid", Secret("s3cret-value"), "eu", API, API, TOKEN_URL)
    sleeps: list[float] = []
    with UsageEngineClient(creds, sleep=sleeps.append, max_retries=5, max_retry_wait=7.0) as ue:
        api, token = ue.retry_policy, ue.token_manager.retry_policy
        assert (api.retries, api.max_wait, api.statuses) == (5, 7.0, API_STATUSES)
        assert (token.max_wait, token.statuses, token.retries) == (7.0, TOKEN_STATUSES, 3)
        api.sleep(1.0)
        token.sleep(2.0)
    assert sleeps == [1.0, 2.0]


def test_a_policy_refuses_too_many_retries_through_the_client() -> None:
    creds = Credentials("cid", Secret("s3cret-value"), "eu", API, API, TOKEN_URL)
    with pytest.raises(ValueError, match="at most 10"):
        UsageEngineClient(creds, max_retries=11)
