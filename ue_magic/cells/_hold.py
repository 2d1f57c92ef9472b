"""How long to hold new starts when a service's headers say no requests are left.

Of the requests left (``remaining``), those started since the answered one have taken theirs: with
none left, the next start waits until one comes back. A reset given to a fraction of a second says
when. A whole-second reset (``RateLimit: r=0;t=1``) may be 0.01 s rounded up, or a whole second:
it says too little. Then the run's own starts say more: with ``q`` requests in each ``w``
seconds stated, a start is let through once fewer than ``q`` of them are in the last ``w`` seconds
(a sliding log's rule, which a fixed window and a bucket of that rate keep too), so the next start
waits until the ``q``-th last start is ``w`` old. That is what a sliding log meets a second into a
run: the first starts, sent before any header was read, are still in its log. Known, that time is
the hold, then a place in the pace for each start since (a place for each start over the quota
lost one a second at a sliding log: 98.3%); unknown, each start over the quota waits a place.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._quota import Quota

__all__ = ["hold_until"]

LONGEST_HOLD = 60.0  # seconds: a reset longer than this is not waited for as a hold


def hold_until(
    quota: Quota, starts: Sequence[tuple[float, object]], started: float, now: float, pace: float
) -> float | None:
    """The time until which new starts wait (None: no hold), for an answer ``now`` to the
    attempt that started at ``started``, with ``quota`` its headers' and ``pace`` (requests a
    second) the run's. ``starts``: (start time, ...) of the run's attempts, oldest first."""
    if quota.remaining is None:
        return None
    taken = 0
    for start, _state in reversed(starts):
        if start <= started:
            break
        taken += 1
    short = taken + 1 - quota.remaining
    if short <= 0:
        return None
    wait = short / pace  # the next place in the pace for each start over the quota
    end = None  # when one comes back, if known
    reset = quota.reset
    if quota.remaining < 1 and reset is not None and not float(reset).is_integer():
        end = now + min(reset, LONGEST_HOLD)
    elif quota.remaining < 1 and quota.rate is not None:
        count = round(quota.rate * quota.window)
        if 0 < count <= len(starts):
            # the q-th last start leaves the window ``w`` after it reached the service; it may
            # have got there up to a round trip (``now - started``) later than the next one will
            end = min(starts[-count][0] + quota.window + (now - started), now + LONGEST_HOLD)
    if end is not None:  # (past: the q-th last left while the answer came back)
        wait = max(end - now, (short - 1) / pace)  # then those started since, one a place
    return now + wait
