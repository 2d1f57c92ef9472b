"""The throttle against a model of a rate-limited service: a token bucket, on a simulated clock.

The model is the one the sandbox's ``--api-rate`` follows (N a second, bursts of B, 429 with a
Retry-After of whole seconds). The client sends one request at a time, as fast as the throttle
lets it; time moves only when the test or the throttle's waits move it, so the figures are exact
and repeatable, and 50 simulated seconds take a fraction of one.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from ue_magic.cells._pacing import CREEP_AFTER, HEADROOM, Throttle


class SimulatedClock:
    """A monotonic clock the test sets."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SteppingCondition(threading.Condition):
    """The throttle's condition, whose waits move the simulated clock on instead of sleeping
    (one thread: nothing else could wake it)."""

    def __init__(self, clock: SimulatedClock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None, "the throttle always waits with a timeout"
        self.clock.now += timeout
        return False


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float = field(init=False)
    last: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def admit(self, at: float) -> tuple[int, float | None]:
        """(status, Retry-After in whole seconds, at least 1) for a request arriving ``at``."""
        self.tokens = min(self.burst, self.tokens + (at - self.last) * self.rate)
        self.last = at
        if self.tokens >= 1:
            self.tokens -= 1
            return 200, None
        return 429, float(max(1, math.ceil((1 - self.tokens) / self.rate)))


@dataclass
class Run:
    ok: int = 0
    refused: int = 0
    paces: list[tuple[float, float | None]] = field(default_factory=list)  # (time, pace)


class Client:
    """Sends one request after another, each 2 ms on the wire, as soon as the throttle lets it:
    at the pace (1 ms apart unpaced), after any pause. A refused request waits out its
    Retry-After aside (as a bulk run's worker does, while a spare one sends), so it is not
    modelled: the next one goes as soon as the throttle lets it."""

    latency, unpaced_gap = 0.002, 0.001

    def __init__(self) -> None:
        self.clock = SimulatedClock()
        self.throttle = Throttle(32, clock=self.clock)
        self.throttle._cond = SteppingCondition(self.clock)
        self.resume = 0.0  # when the throttle lets the next request start

    def drive(self, service: TokenBucket, until: float) -> Run:
        """Send until the simulated clock reads ``until`` (seconds)."""
        run, clock, throttle = Run(), self.clock, self.throttle
        while clock.now < until:
            clock.now = max(clock.now, self.resume)
            started = throttle.before_write()
            status, retry_after = service.admit(started + self.latency / 2)
            clock.now = started + self.latency
            throttle.answered(started, status, retry_after)
            pace = throttle.stats.pace
            run.paces.append((clock.now, pace))
            if status == 429:
                run.refused += 1
                self.resume = clock.now + 1e-3
            else:
                run.ok += 1
                self.resume = started + (1 / pace if pace else self.unpaced_gap) + 1e-6
        return run


@pytest.mark.parametrize(
    ("rate", "burst", "share", "refusals"),
    [
        (100, 20, 0.9, 8),  # the benchmark's service
        (250, 50, 0.9, 8),
        (10, 5, 0.85, 7),  # slow
        (40, 1, 0.8, 6),  # no burst: the first refusals say almost nothing
        (20, 100, 0.9, 6),  # bursts over r x the pause: a pause does not empty them
        (10, 200, 0.9, 12),  # 20 s of the rate: refusals in quick succession measure it
    ],
)
def test_the_pace_settles_just_under_the_service_rate(
    rate: int, burst: int, share: float, refusals: int
) -> None:
    client, service = Client(), TokenBucket(rate, burst)
    run = client.drive(service, until=25.0)
    pace = client.throttle.stats.pace
    assert pace is not None and rate * 0.9 <= pace <= rate * 1.01  # close to the limit
    assert run.refused <= refusals  # the first burst and the probes that measure it
    later = client.drive(service, until=50.0)  # probing again after CREEP_AFTER costs little
    assert later.refused <= 0.01 * (later.ok + later.refused)  # 429s at most 1% of requests
    assert run.ok + later.ok >= share * rate * 50  # this share of what the limit allows


def test_once_settled_the_pace_holds_and_probes_again_only_after_a_while() -> None:
    client, service = Client(), TokenBucket(100, 20)
    client.drive(service, until=10.0)
    settled = client.throttle.stats.pace
    assert settled is not None and settled >= 100 * HEADROOM * 0.95
    run = client.drive(service, until=10.0 + CREEP_AFTER - 15)
    assert client.throttle.stats.pace == settled and run.refused == 0  # it holds
    service.rate = 200  # the service's limit was raised
    run = client.drive(service, until=10.0 + CREEP_AFTER + 60)
    assert (client.throttle.stats.pace or 0) > settled * 1.15  # found by probing upwards
    assert run.refused == 0


def test_a_low_first_estimate_is_probed_upwards_until_the_limit() -> None:
    """Probed up from 18/s, the pace overshoots the rate; the bucket, full while the pace was
    under it, runs dry at the overshoot: the slowest refill that let through what it did since
    the first refusal, with the first burst's stock at most (20), is its rate, from that one
    refusal (a count over the time read it low, and each refusal took 0.7 or 0.9 off: 7)."""
    client, service = Client(), TokenBucket(100, 20)
    clock, throttle = client.clock, client.throttle
    # the first epoch: a burst refused early, then answers that trickle in slowly after it
    # (a loaded service), so the first estimate lands far under the limit
    starts = [throttle.before_write() for _ in range(30)]
    for n, started in enumerate(starts):
        clock.now = 0.05 + n * 0.02
        throttle.answered(started, 200 if n < 20 or n % 2 else 429, 1.0)
    client.resume = clock.now + 1.01  # the pause has passed
    client.drive(service, until=client.resume + 0.5)
    rough = throttle.stats.pace
    assert rough is not None and rough < 80
    run = client.drive(service, until=40.0)
    assert (throttle.stats.pace or 0) >= 100 * HEADROOM * 0.95
    assert run.refused <= 2


class LoneRefusals:
    """A service with no rate limit that refuses one request now and then (a blip, a fault)."""

    def __init__(self, at: list[float]) -> None:
        self.at = at

    def admit(self, at: float) -> tuple[int, float | None]:
        if self.at and at >= self.at[0]:
            self.at.pop(0)
            return 429, 1.0
        return 200, None


def test_lone_429s_pause_but_do_not_drag_the_pace_down() -> None:
    client = Client()
    unpaced = client.drive(LoneRefusals([]), until=5.0).ok / 5.0  # what the client manages alone
    run = client.drive(LoneRefusals([10.0, 25.0, 40.0, 55.0]), until=70.0)
    assert run.refused == 4
    assert run.ok >= 0.85 * unpaced * (65.0 - 4)  # four 1 s pauses, and little else lost


class Storm:
    """A service with no rate limit that refuses every request for a while (a 429 storm: an
    outage, faults injected in a row), each with a Retry-After of 1 s."""

    def __init__(self, begins: float, ends: float) -> None:
        self.begins, self.ends = begins, ends

    def admit(self, at: float) -> tuple[int, float | None]:
        return (429, 1.0) if self.begins <= at < self.ends else (200, None)


@pytest.mark.parametrize("after", [0.0, 10.0])  # the storm at the first request, or later
def test_a_429_storm_costs_its_length_and_no_more_than_a_lone_429(after: float) -> None:
    def after_refusals(service: Storm, resumes: float) -> tuple[Run, Run, Client]:
        client = Client()
        before = client.drive(service, until=resumes)
        return before, client.drive(service, until=resumes + 10.0), client

    refused, lone, _ = after_refusals(Storm(after, after + 0.0015), after + 1.0)
    assert refused.refused == 1  # one request met the lone refusal (they start 2 ms apart)
    refused, storm, client = after_refusals(Storm(after, after + 12.0), after + 12.0)
    assert refused.refused >= 10  # each retry after its Retry-After, refused again
    pace = client.throttle.stats.pace
    assert pace is None or pace > 100  # 12 refusals did not halve it 12 times (to 0.5/s)
    assert storm.refused == lone.refused == 0
    assert storm.ok >= 0.95 * lone.ok  # the pace after the storm is the pace after one 429


def test_a_storm_met_by_requests_in_flight_does_not_set_the_pace_to_nothing() -> None:
    """After a while unthrottled, a storm refuses the 429 and every answer in flight after it:
    0 accepted after the refusal measures no rate (it set the pace to 0.5/s)."""
    client = Client()
    clock, throttle = client.clock, client.throttle
    client.drive(Storm(-1, -1), until=2.0)  # 2 s at the client's own speed, about 500/s
    starts = []
    for _ in range(16):  # 16 in flight, 1 ms apart
        starts.append(throttle.before_write())
        clock.now += 0.001
    for started in starts:  # all refused, answered in the order they went
        clock.now += 0.001
        throttle.answered(started, 429, 1.0)
    clock.now += 1.0
    throttle.before_write()  # the first start after the pause sets the pace
    pace = throttle.stats.pace
    assert pace is None or pace >= 100


def test_a_service_that_lowers_its_rate_is_followed_down() -> None:
    client, service = Client(), TokenBucket(100, 20)
    client.drive(service, until=30.0)
    service.rate = 50  # the limit was lowered mid-run (another client shares it, say)
    run = client.drive(service, until=90.0)
    pace = client.throttle.stats.pace
    assert pace is not None and 45 <= pace <= 52
    # each refusal in quick succession lowers the pace to what went through since the last;
    # each costs a 50 ms pause (it was 5 refusals of a second each)
    assert run.refused <= 8 and run.ok >= 0.9 * 50 * 60


class SlidingLog:
    """At most ``n`` requests in any ``window`` seconds (a sliding log), Retry-After until the
    oldest leaves it: a limiter many services use instead of a token bucket."""

    def __init__(self, n: int, window: float) -> None:
        self.n, self.window, self.log = n, window, deque[float]()

    def admit(self, at: float) -> tuple[int, float | None]:
        while self.log and self.log[0] <= at - self.window:
            self.log.popleft()
        if len(self.log) < self.n:
            self.log.append(at)
            return 200, None
        return 429, float(max(1, math.ceil(self.log[0] + self.window - at)))


class FixedWindow:
    """At most ``n`` requests in each whole ``window`` seconds (a counter reset at its start)."""

    def __init__(self, n: int, window: float) -> None:
        self.n, self.window, self.current, self.count = n, window, -1, 0

    def admit(self, at: float) -> tuple[int, float | None]:
        current = int(at // self.window)
        if current != self.current:
            self.current, self.count = current, 0
        if self.count < self.n:
            self.count += 1
            return 200, None
        return 429, float(max(1, math.ceil((current + 1) * self.window - at)))


class Jittered(TokenBucket):
    """A token bucket that sees each request up to ``jitter`` seconds late (the network, a
    load balancer): arrivals reorder and bunch."""

    def __init__(self, rate: float, burst: int, jitter: float) -> None:
        super().__init__(rate, burst)
        self.jitter, self.random = jitter, random.Random(14)

    def admit(self, at: float) -> tuple[int, float | None]:
        return super().admit(max(self.last, at + self.random.uniform(0, self.jitter)))


@pytest.mark.parametrize(
    ("service", "allowed"),
    [
        (Jittered(100, 20, 0.02), 100 * 120),
        (Jittered(100, 20, 0.1), 100 * 120),
        (SlidingLog(600, 60.0), 600 * 2),  # a limit a minute (Retry-After up to 60 s)
        (FixedWindow(1000, 10.0), 1000 * 12),
    ],
    ids=["jitter-20ms", "jitter-100ms", "sliding-600-per-minute", "fixed-1000-per-10s"],
)
def test_other_limiters_get_most_of_their_limit(service: Any, allowed: int) -> None:
    run = Client().drive(service, until=120.0)  # what the limit allows in 120 s: ``allowed``
    assert run.ok >= 0.9 * allowed
    assert run.refused <= 15


@pytest.mark.parametrize("service", [SlidingLog(100, 1.0), FixedWindow(100, 1.0)])
def test_a_one_second_window_limiter_gets_most_of_its_limit(service: Any) -> None:
    """Refused right after each short pause: a window, waited out to its end; what it let
    through before, its quota, is the pace (it was read as a bucket: 65-75%)."""
    run = Client().drive(service, until=60.0)
    assert run.ok >= 0.95 * 100 * 60
    assert run.refused <= 6  # the first window's, and one when the pace creeps over it


def first_burst(ok: int, after_pause: int) -> tuple[Throttle, float]:
    """``ok`` let through 1 ms apart, the next refused (Retry-After: 1); after the short pause,
    one start answered ``after_pause``. Returns the throttle, and how long the next start
    waited after that answer."""
    clock = SimulatedClock()
    throttle = Throttle(8, clock=clock)
    throttle._cond = SteppingCondition(clock)
    starts = []
    for _ in range(ok + 1):
        starts.append(throttle.before_write())
        clock.now += 0.001
    for n, started in enumerate(starts):
        throttle.answered(started, 200 if n < ok else 429, 1.0)
    started = throttle.before_write()  # after the short pause: the first estimate is set
    clock.now += 0.002
    throttle.answered(started, after_pause, 1.0)
    answered = clock.now
    return throttle, throttle.before_write() - answered


def test_a_quick_first_burst_then_a_good_answer_raises_the_first_estimate() -> None:
    """Five through in 5 ms, then refused with a whole-second Retry-After: over the wait, 5/s,
    but a bucket of 100/s with bursts of 5 says the same. The first answer after the short
    pause is good (it refilled): the pace is raised to between 5/s and the burst's speed, and
    the next start goes at the raised pace (not 0.2 s later, its place at 5/s)."""
    throttle, waited = first_burst(5, 200)
    pace = throttle.stats.pace
    assert pace is not None and 30 <= pace <= 1000
    assert waited <= 1.5 / pace


def test_a_refusal_after_the_first_pause_keeps_the_first_estimate() -> None:
    """Refused again after the short pause: a window (full until its end) or a bucket too
    slow to refill a token in 50 ms; the first estimate, the burst over the wait, stands."""
    throttle, _waited = first_burst(5, 429)
    pace = throttle.stats.pace
    assert pace is not None and pace <= 6


def burst(waits: list[float | None], gap: float) -> tuple[SimulatedClock, Throttle]:
    """Starts ``gap`` apart, one for each of ``waits``, then their answers in order: good for
    None, else refused with that Retry-After."""
    clock = SimulatedClock()
    throttle = Throttle(8, clock=clock)
    throttle._cond = SteppingCondition(clock)
    starts = []
    for _ in waits:
        starts.append(throttle.before_write())
        clock.now += gap
    for started, wait in zip(starts, waits, strict=True):
        throttle.answered(started, 200 if wait is None else 429, wait)
    return clock, throttle


def test_a_window_found_after_the_short_pauses_is_waited_out_to_its_first_refusal_s_end() -> None:
    """Refused at 0.05 s with ``Retry-After: 1``: that window ends by 1.05 s. Refused again
    after each short pause, it is a window, full until its end: the others start again at
    1.05 s, not a second after the last refusal (0.3 s: a short run lost a quarter second,
    95.4% of fixed windows). The refused attempts still wait their own Retry-After."""
    clock, throttle = burst([None] * 50 + [1.0], 0.001)
    first_end = clock.now + 1.0
    for _short_pause in range(2):
        started = throttle.before_write()
        clock.now += 0.002
        throttle.answered(started, 429, 1.0)
    assert clock.now + 1.0 > first_end + 0.2
    assert throttle.before_write() == pytest.approx(first_end)


def test_a_rough_pace_is_not_probed_upwards_through_a_pause_waited_out() -> None:
    """A window of 100 let 100 through in 0.1 s and refused the next until its end (an exact
    ``Retry-After: 0.900``): the first estimate is its quota over that second. The first good
    answer after the pause does not grow it as though the second waited out had been a second
    of good answers (it doubled: the pace overshot a sliding log, refused again a second on)."""
    clock, throttle = burst([None] * 100 + [0.9], 0.001)
    started = throttle.before_write()  # after the pause: the first estimate is set
    first = throttle.stats.pace
    clock.now += 0.002
    throttle.answered(started, 200, None)
    assert first is not None and 80 <= first <= 110
    assert throttle.stats.pace == pytest.approx(first, rel=0.02)


def test_a_bucket_s_short_fractional_retry_after_caps_a_rough_pace() -> None:
    """A bucket of 100/s let 20 through in 10 ms: over that and its ``Retry-After: 0.003``,
    1,500/s. A bucket's Retry-After is the time to its next token, a hundredth of a second at
    most (0.009 seen): the first estimate is cut to a quarter at once, and refused again right
    after each exact pause (one token came, the others went at the pace), the pace comes down
    to 1/0.009, a quarter at a time (it stood at 1,500/s through storm after storm: 3.2% of
    requests were 429s)."""
    clock, throttle = burst([None] * 20 + [0.003, 0.009, 0.008], 0.0005)
    paces = []
    for _storm in range(3):
        started = throttle.before_write()  # after the exact pause
        paces.append(throttle.stats.pace)
        clock.now += 0.002
        throttle.answered(started, 429, 0.004)
    throttle.before_write()
    assert paces[0] is not None and 300 <= paces[0] <= 400  # a quarter of 1,500/s
    pace = throttle.stats.pace
    assert pace is not None and pace <= 1 / 0.009 + 1e-6
