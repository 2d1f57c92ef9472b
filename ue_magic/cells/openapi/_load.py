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
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from ...errors import DescriptionError

MAX_BYTES = 25_000_000  # a description bigger than this is refused (the largest seen: ~5 MB)
Reader = Callable[[str], bytes]  # URL -> the file's bytes, or DescriptionError
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")  # ftp://..., s3://...: not a file name


MAX_FILES = 100  # files one description may refer to (each read is a request or a disk read)
# YAML aliases (``*a``) share a node; walked as a tree, nine levels of ten aliases are 10**9
# values from a few hundred bytes. A file may expand to at most this many values more than it
# holds: real descriptions use a handful of anchors; a bomb is refused when parsed.
MAX_ALIAS_VALUES = 1_000_000
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
                    data = self._read(target)
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


def expanded_size(node: Any, limit: int) -> int:
    """How many values ``node`` holds when walked as a tree (shared nodes counted each time
    they are reached), or ``limit + 1`` as soon as that is over ``limit``. Counts each shared
    node once (memoised), so a bomb is measured in the time of its text; a node that contains
    itself counts as over the limit."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        item, done = stack.pop()
        key = id(item)
        if done:
            children = item.values() if isinstance(item, dict) else item
            total = 1
            for child in children:
                total += sizes.get(id(child), 1) if isinstance(child, (dict, list)) else 1
                if total > limit:
                    return limit + 1
            sizes[key] = total
            busy.discard(key)
            continue
        if key in sizes:
            continue
        if key in busy:
            return limit + 1  # a node that holds itself: endless as a tree
        busy.add(key)
        stack.append((item, True))
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                if id(child) in busy:
                    return limit + 1
                if id(child) not in sizes:
                    stack.append((child, False))
    return sizes.get(id(node), 1)


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
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise DescriptionError(f"{uri} is nested too deeply to read.") from None
    except _NotJsonNumber as exc:
        raise DescriptionError(
            f"{uri} holds {exc.args[0]}, which JSON does not allow; ue-magic does not read it."
        ) from None
    except ValueError as exc:
        if _TOO_MANY_DIGITS in str(exc):  # Python's limit on int("..."), for every parse
            raise _too_many_digits(uri) from None
        json_error = exc
    try:
        import yaml
    except ImportError:
        raise DescriptionError(f"{uri} is not JSON ({_short(json_error)}).") from None
    loader = yaml_loader(yaml, len(data))
    if loader is None:
        raise DescriptionError(
            f"{uri} is YAML of {len(data) / 1e6:.1f} MB; without libyaml (PyYAML's C part) "
            f"ue-magic reads YAML of at most {YAML_PURE_BYTES / 1e6:g} MB: convert it to JSON."
        )
    try:
        document = yaml.load(data, Loader=loader)  # a safe loader (C or Python)
    except RecursionError:
        raise DescriptionError(f"{uri} is nested too deeply to read.") from None
    except yaml.YAMLError:
        raise DescriptionError(f"{uri} is neither JSON nor YAML ({_short(json_error)}).") from None
    except ValueError as exc:
        if _TOO_MANY_DIGITS in str(exc):
            raise _too_many_digits(uri) from None
        raise DescriptionError(f"{uri} cannot be read as YAML ({_short(exc)}).") from None
    if isinstance(document, (dict, list)) and b"*" in data:  # no alias, nothing shared
        held = len(data)  # a value takes at least a byte of text, so it holds at most this many
        if expanded_size(document, held + MAX_ALIAS_VALUES) > held + MAX_ALIAS_VALUES:
            raise DescriptionError(
                f"{uri}: its YAML aliases expand to over {MAX_ALIAS_VALUES:,} more values than "
                "it holds (or refer to themselves); ue-magic does not read it."
            )
    return document


YAML_PURE_BYTES = 2_000_000  # YAML PyYAML reads without libyaml: about 8 s of CPU a MB


def yaml_loader(yaml: Any, size: int) -> Any:
    """PyYAML's safe loader for ``size`` bytes of text: the C one (libyaml, in PyYAML's
    wheels) when there, four times as quick; else the pure-Python one, up to
    ``YAML_PURE_BYTES`` (a 13.5 MB file took it 205 s of CPU); None past that."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        return loader
    return yaml.SafeLoader if size <= YAML_PURE_BYTES else None


_TOO_MANY_DIGITS = "Exceeds the limit"


class _NotJsonNumber(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON (RFC 8259) has none."""


def _no_constant(name: str) -> Any:
    raise _NotJsonNumber(name)


def _too_many_digits(uri: str) -> DescriptionError:
    """Python reads an integer of at most ``sys.get_int_max_str_digits()`` digits (4,300); the
    limit is the process's, so it is not raised for one description: the description is not
    used (one warning), and requests go on."""
    return DescriptionError(
        f"{uri} holds an integer of over {sys.get_int_max_str_digits():,} digits; "
        "ue-magic does not read it."
    )


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
