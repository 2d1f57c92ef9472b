"""The two forms of ``%ue_call``/``%%ue_call`` told apart: METHOD PATH on the magic line (the cell
is the body), one word (a GET of that path), or none (the cell is an HTTP message)."""

from __future__ import annotations

from ..._constants import METHODS
from ...errors import UsageEngineError
from ._file import file_request
from ._template import RequestTemplate, compile_request


def without_blank_tail(cell: str) -> str:
    """``cell`` without its trailing blank lines (a terminal cell ends in some): each ``\\n``
    (or ``\\r\\n``) with only spaces and tabs after it, walked back from the end. A pattern
    anchored at the end would be tried from every line of a long blank run: quadratic."""
    cut = len(cell)
    while True:
        at = cut
        while at and cell[at - 1] in " \t":
            at -= 1
        if not at or cell[at - 1] != "\n":
            return cell[:cut]
        at -= 1
        cut = at - 1 if at and cell[at - 1] == "\r" else at


def compile_call(
    line: str, request_line: tuple[str, ...], cell: str | None, headers: tuple[str, ...]
) -> RequestTemplate:
    """The template of one call: ``line`` is the whole magic line (errors point into it),
    ``request_line`` its METHOD PATH words, ``cell`` the cell (None for the line form),
    ``headers`` the ``-H`` values. Trailing blank lines of the cell are never sent. Raises
    UsageEngineError (RequestSyntaxError for a mistake in the cell) before anything is sent."""
    body = without_blank_tail(cell or "")
    if not request_line:
        if not body.strip():
            raise UsageEngineError("Give a request: %ue_call GET /path, or a cell with one.")
        return compile_request(body, headers=headers, magic_line=line)
    if len(request_line) == 1:
        if request_line[0].upper() in METHODS:
            raise UsageEngineError(f"Give the path after {request_line[0]}: %ue_call GET /path.")
        return compile_request(body, "GET", request_line[0], headers=headers, magic_line=line)
    if len(request_line) == 2:
        method, path = request_line
        return compile_request(body, method, path, headers=headers, magic_line=line)
    raise UsageEngineError(
        f"Expected METHOD PATH on the magic line, got {len(request_line)} words; "
        "put headers with -H and the body in the cell."
    )


def file_cell(
    path: str | None, name: str | None, request_line: tuple[str, ...], cell: str | None
) -> str:
    """The cell text of ``--file PATH [--name NAME]`` (see ``_file``); the file is read at each
    call, so an edited file is sent as it is now. Raises UsageEngineError before anything is
    sent."""
    if path is None:
        raise UsageEngineError("--name picks a request of a .http file; add --file PATH.")
    if request_line or cell is not None:
        raise UsageEngineError(
            "--file sends a request written in the file: leave out METHOD PATH and the cell"
            " (the line form: %ue_call --file requests.http --name NAME)."
        )
    return file_request(path, name)
