"""What ``_ue_bulk`` (and ``_ue``) holds after ``--each``: each item's outcome, the counts,
and the failure table.

Every item is exactly one of ok, failed (an error answer, or written to the socket with no answer)
or not sent (never written: stopped, logged out, could not connect), so ``len(ok) + len(failed) +
len(not_sent) == total`` always. Only failures keep their response; ok items keep their decoded
body only when ``-o`` asked for it, so 100,000 items stay small. The table groups failures by status
and message and shows each item in a short form (its text, or the fields the template used).
"""

from __future__ import annotations

import html
import json
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..core._outgoing import scrub_live
from ..core._visible import visible
from ._pacing import PacingStats

__all__ = ["FAILED", "NOT_SENT", "OK", "BulkFailure", "BulkResult", "pacing_note", "short_form"]

NOT_SENT, OK, FAILED = 0, 1, 2
SHOWN_GROUPS = 20  # rows of the failure table
SHOWN_ITEMS = 5  # items named per row
SHORT = 40  # characters of an item's short form


@dataclass(frozen=True)
class BulkFailure:
    """One item that failed: its index and the item itself, the status (None: no answer), the
    message (the server's words, or why there was no answer), and the answer's body and response."""

    index: int
    item: Any
    status: int | None
    message: str
    body: Any = None
    response: httpx.Response | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        status = self.status if self.status is not None else "no answer"
        return (
            f"BulkFailure(index={self.index}, item={short_form(self.item)!r}, status={status}, "
            f"message={self.message!r})"
        )


def short_form(item: Any, fields: Sequence[str | int] = ()) -> str:
    """An item as a few words: a text or number as itself, an object by the ``fields`` the
    template used (``user=alice``), else its JSON; at most ``SHORT`` characters."""
    if isinstance(item, str):
        text = item if item else '""'
    elif item is None or isinstance(item, (int, float, bool)):
        text = json.dumps(item)
    else:
        parts = []
        for key in fields:
            try:
                value = item[key]
            except (KeyError, IndexError, TypeError):
                value = getattr(item, str(key), None)
            parts.append(f"{key}={value}" if value != "" else f'{key}=""')  # not "user="
        text = ", ".join(parts) if parts else json.dumps(item, default=str)
    text = visible(scrub_live(" ".join(text.split())), one_line=True)  # an item may be a secret
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


class Pending(list[Any]):
    """The items of a run still to send (a list), with each one's index in the first run's
    input (``indices``): ``--each`` over it saves lines under those indices, so a resumed
    ``--save`` file never holds one index twice as ok."""

    def __init__(self, items: Sequence[Any] = (), indices: Sequence[int] = ()) -> None:
        super().__init__(items)
        self.indices = tuple(indices)
        self._items = tuple(self)  # as made: an edit or a reorder is seen by identity

    def indices_for(self, items: Sequence[Any]) -> tuple[int, ...] | None:
        """The first run's indices, if ``items`` are still this list's items, each the same
        object in the same place (an item fixed in place, such as a dict, still is); None when
        one was replaced, added, removed or moved."""
        if len(items) != len(self.indices) or len(items) != len(self._items):
            return None
        if any(now is not then for now, then in zip(items, self._items, strict=True)):
            return None
        return self.indices


