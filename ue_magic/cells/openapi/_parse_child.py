"""Reading a description's text (JSON, or YAML when PyYAML is installed), in a child process.

Run as a script (``python -I -S _parse_child.py LIMIT YAML_BYTES PATH...``: the kernel's
recursion limit, its ``YAML_PURE_BYTES`` and ``sys.path``, so that it reads as the kernel would,
without running .pth files): the text on stdin, the value on stdout in pieces.

Why a child process: ``json.loads`` of a 20 MB description holds the GIL for its whole parse (0.3
to 0.8 s), and freeing a 20 MB YAML parse's node tree holds it for seconds, so a Tab pressed
meanwhile waits as long. Here they hold the child's GIL. The value comes back as ``pickle``
records of at most ``PIECE`` values each, so the kernel rebuilds it in steps short enough for a
Tab to run between them, whatever the shape (100,000 paths or one array of 4,000,000 strings).
Standard library (and PyYAML) only: it does not import ue-magic.

Each record is its length (4 bytes, big-endian) and ``pickle.dumps(record)`` (pickle, not
marshal: YAML gives dates, sets and bytes too; the records come from this code, never from the
text, which only gives values): ``("parsed",
kind, text)`` for a text that is not read (see ``parse_text``); ``("all", value)``; ``("shell",
parent, key, is_dict)`` (a container too big for one piece, numbered in order from 0);
``("items", container, entries)`` (key-value pairs of a dict, or values of a list); ``("end",)``.
"""

from __future__ import annotations

import gc
import json
import math
import pickle
import re
import sys
from collections.abc import Iterator
from typing import Any

PIECE = 10_000  # values per record: a few ms to rebuild
# YAML aliases (``*a``) share a node; walked as a tree, nine levels of ten aliases are 10**9
# values from a few hundred bytes, and a list of aliases of one long string as many characters.
# A file may expand to at most this many values and characters more than it holds (a value or a
# character takes at least a byte of text): real descriptions use a handful of anchors; a bomb
# is refused when parsed.
MAX_ALIAS_VALUES = 1_000_000
# A number a float cannot hold is read as an infinity: 1e308 and over, or 309 digits and more
# before the point (``1000…0.0``, no exponent). Text with neither holds no such number.
_MAYBE_HUGE = re.compile(rb"[eE]\+?0*[1-9][0-9]{2,}|[0-9]{309}")
TOO_MANY_DIGITS = "Exceeds the limit"
# YAML PyYAML reads without libyaml: about 8 s of CPU a MB (a 13.5 MB file took it 205 s)
YAML_PURE_BYTES = 2_000_000  # Python's limit on int("..."), for every parse
Parsed = tuple[str, Any]
"""``("ok", value)``, or why the text is not read: ``("deep", "")``, ``("constant", "NaN")``
(NaN or an infinity, in JSON or YAML), ``("digits", "")`` (an integer too long for Python),
``("aliases", "")``, ``("pure yaml", "")`` (YAML over ``pure_yaml_bytes`` without libyaml),
``("huge", "")`` (a JSON number over a float's range),
``("not json", why)`` (no PyYAML), ``("neither", why JSON failed)``,
``("yaml", why)`` (YAML that Python cannot hold)."""


