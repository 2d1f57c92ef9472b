"""Ctrl-C held back to safe points, so an interrupt cannot split the bulk run's bookkeeping.

A KeyboardInterrupt raised between handing an item to a worker and noting it (or between taking
a finished item and recording it) would leave that item uncounted, or counted as not sent while
the worker sends it. While ``DeferredInterrupts`` is active, SIGINT only raises a flag; the run
calls ``check()`` where an interrupt loses nothing, and that raises the KeyboardInterrupt.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class DeferredInterrupts:
    """Context manager: SIGINT in the main thread is noted, raised later by ``check()``.

    Outside the main thread (no signal arrives there) it does nothing. On exit the previous
    handler is restored; an interrupt not yet checked is dropped (the run already ended).
    """

    def __init__(self) -> None:
        self.pending = 0
        self._previous: Any = None
        self._installed = False

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.pending += 1

    def check(self) -> None:
        """Raises KeyboardInterrupt once for each SIGINT noted since the last check."""
        if self.pending:
            self.pending -= 1
            raise KeyboardInterrupt

    def __enter__(self) -> DeferredInterrupts:
        return self.install()

    def install(self) -> DeferredInterrupts:
        """Holds SIGINT back from now on (in the main thread, over the default handler)."""
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.default_int_handler:  # someone else's handler is left alone
                self._previous = previous
                signal.signal(signal.SIGINT, self._note)
                self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.restore()

    def restore(self) -> None:
        """Gives SIGINT back to the handler it had before ``install()``."""
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
