"""The bulk runs under way, by client, so that a logout stops them and waits for their requests."""

from __future__ import annotations

import threading
from concurrent.futures import Future, wait

from ._pacing import Throttle

__all__ = ["BulkRuns"]


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