def parse_text(data: bytes, pure_yaml_bytes: int = YAML_PURE_BYTES) -> Parsed:
    """JSON, else YAML (when PyYAML is installed) -> ``Parsed``. YAML's ``.nan`` and ``.inf``
    are refused as JSON's ``NaN`` and ``Infinity`` are: neither is a JSON value, so a schema or
    an example holding one could not be sent or checked as JSON."""
    try:
        document = json.loads(data, parse_constant=_no_constant)
        # 1e999 (or 400 digits) is JSON, read as an infinity: refused, with its own reason
        if _MAYBE_HUGE.search(data) and _not_finite([document]):
            return "huge", ""
        return "ok", document
    except RecursionError:
        return "deep", ""
    except _NotJsonNumber as exc:
        return "constant", exc.args[0]
    except ValueError as exc:
        if TOO_MANY_DIGITS in str(exc):
            return "digits", ""
        json_error = _short(exc)
    try:
        import yaml
    except ImportError:
        return "not json", json_error
    loader = getattr(yaml, "CSafeLoader", None)  # libyaml, in PyYAML's wheels: 4 times as quick
    if loader is None:
        if len(data) > pure_yaml_bytes:
            return "pure yaml", ""
        loader = yaml.SafeLoader
    loader = _bounded(loader, len(data) + MAX_ALIAS_VALUES)
    try:
        document = yaml.load(data, Loader=loader)  # a safe loader (C or Python)
    except RecursionError:
        return "deep", ""
    except _TooManyMerged:
        return "aliases", ""
    except yaml.YAMLError:
        return "neither", json_error
    except ValueError as exc:
        if TOO_MANY_DIGITS in str(exc):
            return "digits", ""
        return "yaml", _short(exc)
    if isinstance(document, (dict, list)):
        if b"*" in data:  # no alias, nothing shared
            held = len(data)  # a value takes at least a byte of text: at most this many
            if expanded_size(document, held + MAX_ALIAS_VALUES) > held + MAX_ALIAS_VALUES:
                return "aliases", ""
        constant = _not_finite(document)
        if constant:
            return _infinite(constant, data)
    elif isinstance(document, float) and _not_finite([document]):
        return _infinite(_not_finite([document]), data)
    return "ok", document


def _infinite(constant: str, data: bytes) -> Parsed:
    """YAML's ``.inf`` is a constant JSON lacks; ``1e999`` is a number too large: each
    refused with its own reason."""
    if constant != "NaN" and _MAYBE_HUGE.search(data):
        return "huge", ""
    return "constant", constant


def _not_finite(document: Any) -> str:
    """The first NaN or infinity (as JSON spells it) among the values and keys, or ""; each
    shared node walked once."""
    stack = [document]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        values = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        for value in values:
            if isinstance(value, float) and not math.isfinite(value):
                return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            if isinstance(value, (dict, list)):
                stack.append(value)
    return ""


def _weight(value: Any) -> int:
    """A scalar's share of the size: one, and a text's characters (``*s`` of a long string
    repeats all of them wherever the value is written out)."""
    return 1 + len(value) if isinstance(value, str) else 1


def expanded_size(node: Any, limit: int) -> int:
    """How many values and characters of text (keys included) ``node`` holds when walked as a
    tree (shared nodes counted each time they are reached), or ``limit + 1`` as soon as that is
    over ``limit``. Counts each shared node once (memoised), so a bomb is measured in the time of
    its text; a node that contains itself counts as over the limit."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        item, done = stack.pop()
        key = id(item)
        if done:
            children = item.values() if isinstance(item, dict) else item
            total = 1 + (sum(map(_weight, item)) if isinstance(item, dict) else 0)
            for child in children:
                total += (
                    sizes.get(id(child), 1) if isinstance(child, (dict, list)) else _weight(child)
                )
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


class _NotJsonNumber(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON (RFC 8259) has none."""


MAX_INT_TEXT = 4_300  # characters of a YAML integer: Python's limit on int("...") in base 10


class _TooManyMerged(Exception):
    """Merge keys (``<<: *a``) copy more pairs than the alias budget allows."""


def _bounded(loader: Any, budget: int) -> Any:
    """``loader`` with YAML integers bounded by their text, in every base: ``0xfff…`` passed
    Python's limit (it counts base 10 only), and YAML 1.1's base 60 (``1:1:…:1``) costs time
    quadratic in its length (0.88 MB took 54 s); and with merge keys (``<<: *a``) bounded:
    PyYAML copies the merged pairs into each mapping as it builds it, before ``expanded_size``
    can look (one anchor of 5,000 keys merged 5,000 times: 138 KB, 50 s and 850 MB). The pairs
    merged in all, and their keys' and scalar values' characters (``expanded_size``'s weights),
    may come to ``budget``; past it, _TooManyMerged, before the next mapping is built."""
    import yaml

    class Bounded(loader):
        merged = 0

        def flatten_mapping(self, node: Any) -> None:
            own = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
            # the work of merging, before PyYAML drops the keys merged twice: ``<<: [*a] * N``
            # merges N times what ``a`` holds, however few pairs are left
            for key, value in node.value:
                if key.tag == "tag:yaml.org,2002:merge":
                    parts = value.value if isinstance(value, yaml.SequenceNode) else [value]
                    for part in parts:  # a mapping's pairs, each time it is merged
                        self.merged += len(part.value) if isinstance(part.value, list) else 1
                    if self.merged > budget:
                        raise _TooManyMerged
            super().flatten_mapping(node)
            for key, value in node.value[: len(node.value) - own]:  # the merged pairs, first
                self.merged += _node_weight(key) + _node_weight(value)
            if self.merged > budget:
                raise _TooManyMerged

    def integer(constructor: Any, node: Any) -> Any:
        if len(str(node.value)) > MAX_INT_TEXT:
            raise ValueError(TOO_MANY_DIGITS)
        return yaml.SafeLoader.construct_yaml_int(constructor, node)

    Bounded.add_constructor("tag:yaml.org,2002:int", integer)
    return Bounded


