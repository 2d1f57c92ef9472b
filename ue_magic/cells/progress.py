"""Progress of a bulk call: an ipywidgets bar in a notebook, a text bar in a terminal.

Both are updated from the thread that waits for the requests only, and at most every
``interval`` seconds (plus once at the end), so a fast run does not flood the front end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO


class Progress(Protocol):
    """What the bulk runner reports to."""

    def update(self, done: int, failed: int, force: bool = False) -> None: ...

    def finish(self, done: int, failed: int, interrupted: bool) -> None: ...


def describe(total: int, done: int, failed: int, elapsed: float, ended: bool = False) -> str:
    """'120/500 done, 3 failed, 45.1/s, about 8 s left' (no time left once ``ended``: a run
    stopped early has none)."""
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if rate > 0 and not ended else None
    eta = f", about {left:.0f} s left" if left is not None and done < total else ""
    return f"{done}/{total} done, {failed} failed, {rate:.1f}/s{eta}"


class _Throttled:
    def __init__(self, total: int, interval: float, clock: Callable[[], float]) -> None:
        self.total = total
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last = float("-inf")

    def due(self, force: bool) -> bool:
        now = self.clock()
        if force or now - self._last >= self.interval:
            self._last = now
            return True
        return False

    def text(self, done: int, failed: int, ended: bool = False) -> str:
        return describe(self.total, done, failed, self.clock() - self.started, ended)


class TextProgress(_Throttled):
    """A one-line bar redrawn with a carriage return (terminal IPython, scripts).

    Each draw pads to the longest line drawn before, so a shorter line (the last one, when
    "about 3 s left" goes) leaves no tail of the one before it.
    """

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        width: int = 30,
    ) -> None:
        super().__init__(total, interval, clock)
        self.stream = stream or sys.stdout
        self.width = width
        self._drawn = 0  # length of the longest line drawn so far

    def _draw(self, done: int, failed: int, end: str = "") -> None:
        filled = self.width * done // self.total if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {self.text(done, failed, ended=bool(end))}"
        if end.startswith(" "):  # " (interrupted)" belongs to the line
            line, end = line + end.rstrip("\n"), "\n" if end.endswith("\n") else ""
        padded = line.ljust(self._drawn)
        self._drawn = max(self._drawn, len(line))
        self.stream.write(f"\r{padded}{end}")
        self.stream.flush()

    def update(self, done: int, failed: int, force: bool = False) -> None:
        if self.due(force):
            self._draw(done, failed)

    def finish(self, done: int, failed: int, interrupted: bool) -> None:
        self._draw(done, failed, end=" (interrupted)\n" if interrupted else "\n")


class WidgetProgress(_Throttled):
    """An IntProgress bar with a label; green when all went well, red when some failed.

    Its output also carries a text/plain line, updated at the end, so a front end or an export
    that cannot show widgets (an offline HTML export, GitHub's viewer) still says what happened.
    """

    def __init__(
        self,
        total: int,
        show: Callable[..., Any],
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import ipywidgets as widgets

        super().__init__(total, interval, clock)
        self.bar = widgets.IntProgress(value=0, min=0, max=max(total, 1), description="Sending")
        self.label = widgets.Label(value=self.text(0, 0))
        self.box = widgets.HBox([self.bar, self.label])
        self.box.add_class("ue-progress")
        self._handle = show(self._bundle(f"Sending {total} requests"), raw=True, display_id=True)

    def _bundle(self, text: str) -> dict[str, Any]:
        return {**(self.box._repr_mimebundle_() or {}), "text/plain": text}

    def update(self, done: int, failed: int, force: bool = False) -> None:
        if self.due(force):
            self.bar.value = done
            self.label.value = self.text(done, failed)

    def finish(self, done: int, failed: int, interrupted: bool) -> None:
        self.bar.value = done
        self.bar.bar_style = "danger" if failed or interrupted else "success"
        self.bar.description = "Interrupted" if interrupted else "Done"
        self.label.value = self.text(done, failed, ended=True)
        if self._handle is not None:
            summary = f"Interrupted: {self.label.value}" if interrupted else self.label.value
            self._handle.update(self._bundle(summary), raw=True)


class PageCounter(Protocol):
    """What --all-pages reports to: pages fetched and list items so far."""

    def update(self, pages: int, items: int) -> None: ...

    def finish(self, summary: str) -> None: ...


class TextPageCounter:
    """'page 3, 250 items so far' redrawn in place, then the summary (terminals, scripts)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stdout
        self._due = _Throttled(0, interval, clock)
        self._drawn = 0  # length of the longest line drawn: the summary covers it all

    def update(self, pages: int, items: int) -> None:
        if self._due.due(False):
            line = f"page {pages}, {items} items so far"
            self.stream.write(f"\r{line.ljust(self._drawn)}")
            self.stream.flush()
            self._drawn = max(self._drawn, len(line))

    def finish(self, summary: str) -> None:
        """The summary in place of the count; "" takes the count away (an error says it all)."""
        if self._drawn:
            end = "\n" if summary else "\r"
            self.stream.write(f"\r{summary.ljust(self._drawn)}{end}")
            self.stream.flush()


class WidgetPageCounter:
    """A label that counts pages and items while --all-pages runs, then shows the summary.

    Its output also carries a text/plain line that ends as the summary, so a saved notebook or
    an export that cannot show widgets says how many pages came (not the label's repr).
    """

    def __init__(
        self,
        show: Callable[..., Any],
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import ipywidgets as widgets

        self._due = _Throttled(0, interval, clock)
        self.label = widgets.Label(value="fetching the first page")
        self.label.add_class("ue-progress")
        self._handle = show(self._bundle(self.label.value), raw=True, display_id=True)

    def _bundle(self, text: str) -> dict[str, Any]:
        return {**(self.label._repr_mimebundle_() or {}), "text/plain": text}

    def update(self, pages: int, items: int) -> None:
        if self._due.due(False):
            self.label.value = f"page {pages}, {items} items so far"

    def finish(self, summary: str) -> None:
        """The summary in place of the count; "" takes the label away (an error says it all)."""
        self.label.value = summary
        if self._handle is not None:
            self._handle.update(self._bundle(summary) if summary else {"text/plain": ""}, raw=True)
        if not summary:
            self.label.close()


def progress_for(widgets: bool, show: Callable[[Any], None]) -> Callable[[int], Any]:
    """The --each bar to make: a widget where widgets show (``show`` displays it), else text."""
    if widgets:
        return lambda total: WidgetProgress(total, show)
    return TextProgress


def page_counter_for(widgets: bool, show: Callable[[Any], None]) -> Callable[[], Any]:
    """The --all-pages counter to make: a widget label where widgets show, else a text line."""
    if widgets:
        return lambda: WidgetPageCounter(show)
    return TextPageCounter
