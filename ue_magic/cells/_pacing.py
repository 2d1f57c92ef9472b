"""Pacing of a bulk run: how many requests are in flight, how fast they start, the shared pause.

One ``Throttle`` per ``--each`` run, shared by its workers. A service that limits its rate answers
429 past the limit: a token bucket (N requests a second, bursts of B), a fixed window (N in each
second) or a sliding log (N in any second). The throttle finds the rate and paces starts just under
it, AIMD (additive increase, multiplicative decrease, as TCP's congestion control):

- the window of requests in flight halves on a 429 (never below 1) and grows by one per window of
  good answers, never above ``--concurrency``;
- the rate of starts (the pace) is the rate the headers state (``RateLimit-Policy``,
  ``X-RateLimit-Limit``: see ``_quota``), held 1% under; without them it is measured: between two
  refusals the limit was met (a bucket empty at both refilled at N a second: ``_bucket``). A
  first, rough estimate is probed upwards quickly until the service refuses again; a measured one is
  held 1.5% under and probed again only after ``CREEP_AFTER`` seconds; never above ``--rate``. The
  first estimate is what the first burst got over its time and the Retry-After (a window's quota);
  when that burst was quick and whole seconds are all the Retry-After says, a good answer after
  the first short pause shows a bucket that refills, whose rate may be far over its stock: the
  estimate is raised to between the two (``_after_quick_burst``).
- A refused attempt is not sent again before its Retry-After (its worker waits it out). The others
  pause briefly (``SHORT_PAUSES``: a bucket refills in a fraction of a second), unless the first
  start after each is refused too (a window is full until its end): then the run is windowed, and
  every refusal is waited out by all to its Retry-After, which lands after the window's end; the
  pace is the window's quota (what it let through before it was full) over its length (the longest
  whole Retry-After), waited out to the end the first refusal's Retry-After gave. A fractional
  Retry-After is exact, and is waited out by all; refusals under ``MIN_STRETCH`` apart measure
  nothing (a few requests, at times off by the latency), but a short one is a bucket's time to
  its next token: the longest caps a rough pace (``_to_bucket_wait``). Once one over
  ``BUCKET_WAIT`` is seen, they are a window's: each refusal reads its quota (``_window``).

``tests/bulk/test_pacing_model.py`` runs it against these limiters on a simulated clock.

Workers call ``acquire``/``release`` around an item and ``before_write`` just before each attempt
is written to the socket (retries too), so no attempt starts inside a pause. ``stop`` ends the run:
waiting workers raise ``Stopped``, and their item was not sent. Time is a monotonic ``clock`` field,
and waits go through ``wait`` on a condition, so tests step time instead of sleeping; ``turn`` is
the same decision without the wait, for a simulation of many workers.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ._bucket import refill_rate
from ._hold import hold_until
from ._pacing_stats import PacingStats, Stopped
from ._quota import Quota
from ._window import beyond_bucket, exact_quota, window_quota

__all__ = ["PacingStats", "Stopped", "Throttle"]

DECREASE = 0.5  # the window's multiplicative decrease on a 429
INITIAL_WINDOW = 4  # requests in flight at first: one more per good answer until a 429 (TCP)
HEADROOM = 0.985  # the pace is held this far under a measured rate ...
STATED_HEADROOM = 0.99  # ... and this far under a rate the headers state
SATURATED = 0.97  # a pace that stayed over this share of what went through kept a bucket dry
FIRST_PROBE = 1.0  # the pace doubles each second after the first 429, until the second ...
PROBE = 0.3  # the pace grows by this share a second while it is a rough estimate ...
CREEP = 0.003  # ... or by this share a second once measured, ...
CREEP_AFTER = 30.0  # ... after this many seconds of good answers since it was measured
SHORT_PAUSE = 0.05  # seconds the other workers pause on a 429 with a whole-second Retry-After,
SHORT_PAUSES = (SHORT_PAUSE, 0.2)  # ... longer if refused right after (then a window's: all of it)
BACKOFF = 1.0  # seconds, a Retry-After for a 429 without one
MIN_PACE = 0.5  # requests a second: the slowest pace a 429 can set
FENCEPOST = 0.75  # of a token: what the first start after a refusal found refilled, about
MIN_STRETCH = 0.5  # seconds between two refusals that measure a rate
QUICK_BURST = 4  # requests: a first burst of this many or more, let through in less than a
# SHORT_PAUSE and refused, emptied a bucket's stock: its rate is not the burst over the wait
BUCKET_WAIT = 0.4  # seconds: a fractional Retry-After under this, refused again right after an
# exact pause, is a bucket's time to its next token (a window's end is further): 1/rate at most
FLOOR = 0.25  # ... which lowers a rough pace to this share of it at most, each time
_HISTORY = 30.0  # seconds of starts kept to measure rates


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
        self._window = float(min(concurrency, INITIAL_WINDOW) if adaptive else concurrency)
        self._slow_start = adaptive  # the window doubles each round trip until the first 429
        self._pace: float | None = rate
        self._mode = "capped" if rate is not None else "unpaced"  # rough, measured, stated
        self._settled = float("-inf")  # when the pace was last measured
        self._stated_at = float("inf")  # when the headers first stated a rate
        self._next_start = float("-inf")
        self._started_pace: float | None = None  # the pace in force when the last start went
        self._pause_until = float("-inf")
        self._hold_until = float("-inf")  # no start before: the headers said none are left
        self._stated_refusals = 0  # refusals at a stated rate: past a few, it is measured
        self._in_flight = 0
        self._admitted = 0  # items that took their first place, in input order (acquire)
        self._stopped: str | None = None
        self._started_at = clock()
        self._last_good = self._started_at
        self._starts: deque[tuple[float, bool | None]] = deque()  # (start, ok?) of attempts
        self._epoch_start = self._started_at  # when sending resumed after the last pause
        self._short = 0  # short pauses in a row, each refused right after: the next is longer
        self._windowed = False  # the limit is a window's: a quota a window, refills at its end
        self._window_length = 1.0  # seconds: the longest whole Retry-After of the window
        self._full_until = float("-inf")  # a full window ends by then (see _to_end)
        self._bucket_wait = 0.0  # the longest short fractional Retry-After: 1/rate at most
        self._window_wait = False  # a longer one was seen: a window's (its end, a free place)
        self._good, self._good_since = 0, self._started_at  # good answers since the last 429
        self._dry_epoch = self._started_at  # when the epoch that ended at ``_dry`` began
        self._lowest = 0.0  # the lowest pace since the last refusal (did it stay over the rate?)
        self._dry_twice = False  # two refusals have measured something
        self._bounds: tuple[float, float] | None = None  # (low, high): a quick first burst's
        # (start, wait, epoch, answered) of a refusal to settle
        self._refused: tuple[float, float, float, float] | None = None
        self._dry: float | None = None  # start of the last refusal settled: the limit was met
        self._dry_seen = float("-inf")  # ... and when its answer came
        self._throttled = self._pauses = self._peak = 0
        self._stock, self._burst_time = 0, 0.0  # good answers before the first 429, in seconds
        self._paused = 0.0

    # -- workers -------------------------------------------------------------------------------
    def acquire(self, order: int | None = None) -> None:
        """Wait for a free place in the window; raises ``Stopped`` once the run is stopped.

        ``order``: the item's place in the run (0, 1, ...). First places are taken in that order,
        whichever worker thread runs first, so ``--concurrency 1`` sends in input order."""
        with self._cond:
            while True:
                self._check()
                if (order is None or order <= self._admitted) and self.try_acquire():
                    if order is not None and order == self._admitted:
                        self._admitted += 1
                        self._cond.notify_all()
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
        while self._starts and self._starts[0][0] < now - _HISTORY:
            self._starts.popleft()

    def turn(self, slot: float | None) -> tuple[float | None, float]:
        """Whether a start may go now: (its place in the pace, seconds to wait; 0: go). The
        place is taken at the first call and kept by the caller across waits; a pause gives it
        up (places start again after it)."""
        now = self.clock()
        held = max(self._pause_until, self._hold_until)
        if now < held:
            # a place after the pause is kept (a waiter woken early by an answer must not give
            # it up: new places come after it, so each one given up left a hole of 1/pace)
            if slot is not None and slot >= held:
                return slot, slot - now
            return None, held - now
        if self._refused is not None:  # the first start after a pause
            self._settle(*self._refused)
            self._refused = None
        pace = self._pace
        if pace and slot is None:
            slot = max(now, self._next_start)
            self._next_start = slot + 1 / pace
        if slot is not None and now < slot:
            return slot, slot - now
        if slot is not None:  # a paced start goes now: the pace the report names
            self._started_pace = pace
        return slot, 0.0

    def _take_turn(self) -> float:
        """Under the lock: wait until no pause is on and this start's place in the pace has
        come (the place is taken here); returns the time."""
        slot: float | None = None
        while True:
            self._check()
            slot, left = self.turn(slot)
            if left <= 0:
                return self.clock()
            self._cond.wait(min(left, 0.5))

    def sleep(self, seconds: float) -> None:
        """The retry loop's sleep: ends early, raising ``Stopped``, when the run stops. The
        worker gives its place in the window up meanwhile (a spare worker sends in it: a
        Retry-After of a second must not idle a place for a second), and takes one again
        before its retry."""
        deadline = self.clock() + seconds
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()
            try:
                while True:
                    self._check()
                    left = deadline - self.clock()
                    if left <= 0:
                        break
                    self._cond.wait(min(left, 0.5))
                while not self.try_acquire():
                    self._check()
                    self._cond.wait(0.5)
            except Stopped:
                self._in_flight += 1  # given back by the worker's release
                raise

    def answered(
        self,
        started: float,
        status: int,
        retry_after: float | None,
        quota: Quota | None = None,
    ) -> None:
        """Learn from an answer to the attempt that started at ``started``; ``quota``: what
        its headers state of the limit."""
        with self._cond:
            now = self.clock()
            ok = status != 429
            self._mark(started, ok)
            if quota is not None and self.adaptive:
                self._read(quota, started, now)
            if self._bounds is not None and started >= self._epoch_start and self._refused is None:
                self._after_quick_burst(ok)
            if ok:
                self._good += started > self._good_since  # a bucket's short Retry-After, cut
                if beyond_bucket(self._good, self._bucket_wait, now - self._good_since):
                    self._window_wait = True  # to a quarter: a window's after all (probed fast)
                if not self._throttled and self._starts:  # the first burst: a bucket's
                    self._stock += 1  # stock, and what refilled while it went
                    self._burst_time = max(self._burst_time, started - self._starts[0][0])
                self._grow(now)
                return
            self._throttled += 1
            self._good, self._good_since = 0, now  # (a bucket is empty now)
            if retry_after is not None and retry_after < BUCKET_WAIT:  # a bucket's: <= 1/rate
                self._bucket_wait = max(self._bucket_wait, retry_after)
            elif retry_after is not None and not float(retry_after).is_integer():
                self._window_wait = True
            if started < self._epoch_start:
                return  # sent before the last pause: that pause already answered it
            whole = retry_after is None or float(retry_after).is_integer()
            wait = BACKOFF if retry_after is None else retry_after
            fresh = not self._accepted_since(self._epoch_start, started)  # right after a pause
            steady = self._mode == "measured" and self._window_length <= 1 and not fresh
            if whole and not fresh:  # the first of these refusals: the window ends by then
                self._full_until = now + wait
            if whole and self._windowed and not steady:
                # a window is full until its end: all wait for the next (refused once at the
                # quota's pace, a one-second sliding log may have a place free soon: a short
                # pause first)
                pause = self._to_end(now, wait)
                self._window_length = max(self._window_length, wait)
            elif whole and fresh and self._short >= len(SHORT_PAUSES):
                pause = self._to_end(now, wait)  # refused after each short pause: a window
                self._short, self._windowed = 0, self.adaptive
                self._window_length = max(self._window_length, wait)
                if self.adaptive and self._dry is not None and self._mode != "stated":
                    self._by_window(self._dry_epoch, self._dry, self._dry_seen)  # it was full
            elif whole:  # a bucket: a whole second says little; it refills some in a short one
                n = self._short if fresh else 0
                pause = min(wait, SHORT_PAUSES[n])
                self._short = n + 1 if pause < wait else 0
            else:
                pause, self._short = wait, 0
            if self.adaptive:
                self._window = max(1.0, self._window * DECREASE)
                self._slow_start = False
                if self._refused is None:  # settled once the answers in flight are in
                    self._refused = (started, wait, self._epoch_start, now)
            until = now + pause
            if self.shared_pause:
                if until > self._pause_until:
                    self._paused += until - max(now, self._pause_until)
                    self._pause_until = until
                    # places taken before the pause and ending after it are kept by their
                    # waiters: new ones come after them, not on top of them
                    self._next_start = max(until, self._next_start)
                self._pauses += 1
                self._epoch_start = until
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
                self._started_pace,
            )

    # -- the scheme ----------------------------------------------------------------------------
    def _check(self) -> None:
        if self._stopped is not None:
            raise Stopped(self._stopped)

    def _to_end(self, now: float, wait: float) -> float:
        """A full window's pause: until its end, which the first refusal's Retry-After bounds
        (those refused after its short pauses, in whole seconds rounded up, say later). Only
        the others' pause: a refused attempt still waits its own Retry-After."""
        return self._full_until - now if now < self._full_until < now + wait else wait

    def _set_pace(self, pace: float, mode: str) -> None:
        pace = max(MIN_PACE, pace)
        self._pace = pace if self.cap is None else min(self.cap, pace)
        self._lowest = min(self._lowest, self._pace)
        self._mode = mode

    def _after_quick_burst(self, ok: bool) -> None:
        """The first answer after the first pause, which followed a quick burst: good, the
        limit refilled some in the short pause, so it is a bucket, and the burst over the wait
        (its stock: 5/s for a bucket of 100/s, bursts of 5, a 16th of it) is far under its rate.
        The rate lies between that and the burst's own speed (an empty bucket refuses what
        comes faster than it refills): the pace is raised to their geometric mean, and probing
        (or its first overshoot) finds the rest. Refused: a window, or a bucket too slow to
        refill a token in the pause; the estimate stands."""
        low, high = self._bounds or (0.0, 0.0)
        self._bounds = None
        if ok and self._mode == "rough" and not self._dry_twice and self._pace is not None:
            raised = min(high, (low * high) ** 0.5)
            self._respace(raised if self.cap is None else min(self.cap, raised))

    def _respace(self, pace: float) -> None:
        """Raise the pace at once: the places not yet taken come forward in proportion (a
        place already taken at the old pace, 0.2 s apart at 5/s, is kept by its waiter)."""
        old, self._pace = self._pace, max(self._pace or pace, pace)
        now = self.clock()
        if old and self._pace > old and self._next_start > now:
            self._next_start = now + (self._next_start - now) * old / self._pace

    def _read(self, quota: Quota, started: float, now: float) -> None:
        """Pace at the rate the headers state (until a 429 says it is wrong); with none left,
        hold the next start until one comes back (``hold_until``)."""
        if quota.rate is not None and self._mode in ("unpaced", "capped"):
            self._stated_at = now
            self._set_pace(quota.rate * STATED_HEADROOM, "stated")
        if self._pace is not None:
            until = hold_until(quota, self._starts, started, now, self._pace)
            if until is not None:
                self._hold_until = max(self._hold_until, until)

    def _grow(self, now: float) -> None:
        """Additive increase: +1 window per window of good answers; the pace is probed upwards."""
        if not self.adaptive:
            return
        step = 1.0 if self._slow_start else 1 / max(self._window, 1.0)
        self._window = min(float(self.ceiling), self._window + step)
        if self._pace is not None and self._mode in ("rough", "measured"):
            if self._mode == "rough":
                share = PROBE if self._dry_twice and not self._window_wait else FIRST_PROBE
            elif now - self._settled >= CREEP_AFTER:
                share = CREEP
            else:
                share = 0.0
            since = self._last_good  # a second of good answers probes by ``share``; a
            if self._pause_until - since > SHORT_PAUSES[-1]:  # pause waited out is not one
                since = self._pause_until  # (a short one is: a bucket refilled in it)
            elapsed = max(0.0, now - since)
            grown = self._pace * (1 + share * min(elapsed, 1.0))
            self._pace = grown if self.cap is None else min(self.cap, grown)
        self._last_good = now

    def _accepted_since(self, begin: float, end: float) -> bool:
        """Whether an attempt started in [begin, end) was accepted, or may be (in flight)."""
        return any(ok is not False for start, ok in self._starts if begin <= start < end)

    def _settle(self, refused: float, wait: float, epoch: float, seen: float) -> None:
        """Set the pace after a refusal (the answers in flight at the 429 are in by now).

        Between two refusals the limit was met: a bucket empty at both refilled at N a second
        (``refill_rate``: it may have been full meanwhile); a window let through its quota.
        The first refusal has none before it: the rate is rough, the larger of what the first
        burst got over its time and the Retry-After (a window's quota), and what the answers
        in flight got after it. A refusal with nothing accepted since the pause before it
        (``epoch``) is a storm or a full window: the pause is the answer.

        "After a refusal" is after its answer came (``seen``), not after it started: requests
        reach the service later than they start, by up to a millisecond for each one in flight
        (threads, the GIL, the service's CPU), and not in the order they started; one that
        started just after the refused one and was accepted may have arrived before it."""
        whole = wait >= 1 and float(wait).is_integer()  # says little (0.000 is exact)
        if not self._accepted_since(epoch, refused):
            if self._mode == "rough" and not whole:
                self._to_bucket_wait(wait)  # refused after an exact pause: one token came
            return
        if self._mode == "stated":
            if refused < self._stated_at + 1.0:
                return  # the unpaced starts before the headers were read count for a second
            self._stated_refusals += 1
            if self._stated_refusals < 3:
                self._set_pace(self._pace * 0.98 if self._pace else MIN_PACE, "stated")
                return
        dry, self._dry = self._dry, refused
        dry_seen, self._dry_seen = self._dry_seen, seen
        self._dry_epoch = epoch
        self._dry_twice = dry is not None
        if dry is None:
            begin = self._started_at
        else:  # sending resumed after that refusal (its answer): those in flight came first
            begin = min((s for s, ok in self._starts if s > dry_seen and ok), default=dry_seen)
        accepted = sum(1 for s, ok in self._starts if begin <= s < refused and ok is not False)
        span = refused - begin
        gaps = max(0.0, accepted - FENCEPOST)  # the first took a token refilled before it
        if not whole and dry is not None and beyond_bucket(accepted, self._bucket_wait, span):
            self._window_wait = True
        if dry is None:
            first = min((s for s, _ok in self._starts), default=refused)
            if not whole:  # exact: those let through that started after it got there first
                accepted += sum(1 for s, ok in self._starts if refused <= s < seen and ok)
            rate = accepted / max(refused - first + wait, 1e-3)
            if self._window_wait and not whole:  # its length: from the first start to its end
                self._window_length = max(self._window_length, round(refused + wait - first))
            quick = accepted >= QUICK_BURST and refused - first < SHORT_PAUSE
            if quick and float(wait).is_integer() and self._mode != "stated":
                # a whole second says little: a bucket's rate may be far over its stock
                self._bounds = (rate, accepted / max(refused - first, 1e-3))
            after = [ok for s, ok in self._starts if s > seen and ok is not None]
            late = [s for s, ok in self._starts if s > seen and ok]
            if len(after) >= 8 and len(late) >= 2:
                rate = max(rate, len(late) / max(max(late) - seen, 1e-3))
            self._set_pace(min(rate, self._pace or rate), "rough")
            if not whole:
                self._to_bucket_wait(wait)
            self._lowest = self._pace or 0.0
        elif self._windowed and float(wait).is_integer():
            # a window, waited out to its end: what it let through since, its quota (over more
            # than a window, the rate it let through)
            self._by_window(epoch, refused, seen)
        elif not whole and self._window_wait:
            # a window's exact end, or a sliding log's next free place (``exact_quota``); a
            # count since the last refusal reads low after a low start (more, once: taken)
            quota = exact_quota(self._starts, refused, wait, seen, self._window_length, self._pace)
            since = accepted / (span + wait) if span >= MIN_STRETCH else 0.0
            measured = max(quota / self._window_length, since) * HEADROOM
            if self._mode == "measured" and refused >= self._settled + self._window_length:
                measured = min(measured, (self._pace or measured) * 0.99)  # (sooner: an echo)
            self._set_pace(measured, "measured")
        elif not whole and span >= MIN_STRETCH:
            # an exact Retry-After: a window's quota comes back at its end, which it says (a
            # bucket's next request, too): what went through since the last landing, over
            # the time until the next, is its rate
            measured = accepted / (span + wait) * HEADROOM
            if self._pace is not None:
                measured = min(measured, self._pace * 0.99)
            self._set_pace(measured, "measured")
        elif self._mode == "measured" and float(wait).is_integer():
            # held at a measured rate and refused: a little over it (the bucket's burst left
            # in the measure); each refusal takes a little off, a full measure never adds.
            # Refusals in quick succession: measured from the first of them (dry at both),
            # and meanwhile no faster than it let through since the last (a rate cut mid-run)
            pace = (self._pace or MIN_PACE) * HEADROOM
            if span < MIN_STRETCH and dry is not None:
                self._dry, self._dry_seen = dry, dry_seen
                if span > 0:
                    pace = min(pace, accepted / span)
            elif self._lowest >= gaps / span * SATURATED:
                pace = min(pace, gaps / span * HEADROOM)
            self._set_pace(pace, "measured")
        elif whole and dry is not None:  # rough, or stated and refused thrice
            # a bucket, empty at both refusals: the slowest refill that let through what it
            # did, with the first burst's stock as its most (a pause, a low start, an overshoot)
            times = [s for s, ok in self._starts if begin <= s < refused and ok is not False]
            rate = refill_rate(times, dry, refused, self._stock, self._burst_time)
            pace = self._pace or rate
            if refused - dry >= MIN_STRETCH:
                self._set_pace(min(rate * HEADROOM, pace * 0.99), "measured")
            else:  # a short time, a few requests: roughly; measured again from the first
                self._dry, self._dry_seen = dry, dry_seen
                self._set_pace(min(pace * 0.9, max(rate, pace * 0.5)), "rough")
                self._settled = self.clock()
                return
        elif self._pace is not None:
            self._dry, self._dry_seen = dry, dry_seen  # too short: from the refusal before
            if self._mode != "measured":  # (measured: an exact Retry-After's pause was exact)
                rate = accepted / max(span, 1e-3)
                self._set_pace(min(self._pace * 0.9, max(rate * 1.05, self._pace * 0.5)), "rough")
                if not whole:
                    self._to_bucket_wait(wait)
            self._settled = self.clock()
            return
        self._lowest = self._pace or 0.0
        self._settled = self.clock()

    def _to_bucket_wait(self, wait: float) -> None:
        """Refused soon after an exact pause, with a short wait: a bucket, whose Retry-After is
        the time to its next token, 1/rate at most; the longest seen caps a rough pace."""
        if self._window_wait:  # a window's place came free: the next may be further
            return
        if 0 < wait < BUCKET_WAIT and self._bucket_wait > 0 and self._pace is not None:
            self._set_pace(min(self._pace, max(1 / self._bucket_wait, self._pace * FLOOR)), "rough")

    def _by_window(self, begin: float, refused: float, seen: float) -> None:
        """Pace at a window's quota: what it let through from ``begin`` (sending resumed, the
        window new), or in the window's length before ``refused`` (it was full), until the
        refusal's answer (``seen``): those that started after the refused one and were let
        through got there before it (out of order), in the same window."""
        length = self._window_length
        accepted = window_quota(self._starts, max(begin, refused - length), refused, seen)
        if accepted:
            pace = accepted / length * HEADROOM
            if self._mode == "measured" and self._pace is not None and self._windowed:
                # refused at the quota's pace: starts bunch (the threads, the network), and a
                # sliding log counts any second: 1.5% off, as a bucket's refusal takes
                pace = min(pace, self._pace * HEADROOM)
            self._set_pace(pace, "measured")
            self._settled = self.clock()

    def _mark(self, started: float, ok: bool) -> None:
        for i in range(len(self._starts) - 1, -1, -1):
            when, state = self._starts[i]
            if when == started and state is None:
                self._starts[i] = (when, ok)
                return
            if when < started:
                return
