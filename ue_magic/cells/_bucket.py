"""A token bucket's refill rate, read from what it let through between two times it was empty.

A bucket of ``stock`` tokens refills at N a second and lets a request through while it has a
token. Empty at ``begin`` (it refused one) and again at ``end``, it let through N x (end - begin)
unless it was full for a while meanwhile (the refill past its stock is lost): the pace was under
the rate. The slowest N at which every request it let through had a token is then its rate, to a
token: fewer than that and one of them would have been refused. This reads it through a pause,
a low start or a probe that overshot, where a count over the time measures too little.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["refill_rate"]

_STEPS = 40  # bisections: a part in 10^12 of the range


def _enough(rate: float, accepted: Sequence[float], begin: float, stock: float) -> bool:
    """Whether a bucket refilling at ``rate``, empty at ``begin``, had a token for each."""
    tokens, last = 0.0, begin
    for at in accepted:
        tokens = min(stock, tokens + (at - last) * rate)
        last = at
        if tokens < 1 - 1e-9:
            return False
        tokens -= 1
    return True


def refill_rate(
    accepted: Sequence[float], begin: float, end: float, burst: int, burst_time: float = 0.0
) -> float:
    """The slowest refill (requests a second) that let through ``accepted`` (times, in order,
    within [begin, end)) from an empty bucket; 0.0 for none. Its stock is what the first burst
    got (``burst`` requests in ``burst_time`` seconds) less what refilled meanwhile."""
    rate = 0.0
    for _ in range(3):  # a fixed point: the refill during the burst is the rate's
        stock = max(1.0, burst / 2, burst - rate * burst_time)
        rate = _slowest(accepted, begin, end, stock)
    return rate


def _slowest(accepted: Sequence[float], begin: float, end: float, stock: float) -> float:
    if not accepted or end <= begin:
        return 0.0
    low, high = 0.0, len(accepted) / max(accepted[0] - begin, 1e-6) + 1.0
    while not _enough(high, accepted, begin, stock):  # a pause before the first: room for it
        high *= 2
    for _ in range(_STEPS):
        middle = (low + high) / 2
        if _enough(middle, accepted, begin, stock):
            high = middle
        else:
            low = middle
    return high
