"""Reading an API description: a file, a URL or a dict, with every ``$ref`` resolved.

Why our own resolver rather than a library: completion must work without the ``openapi``
extra, and it only needs to follow ``$ref`` chains to parameters, bodies and schemas. Schema
validation (``_validate.py``) hands the same documents to ``referencing`` when it is installed.

Every file the description refers to is read up front, so a broken reference is found at load
time (one warning) rather than in the middle of a completion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from ...errors import DescriptionError

MAX_BYTES = 25_000_000  # a description bigger than this is refused (the largest seen: ~5 MB)
Reader = Callable[[str], bytes]  # URL -> the file's bytes, or DescriptionError
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")  # ftp://..., s3://...: not a file name


class Documents:
    """Every file of one description, by URI, and ``$ref`` lookup across them.

    ``root_uri`` is the description's own URI (``file:///...`` or ``https://...``); a ``$ref``
    is resolved against the URI of the file that holds it, as JSON Reference says.
    """

    def __init__(self, root_uri: str, root: Any, read: Reader) -> None:
        self.root_uri = root_uri
        self.files: dict[str, Any] = {root_uri: root}
        self._read = read

    @property
    def root(self) -> Any:
        return self.files[self.root_uri]

    def load_all(self) -> None:
        """Read every file reachable through ``$ref``s and check each pointer resolves."""
        pending = [self.root_uri]
        checked: set[str] = set()
        while pending:
            uri = pending.pop()
            if uri in checked:
                continue
            checked.add(uri)
            for ref in _refs(self.files[uri]):
                target, _ = urldefrag(urljoin(uri, ref))
                if target and target not in self.files:
                    self.files[target] = parse(self._read(target), target)
                pending.append(target or uri)
                self.lookup(urljoin(uri, ref))

    def lookup(self, uri: str) -> Any:
        """The node a full reference URI (``file.json#/a/b``) points at."""
        base, fragment = urldefrag(uri)
        document = self.files.get(base)
        if document is None:
            document = self.files[base] = parse(self._read(base), base)
        return _pointer(document, fragment, uri)


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` string in a document, without recursion (descriptions can be deep)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _pointer(document: Any, fragment: str, uri: str) -> Any:
    """RFC 6901: ``/components/schemas/Meter`` in ``document``."""
    node = document
    if not fragment:
        return node
    if not fragment.startswith("/"):
        raise DescriptionError(f"{uri}: only JSON pointers (#/...) are supported in $ref.")
    for raw in fragment[1:].split("/"):
        key = unquote(raw).replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise DescriptionError(f"$ref {uri} points at nothing (no {key!r}).") from None
    return node


def parse(data: bytes, uri: str) -> Any:
    """JSON (or YAML, when PyYAML is installed and the file is not JSON) -> Python."""
    if len(data) > MAX_BYTES:
        raise DescriptionError(
            f"{uri} is {len(data) / 1e6:.0f} MB, over the {MAX_BYTES / 1e6:.0f} MB ue-magic reads."
        )
    try:
        return json.loads(data)
    except RecursionError:
        raise DescriptionError(f"{uri} is nested too deeply to read.") from None
    except ValueError as exc:
        json_error = exc
    try:
        import yaml
    except ImportError:
        raise DescriptionError(f"{uri} is not JSON ({_short(json_error)}).") from None
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError:
        raise DescriptionError(f"{uri} is neither JSON nor YAML ({_short(json_error)}).") from None


def _short(error: Exception) -> str:
    return str(error).split("\n")[0][:120]


def file_uri(path: str | Path) -> str:
    return Path(path).expanduser().resolve().as_uri()


def read_file(uri: str) -> bytes:
    """The bytes of a ``file:`` URI, or a DescriptionError that names it."""
    path = Path(unquote(urlsplit(uri).path))
    try:
        if path.exists() and not path.is_file():  # a device or a pipe could be read forever
            raise DescriptionError(f"{path} is not a regular file; name the openapi.json itself.")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise DescriptionError(
                f"{path} is {size / 1e6:.0f} MB, over the {MAX_BYTES / 1e6:.0f} MB ue-magic reads."
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise DescriptionError(f"{path} does not exist; check the path.") from None
    except OSError as exc:
        raise DescriptionError(f"{path} cannot be read ({type(exc).__name__}).") from None


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def shown_url(url: str) -> str:
    """A URL as messages show it: no ``user:password@``, and ``?…`` for a query (a signed
    URL's signature, say), as the client's own messages leave a request's query out."""
    if not is_url(url):
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" + ("?…" if parts.query else "")
