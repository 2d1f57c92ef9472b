"""Take a line back out of IPython's history when it held a secret.

IPython records a cell (in memory, in the ``_i`` variables and in its SQLite history) before the
magic runs, so refusing a secret on the magic line is not enough: the input must also be redacted
everywhere IPython already put it. The cell is found by its position (the last input recorded,
which is the one running), not by its text: IPython's translated source escapes quotes and
backslashes.
"""

from __future__ import annotations

import contextlib
from typing import Any

REDACTED = "# ue-magic removed this input: it held a secret"


def redact_current_input(shell: Any, magic: str, line: str) -> None:
    """Replace the cell being run (which called ``%magic line``) with ``REDACTED`` everywhere."""
    history = getattr(shell, "history_manager", None)
    if history is None:
        return
    number = len(history.input_hist_raw) - 1  # input lists are indexed by line number
    recorded = {
        hist[number]
        for hist in (history.input_hist_parsed, history.input_hist_raw)
        if len(hist) > number and magic in hist[number]
    }

    def scrub(value: object) -> object:
        if not isinstance(value, str):
            return value
        return REDACTED if value in recorded or (line and line in value) else value

    for hist in (history.input_hist_parsed, history.input_hist_raw):
        hist[:] = [scrub(text) for text in hist]
    for attr in ("_i00", "_i", "_ii", "_iii"):
        if hasattr(history, attr):
            setattr(history, attr, scrub(getattr(history, attr)))
    user_ns = shell.user_ns
    for name in [n for n in user_ns if n.startswith("_i")]:
        user_ns[name] = scrub(user_ns[name])
    with history.db_input_cache_lock:
        history.db_input_cache = [
            (n, REDACTED, REDACTED) if n == number and recorded else (n, scrub(src), scrub(raw))
            for n, src, raw in history.db_input_cache
        ]
        if recorded:
            with contextlib.suppress(Exception):  # history may be off, in memory or read-only
                history.db.execute(
                    "UPDATE history SET source=?, source_raw=? WHERE session=? AND line=?",
                    (REDACTED, REDACTED, history.session_number, number),
                )
                history.db.commit()
