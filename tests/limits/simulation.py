"""A bulk run of many workers against a limiter, on a simulated clock (discrete events).

Each worker does what ``bulk._Run.send`` does: takes a place in the window, waits its turn in the
pace (``Throttle.turn``), sends; on a 429 it waits out the Retry-After (a backoff without one) and
sends again, keeping its place; otherwise it releases the place and takes the next item. Each
request takes ``latency`` seconds there and back (plus up to ``jitter``), and the client can start
one every ``gap`` seconds at most (its CPU). Seeded: the same run every time.
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
) -> Outcome:
    """Send ``items`` requests; the run begins ``begin`` seconds into the service's clock (a
    window's phase). ``spare``: twice ``concurrency`` workers, and one waiting out a Retry-After
    gives its place in the window up meanwhile (``Throttle.sleep``)."""
    clock, rand = Clock(), random.Random(seed)
    clock.now = begin
    pacer = (throttle or (lambda c, k: Throttle(c, clock=k)))(concurrency, clock)
    events: list[tuple[float, int, Callable[[], None]]] = []
    order = itertools.count()
    waiting: list[Callable[[], None]] = []  # workers waiting for a place in the window
    state = {"next": 0, "done": 0, "requests": 0, "refused": 0}
    cpu = [0.0]  # when the client can start the next request

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
            at(clock.now + wait, lambda: turn(slot))
            return
        start = max(clock.now, cpu[0])
        if start > clock.now:
            at(start, lambda: turn(slot))
            return
        cpu[0] = start + gap
        pacer.started(start)
        state["requests"] += 1
        there = latency / 2 + rand.uniform(0, jitter / 2)
        back = latency / 2 + rand.uniform(0, jitter / 2)
        at(start + there, lambda: arrive(start, back))

    def arrive(start: float, back: float) -> None:
        status, headers = service.admit(clock.now)
        at(clock.now + back, lambda: answer(start, status, headers))

    def answer(start: float, status: int, headers: dict[str, str]) -> None:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        pacer.answered(start, status, retry_after, read_quota(raw))
        if status == 429:
            state["refused"] += 1
            wait = retry_after if retry_after is not None else 0.5
            if spare:
                pacer.release()
                wake()
                at(clock.now + wait, again)
            else:
                at(clock.now + wait, lambda: turn(None))
            return
        state["done"] += 1
        pacer.release()
        wake()
        at(clock.now, worker)

    def wake() -> None:
        woken = waiting[:]
        waiting.clear()
        for other in woken:
            at(clock.now, other)

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
