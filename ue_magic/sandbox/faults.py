"""Injected faults and the persistent latency: what the next matching requests suffer."""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

TARGETS = ("api", "token")


@dataclass
class Fault:
    """One queued fault. `status=None` means no error answer (only the delay, or the drop)."""

    target: str = "api"
    status: int | None = 503
    count: int = 1
    retry_after: float | str | None = None
    delay: float = 0.0
    drop: bool = False
    body: Any = None
    path_prefix: str | None = None

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}")
        if self.status is not None and (
            isinstance(self.status, bool)
            or not isinstance(self.status, int)
            or not 200 <= self.status <= 599
        ):
            raise ValueError("status must be an HTTP status code (200..599) or None")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValueError("count must be a positive integer")
        _check_seconds(self.delay, "delay")
        if isinstance(self.retry_after, str):
            if not re.fullmatch(r"[ -~]{1,100}", self.retry_after):
                raise ValueError("retry_after must be seconds or an HTTP date")
        elif self.retry_after is not None:
            _check_seconds(self.retry_after, "retry_after")
        try:
            json.dumps(self.body, allow_nan=False)
        except (TypeError, ValueError):
            raise ValueError("body must be JSON-serialisable (or a str, sent as text)") from None
        if not isinstance(self.drop, bool):
            raise ValueError("drop must be true or false")
        if self.path_prefix is not None and not isinstance(self.path_prefix, str):
            raise ValueError("path_prefix must be a string")

    def matches(self, target: str, path: str) -> bool:
        return self.target == target and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )

    def retry_after_header(self) -> str | None:
        value = self.retry_after
        if value is None or isinstance(value, str):
            return value
        return str(int(value)) if float(value).is_integer() else str(value)


def _check_seconds(value: object, name: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a non-negative number of seconds")


class Faults:
    """A FIFO of faults, each used by its next `count` matching requests; plus latency."""

    def __init__(self, latency: float = 0.0) -> None:
        _check_seconds(latency, "latency")
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self.latency = float(latency)

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def take(self, target: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.matches(target, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._queue.remove(fault)
                    return fault
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(f.count for f in self._queue)

    def set_latency(self, seconds: float) -> None:
        _check_seconds(seconds, "latency")
        self.latency = float(seconds)

    def clear(self, latency: float = 0.0) -> None:
        with self._lock:
            self._queue.clear()
        self.set_latency(latency)
