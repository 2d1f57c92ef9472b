"""A window's quota, read from what it let through before it was full.

A fixed window or a sliding log lets ``N`` requests through in each window of ``length`` seconds
(any such window, for a log) and refuses the next. Refused, it was full: the ``N`` it holds are
those that reached it in the window before the refusal. For a fixed window that is since its
start; for a sliding log since its oldest entry, which leaves when a place comes free: the time
an exact ``Retry-After`` gives, ``length`` after that entry came. So an exact Retry-After from
either says where the full window began (``refused + wait - length``), and the count there is
``N`` however slowly the run got there. A count since the last refusal over that time is not: a
sliding log's next free place is not a window's end, and after a low start (a pace cut to a
quarter, probed back up) such a count read 59% of the limit.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["beyond_bucket", "exact_quota", "window_quota"]


def window_quota(
    starts: Iterable[tuple[float, bool | None]], begin: float, refused: float, seen: float
) -> int:
    """The requests a full window let through: of ``starts`` ((start, ok?) of the run's
    attempts), those from ``begin`` (the window's start) on and let through, or in flight,
    before the refused one (started at ``refused``), and those let through that started after
    it until its answer came (``seen``): they got there before it (out of order), in the same
    window."""
    return sum(
        1
        for start, ok in starts
        if begin <= start < seen and (ok if start >= refused else ok is not False)
    )


def exact_quota(
    starts: Iterable[tuple[float, bool | None]],
    refused: float,
    wait: float,
    seen: float,
    length: float,
    pace: float | None,
) -> int:
    """The quota of a window of ``length`` seconds that refused the attempt started at
    ``refused`` with an exact Retry-After of ``wait`` seconds, answered at ``seen``: the full
    window began ``length`` before the time that gives. Times are the service's, starts are
    ours, and a sliding log's window begins with a request, which started about the refused
    one's way there (half its round trip) before: from that much earlier, but no more than
    half a place in the ``pace`` (requests a second; a request before it had left)."""
    early = (seen - refused) / 2
    if pace:
        early = min(early, 0.5 / pace)
    return window_quota(starts, refused + wait - length - early, refused, seen)


def beyond_bucket(good: int, bucket_wait: float, elapsed: float) -> bool:
    """Whether ``good`` requests let through in the ``elapsed`` seconds since a refusal are more
    than a bucket whose Retry-After was ``bucket_wait`` (the time to its next token: 1/rate at
    most) lets through: empty then, it refills a token each ``bucket_wait`` at most (and one
    more for the times, ours and not the service's). Then that short Retry-After was a window's
    (a sliding log's next free place, with a request from before the run still in it)."""
    return bucket_wait > 0 and (good - 2) * bucket_wait > elapsed
