"""Pacing of a bulk run: how many requests are in flight, how fast they start, the shared pause.

One ``Throttle`` per ``--each`` run, shared by its workers. Services limit rates with a token bucket
(N requests a second, bursts of B) and answer 429 past it. A 429 pauses every worker until its
Retry-After has passed (a backoff when it gives none), instead of each finding the limit on its own,
and lowers the pace, AIMD (additive increase, multiplicative decrease, as TCP's congestion control):

- the window of requests in flight halves (never below 1) and grows by one per window of good
  answers, never above ``--concurrency``;
- the rate of starts (the pace) is set from the service's refill rate, estimated from the
  answers (see ``_estimate``): a rough estimate is probed upwards until the limit is met again,
  a good one is kept just under, probing again only after ``CREEP_AFTER`` seconds; never above
  ``--rate``. When a pause ends, part of the bucket it refilled goes out at once.

When the answers state the limit (``RateLimit-Policy``, ``X-RateLimit-Limit``: see ``_quota``),
the pace is that rate, 1% under, from the first answer that says it, and none of the estimate is
needed; an answer that says none are left holds the next start until its reset (or its place at
the pace). Three refusals at a stated rate and it is estimated as above instead.

``tests/bulk/test_pacing_model.py`` runs it against a token bucket on a simulated clock, and
``tests/bulk/test_pacing_limiters.py`` runs many workers against other limiters.

Workers call ``acquire``/``release`` around an item and ``before_write`` just before each attempt
is written to the socket (retries too), so no attempt starts inside a pause. ``stop`` ends the run:
waiting workers raise ``Stopped``, and their item was not sent. Time is a monotonic ``clock`` field,
and waits go through ``wait`` on a condition, so tests step time instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass

from ._quota import Quota

__all__ = ["BulkRuns", "PacingStats", "Stopped", "Throttle", "pacing_note"]

DECREASE = 0.5  # the window's multiplicative decrease on a 429
HEADROOM = 0.985  # the pace is set this far under the estimated refill rate
STATED_HEADROOM = 0.99  # ... and this far under a rate the answers' headers state
STATED_REFUSALS = 3  # refusals at a stated rate that make it estimated instead
CREEP = 0.003  # the pace grows by this share a second while answers are good ...
CREEP_AFTER = 30.0  # ... once this many seconds have passed since a 429 last set it (a probe)
PROBE = 0.05  # ... or by this share a second while the pace is the first, rough, estimate
BURST_USE = 0.8  # share of the estimated bucket spent at once when a pause ends (it refilled)
BACKOFF = 1.0  # seconds paused after a 429 without a usable Retry-After
MIN_PACE = 0.5  # requests a second: the slowest pace a 429 can set
_HISTORY = 30.0  # seconds of starts kept to estimate rates
_STATED_LOOKBACK = 2.0  # seconds of accepted starts that set the pace when a stated rate fails
MIN_STRETCH = 0.5  # seconds: the shortest stretch of starts that measures a rate


class Stopped(Exception):
    """The run was stopped (an interrupt, a logout) before this attempt was written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PacingStats:
    """What the throttle did: 429s seen, pauses made, seconds paused, the last window and pace."""

    throttled: int
    pauses: int
    paused: float
    window: int
    pace: float | None
    peak_in_flight: int


