"""Reading an API description: a file, a URL or a dict, with every ``$ref`` resolved.

Why our own resolver rather than a library: completion must work without the ``openapi``
extra, and it only needs to follow ``$ref`` chains to parameters, bodies and schemas. Schema
validation (``_validate.py``) hands the same documents to ``referencing`` when it is installed.

Every file the description refers to is read up front, so a broken reference is found at load
time (one warning) rather than in the middle of a completion.
"""

from __future__ import annotations

import contextvars
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from ...errors import DescriptionError
from ._parse_child import MAX_ALIAS_VALUES, YAML_PURE_BYTES, Parsed, parse_text

MAX_BYTES = 25_000_000  # a description bigger than this is refused (the largest seen: ~5 MB)
Reader = Callable[[str], bytes]  # URL -> the file's bytes, or DescriptionError
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")  # ftp://..., s3://...: not a file name
# while a ``$ref``'s file is read: the URI of the file that names it (a reader that sends
# credentials asks, so that a file from elsewhere cannot choose an authenticated request)
_REFERRER: contextvars.ContextVar[str | None] = contextvars.ContextVar("referrer", default=None)


def referrer() -> str | None:
    """The URI of the file whose ``$ref`` is being read now, or None (the description itself)."""
    return _REFERRER.get()


_CHILD = Path(__file__).with_name("_parse_child.py")
MAX_FILES = 100  # files one description may refer to (each read is a request or a disk read)
# What the files of one description hold in all, checked before each is parsed: Python holds a
# JSON value in 32-112 bytes (an empty object, from 3 bytes of text: 24 MB of ``[{},…]`` took
# 0.9 GB), so bytes alone do not bound memory. Values are counted from the text: each comma,
# ``{``, ``[`` and line (a YAML value); a 12.6 MB indented description of 960,000 counts held
# 47 MB, the worst shapes stay under ~300 MB.
MAX_TOTAL_BYTES = MAX_BYTES
MAX_VALUES = 2_500_000


