"""A token bucket's refill rate read from what it let through between two times it was empty
(``ue_magic.cells._bucket``), checked against a bucket that refuses what it has no token for."""

from __future__ import annotations

import pytest

from ue_magic.cells._bucket import refill_rate

from ..limits.limiters import limiter
from ..limits.simulation import simulate


def let_through(rate: float, stock: int, starts: list[float]) -> list[float]:
    """The starts a bucket (empty at 0) lets through."""
    tokens, last, out = 0.0, 0.0, []
    for at in starts:
        tokens, last = min(stock, tokens + (at - last) * rate), at
        if tokens >= 1:
            tokens -= 1
            out.append(at)
    return out


@pytest.mark.parametrize(
    "starts",
    [
        [i * 0.005 for i in range(1, 200)],  # twice the rate all along: dry at both ends
        [0.05 + i * 0.005 for i in range(200)],  # a 50 ms pause first (refilled 5)
        [i * 0.05 for i in range(1, 41)] + [2 + i * 0.004 for i in range(1, 150)],  # low, then
        # over: full for a while (its refill lost), then run dry by the overshoot
    ],
    ids=["over", "after-a-pause", "low-then-over"],
)
def test_the_rate_is_read_to_a_token_whatever_the_pace_did(starts: list[float]) -> None:
    accepted = let_through(100, 20, starts)
    measured = refill_rate(accepted, 0.0, starts[-1], 20)
    # a count over the time reads 'low-then-over' at 72/s
    assert 100 - 1 / starts[-1] * 2 <= measured <= 100 * 1.01


def test_the_first_burst_less_its_refill_is_the_stock() -> None:
    """25 let through in 50 ms from a bucket of 20 at 100/s: its stock is 20, not 25 (a stock
    taken too large reads the rate low after the bucket was full)."""
    starts = [i * 0.05 for i in range(1, 41)] + [2 + i * 0.004 for i in range(1, 150)]
    accepted = let_through(100, 20, starts)
    assert refill_rate(accepted, 0.0, starts[-1], 25, 0.05) >= 99
    assert refill_rate(accepted, 0.0, starts[-1], 25) < 97  # without the burst's time


def test_nothing_let_through_measures_nothing() -> None:
    assert refill_rate([], 0.0, 1.0, 20) == 0.0


@pytest.mark.parametrize("retry_after", ["whole", "none"])
def test_a_short_run_against_a_bucket_has_few_429s(retry_after: str) -> None:
    """1,000 items at concurrency 8, bucket 100/20: the first burst's refusals and one or two
    more (probing from 20/s, each refusal took 0.7 or 0.9 off: 1.4% of requests)."""
    run = simulate(limiter("bucket", 100, 20, retry_after, "none"), 1000, 8, spare=True)
    assert run.refused_share <= 0.01, run
    assert run.share >= 0.95, run
