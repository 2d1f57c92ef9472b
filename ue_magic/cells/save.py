"""``--save PATH``: the decoded answer written to a file, checked before anything is sent.

One answer: pretty JSON for JSON (UTF-8, non-ASCII kept), the text for text, the bytes for
binary, an empty file for an empty body. With ``--each``: JSON Lines, one object per item
(``run``: when the run began, ``index``, ``item``, ``outcome`` = ok / failed / not sent, then
``status`` and ``body``, or ``why``), written and flushed as each result arrives, so a long run
can be watched and a crash or an interrupt loses nothing already answered. Values JSON cannot
hold are written as text. A lone surrogate (``"\\ud800"`` in the answer: valid JSON, but no
character UTF-8 can hold) is written as that same JSON escape.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import IO, Any

from ..errors import UsageEngineError
from .render import format_size

__all__ = ["JsonLines", "check_target", "write_answer"]

# UTF-8 fails only on lone surrogates; inside a JSON string, "\\ud800" is their own escape
_SURROGATES = "backslashreplace"


def check_target(path: str) -> Path:
    """The file to write, ``~`` expanded as a shell does (in every mode: one answer or
    ``--each``); a folder, or a file in a folder that does not exist, is refused (before the
    request is sent, so an answer is never lost for want of a place to put it)."""
    if not path.strip():
        raise UsageEngineError("--save needs a file name: --save answer.json.")
    target = Path(os.path.expanduser(path))  # Path.expanduser raises on an unknown ~user
    if target.parts and target.parts[0].startswith("~"):  # never a folder literally named ~
        raise UsageEngineError(
            f"--save {path}: cannot tell which home folder {target.parts[0]!r} is; "
            "give the full path."
        )
    if target.is_dir():
        raise UsageEngineError(f"--save {path}: that is a folder; give a file name in it.")
    if not target.parent.is_dir():
        raise UsageEngineError(
            f"--save {path}: the folder {str(target.parent)!r} does not exist; create it first."
        )
    return target


def encode_answer(body: Any) -> bytes:
    """What ``write_answer`` writes for ``body`` (dict/list, str, bytes or None)."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8", _SURROGATES)
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8", _SURROGATES)


def write_answer(target: Path, body: Any) -> str:
    """Write the decoded answer; returns ``'Saved 1.2 kB to answer.json.'``."""
    data = encode_answer(body)
    try:
        target.write_bytes(data)
    except OSError as error:
        raise UsageEngineError(f"--save {target}: {error.strerror or error}.") from None
    return f"Saved {format_size(len(data))} to {target}."


class JsonLines:
    """An open JSON Lines file; ``write`` one object per line, then ``close``."""

    def __init__(self, stream: IO[str], path: str) -> None:
        self._stream = stream
        self.path = path
        self.lines = 0
        #: this run's mark on each of its lines (UTC, when the file was opened): lines from
        #: several runs in one file say which run and item (``index``) each is
        self.run = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")

    @classmethod
    def open(cls, path: str) -> JsonLines:
        """Open ``path`` to add lines (created if missing): a resumed run (``--each pending``)
        saved to the same file keeps the first run's lines. ``path`` is checked as for one
        answer (``check_target``); a UsageEngineError says why it cannot be written."""
        target = check_target(path)
        try:
            stream = open(  # noqa: SIM115 (closed by close())
                target, "a", encoding="utf-8", errors=_SURROGATES
            )
        except OSError as error:
            raise UsageEngineError(
                f"--save {path}: cannot write it ({error.strerror or error}); nothing was sent."
            ) from None
        return cls(stream, path)

    def write(self, record: dict[str, Any]) -> None:
        record = {"run": self.run, **record}
        line = json.dumps(record, ensure_ascii=False, default=_text, separators=(",", ":"))
        self._stream.write(line + "\n")
        self._stream.flush()
        self.lines += 1

    def close(self) -> None:
        self._stream.close()


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)