class Budget:
    """The bytes and values left to the files of one description (``MAX_TOTAL_BYTES``,
    ``MAX_VALUES`` in all); ``take`` before a file is parsed."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.bytes = 0
        self.values = 0

    def take(self, data: bytes, shown: str) -> None:
        """Count ``data`` (the text of file ``shown``) in; DescriptionError past the budget."""
        self.bytes += len(data)
        self.values += values_at_most(data)
        whose = "" if shown == self.description else f" (with {shown})"
        if self.bytes > MAX_TOTAL_BYTES:
            raise DescriptionError(
                f"the files of {self.description} are over {MAX_TOTAL_BYTES / 1e6:.0f} MB in all"
                f"{whose}; ue-magic reads at most {MAX_TOTAL_BYTES / 1e6:.0f} MB a description."
            )
        if self.values > MAX_VALUES:
            raise DescriptionError(
                f"the files of {self.description} hold over {MAX_VALUES:,} JSON values in all"
                f"{whose}; ue-magic reads at most {MAX_VALUES:,} (each takes memory)."
            )


def values_at_most(data: bytes) -> int:
    """How many values the text may hold, counted without parsing it (over-counted where a
    string holds a comma or a bracket): commas, ``{``, ``[`` and newlines."""
    return data.count(b",") + data.count(b"{") + data.count(b"[") + data.count(b"\n")


class Documents:
    """Every file of one description, by URI, and ``$ref`` lookup across them.

    ``root_uri`` is the description's own URI (``file:///...`` or ``https://...``); a ``$ref``
    is resolved against the URI of the file that holds it, as JSON Reference says. A file read
    from a URL may refer to URLs only, at every depth (``_may_refer``).
    """

    def __init__(
        self, root_uri: str, root: Any, read: Reader, budget: Budget | None = None
    ) -> None:
        self.root_uri = root_uri
        self.files: dict[str, Any] = {root_uri: root}
        self._read = read
        self._budget = budget or Budget(_shown(root_uri))

    @property
    def root(self) -> Any:
        return self.files[self.root_uri]

    def load_all(self) -> None:
        """Read every file reachable through ``$ref``s and check each pointer resolves.

        Each file is walked once and each distinct ``$ref`` looked up once, so shared nodes
        and repeated references cost nothing more."""
        pending = [self.root_uri]
        checked: set[str] = set()
        while pending:
            uri = pending.pop()
            if uri in checked:
                continue
            checked.add(uri)
            for ref in set(_refs(self.files[uri])):
                full = urljoin(uri, ref)
                target, _ = urldefrag(full)
                if target and target not in self.files:
                    _may_refer(uri, target)
                    if len(self.files) >= MAX_FILES:
                        raise DescriptionError(
                            f"{_shown(self.root_uri)} refers to over {MAX_FILES} files; "
                            f"ue-magic reads at most {MAX_FILES}."
                        )
                    token = _REFERRER.set(uri)
                    try:
                        data = self._read(target)
                    finally:
                        _REFERRER.reset(token)
                    self._budget.take(data, _shown(target))
                    self.files[target] = parse(data, _shown(target))
                pending.append(target or uri)
                self.lookup(full)

    def lookup(self, uri: str) -> Any:
        """The node a full reference URI (``file.json#/a/b``) points at; every file was read
        by ``load_all``, so a lookup never reads (nor reaches a file it was not allowed)."""
        base, fragment = urldefrag(uri)
        document = self.files.get(base)
        if document is None:
            raise DescriptionError(f"$ref {_shown(uri)} names a file that was not read.")
        return _pointer(document, fragment, uri)


def _may_refer(referrer: str, target: str) -> None:
    """A file read from a URL may refer to URLs only: a remote file that names
    ``file:///.../.env`` must not make ue-magic read it, however deep the chain."""
    if not referrer.startswith("file:") and not is_url(target):
        raise DescriptionError(
            f"{_shown(referrer)} refers to {_shown(target)}: a description read from a URL may "
            "not refer to local files (at any depth)."
        )


def _shown(uri: str) -> str:
    return shown_url(uri) if is_url(uri) else uri


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` string in a document, each shared node once (YAML aliases share them),
    without recursion (descriptions can be deep)."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if id(item) in seen:
                continue
            seen.add(id(item))
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(v for v in item if isinstance(v, (dict, list)))


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
    """JSON (or YAML, when PyYAML is installed and the file is not JSON) -> Python; one
    megabyte or more is parsed in a child process (``parse_elsewhere``)."""
    if len(data) > MAX_BYTES:
        raise DescriptionError(
            f"{uri} is {len(data) / 1e6:.0f} MB, over the {MAX_BYTES / 1e6:.0f} MB ue-magic reads."
        )
    outcome = parse_elsewhere(data) if len(data) >= _child_bytes(data) else None
    kind, found = outcome or parse_text(data, YAML_PURE_BYTES)
    if kind == "ok":
        return found
    raise DescriptionError(
        _NOT_READ.get(kind, "{uri} cannot be read ({why}).").format(
            uri=uri,
            why=found,
            seconds=CHILD_SECONDS,
            digits=sys.get_int_max_str_digits(),
            aliases=MAX_ALIAS_VALUES,
            megabytes=len(data) / 1e6,
            pure=YAML_PURE_BYTES / 1e6,
        )
    )


_NOT_READ = {
    "deep": "{uri} is nested too deeply to read.",
    "constant": "{uri} holds {why}, which JSON does not allow; ue-magic does not read it.",
    # Python reads an integer of at most sys.get_int_max_str_digits() digits: the limit is the
    # process's, so it is not raised for one description (one warning, requests go on)
    "digits": "{uri} holds an integer of over {digits:,} digits; ue-magic does not read it.",
    "aliases": "{uri}: its YAML aliases expand to over {aliases:,} more values and characters "
    "than it holds "
    "(or refer to themselves); ue-magic does not read it.",
    "huge": "{uri} holds a number too large for a float (over 1.8e308); ue-magic does not read it.",
    "not json": "{uri} is not JSON ({why}).",
    "pure yaml": "{uri} is YAML of {megabytes:.1f} MB; without libyaml (PyYAML's C part) ue-magic "
    "reads YAML of at most {pure:g} MB: convert it to JSON.",
    "slow": "{uri} takes over {seconds:g} s to parse; ue-magic does not read it.",
    "neither": "{uri} is neither JSON nor YAML ({why}).",
    "yaml": "{uri} cannot be read as YAML ({why}).",
}
CHILD_BYTES = 1_000_000  # JSON this big is parsed in a child process (here: about 40 ms of GIL)
# YAML this big: PyYAML builds its values in Python, 10-20 times slower than json (break10: a
# Tab while 990 kB of YAML loaded in the kernel took 115-210 ms)
CHILD_BYTES_YAML = 100_000


def _child_bytes(data: bytes) -> int:
    """How big ``data`` must be to be parsed in a child: JSON starts with ``{`` or ``[``."""
    json = data.lstrip()[:1] in (b"{", b"[")
    return CHILD_BYTES if json else min(CHILD_BYTES, CHILD_BYTES_YAML)


CHILD_SECONDS = 120.0  # a child that takes longer is stopped: the text is not read


def parse_elsewhere(data: bytes) -> Parsed | None:
    """``parse_text(data)``, run in a child process and rebuilt here piece by piece, so that
    this process's GIL is never held for long (see ``_parse_child``); None when no child can
    run (a frozen app, no ``sys.executable``, a child that failed): the caller parses here."""
    if not sys.executable or getattr(sys, "frozen", False):
        return None
    paths = [p for p in sys.path if isinstance(p, str) and Path(p).is_absolute()]
    limits = [str(sys.getrecursionlimit()), str(YAML_PURE_BYTES)]
    command = [sys.executable, "-I", "-S", str(_CHILD), *limits, *paths]
    # the child needs no setting: none of the environment (a secret set there) is handed on
    env = {name: os.environ[name] for name in ("SYSTEMROOT", "PATH") if name in os.environ}
    try:
        done = subprocess.run(
            command,
            input=data,
            capture_output=True,
            timeout=CHILD_SECONDS,
            env=env,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),  # Windows: no console
        )
    except subprocess.TimeoutExpired:  # it would take as long here
        return "slow", ""
    except (OSError, subprocess.SubprocessError):
        return None
    return rebuild(done.stdout) if done.returncode == 0 else None


def rebuild(stream: bytes) -> Parsed | None:
    """The value ``_parse_child`` wrote as records, or None if they are not whole."""
    view = memoryview(stream)
    shells: list[Any] = []
    root: Any = None
    at = 0
    try:
        while at + 4 <= len(view):
            size = int.from_bytes(view[at : at + 4], "big")
            # our child's own records (``_parse_child``): one piece, a few ms at most
            record = pickle.loads(view[at + 4 : at + 4 + size])
            at += 4 + size
            kind = record[0]
            if kind == "parsed":
                return record[1], record[2]
            if kind == "all":
                return "ok", record[1]
            if kind == "end":
                return "ok", root
            if kind == "shell":
                _, parent, key, is_dict = record
                shell: Any = {} if is_dict else []
                if parent < 0:
                    root = shell
                elif isinstance(shells[parent], dict):
                    shells[parent][key] = shell
                else:
                    shells[parent].append(shell)
                shells.append(shell)
            elif kind == "items":
                target = shells[record[1]]
                if isinstance(target, dict):
                    target.update(record[2])
                else:
                    target.extend(record[2])
            else:
                return None
    except (EOFError, ValueError, TypeError, IndexError, KeyError, pickle.UnpicklingError):
        pass
    return None


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
