"""Which operation a request is: templated-path matching, and the closest one when none is.

``/usage-metering/v1/meters/abc`` matches ``/usage-metering/v1/meters/{id}``; where two
templates match, the one with more literal characters wins (``/meters/search`` over
``/meters/{id}``), as OpenAPI says concrete paths come first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ._operation import Operation

_VARIABLE = re.compile(r"\{[^{}/]*\}")
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")  # a {{name}} the user has not filled in yet


@dataclass(frozen=True)
class PathEntry:
    """One path template and the operations on it, by method."""

    template: str
    segments: tuple[str, ...]
    matchers: tuple[re.Pattern[str] | None, ...]  # None: a literal segment
    literal: int  # characters outside {variables}: more is more specific
    methods: dict[str, Operation]

    def segment_matches(self, position: int, typed: str) -> bool:
        """Whether a typed segment fits the template's segment at ``position``."""
        matcher = self.matchers[position]
        if matcher is None:
            return typed == self.segments[position]
        return matcher.fullmatch(typed) is not None or typed.startswith("{{")


def _segment_matcher(segment: str, cache: dict[str, re.Pattern[str]]) -> re.Pattern[str] | None:
    if "{" not in segment:
        return None
    pattern = cache.get(segment)
    if pattern is None:
        parts, last = [], 0
        for match in _VARIABLE.finditer(segment):
            parts += [re.escape(segment[last : match.start()]), "[^/]+"]
            last = match.end()
        parts.append(re.escape(segment[last:]))
        pattern = cache[segment] = re.compile("".join(parts))
    return pattern


def request_path(path: str) -> str:
    """The path part of what a user typed: no scheme, host, query or fragment; a leading /."""
    path = _PLACEHOLDER.sub("x", path.strip())
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    return "/" + unquote(path).lstrip("/")


class OperationIndex:
    """The operations of a description, by path template, for matching and completion."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        by_path: dict[str, dict[str, Operation]] = {}
        for op in operations:
            by_path.setdefault(op.path, {})[op.method] = op
        cache: dict[str, re.Pattern[str]] = {}
        self.entries: list[PathEntry] = []
        self._by_length: dict[int, list[PathEntry]] = {}
        for template, methods in by_path.items():
            segments = tuple(template.split("/")[1:])
            entry = PathEntry(
                template,
                segments,
                tuple(_segment_matcher(s, cache) for s in segments),
                len(_VARIABLE.sub("", template)),
                methods,
            )
            self.entries.append(entry)
            self._by_length.setdefault(len(segments), []).append(entry)
        self._exact = {entry.template: entry for entry in self.entries}

    def entry(self, path: str) -> PathEntry | None:
        """The most specific path template that ``path`` matches, or None."""
        path = request_path(path)
        exact = self._exact.get(path)
        if exact is not None:
            return exact
        typed = path.split("/")[1:]
        best: PathEntry | None = None
        for entry in self._by_length.get(len(typed), ()):
            if (best is None or entry.literal > best.literal) and all(
                entry.segment_matches(i, t) for i, t in enumerate(typed)
            ):
                best = entry
        return best

    def match(self, method: str, path: str) -> Operation | None:
        """The operation for ``METHOD path``, or None when the description has no such one."""
        entry = self.entry(path)
        if entry is None:
            return None
        method = method.upper()
        return entry.methods.get(method) or (entry.methods.get("GET") if method == "HEAD" else None)

    def closest(self, method: str, path: str) -> str:
        """A warning for a request the description does not have, naming the closest one."""
        method, path = method.upper(), request_path(path)
        entry = self.entry(path)
        if entry is not None:
            have = ", ".join(entry.methods)
            return (
                f"The API description has no {method} {entry.template} (it has {have} there); "
                "sending anyway."
            )
        wanted = f"{method} {path}"
        best, best_score = "", 0.0
        for entry in self.entries:
            ratio = difflib.SequenceMatcher(None, path, entry.template).ratio()
            if ratio < 0.6:
                continue
            for m in entry.methods:
                score = ratio + (0.1 if m == method else 0.0)
                if score > best_score:
                    best, best_score = f"{m} {entry.template}", score
        near = [best] if best else []
        hint = f"; closest: {near[0]}" if near else ""
        return f"The API description has no {wanted}{hint}. Sending anyway."
