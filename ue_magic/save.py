"""``--save PATH``: the decoded answer written to a file, checked before anything is sent.

One answer: pretty JSON for JSON (UTF-8, non-ASCII kept), the text for text, the bytes for
binary, an empty file for an empty body. With ``--each``: JSON Lines, one object per item
(``{"index": 3, "status": 201, "body": {...}}``, or ``"error"`` for a failure), written and
flushed as each result arrives, so a long run can be watched and a crash loses nothing done.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from .errors import UsageEngineError
from .render import format_size

__all__ = ["JsonLinesWriter", "check_target", "write_answer"]


def check_target(path: str) -> Path:
    """The file to write; a folder, or a file in a folder that does not exist, is refused
    (before the request is sent, so an answer is never lost for want of a place to put it)."""
    target = Path(path).expanduser()
    if not path.strip():
        raise UsageEngineError("--save needs a file name: --save answer.json.")
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
        return body.encode("utf-8")
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_answer(target: Path, body: Any) -> str:
    """Write the decoded answer; returns ``'Saved 1.2 kB to answer.json.'``."""
    data = encode_answer(body)
    try:
        target.write_bytes(data)
    except OSError as error:
        raise UsageEngineError(f"--save {target}: {error.strerror or error}.") from None
    return f"Saved {format_size(len(data))} to {target}."


class JsonLinesWriter:
    """One line per --each result, flushed as it arrives (in the order answers come)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.lines = 0
        try:
            self._file: IO[str] = target.open("w", encoding="utf-8")
        except OSError as error:
            raise UsageEngineError(f"--save {target}: {error.strerror or error}.") from None

    def write(self, index: int, status: int | None, body: Any, error: str | None = None) -> None:
        record: dict[str, Any] = {"index": index, "status": status}
        if error is not None:
            record["error"] = error
        if isinstance(body, (bytes, bytearray)):
            body = {"bytes": len(body)}  # binary does not fit a JSON line: say how much
        record["body"] = body
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        self._file.close()

    def summary(self) -> str:
        return f"Saved {self.lines:,} result{'' if self.lines == 1 else 's'} to {self.target}."

    def __enter__(self) -> JsonLinesWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
