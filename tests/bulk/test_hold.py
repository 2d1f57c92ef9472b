"""How long new starts wait when the headers say none are left (``_hold.hold_until``)."""

from __future__ import annotations

import pytest

from ue_magic.cells._hold import hold_until
from ue_magic.cells._quota import Quota


def starts(times: list[float]) -> list[tuple[float, object]]:
    return [(at, True) for at in times]


def test_a_whole_second_reset_waits_until_the_oldest_start_in_the_window_leaves_it() -> None:
    """100 in any second stated, none left, reset "1": of the run's starts, 4 unpaced at 0 and
    96 paced since; the next may go once the 100th last is a second old (plus the answer's
    round trip: it may have got there later than the next one will)."""
    history = starts([0.0, 0.0004, 0.0008, 0.0012] + [0.03 + i / 99 for i in range(96)])
    answered = history[-1][0]
    now = answered + 0.006
    until = hold_until(Quota(100.0, 0.0, 1.0), history, answered, now, 99.0)
    assert until == pytest.approx(0.0 + 1.0 + 0.006)


def test_the_window_is_the_stated_policy_s() -> None:
    """600 in a minute: the 600th last start leaves a minute after it (capped at 60 s)."""
    history = starts([i * 0.01 for i in range(600)])
    answered = history[-1][0]
    until = hold_until(Quota(10.0, 0.0, 1.0, 60.0), history, answered, answered, 9.9)
    assert until == pytest.approx(60.0)


def test_fewer_starts_than_the_quota_wait_one_place_in_the_pace() -> None:
    history = starts([0.0, 0.01, 0.02])
    until = hold_until(Quota(100.0, 0.0, 1.0), history, 0.02, 0.03, 50.0)
    assert until == pytest.approx(0.03 + 1 / 50)


def test_a_fractional_reset_says_when() -> None:
    history = starts([i * 0.01 for i in range(100)])
    until = hold_until(Quota(100.0, 0.0, 0.25), history, 0.99, 1.0, 99.0)
    assert until == pytest.approx(1.25)


def test_requests_left_hold_nothing() -> None:
    history = starts([0.0, 0.01])
    assert hold_until(Quota(100.0, 5.0, 1.0), history, 0.0, 0.02, 99.0) is None
    assert hold_until(Quota(100.0, None, None), history, 0.0, 0.02, 99.0) is None


def test_a_known_end_is_the_hold_not_a_place_in_the_pace() -> None:
    """Reset in 2 ms: the hold ends then, not a place (10 ms) later. Each such place was lost
    once a second at a sliding log paced just under its rate (98.3% of it)."""
    history = starts([i / 99 for i in range(100)])
    answered = history[-1][0]
    until = hold_until(Quota(100.0, 0.0, 0.002), history, answered, answered + 0.005, 99.0)
    assert until == pytest.approx(answered + 0.005 + 0.002)


def test_starts_since_the_answered_one_each_wait_a_place_after_the_end() -> None:
    history = starts([i / 99 for i in range(100)])
    answered = history[-4][0]  # three started since
    until = hold_until(Quota(100.0, 0.0, 0.002), history, answered, answered + 0.005, 99.0)
    assert until == pytest.approx(answered + 0.005 + 3 / 99)


def test_an_end_already_past_holds_nothing() -> None:
    """None left at its arrival, yet the 100th last start is over a second and a round trip
    old: it left the log while the answer came back, and there is room now."""
    history = starts([0.0] + [1.5 + i * 0.001 for i in range(99)])
    answered = history[-1][0]
    now = answered + 0.002
    until = hold_until(Quota(100.0, 0.0, 1.0), history, answered, now, 50.0)
    assert until == pytest.approx(now)
