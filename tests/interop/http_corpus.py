"""The corpus of real ``.http`` requests (``tests/data/http-corpus``), and how two sends compare.

Each corpus file names its source in its first lines; every request is named (``# @name``).
Hosts are ``echo.invalid`` (``ECHO_HOST``/``ECHO_PORT`` where a file splits host and port), which
``materialize`` replaces with the echo server's address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from .echo_server import Arrived

CORPUS = Path(__file__).parent.parent / "data" / "http-corpus"
_NAME = re.compile(r"^[ \t]*(?:#|//)[ \t]*@name[ \t]+(\S+)", re.MULTILINE)
_HEADER = re.compile(r"([!#$%&'*+.^_`|~\w-]+)[ \t]*:[ \t]*(.*)")


@dataclass(frozen=True)
class Request:
    file: str
    name: str
    written_headers: tuple[str, ...]  # header names as the file writes them, lower case
    dynamic: bool  # holds a {{$...}} system variable: values are compared by shape


def materialize(target: Path, port: int) -> list[Request]:
    """Copy the corpus into ``target`` with the echo server's address; its requests in order."""
    requests = []
    for source in sorted(CORPUS.glob("*.http")):
        text = source.read_text(encoding="utf-8")
        text = text.replace("echo.invalid", f"127.0.0.1:{port}")
        text = text.replace("ECHO_HOST", "127.0.0.1").replace("ECHO_PORT", str(port))
        (target / source.name).write_text(text, encoding="utf-8")
        requests += _requests(source.name, text)
    return requests


def _requests(file: str, text: str) -> list[Request]:
    out = []
    blocks = re.split(r"^###.*$", text, flags=re.MULTILINE)
    for block in blocks:
        found = _NAME.search(block)
        if found is None:
            continue
        out.append(Request(file, found.group(1), _written(block), "{{$" in block))
    return out


def _written(block: str) -> tuple[str, ...]:
    """The header names of a block: the lines after the request line up to the first blank."""
    names: list[str] = []
    lines = [line for line in block.split("\n") if not line.lstrip().startswith(("#", "//"))]
    lines = [line for line in lines if not line.lstrip().startswith("@")]
    while lines and not lines[0].strip():
        lines.pop(0)
    for line in lines[1:]:
        if not line.strip():
            break
        if line[:1] in (" ", "\t"):
            continue  # a continued target or query line
        match = _HEADER.fullmatch(line.strip())
        if match:
            names.append(match.group(1).lower())
    return tuple(names)


_VALUE = re.compile(r"[\w.:+%-]+")


def _shape(text: str) -> str:
    """A system variable's value varies: compare its shape (a run of word characters is one)."""
    return _VALUE.sub("w", text)


def seen(arrived: Arrived, request: Request) -> dict[str, object]:
    """What the comparison looks at: method, path (decoded but for %2F), decoded query, the
    headers written in the file, and the body bytes."""
    parts = urlsplit(arrived.target)
    path = unquote(parts.path.replace("%2F", "%252F").replace("%2f", "%252F"))
    query = parse_qsl(parts.query, keep_blank_values=True)
    headers = {name: arrived.header(name) for name in request.written_headers}
    body = arrived.body
    if request.dynamic:
        query = [(k, _shape(v)) for k, v in query]
        headers = {k: _shape(v) if v is not None else None for k, v in headers.items()}
        body = _shape(body.decode("utf-8", "replace")).encode()
    return {
        "method": arrived.method,
        "path": path,
        "query": query,
        "headers": headers,
        "body": body,
    }