class BulkResult:
    """The outcome of one ``--each`` run; ``-o`` gets ``results``, ``_ue_bulk`` gets this.

    ``ok``/``not_sent``: indices in input order; ``failed``: ``BulkFailure`` in input order;
    ``pending``: the items that failed or were not sent, in input order (``--each`` over it
    sends only those, saved under their first indices). ``not_sent_why`` counts the reasons
    items were not sent. ``origins``: each item's index in the first run's input, when this run
    resends a ``pending`` list.
    """

    def __init__(
        self,
        items: Sequence[Any],
        fields: Sequence[str | int] = (),
        keep_results: bool = False,
        origins: Sequence[int] | None = None,
    ) -> None:
        self.items = items
        self.origins = tuple(origins) if origins is not None else None
        self.total = len(items)
        self.fields = tuple(fields)
        self.states = bytearray(self.total)  # NOT_SENT, OK or FAILED per item
        self.codes = array("H", bytes(2 * self.total))  # an ok item's status (0: none)
        self.why_not_sent: dict[int, str] = {}  # by index
        self.results: list[Any] | None = [None] * self.total if keep_results else None
        self.failures: list[BulkFailure] = []
        self.not_sent_why: Counter[str] = Counter()
        self.unread = 0  # 2xx answers whose bodies were not read: done by the server
        self.elapsed = 0.0
        self.interrupted = False
        self.stopped: str | None = None  # why the run stopped early, if it did
        self.pacing: Any = None  # PacingStats of the run

    # -- recording (the runner's thread only) --------------------------------------------------
    def record_ok(self, index: int, body: Any, status: int = 0) -> None:
        self.states[index] = OK
        self.codes[index] = status
        if self.results is not None:
            self.results[index] = body

    def record_failure(self, failure: BulkFailure, error: Exception | None) -> None:
        self.states[failure.index] = FAILED
        self.failures.append(failure)
        if self.results is not None:
            self.results[failure.index] = error

    def record_not_sent(self, index: int, why: str) -> None:
        self.states[index] = NOT_SENT
        self.not_sent_why[why] += 1
        self.why_not_sent[index] = why

    # -- reading -------------------------------------------------------------------------------
    @property
    def ok(self) -> list[int]:
        return [i for i, s in enumerate(self.states) if s == OK]

    @property
    def failed(self) -> list[BulkFailure]:
        return sorted(self.failures, key=lambda f: f.index)

    @property
    def not_sent(self) -> list[int]:
        return [i for i, s in enumerate(self.states) if s == NOT_SENT]

    @property
    def sent(self) -> int:
        """Items written to the socket: ok, plus failed ones that were sent."""
        return self.total - self.states.count(NOT_SENT)

    def origin(self, index: int) -> int:
        """Item ``index``'s index in the first run's input (``index`` itself in a first run)."""
        return self.origins[index] if self.origins is not None else index

    @property
    def unanswered(self) -> list[Any]:
        """The items sent that got no answer (a timeout, a connection cut): the server may have
        processed them, so check before sending them again. They are in ``pending`` too."""
        return [f.item for f in self.failed if f.status is None]

    @property
    def pending(self) -> Pending:
        left = [i for i, s in enumerate(self.states) if s != OK]
        return Pending([self.items[i] for i in left], [self.origin(i) for i in left])

    @property
    def responses(self) -> dict[int, httpx.Response]:
        """The error answers by index (ok answers are not kept: their bodies are in -o)."""
        return {f.index: f.response for f in self.failures if f.response is not None}

    def outcomes(self) -> Iterator[tuple[str, int | None, str | None, Any]]:
        """Each item's (outcome, status, why, body), in input order: outcome is ok, failed
        or not sent; status None without an answer; why says why there was no answer; body is
        an ok answer's (when kept: with -o or --df) or a failure's error body."""
        failures = {failure.index: failure for failure in self.failures}
        for index, state in enumerate(self.states):
            if state == OK:
                body = self.results[index] if self.results is not None else None
                yield "ok", self.codes[index] or None, None, body
            elif state == FAILED:
                failure = failures[index]
                why = None if failure.response is not None else failure.message
                yield "failed", failure.status, why, failure.body
            else:
                yield "not sent", None, self.why_not_sent.get(index), None

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per item in input order: the item (or the fields the
        template used), ``outcome``, ``status``, ``why``, then the body's fields (ok bodies only
        when the run kept them, with -o or --df). Needs pandas (the explore extra)."""
        from .frame import bulk_frame

        return bulk_frame(self)

    def summary(self) -> str:
        """'3000 items: 3000 sent, 2990 ok, 10 failed, 0 not sent in 31.2 s (96.2/s)'."""
        ok = self.states.count(OK)
        failed = self.states.count(FAILED)
        not_sent = self.total - ok - failed
        rate = self.sent / self.elapsed if self.elapsed > 0 else 0.0
        noun = "item" if self.total == 1 else "items"
        line = (
            f"{self.total} {noun}: {self.sent} sent, {ok} ok, {failed} failed, {not_sent} not sent "
            f"in {self.elapsed:.2f} s ({rate:.1f}/s)"
        )
        if self.unread:
            line += (
                f"; {self.unread} answered 2xx (done) but their bodies were not read (over "
                "--max-bytes, broken or cut off): None in -o, never pending"
            )
        note = pacing_note(self.pacing)
        if note:
            line += f"; {note}"
        if self.stopped:
            line += f"; stopped: {self.stopped}"
        return line

    def groups(self) -> list[tuple[str, int, str, list[str]]]:
        """Failure rows: (status, count, message, short forms of the first items), most first;
        then one row per reason items were not sent."""
        grouped: dict[tuple[int | None, str], list[BulkFailure]] = {}
        for failure in self.failed:
            grouped.setdefault((failure.status, failure.message), []).append(failure)
        rows = [
            (
                str(status) if status is not None else "no answer",
                len(members),
                visible(message, one_line=True),
                [short_form(f.item, self.fields) for f in members[:SHOWN_ITEMS]],
            )
            for (status, message), members in grouped.items()
        ]
        rows.sort(key=lambda row: -row[1])
        if self.not_sent_why:
            unsent = self.not_sent
            for why, count in self.not_sent_why.most_common():
                names = [short_form(self.items[i], self.fields) for i in unsent[:SHOWN_ITEMS]]
                rows.append(("not sent", count, visible(why, one_line=True), names))
        return rows

    def __repr__(self) -> str:
        lines = [self.summary()]
        rows = self.groups()
        if rows:
            lines.append(f"{'status':<9}  {'items':>5}  message — items")
            for status, count, message, names in rows[:SHOWN_GROUPS]:
                lines.append(f"{status:<9}  {count:>5}  {message} — {_names(names, count)}")
            lines += self._footer(len(rows))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        out = [f"<div class='ue-bulk'><p>{html.escape(self.summary())}</p>"]
        rows = self.groups()
        if rows:
            body = "".join(
                f"<tr><td>{html.escape(status)}</td><td>{count}</td>"
                f"<td>{html.escape(message)}</td><td>{html.escape(_names(names, count))}</td></tr>"
                for status, count, message, names in rows[:SHOWN_GROUPS]
            )
            out.append(
                "<table><thead><tr><th>status</th><th>items</th><th>message</th><th>item</th>"
                f"</tr></thead><tbody>{body}</tbody></table>"
            )
            out += [f"<p>{html.escape(line)}</p>" for line in self._footer(len(rows))]
        out.append("</div>")
        return "".join(out)

    def _footer(self, groups: int) -> list[str]:
        lines = []
        if groups > SHOWN_GROUPS:
            lines.append(f"… {groups - SHOWN_GROUPS} more kinds of failure in _ue_bulk.failed")
        lines.append("pending = _ue_bulk.pending, then --each pending, sends only these again.")
        unanswered = len(self.unanswered)
        if unanswered:
            lines.append(
                f"{unanswered} of them were sent and got no answer: the server may have processed "
                "them; check before sending them again (_ue_bulk.unanswered lists them)."
            )
        return lines


def no_items_line(name: str, value: Any) -> str:
    """What --each says when its variable gave nothing (also with -q: a run that did nothing
    is not a quiet success, most often a generator read once already)."""
    if iter(value) is value:  # an iterator: a generator, map(), iter(...), a file
        return (
            f"--each {name}: the iterator gave no items (an iterator or generator can be read "
            "only once: make it again); nothing was sent."
        )
    return f"--each {name}: {name} is empty; nothing was sent."


def _names(names: list[str], count: int) -> str:
    more = f", … {count - len(names)} more" if count > len(names) else ""
    return ", ".join(names) + more


def pacing_note(stats: PacingStats | None) -> str:
    """'12 answers were 429: paused 2 times (2.0 s in all), ending at 4 in flight, starts paced
    at 95.0/s' ('' if none). The pace is named as such: a bare '95.0/s' read as the run's
    throughput."""
    if stats is None or not stats.throttled:
        return ""
    started = stats.started_pace  # what starts went at, not a pace no start has used yet
    pace = f", starts paced at {started:.1f}/s" if started else ""
    times = "time" if stats.pauses == 1 else "times"
    in_all = " in all" if stats.pauses > 1 else ""  # not each pause's length
    answers = "answer was" if stats.throttled == 1 else "answers were"
    return (
        f"{stats.throttled} {answers} 429: paused {stats.pauses} {times} "
        f"({stats.paused:.1f} s{in_all}), ending at {stats.window} in flight{pace}"
    )
