"""Pacing of a bulk run: how many requests are in flight, how fast they start, the shared pause.

One ``Throttle`` per ``--each`` run, shared by its workers. Services limit rates with a token bucket
(N requests a second, bursts of B) and answer 429 past it. A 429 pauses every worker until its
Retry-After has passed (a backoff when it gives none), instead of each finding the limit on its own,
and lowers the pace, AIMD (additive increase, multiplicative decrease, as TCP's congestion control):

- the window of requests in flight halves (never below 1) and grows by one per window of good
  answers, never above ``--concurrency``;
- the rate of starts is set just under the service's refill rate, estimated from the answers (see
  ``_estimate``), and creeps up while answers are good, never above ``--rate``.

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

__all__ = ["BulkRuns", "PacingStats", "Stopped", "Throttle", "pacing_note"]

DECREASE = 0.5  # the window's multiplicative decrease on a 429
HEADROOM = 0.97  # the pace is set this far under the estimated refill rate
CREEP = 0.003  # the pace grows by this share a second while answers are good
BACKOFF = 1.0  # seconds paused after a 429 without a usable Retry-After
LONG_EPOCH = 2.0  # seconds: a 429 after this long at one pace means that pace was just over
LONG_EPOCH_FLOOR = 0.95  # ... so the pace drops at most this far on it
MIN_PACE = 0.5  # requests a second: the slowest pace a 429 can set
_HISTORY = 4.0  # seconds of starts kept to estimate rates


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
        self._next_start = float("-inf")
        self._pause_until = float("-inf")
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
        self._burst: float | None = None
        self._refused: float | None = None  # start of the attempt a 429 refused, until settled
        self._last_epoch = self._started_at  # when the epoch that ended in that 429 began
        self._throttled = self._pauses = self._peak = 0
        self._paused = 0.0

    # -- workers -------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Wait for a free place in the window; raises ``Stopped`` once the run is stopped."""
        with self._cond:
            while True:
                self._check()
                if self._in_flight < max(1, int(self._window)):
                    self._in_flight += 1
                    self._peak = max(self._peak, self._in_flight)
                    return
                self._cond.wait(0.5)

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def before_write(self, claim: Callable[[float], None] | None = None) -> float:
        """Wait out the pause and the pace, then claim a start; returns the start time.

        Called just before an attempt's request is written. ``claim(start)`` runs under the
        lock, so a ``stop`` either comes before it (``Stopped`` is raised) or sees the claim.
        """
        with self._cond:
            slot: float | None = None  # this start's place in the pace, kept across wake-ups
            while True:
                self._check()
                now = self.clock()
                if now < self._pause_until:
                    slot = None  # a pause gives up the place: places start again after it
                    self._cond.wait(min(self._pause_until - now, 0.5))
                    continue
                if self._refused is not None:  # the first start after a pause
                    self._settle(self._refused)
                    self._refused = None
                pace = self._pace
                if pace and slot is None:
                    slot = max(now, self._next_start)
                    self._next_start = slot + 1 / pace
                if slot is not None and now < slot:
                    self._cond.wait(min(slot - now, 0.5))
                    continue
                self._starts.append((now, None))
                self._epoch_starts += 1
                self._forget(now)
                if claim is not None:
                    claim(now)
                return now

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

    def answered(self, started: float, status: int, retry_after: float | None) -> None:
        """Learn from an answer to the attempt that started at ``started``."""
        with self._cond:
            now = self.clock()
            ok = status != 429
            self._mark(started, ok)
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
                    self._pause_until = self._next_start = until
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

    def _grow(self, now: float) -> None:
        """Additive increase: +1 window per window of good answers; the pace creeps up."""
        if not self.adaptive:
            return
        self._window = min(float(self.ceiling), self._window + 1 / max(self._window, 1.0))
        if self._pace is not None and self._estimated:
            elapsed = max(0.0, now - self._last_good)
            grown = self._pace * (1 + CREEP * min(elapsed, 1.0))
            self._pace = grown if self.cap is None else min(self.cap, grown)
        self._last_good = now

    def _settle(self, refused: float) -> None:
        """Set the pace under the service's rate, estimated after a pause (the answers to what
        was in flight at the 429 came in during it)."""
        estimate = self._estimate(refused)
        if estimate is None:
            return
        pace = max(MIN_PACE, estimate * HEADROOM)
        if self._pace is not None:
            pace = min(pace, self._pace * 0.98)  # a 429 never raises the pace
        self._pace = pace if self.cap is None else min(self.cap, pace)
        self._estimated = True

    def _estimate(self, refused: float) -> float | None:
        """The service's refill rate (requests a second), estimated at a 429.

        A token bucket refuses once it is empty; from then on it lets through exactly its refill
        rate. So the good answers that came after the first refusal, over the time they span,
        measure it. Later (paced runs keep few in flight) the epoch does: from a full bucket of
        B, ``n`` requests sent over ``t`` seconds ran it dry, so the rate is ``(n - B) / t``; B
        is what the first epoch let through beyond the rate before its first refusal.
        """
        before = self._refused_before
        if self._burst is None:
            first = self._refused_answer
            after = [ok for when, ok in self._answers if when > first]
            span = (self._answers[-1][0] - first) if after else 0.0
            if len(after) >= 8 and span > 0.01:
                rate = sum(after) / span
            elif before < 4:
                return None  # too little to go on: the window alone slows down
            else:
                elapsed = max(refused - self._last_epoch, 1e-3)
                rate = before / elapsed * DECREASE
            epoch = max(refused - self._started_at, 0.0)
            self._burst = max(1.0, before - rate * epoch)
            return rate
        epoch = refused - self._last_epoch
        if epoch <= 0 or before < 4:
            return None
        sent = before / epoch  # the rate actually sent, which may be under the pace
        # a long epoch ran only a little over the rate: B's estimate is rough, so bound the drop
        floor = LONG_EPOCH_FLOOR if epoch >= LONG_EPOCH else DECREASE
        return max(sent * floor, (before - self._burst) / epoch)

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
    """'12 answers were 429: paused 2 times (2.0 s), ending at 4 in flight, 95.0/s' ('' if none)."""
    if stats is None or not stats.throttled:
        return ""
    pace = f", {stats.pace:.1f}/s" if stats.pace else ""
    times = "time" if stats.pauses == 1 else "times"
    answers = "answer was" if stats.throttled == 1 else "answers were"
    return (
        f"{stats.throttled} {answers} 429: paused {stats.pauses} {times} "
        f"({stats.paused:.1f} s), ending at {stats.window} in flight{pace}"
    )
