"""--save PATH with --each: one JSON Line per item, written and flushed as its result arrives.

A crash or an interrupt then loses nothing that was already answered. Values JSON cannot hold
(bytes, dates, objects) are written as their text.
"""

from __future__ import annotations

import json
from typing import IO, Any

from .errors import UsageEngineError

__all__ = ["JsonLines"]


class JsonLines:
    """An open JSON Lines file; ``write`` one object per line, then ``close``."""

    def __init__(self, stream: IO[str], path: str) -> None:
        self._stream = stream
        self.path = path
        self.lines = 0

    @classmethod
    def open(cls, path: str) -> JsonLines:
        """Create (or empty) ``path``; a UsageEngineError says why it cannot be written."""
        try:
            stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        except OSError as error:
            raise UsageEngineError(
                f"--save {path}: cannot write it ({error.strerror or error}); nothing was sent."
            ) from None
        return cls(stream, path)

    def write(self, record: dict[str, Any]) -> None:
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
