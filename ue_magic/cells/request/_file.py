"""``%ue_call --file requests.http --name NAME``: one named request of a ``.http`` file.

A file holds requests separated by ``###`` lines. A request is named by a ``# @name NAME`` (or
``// @name NAME``) line in its block, else by the separator's text (``### NAME``). Its cell is
the file's ``@name = value`` variables (those of the blocks up to and including its own; a later
one replaces an earlier one) and the request's own lines, at their line numbers in the file, so
an error's line is the file's line.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..._constants import MAX_HTTP_FILE_BYTES
from ...core._visible import visible
from ...errors import UsageEngineError
from ._variables import is_variable_line

_NAME = re.compile(r"[ \t]*(?:#|//)[ \t]*@name")
_COMMENT = ("#", "//")


@dataclass(frozen=True)
class _Block:
    start: int  # index of its first line (the ### line, or 0)
    end: int  # index past its last line
    name: str | None
    request_line: int | None  # index of its request line; None for a block of variables only


def file_request(path: str, name: str | None) -> str:
    """The cell text of the request named ``name`` in the ``.http`` file at ``path`` (the only
    request when ``name`` is None). Raises UsageEngineError, saying what to do, for a file that
    cannot be read, an unknown name, or several requests and no name; nothing is sent then."""
    file = Path(path).expanduser()
    try:
        text = _read(file, path).decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageEngineError(
            f"No file {path!r} (looked in {Path.cwd()}); give the path of a .http file."
        ) from None
    except IsADirectoryError:
        raise UsageEngineError(f"{path!r} is a folder; give the path of a .http file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise UsageEngineError(f"Cannot read {path!r}: {reason}.") from None
    lines = text.replace("\r\n", "\n").split("\n")
    blocks = _blocks(lines)
    requests = [b for b in blocks if b.request_line is not None]
    if not requests:
        raise UsageEngineError(f"{path!r} holds no request; nothing was sent.")
    chosen = _choose(path, requests, name)
    return _cell(lines, blocks, chosen)


def _read(file: Path, path: str) -> bytes:
    """The file's bytes: a regular file of at most MAX_HTTP_FILE_BYTES. A device or a pipe
    (``/dev/zero``, ``/dev/stdin``) could be read forever, so it is refused before a byte is
    read; it is opened without waiting for a pipe's writer, and checked once open."""
    descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            raise UsageEngineError(
                f"{path!r} is not a regular file (a device or a pipe); "
                "give the path of a .http file."
            )
        data = handle.read(MAX_HTTP_FILE_BYTES + 1)
    if len(data) > MAX_HTTP_FILE_BYTES:
        raise UsageEngineError(
            f"{path!r} is over {MAX_HTTP_FILE_BYTES // 2**20} MiB, more than a .http file "
            "ue-magic reads; put a big body in a variable and send it with {{name}}."
        )
    return data


def _blocks(lines: list[str]) -> list[_Block]:
    starts = [0] + [i for i, line in enumerate(lines) if i and line.startswith("###")]
    blocks = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        named = lines[start][3:].lstrip("#").strip() if lines[start].startswith("###") else ""
        request_line = None
        for index in range(start + (1 if lines[start].startswith("###") else 0), end):
            line = lines[index].strip()
            found = request_name(lines[index])
            if found:
                named = found
            elif line and not line.startswith(_COMMENT) and not is_variable_line(line):
                request_line = index
                break
        blocks.append(_Block(start, end, named or None, request_line))
    return blocks


def request_name(line: str) -> str | None:
    """NAME of a ``# @name NAME`` (or ``@name = NAME``) line, else None. After ``@name`` the
    line is cut with string methods: no pattern backtracks over a long line."""
    match = _NAME.match(line)
    if match is None or "\n" in line:
        return None
    rest = line[match.end() :]
    after = rest.lstrip(" \t")
    if after[:1] == "=":  # @name = NAME
        value = after[1:].lstrip(" \t")
        if value[:1] and not value[:1].isspace():
            return value.rstrip(" \t\r")
    if rest[:1] in (" ", "\t") and after[:1] and not after[:1].isspace():  # @name NAME
        return after.rstrip(" \t\r")
    return None


def _choose(path: str, requests: list[_Block], name: str | None) -> _Block:
    # a stranger's file may name a request with terminal controls: shown as escapes
    names = [
        visible(b.name, one_line=True) if b.name else f"(unnamed, line {(b.request_line or 0) + 1})"
        for b in requests
    ]
    listed = ", ".join(names)
    if name is None:
        if len(requests) == 1:
            return requests[0]
        raise UsageEngineError(
            f"{path} holds {len(requests)} requests; pick one with --name NAME: {listed}."
            " Nothing was sent."
        )
    for block in requests:
        if block.name == name:
            return block
    close = difflib.get_close_matches(name, [b.name for b in requests if b.name], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageEngineError(
        f"{path} has no request named {name!r}; {hint}Its requests: {listed}. Nothing was sent."
    )


def _cell(lines: list[str], blocks: list[_Block], chosen: _Block) -> str:
    """The file's variables and the chosen request, every other line blanked."""
    out = [""] * chosen.end
    for block in blocks:
        if block.start > chosen.start:
            break
        last = block.end if block.request_line is None else block.request_line
        for index in range(block.start, last):
            if is_variable_line(lines[index]):
                out[index] = lines[index]
    assert chosen.request_line is not None
    out[chosen.request_line : chosen.end] = lines[chosen.request_line : chosen.end]
    return "\n".join(out)
