"""The throttle alone: the shared pause, the AIMD window, the rate cap, stopping."""

from __future__ import annotations

import threading
import time

import pytest

from ue_magic.cells._bulk_report import pacing_note
from ue_magic.cells._pacing import (
    SHORT_PAUSE,
    SHORT_PAUSES,
    PacingStats,
    Stopped,
    Throttle,
)


def starts_in_threads(throttle: Throttle, n: int) -> list[float]:
    """``n`` workers each claim one start; the times they got."""
    times: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        started = throttle.before_write()
        with lock:
            times.append(started)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return times


def test_a_429_pauses_every_worker_until_retry_after_has_passed() -> None:
    throttle = Throttle(8)
    first = throttle.before_write()
    throttle.answered(first, 429, 0.3)
    refused_at = time.monotonic()
    times = starts_in_threads(throttle, 6)
    assert len(times) == 6 and min(times) >= refused_at + 0.3 - 0.01
    stats = throttle.stats
    assert (stats.throttled, stats.pauses) == (1, 1) and stats.paused >= 0.29


def test_429s_to_requests_sent_before_the_pause_do_not_pause_again() -> None:
    throttle = Throttle(16)  # its window starts at 4 (slow start) ...
    for _ in range(4):
        throttle.answered(throttle.before_write(), 200, None)  # ... and doubles: 8
    starts = [throttle.before_write() for _ in range(5)]
    for started in starts:
        throttle.answered(started, 429, 0.2)
    assert throttle.stats.pauses == 1 and throttle.stats.throttled == 5
    assert throttle.stats.window == 4  # one halving for one congestion event, not five


def test_a_429_without_retry_after_pauses_briefly_then_a_second_if_refused_again() -> None:
    """As a whole-second Retry-After: a bucket refills in a fraction of it, a window does not
    (the first start after each short pause is refused too: the others then wait it out)."""
    throttle = Throttle(2)
    throttle.answered(throttle.before_write(), 429, None)
    assert throttle.stats.pauses == 1 and throttle.stats.paused == pytest.approx(SHORT_PAUSES[0])
    throttle.answered(throttle.before_write(), 429, None)  # a slow bucket refills in a longer one
    assert throttle.stats.pauses == 2 and throttle.stats.paused == pytest.approx(sum(SHORT_PAUSES))
    throttle.answered(throttle.before_write(), 429, None)
    assert throttle.stats.pauses == 3 and throttle.stats.paused >= sum(SHORT_PAUSES) + 0.99


def test_a_whole_second_retry_after_pauses_the_others_briefly_a_fraction_fully() -> None:
    throttle = Throttle(8)
    throttle.answered(throttle.before_write(), 429, 1.0)
    assert throttle.stats.paused == pytest.approx(SHORT_PAUSE)
    throttle = Throttle(8)
    throttle.answered(throttle.before_write(), 429, 0.3)
    assert throttle.stats.paused == pytest.approx(0.3)


def test_the_window_halves_on_a_429_and_grows_back_never_above_the_ceiling() -> None:
    throttle = Throttle(16)
    for _ in range(12):
        throttle.answered(throttle.before_write(), 200, None)  # slow start: 4 + 12
    throttle.answered(throttle.before_write(), 429, 0.0)
    assert throttle.stats.window == 8
    seen = []
    for _ in range(200):
        throttle.answered(throttle.before_write(), 200, None)
        seen.append(throttle.stats.window)
    assert seen[0] == 8 and seen[-1] == 16 and max(seen) == 16
    assert seen == sorted(seen)  # additive: up one step at a time


def test_the_window_bounds_requests_in_flight() -> None:
    throttle = Throttle(2)
    throttle.acquire()
    throttle.acquire()
    third = threading.Thread(target=throttle.acquire)
    third.start()
    third.join(0.3)
    assert third.is_alive()  # waits for a place
    throttle.release()
    third.join(5)
    assert not third.is_alive() and throttle.stats.peak_in_flight == 2


def test_first_places_go_in_input_order_whichever_worker_runs_first() -> None:
    # --concurrency 1 runs two workers (a spare for a Retry-After): item 1's worker may ask
    # first, and must still wait for item 0
    throttle = Throttle(1, adaptive=False)
    got: list[int] = []

    def worker(order: int) -> None:
        throttle.acquire(order=order)
        got.append(order)
        time.sleep(0.05)
        throttle.release()

    second = threading.Thread(target=worker, args=(1,))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # item 0 has not taken its place yet
    first = threading.Thread(target=worker, args=(0,))
    first.start()
    for thread in (first, second):
        thread.join(5)
    assert got == [0, 1]