class Throttle:
    """The window, the pace and the pause of one run, shared by its worker threads.

    ``concurrency``: most requests in flight. ``rate``: most starts a second (None: no cap).
    ``adaptive`` False keeps the window and pace fixed (and still pauses on a 429).
    """

    def __init__(
        self,
        concurrency: int,
        rate: float | None = None,
        *,
        adaptive: bool = True,
        shared_pause: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ValueError("rate must be a positive number of requests a second")
        self.ceiling = concurrency
        self.cap = rate
        self.adaptive = adaptive
        self.shared_pause = shared_pause
        self.clock = clock
        self._cond = threading.Condition()
        self._window = float(concurrency)
        self._pace: float | None = rate
        self._estimated = False  # the pace comes from an estimate of the service's rate
        self._settled = float("-inf")  # when a 429 last set the pace
        self._rough = False  # that pace is the first estimate, from too little to trust
        self._next_start = float("-inf")
        self._pause_until = float("-inf")
        self._hold_until = float("-inf")  # no start before: the headers said none are left
        self._stated_at: float | None = None  # when the headers' rate set the pace
        self._stated_refusals = 0
        self._in_flight = 0
        self._stopped: str | None = None
        self._started_at = clock()
        self._last_good = self._started_at
        self._starts: deque[tuple[float, bool | None]] = deque()  # (start, ok?) of attempts
        self._answers: deque[tuple[float, bool]] = deque()  # (when, ok) of answers
        self._refused_answer = self._started_at  # when the refusal being settled came
        self._epoch_starts = 0  # starts since the last pause ended
        self._refused_before = 0  # of those, started before the refused one
        self._epoch_start = self._started_at  # when sending resumed after the last pause
        self._first: tuple[float, float] | None = None  # (accepted, seconds) of the first epoch
        self._refused: float | None = None  # start of the attempt a 429 refused, until settled
        self._dry: float | None = None  # start of the refused attempt settled before it: empty
        self._last_epoch = self._started_at  # when the epoch that ended in that 429 began
        self._throttled = self._pauses = self._peak = 0
        self._paused = 0.0

    # -- workers -------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Wait for a free place in the window; raises ``Stopped`` once the run is stopped."""
        with self._cond:
            while True:
                self._check()
                if self.try_acquire():
                    return
                self._cond.wait(0.5)

    def try_acquire(self) -> bool:
        """Under the lock (or in a simulation): take a place in the window if one is free."""
        if self._in_flight >= max(1, int(self._window)):
            return False
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        return True

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def reserve(self) -> int:
        """Wait out the pause and take a place in the pace, before the attempt takes a pooled
        connection and starts its timeout (a wait after that would hold the connection idle,
        and run the timeout down). Returns a ticket for ``before_write``."""
        with self._cond:
            self._take_turn()
            return self._pauses

    def before_write(
        self, claim: Callable[[float], None] | None = None, ticket: int | None = None
    ) -> float:
        """Claim a start, after waiting out the pause and the pace; returns the start time.

        Called just before an attempt's request is written. With the ``ticket`` of a
        ``reserve`` and no pause since, there is nothing left to wait for. ``claim(start)`` runs
        under the lock, so a ``stop`` either comes before it (``Stopped`` is raised) or sees it.
        """
        with self._cond:
            self._check()
            if ticket is None or ticket != self._pauses or self.clock() < self._pause_until:
                now = self._take_turn()
            else:
                now = self.clock()
            self.started(now)
            if claim is not None:
                claim(now)
            return now

    def started(self, now: float) -> None:
        """Under the lock (or in a simulation): note an attempt that starts ``now``."""
        self._starts.append((now, None))
        self._epoch_starts += 1
        self._forget(now)

    def turn(self, slot: float | None) -> tuple[float | None, float]:
        """Under the lock: whether a start may go now, as (its place in the pace, seconds to
        wait; 0: go). The place is taken at the first call and kept by the caller across
        waits; a pause (or a hold) gives it up: places start again after it."""
        now = self.clock()
        held = max(self._pause_until, self._hold_until)
        if now < held:
            return None, held - now
        if self._refused is not None:  # the first start after a pause
            self._settle(self._refused)
            self._refused = None
        pace = self._pace
        if pace and slot is None:
            slot = max(now, self._next_start)
            self._next_start = slot + 1 / pace
        if slot is not None and now < slot:
            return slot, slot - now
        return slot, 0.0

    def _take_turn(self) -> float:
        """Under the lock: wait until no pause is on and this start's place in the pace has
        come (the place is taken here); returns the time."""
        slot: float | None = None  # this start's place in the pace, kept across wake-ups
        while True:
            self._check()
            slot, left = self.turn(slot)
            if left <= 0:
                return self.clock()
            self._cond.wait(min(left, 0.5))

    def sleep(self, seconds: float) -> None:
        """The retry loop's sleep: ends early, raising ``Stopped``, when the run stops."""
        deadline = self.clock() + seconds
        with self._cond:
            while True:
                self._check()
                left = deadline - self.clock()
                if left <= 0:
                    return
                self._cond.wait(min(left, 0.5))

    def answered(
        self,
        started: float,
        status: int,
        retry_after: float | None,
        quota: Quota | None = None,
    ) -> None:
        """Learn from an answer to the attempt that started at ``started``; ``quota``: what
        its headers state of the limit (``_quota.read_quota``)."""
        with self._cond:
            now = self.clock()
            ok = status != 429
            self._mark(started, ok)
            if quota is not None and self.adaptive:
                self._read(quota, started, now)
            self._answers.append((now, ok))
            while self._answers and self._answers[0][0] < now - _HISTORY:
                self._answers.popleft()
            if ok:
                self._grow(now)
                return
            self._throttled += 1
            if started < self._epoch_start:
                return  # sent before the last pause: that pause already answered it
            if self.adaptive:
                self._window = max(1.0, self._window * DECREASE)
                if self._refused is None:  # estimated once the answers in flight are in
                    self._refused, self._refused_answer = started, now
                    later = sum(1 for s, _ok in self._starts if s >= started)
                    self._refused_before = self._epoch_starts - later
            wait = retry_after if retry_after is not None else BACKOFF
            until = now + wait
            if self.shared_pause:
                if until > self._pause_until:
                    self._paused += until - max(now, self._pause_until)
                    self._pause_until = until
                    self._next_start = until - self._refilled(until - now)
                self._pauses += 1
                self._last_epoch, self._epoch_start = self._epoch_start, until
                self._epoch_starts = 0
            self._cond.notify_all()

    def stop(self, reason: str) -> None:
        """No attempt starts from now on; waiting workers raise ``Stopped(reason)``."""
        with self._cond:
            if self._stopped is None:
                self._stopped = reason
            self._cond.notify_all()

    @property
    def stopped(self) -> str | None:
        return self._stopped

    @property
    def stats(self) -> PacingStats:
        with self._cond:
            return PacingStats(
                self._throttled,
                self._pauses,
                self._paused,
                max(1, int(self._window)),
                self._pace,
                self._peak,
            )

    # -- the scheme ----------------------------------------------------------------------------
    def _check(self) -> None:
        if self._stopped is not None:
            raise Stopped(self._stopped)

    def _read(self, quota: Quota, started: float, now: float) -> None:
        """Pace at the rate the headers state. Of the requests left (``remaining``), those
        started since this one have taken theirs: with none left, the next start waits for its
        place at the pace, or for the reset when that is given to a fraction of a second (a
        whole second says too little: it may be 0.01 s rounded up)."""
        if quota.rate is not None and self._stated_refusals == 0 and not self._estimated:
            self._stated_at = now if self._stated_at is None else self._stated_at
            pace = quota.rate * STATED_HEADROOM
            self._pace = pace if self.cap is None else min(self.cap, pace)
        if quota.remaining is None or self._pace is None:
            return
        taken = sum(1 for s, _ok in self._starts if s > started)
        short = taken + 1 - quota.remaining
        if short > 0:
            wait = short / self._pace
            reset = quota.reset
            if quota.remaining < 1 and reset is not None and not float(reset).is_integer():
                wait = max(wait, min(reset, 60.0))
            self._hold_until = max(self._hold_until, now + wait)

    def _grow(self, now: float) -> None:
        """Additive increase: +1 window per window of good answers; the pace creeps up."""
        if not self.adaptive:
            return
        self._window = min(float(self.ceiling), self._window + 1 / max(self._window, 1.0))
        if self._pace is not None and self._estimated:
            if self._rough:
                share = PROBE
            elif now - self._settled >= CREEP_AFTER:
                share = CREEP
            else:
                share = 0.0
            elapsed = max(0.0, now - self._last_good)
            grown = self._pace * (1 + share * min(elapsed, 1.0))
            self._pace = grown if self.cap is None else min(self.cap, grown)
        self._last_good = now

    def _settle(self, refused: float) -> None:
        """Set the pace under the service's rate, estimated after a pause (the answers to what
        was in flight at the 429 came in during it).

        An estimate from less than ``MIN_STRETCH`` seconds of starts (the first always is) is
        rough: it is used as it is and probed upwards (``PROBE``) until a longer run meets the
        limit. That run's estimate is good, so the pace then sits just under it and probes only
        after ``CREEP_AFTER``. With nothing to estimate from, the pace halves (the rate sent, at
        first).

        A refusal with nothing accepted before it in its epoch (the first start after a pause,
        or a burst of them all refused) is not a bucket run dry: a bucket refills during the
        pause. It is a storm (an outage, faults), and says nothing of the rate: the pause is
        the answer, and the pace is left as it was (halving it at each of a storm's refusals
        left it at ``MIN_PACE``)."""
        dry, self._dry = self._dry, refused
        if not any(ok for start, ok in self._starts if self._last_epoch <= start <= refused):
            return
        if self._stated_at is not None and self._stated_refusals < STATED_REFUSALS:
            if refused < self._stated_at:
                return  # sent before the headers were read
            self._stated_refusals += 1
            if self._stated_refusals < STATED_REFUSALS and self._pace is not None:
                self._pace *= HEADROOM  # a little under: the service counts a little differently
                return
            # the stated rate is not the limit: from what got through, probed upwards
            since = refused - _STATED_LOOKBACK
            accepted = sum(1 for s, ok in self._starts if since <= s < refused and ok)
            pace = max(MIN_PACE, accepted / _STATED_LOOKBACK)
            self._pace = pace if self.cap is None else min(self.cap, pace)
            self._estimated = self._rough = True
            self._settled = self.clock()
            return
        rough = self._first is None or refused - self._last_epoch < MIN_STRETCH
        estimate = self._estimate(refused, dry)
        if estimate is not None:
            pace = estimate * (1.0 if rough else HEADROOM)
        else:
            sent = self._pace or self._sent_rate(refused)
            if sent is None:
                return
            pace, rough = sent * DECREASE, True
        pace = max(MIN_PACE, pace)
        if self._pace is not None:
            pace = min(pace, self._pace * 0.98)  # a 429 never raises the pace
        self._pace = pace if self.cap is None else min(self.cap, pace)
        self._estimated = True
        self._rough = rough
        self._settled = self.clock()

    def _estimate(self, refused: float, dry: float | None = None) -> float | None:
        """The service's refill rate r (requests a second), estimated at a 429; None when there
        is too little to go on.

        A token bucket (size B) refuses once it is empty; from then on it lets through exactly
        r. At the first 429, the good answers that came after the refusal, over the time they
        span, measure r roughly, and what the first epoch let through (``A`` over ``S`` seconds,
        from a full bucket) ties B to r: ``B = A - r S``. Later epochs also start from a full
        bucket (the pause refilled it), so a stretch of ``k`` starts over ``t`` seconds ending
        at the refused one ran it dry: ``k - r t = B``, that is ``r = (k - A) / (t - S)``.
        """
        if self._first is None:
            first = self._refused_answer
            after = [ok for when, ok in self._answers if when > first]
            span = (self._answers[-1][0] - first) if after else 0.0
            sent = self._sent_rate(refused)
            if len(after) >= 8 and span > 0.01 and any(after):  # none accepted: no rate
                rate: float | None = sum(after) / span
            elif self._refused_before >= 4 and sent is not None:
                rate = sent * DECREASE
            else:
                rate = None
            self._first = self._first_epoch(sent)
            return rate
        if self._refused_before < 4:
            return None
        return self._drain_rate(refused, dry)

    def _sent_rate(self, refused: float) -> float | None:
        """Starts a second over the epoch that ended at the refused one (None if it was first)."""
        if self._refused_before < 1:
            return None
        return self._refused_before / max(refused - self._last_epoch, 1e-3)

    def _drain_rate(self, refused: float, dry: float | None = None) -> float | None:
        """The largest r at which some stretch of the epoch's starts ran the bucket dry.

        Over a steady pace the stretch is the whole epoch; over a rising pace (a probe) it is
        the part above the rate. Stretches under ``MIN_STRETCH`` seconds (beyond the first
        epoch's ``S``) count only when the whole epoch is that short: the threads' jitter on the
        way to the socket swamps them.

        A pause refills the bucket only by r a second: when B is more than r times the pause,
        the epoch began part full. The bucket was empty at ``dry`` (the refusal before), so
        the ``k`` accepted since then give ``r >= k / (refused - dry)`` whatever B is (taking
        the bucket as full there read a 20/s service with bursts of 100 as 2/s).
        """
        accepted, span = self._first or (0.0, 0.0)
        starts = sorted(s for s, _ok in self._starts if self._last_epoch <= s < refused)
        whole = max(refused - self._last_epoch - span, (refused - self._last_epoch) / 2, 1e-3)
        best = (len(starts) - accepted) / whole
        if dry is not None and refused - dry >= MIN_STRETCH:
            good = sum(1 for s, ok in self._starts if dry < s < refused and ok)
            best = max(best, good / (refused - dry))
        for i, start in enumerate(starts):
            stretch = refused - start - span
            if stretch < MIN_STRETCH:
                break
            best = max(best, (len(starts) - i - accepted) / stretch)
        return best if best > 0 else None

    def _bucket(self) -> float:
        """The bucket's estimated size B (at least 1), from the first epoch and the pace."""
        accepted, span = self._first or (1.0, 0.0)
        return max(1.0, accepted - (self._pace or 0.0) * span)

    def _refilled(self, pause: float) -> float:
        """Seconds of pace to start at once when a pause of ``pause`` seconds ends: the bucket
        refilled during it, so part of its estimated size B goes out unpaced."""
        if self._pace is None or self._first is None:
            return 0.0
        return min(self._bucket() * BURST_USE, pause * self._pace) / self._pace

    def _first_epoch(self, sent: float | None) -> tuple[float, float]:
        """What the first epoch let through: (accepted ``A``, seconds ``S`` from its first start
        to the last accepted one), counted from the answers (all in by the end of the first
        pause), not from the order of starts, which threads reorder on their way to the socket.

        A long first epoch (a lone 429 after a while, not a bucket run dry in one burst) says
        little about B: then B is taken as ``A - sent S``, at least 1 (``sent`` is the epoch's
        rate of starts, just over r if a bucket did run dry), and S as 0.
        """
        first = [(s, ok) for s, ok in self._starts if s < self._epoch_start]
        accepted = [s for s, ok in first if ok]
        if not accepted:
            return 0.0, 0.0
        span = max(accepted) - min(s for s, _ok in first)
        if span < MIN_STRETCH:
            return float(len(accepted)), span
        return max(1.0, min(len(accepted), len(accepted) - (sent or 0.0) * span)), 0.0

    def _mark(self, started: float, ok: bool) -> None:
        for i in range(len(self._starts) - 1, -1, -1):
            when, state = self._starts[i]
            if when == started and state is None:
                self._starts[i] = (when, ok)
                return
            if when < started:
                return

    def _forget(self, now: float) -> None:
        while self._starts and self._starts[0][0] < now - _HISTORY:
            self._starts.popleft()


class BulkRuns:
    """The runs under way, by client: a logout stops them and waits for what is in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # a logout comes from another thread
        self._runs: dict[int, list[tuple[Throttle, Future[None]]]] = {}

    def add(self, client: object, throttle: Throttle, done: Future[None]) -> None:
        with self._lock:
            self._runs.setdefault(id(client), []).append((throttle, done))

    def remove(self, client: object, throttle: Throttle) -> None:
        with self._lock:
            runs = [run for run in self._runs.get(id(client), []) if run[0] is not throttle]
            if runs:
                self._runs[id(client)] = runs
            else:
                self._runs.pop(id(client), None)

    def stop(self, client: object, reason: str, timeout: float) -> None:
        """Stop the client's runs (nothing new starts) and wait for their requests in flight."""
        with self._lock:
            runs = list(self._runs.get(id(client), []))
        for throttle, _done in runs:
            throttle.stop(reason)
        if runs:
            wait([done for _t, done in runs], timeout=timeout)


def pacing_note(stats: PacingStats | None) -> str:
    """'12 answers were 429: paused 2 times (2.0 s), ending at 4 in flight, starts paced at 95.0/s'
    ('' if none). The pace is named as such: a bare '95.0/s' read as the run's throughput."""
    if stats is None or not stats.throttled:
        return ""
    pace = f", starts paced at {stats.pace:.1f}/s" if stats.pace else ""
    times = "time" if stats.pauses == 1 else "times"
    answers = "answer was" if stats.throttled == 1 else "answers were"
    return (
        f"{stats.throttled} {answers} 429: paused {stats.pauses} {times} "
        f"({stats.paused:.1f} s), ending at {stats.window} in flight{pace}"
    )
