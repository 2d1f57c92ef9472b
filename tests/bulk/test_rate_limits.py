"""--each against a rate-limited sandbox: 429s absorbed, nothing lost, nothing sent twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.bulk.conftest import METERS, created, run_each
from tests.bulk.helpers import assert_counts
from ue_magic.sandbox import Sandbox


def test_a_rate_limited_service_gets_every_item_once(shell: Any, sandbox: Sandbox) -> None:
    sandbox.set_rates(token=0, api="60/10")
    users = [f"rl-{n}" for n in range(240)]
    shell.user_ns["users"] = users
    captured = run_each(shell, f"--each users --concurrency 16 -o out POST {METERS}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert result.failed == [] and len(result.ok) == 240
    made = created(shell)
    assert Counter(made) == Counter(users)  # every item once: no loss, no duplicate
    posts = sandbox.counters()["by_route"][f"POST {METERS}"]
    assert result.pacing.throttled == posts - 240 >= 1  # the limit was met, and absorbed
    assert result.pacing.throttled <= 0.25 * posts
    assert "answers were 429" in captured.outputs[-1].data["text/plain"]


def test_a_429_storm_on_posts_is_retried_without_retry(shell: Any, sandbox: Sandbox) -> None:
    sandbox.inject("api", status=429, count=12, retry_after=1, path_prefix=METERS)
    users = [f"storm-{n}" for n in range(30)]
    shell.user_ns["users"] = users
    run_each(shell, f"--each users --concurrency 8 -q POST {METERS}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert result.failed == [] and sorted(created(shell)) == sorted(users)
    assert sandbox.counters()["by_route"][f"POST {METERS}"] == 30 + 12
    assert result.pacing.pauses >= 1 and result.pacing.paused >= 1.0


def test_a_429_pauses_the_others_and_lowers_the_window(shell: Any, sandbox: Sandbox) -> None:
    sandbox.set_latency(0.02)
    sandbox.inject("api", status=429, count=1, retry_after=1, path_prefix=METERS)
    shell.user_ns["users"] = [f"p-{n}" for n in range(40)]
    run_each(shell, f"--each users --concurrency 8 -q POST {METERS}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    stats = result.pacing
    assert (stats.throttled, stats.pauses) == (1, 1)
    assert result.elapsed >= 1.0  # no request started inside the 1 s pause
    assert stats.peak_in_flight <= 8 and stats.window <= 8


def test_rate_caps_the_requests_a_second(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["users"] = [f"r-{n}" for n in range(21)]
    run_each(shell, f"--each users --concurrency 8 --rate 40 -q POST {METERS}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert len(result.ok) == 21 and result.elapsed >= 20 / 40 - 0.05
    assert result.pacing.pace == 40


def test_a_429_after_the_last_retry_is_a_failure_in_pending(shell: Any, sandbox: Sandbox) -> None:
    sandbox.inject("api", status=429, count=3, retry_after=0, path_prefix=METERS)
    shell.user_ns["users"] = ["only"]
    run_each(shell, f"--each users --retry 1 --no-raise -q POST {METERS}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert [(f.item, f.status) for f in result.failed] == [("only", 429)]
    assert result.pending == ["only"]


def test_a_retry_whose_write_fails_is_sent_again_not_failed(shell: Any, sandbox: Sandbox) -> None:
    """An attempt takes its pooled connection, then waits out the pause. When the server
    closed that connection meanwhile (uvicorn closes one idle 5 s), the write fails: the
    server cannot have it, so it is sent again, though an earlier attempt was answered (429).
    """
    prefix = "/usage-metering/v1/nowhere/"
    # a fractional Retry-After is exact: every worker waits it out (a whole second is not)
    sandbox.inject("api", status=429, count=1, retry_after=6.5, path_prefix=prefix + "b")
    sandbox.inject("api", status=429, count=1, retry_after=0, delay=0.3, path_prefix=prefix + "a")
    shell.user_ns["users"] = ["a", "b"]
    run_each(shell, f"--each users --concurrency 2 --no-raise -q POST {prefix}{{{{item}}}}", "{}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert result.pacing.paused >= 5.5  # b's 429 paused a's retry, on a connection taken before
    assert sorted((f.item, f.status) for f in result.failed) == [("a", 404), ("b", 404)]


def test_a_pause_longer_than_the_timeout_fails_no_item(shell: Any, sandbox: Sandbox) -> None:
    """Attempts wait out the pause before they take a connection and start their timeout: a
    Retry-After of 3 s with --timeout 2 used to fail the items waiting in the pause (a
    fractional one is waited out by every worker)."""
    sandbox.inject("api", status=429, count=2, retry_after=3.5, path_prefix=METERS)
    users = [f"long-{n}" for n in range(12)]
    shell.user_ns["users"] = users
    run_each(shell, f"--each users --concurrency 4 --timeout 2 -q POST {METERS}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert result.failed == [] and sorted(created(shell)) == sorted(users)
    assert result.pacing.paused >= 3.0