def test_rate_caps_the_starts_from_the_first() -> None:
    throttle = Throttle(8, rate=50)
    began = time.monotonic()
    times = starts_in_threads(throttle, 11)
    assert max(times) - began >= 10 / 50 - 0.03  # 11 starts at 50/s span at least 0.2 s
    assert throttle.stats.pace == 50


def test_after_a_429_the_pace_stays_under_the_rate_cap() -> None:
    throttle = Throttle(8, rate=40)
    for _ in range(5):
        throttle.answered(throttle.before_write(), 200, None)
    throttle.answered(throttle.before_write(), 429, 0.0)
    throttle.before_write()  # the first start after the pause sets the pace
    assert throttle.stats.pace is not None and throttle.stats.pace <= 40


def test_stop_ends_every_wait_with_stopped() -> None:
    throttle = Throttle(1)
    throttle.acquire()
    caught: list[str] = []

    def blocked() -> None:
        try:
            throttle.acquire()
        except Stopped as stop:
            caught.append(stop.reason)

    thread = threading.Thread(target=blocked)
    thread.start()
    throttle.stop("logged out")
    thread.join(5)
    assert caught == ["logged out"]
    with pytest.raises(Stopped):
        throttle.before_write()
    with pytest.raises(Stopped):
        throttle.sleep(30)  # a retry's wait ends at once


def test_a_claim_made_before_a_stop_is_seen() -> None:
    throttle = Throttle(1)
    claims: list[float] = []
    throttle.before_write(claims.append)
    throttle.stop("interrupted")
    assert len(claims) == 1


@pytest.mark.parametrize(
    ("stats", "words"),
    [
        (None, ""),
        (PacingStats(0, 0, 0.0, 4, None, 4), ""),
        (PacingStats(3, 1, 1.0, 2, 95.0, 8), "3 answers were 429: paused 1 time (1.0 s)"),
        (PacingStats(1, 2, 2.0, 2, None, 8), "1 answer was 429: paused 2 times (2.0 s in all)"),
    ],
)
def test_pacing_note(stats: PacingStats | None, words: str) -> None:
    assert pacing_note(stats).startswith(words)


def test_the_pace_is_named_so_it_is_not_read_as_throughput() -> None:
    note = pacing_note(PacingStats(3, 1, 1.0, 2, 120.0, 8, started_pace=95.0))
    assert note.endswith("ending at 2 in flight, starts paced at 95.0/s")
    assert pacing_note(PacingStats(3, 1, 1.0, 2, None, 8)).endswith("ending at 2 in flight")


@pytest.mark.parametrize(("concurrency", "rate"), [(0, None), (1, 0.0), (1, float("inf"))])
def test_bad_settings_are_refused(concurrency: int, rate: float | None) -> None:
    with pytest.raises(ValueError):
        Throttle(concurrency, rate)


def test_reserve_waits_out_the_pause_so_the_write_need_not() -> None:
    throttle = Throttle(8)
    throttle.answered(throttle.before_write(), 429, 0.3)
    refused_at = time.monotonic()
    ticket = throttle.reserve()  # before a connection is taken: the wait is here
    assert time.monotonic() >= refused_at + 0.29
    waited = time.monotonic()
    started = throttle.before_write(ticket=ticket)
    assert started - waited < 0.05  # nothing left to wait for at the write


def test_a_pause_that_began_after_the_reserve_is_still_waited_out() -> None:
    throttle = Throttle(8)
    ticket = throttle.reserve()
    throttle.answered(throttle.before_write(), 429, 0.3)  # another worker's 429
    refused_at = time.monotonic()
    assert throttle.before_write(ticket=ticket) >= refused_at + 0.29


def test_places_after_a_short_pause_come_after_those_taken_before_it() -> None:
    """Places in the pace taken before a 50 ms pause and ending after it are kept by their
    waiters (they do not wake in the pause); the places taken after it come after them, not
    on top of them (they did: starts 4 ms apart at 92/s, and a sliding log refused)."""
    clock = [0.0]
    throttle = Throttle(8, rate=10, clock=lambda: clock[0])  # places 0.1 s apart
    held = []
    for _ in range(3):
        slot, _wait = throttle.turn(None)
        assert slot is not None
        held.append(slot)
    throttle.started(held[0])
    clock[0] = 0.01
    throttle.answered(held[0], 429, 1.0)  # a whole second: the others pause 50 ms
    assert throttle.stats.paused == pytest.approx(SHORT_PAUSE)
    clock[0] = 0.01 + SHORT_PAUSE
    slot, _wait = throttle.turn(None)  # a new place, taken after the pause
    assert slot is not None
    pace = throttle.stats.pace
    assert pace is not None and pace <= 10
    assert min(abs(slot - other) for other in held[1:]) >= 1 / pace - 1e-9
