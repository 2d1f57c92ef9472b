"""Take a line back out of IPython's history when it held a secret.

IPython records a cell (in memory, in the ``_i`` variables and in its SQLite history) before the
magic runs, so refusing a secret on the magic line is not enough: the input must also be redacted
everywhere IPython already put it.
"""

from __future__ import annotations

import contextlib
from typing import Any

REDACTED = "# ue-magic removed this input: it held a secret"


def redact_current_input(shell: Any, fragment: str) -> None:
    """Replace every recorded input that contains ``fragment`` with ``REDACTED``."""
    history = getattr(shell, "history_manager", None)
    if history is None or not fragment:
        return

    def scrub(value: object) -> object:
        return REDACTED if isinstance(value, str) and fragment in value else value

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
            (n, scrub(src), scrub(raw)) for n, src, raw in history.db_input_cache
        ]
        with contextlib.suppress(Exception):  # history may be off, in memory or read-only
            history.db.execute(
                "UPDATE history SET source=?, source_raw=? WHERE session=? AND line=?",
                (REDACTED, REDACTED, history.session_number, shell.execution_count),
            )
            history.db.commit()
