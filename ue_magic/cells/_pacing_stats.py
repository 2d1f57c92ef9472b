"""What a bulk run's throttle reports: how it paced the run, and that the run was stopped."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PacingStats", "Stopped"]


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
    pace: float | None  # the pace now (answers after the last start may have moved it)
    peak_in_flight: int
    started_pace: float | None = None  # the pace the last paced start went at (the report's)
