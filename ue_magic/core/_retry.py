"""The one retry policy and the one retry loop, used by the API client and the token endpoint alike.

A ``RetryPolicy`` says which statuses are retried (one ``StatusRule`` per status), for which
methods, how many times, how long a Retry-After may ask us to wait, and how long to back off
when the server does not say. ``run`` is the loop: it sends, asks a ``check`` function whether
the outcome is worth another try, logs and sleeps. The sleep, the wall clock (for Retry-After
dates) and the jitter's random source are fields, so tests replace them instead of waiting.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Generic, TypeVar

from .._constants import IDEMPOTENT_METHODS, MAX_RETRIES, MAX_RETRY_WAIT

__all__ = [
    "API_STATUSES",
    "TOKEN_RETRIES",
    "TOKEN_STATUSES",
    "Retried",
    "Retry",
    "RetryPolicy",
    "StatusRule",
    "backoff_delay",
    "check_retries",
    "clock_time",
    "log_wait",
    "parse_retry_after",
    "run",
]

logger = logging.getLogger("ue_magic")

TOKEN_RETRIES = 3  # a token request is tried at most 4 times
LOUD_WAIT = 5.0  # waits this long or longer are logged as warnings, shorter ones as info

T = TypeVar("T")


@dataclass(frozen=True)
class StatusRule:
    """How one HTTP status is retried.

    ``any_method``: retried for every method, also a POST without an Idempotency-Key (for a
    status that proves the server did nothing, such as a 429). False: only where a repeat is safe.
    """

    any_method: bool = False


# a 429 says the request was not processed, so repeating it is safe for every method
API_STATUSES: Mapping[int, StatusRule] = {
    429: StatusRule(any_method=True),
    **{s: StatusRule() for s in (502, 503, 504)},
}
# the token request changes nothing on the server: every 5xx and 429 is worth another try
TOKEN_STATUSES: Mapping[int, StatusRule] = {
    s: StatusRule(any_method=True) for s in (429, *range(500, 600))
}


@dataclass(frozen=True)
class Retry:
    """Why an outcome is worth another try: ``why`` for the log, ``status`` None for no answer."""

    why: str
    status: int | None = None
    retry_after: float | None = None  # seconds the server asked for, if it did


@dataclass(frozen=True)
class Retried(Generic[T]):
    """The last outcome of ``run`` and how it ended.

    ``attempts``: tries made (1 = no retry). ``too_long``: the Retry-After (seconds) that was
    longer than the policy waits, when that is what stopped the loop; None otherwise.
    """

    outcome: T
    attempts: int
    too_long: float | None = None


def check_retries(retries: int, name: str) -> int:
    """``retries`` clamped at 0; ValueError above ``MAX_RETRIES``."""
    if retries > MAX_RETRIES:
        raise ValueError(f"{name}={retries} is too many; give at most {MAX_RETRIES}.")
    return max(0, retries)


@dataclass(frozen=True)
class RetryPolicy:
    """Which outcomes are retried, how often, and how long to wait in between.

    ``retries``: retries after the first try (``check_retries`` bounds a count a user gives at
    ``MAX_RETRIES``). ``max_wait``: seconds; a longer Retry-After is not waited for, and backoff
    never exceeds it. ``backoff_base``: the first backoff's ceiling in seconds, doubled per
    retry, with jitter (half to all of it).
    """

    statuses: Mapping[int, StatusRule] = field(default_factory=lambda: dict(API_STATUSES))
    methods: frozenset[str] = IDEMPOTENT_METHODS
    retries: int = 3
    max_wait: float = MAX_RETRY_WAIT
    backoff_base: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time  # wall clock: Retry-After dates, "try again after"
    random: Callable[[], float] = random.random

    def retries_for(
        self, method: str, idempotency_key: bool, status: int | None, explicit: int | None = None
    ) -> int:
        """How many retries an outcome of a ``method`` request may have.

        ``status`` None is a failure without an answer. ``explicit`` (the caller's own count)
        wins for every method; otherwise safe methods, or any method with an Idempotency-Key,
        get ``retries``, and the rest only for a status whose rule says ``any_method``.
        """
        if explicit is not None:
            return explicit
        if method in self.methods or idempotency_key:
            return self.retries
        rule = self.statuses.get(status) if status is not None else None
        return self.retries if rule is not None and rule.any_method else 0

    def retries_status(self, status: int) -> bool:
        """Whether an answer with this status is worth another try at all."""
        return status in self.statuses

    def retry_after(self, value: str | None) -> float | None:
        """Seconds a Retry-After header asks for (by this policy's clock), or None."""
        return parse_retry_after(value, self.clock())

    def delay(self, attempt: int, retry_after: float | None) -> tuple[float, str]:
        """Seconds to wait before retry ``attempt`` (1, 2, ...) and how they were chosen."""
        if retry_after is not None:
            return retry_after, "as Retry-After asks"
        return backoff_delay(attempt, self.max_wait, self.backoff_base, self.random), "backoff"

    def try_again_at(self, wait: float) -> str:
        """When a wait of ``wait`` seconds from now ends, as a clock time for a message."""
        return clock_time(self.clock() + wait)


def run(
    policy: RetryPolicy,
    send: Callable[[], T],
    check: Callable[[T], Retry | None],
    allowed: Callable[[Retry], int],
    what: Callable[[int, int], str],
    on_retry: Callable[[T], None] | None = None,
) -> Retried[T]:
    """Send until ``check`` says done, the retries ``allowed`` are used, or a wait is too long.

    ``send`` never raises for a failure the caller wants retried: it returns it. ``what(retry,
    retries)`` names the next try in log lines ("retry 1 of 3"). The outcome that stopped the
    loop is returned; the caller turns it into an answer or an error.
    """
    attempt = 0
    while True:
        outcome = send()
        reason = check(outcome)
        if reason is None:
            return Retried(outcome, attempt + 1)
        limit = allowed(reason)
        if attempt >= limit:
            return Retried(outcome, attempt + 1)
        wait = reason.retry_after
        if wait is not None and wait > policy.max_wait:
            return Retried(outcome, attempt + 1, too_long=wait)
        attempt += 1
        seconds, how = policy.delay(attempt, wait)
        if on_retry is not None:
            on_retry(outcome)
        log_wait(seconds, f"{reason.why} ({how})", what(attempt, limit))
        policy.sleep(seconds)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def clock_time(wall: float) -> str:
    """``wall`` (seconds since the epoch) as an HH:MM:SS UTC time, or a date when not today."""
    try:
        when = datetime.fromtimestamp(wall, timezone.utc)
        today = datetime.fromtimestamp(time.time(), timezone.utc).date()
    except (OverflowError, ValueError, OSError):
        return "a long time from now"
    shape = "%H:%M:%S UTC" if when.date() == today else "%Y-%m-%d %H:%M:%S UTC"
    return when.strftime(shape)


def log_wait(seconds: float, why: str, what: str) -> None:
    """Say that ue-magic is about to sleep, how long and why (a silent stall looks like a hang)."""
    level = logging.WARNING if seconds >= LOUD_WAIT else logging.INFO
    logger.log(level, "ue_magic: %s; waiting %.1f s before %s", why, seconds, what)


def backoff_delay(
    attempt: int,
    cap: float,
    base: float = 0.5,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with jitter for retry ``attempt`` (1, 2, ...), never above ``cap``."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return ceiling * (0.5 + rand() / 2)
