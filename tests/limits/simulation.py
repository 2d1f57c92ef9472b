"""A bulk run of many workers against a limiter, on a simulated clock (discrete events).

Each worker does what ``bulk._Run.send`` does: takes a place in the window, waits its turn in the
pace (``Throttle.turn``), sends; on a 429 it waits out the Retry-After (a backoff without one) and
sends again, keeping its place; otherwise it releases the place and takes the next item. Each
request takes ``latency`` seconds there and back (plus up to ``jitter``), and the client can start
one every ``gap`` seconds at most (its CPU). Seeded: the same run every time.

Two things real runs have that a quiet model misses (each made real runs fall far short of
simulated ones):

- ``wakeups`` (on by default): a worker waiting for its turn is woken by every answer
  (``notify_all`` on the throttle's condition) and asks ``turn`` again before its time, as a
  thread does;
- ``contention`` (seconds; 0 by default, the quiet loopback the goal tests were written for): a
  request reaches the service up to this much later for each request in flight (threads that
  share the GIL, and two cores with the service: 24 in flight arrived up to 30 ms after they
  started on a loopback whose quiet latency is 1 ms; 0.001 models that), so the service sees
  requests in another order than they started, and the client's times for them are off.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ue_magic.cells._pacing import Throttle
from ue_magic.cells._quota import read_quota
from ue_magic.core._retry import parse_retry_after

from .limiters import Limiter


@dataclass
class Outcome:
    items: int
    elapsed: float
    requests: int
    refused: int
    rate: float
    paces: list[tuple[float, float | None]] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Of the limit: items a second over the limit's rate."""
        return self.items / self.elapsed / self.rate

    @property
    def refused_share(self) -> float:
        return self.refused / self.requests

    def __str__(self) -> str:
        return (
            f"{self.share:.1%} of the limit in {self.elapsed:.2f} s, "
            f"429s {self.refused} of {self.requests} ({self.refused_share:.1%})"
        )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def simulate(
    service: Limiter,
    items: int,
    concurrency: int,
    *,
    latency: float = 0.004,
    jitter: float = 0.004,
    gap: float = 0.0004,
    seed: int = 24,
    throttle: Callable[[int, Callable[[], float]], Throttle] | None = None,
    begin: float = 0.3,
    spare: bool = False,
    contention: float = 0.0,
    wakeups: bool = True,
    before: tuple[float, ...] = (),
) -> Outcome:
    """Send ``items`` requests; the run begins ``begin`` seconds into the service's clock (a
    window's phase). ``spare``: twice ``concurrency`` workers, and one waiting out a Retry-After
    gives its place in the window up meanwhile (``Throttle.sleep``). ``before``: requests that
    reached the service that many seconds before the run began (the cell before it, under the
    same limit), which the run did not see."""
    clock, rand = Clock(), random.Random(seed)
    for ago in before:
        service.admit(begin - ago)
    clock.now = begin
    pacer = (throttle or (lambda c, k: Throttle(c, clock=k)))(concurrency, clock)
    events: list[tuple[float, int, Callable[[], None]]] = []
    order = itertools.count()
    waiting: list[Callable[[], None]] = []  # workers waiting for a place in the window
    state = {"next": 0, "done": 0, "requests": 0, "refused": 0, "answered": 0}
    cpu = [0.0]  # when the client can start the next request
    sleepers: dict[int, Callable[[], None]] = {}  # workers waiting for their turn, by ticket
    tickets = itertools.count()

    def at(when: float, action: Callable[[], None]) -> None:
        heapq.heappush(events, (when, next(order), action))

    def worker() -> None:
        if state["next"] >= items:
            return
        if not pacer.try_acquire():
            waiting.append(worker)
            return
        state["next"] += 1
        turn(None)

    def turn(slot: float | None) -> None:
        slot, wait = pacer.turn(slot)
        if wait > 0:
            ticket = next(tickets)
            sleepers[ticket] = lambda: turn(slot)
            at(clock.now + wait, lambda: woken(ticket))
            return
        start = max(clock.now, cpu[0])
        if start > clock.now:
            at(start, lambda: turn(slot))
            return
        cpu[0] = start + gap
        pacer.started(start)
        state["requests"] += 1
        crowd = state["requests"] - state["answered"]  # in flight, this one included
        there = latency / 2 + rand.uniform(0, jitter / 2 + contention * crowd)
        back = latency / 2 + rand.uniform(0, jitter / 2)
        at(start + there, lambda: arrive(start, back))

    def arrive(start: float, back: float) -> None:
        status, headers = service.admit(clock.now)
        at(clock.now + back, lambda: answer(start, status, headers))

    def answer(start: float, status: int, headers: dict[str, str]) -> None:
        state["answered"] += 1
        retry_after = parse_retry_after(headers.get("Retry-After"))
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        pacer.answered(start, status, retry_after, read_quota(raw))
        if status == 429:
            state["refused"] += 1
            wait = retry_after if retry_after is not None else 0.5
            if spare:
                pacer.release()
                at(clock.now + wait, again)
            else:
                at(clock.now + wait, lambda: turn(None))
            wake()  # the throttle's notify_all on a 429
            return
        state["done"] += 1
        pacer.release()
        wake()
        at(clock.now, worker)

    def wake() -> None:  # a release's notify_all: those waiting for a place, and for a turn
        ready = waiting[:]
        waiting.clear()
        for other in ready:
            at(clock.now, other)
        if wakeups:
            for ticket in list(sleepers):
                at(clock.now, lambda ticket=ticket: woken(ticket))

    def woken(ticket: int) -> None:  # its time came, or an answer woke it
        action = sleepers.pop(ticket, None)
        if action is not None:
            action()

    def again() -> None:  # a retry takes a place in the window again before its turn
        if not pacer.try_acquire():
            waiting.append(again)
            return
        turn(None)

    for _ in range(concurrency * (2 if spare else 1)):
        at(clock.now, worker)
    while events and state["done"] < items:
        when, _n, action = heapq.heappop(events)
        clock.now = max(clock.now, when)
        action()
    return Outcome(items, clock.now - begin, state["requests"], state["refused"], service.rate)