def _node_weight(node: Any) -> int:
    """A YAML node's share of ``expanded_size``: one, and a scalar's characters (a container
    merged is shared, and counted by ``expanded_size`` once it is built)."""
    value = node.value
    return 1 + len(value) if isinstance(value, str) else 1


def _no_constant(name: str) -> Any:
    raise _NotJsonNumber(name)


def _short(error: Exception) -> str:
    return str(error).split("\n")[0][:120]


def _sizes(document: Any) -> dict[int, int]:
    """Values each container holds, itself included (a shared YAML node counted each time
    it is reached: ``parse_text`` bounds that). Recursive: four times quicker than a stack
    here, and Python calls use no C stack (3.11+)."""
    sizes: dict[int, int] = {}
    kinds = (dict, list)

    def size(node: Any) -> int:
        total = 1
        for child in node.values() if node.__class__ is dict else node:
            total += size(child) if child.__class__ in kinds else 1
        sizes[id(node)] = total
        return total

    size(document)
    return sizes


def records(document: Any, piece: int = PIECE) -> Iterator[tuple[Any, ...]]:
    """``document`` as records (see the module's docstring), in the order they rebuild it."""
    if not isinstance(document, (dict, list)):
        yield ("all", document)
        return
    sizes = _sizes(document)
    if sizes[id(document)] <= piece:
        yield ("all", document)
        return
    yield ("shell", -1, None, isinstance(document, dict))
    shells = 1
    stack: list[tuple[int, bool, Iterator[tuple[Any, Any]]]] = [
        (0, isinstance(document, dict), _entries(document))
    ]
    while stack:
        number, is_dict, entries = stack[-1]
        batch: list[Any] = []
        weight = 0
        for key, child in entries:
            size = sizes[id(child)] if isinstance(child, (dict, list)) else 1
            if size > piece:
                if batch:
                    yield ("items", number, batch)
                yield ("shell", number, key, isinstance(child, dict))
                stack.append((shells, isinstance(child, dict), _entries(child)))
                shells += 1
                break
            batch.append((key, child) if is_dict else child)
            weight += size
            if weight >= piece:
                yield ("items", number, batch)
                batch, weight = [], 0
        else:
            if batch:
                yield ("items", number, batch)
            stack.pop()
    yield ("end",)


def _entries(node: Any) -> Iterator[tuple[Any, Any]]:
    return iter(node.items()) if isinstance(node, dict) else ((None, v) for v in node)


def _write(out: Any, record: tuple[Any, ...]) -> None:
    blob = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
    out.write(len(blob).to_bytes(4, "big"))
    out.write(blob)


def main() -> None:
    gc.disable()  # nothing here makes cycles; a collection would only walk the value again
    sys.setrecursionlimit(int(sys.argv[1]))  # the kernel's: a value nested as deep reads the same
    sys.path[:] = sys.argv[3:]  # the kernel's: the same PyYAML, or none
    out = sys.stdout.buffer
    kind, found = parse_text(sys.stdin.buffer.read(), int(sys.argv[2]))
    if kind != "ok":
        _write(out, ("parsed", kind, found))
        return
    # the walk of ``_sizes``: as deep as the parse (3.10's Python calls use the C stack)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 100 if sys.version_info < (3, 11) else max(limit, 100_000))
    try:
        for record in records(found):
            _write(out, record)
    except (ValueError, RecursionError, pickle.PicklingError):  # the kernel parses it then
        sys.exit(3)
    out.flush()


if __name__ == "__main__":
    main()
