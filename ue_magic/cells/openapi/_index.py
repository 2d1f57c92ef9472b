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
_CLOSEST_CHARS = 200  # of a path compared for "closest": enough to tell, and bounded
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")  # a {{name}} the user has not filled in yet


class SegmentMatcher:
    """One templated path segment (``{a}.{b}z``): literal parts with a variable of one or more
    characters between them, matched without backtracking.

    A regex such as ``[^/]+[^/]+...z`` backtracks (16 variables in one segment took minutes);
    here each literal part is found at its leftmost place after the last, which is enough for
    wildcards, so a match costs one pass over the typed segment per literal part.
    """

    __slots__ = ("gaps", "parts")

    def __init__(self, segment: str) -> None:
        parts: list[str] = []
        gaps: list[int] = []
        last = 0
        for match in _VARIABLE.finditer(segment):
            literal = segment[last : match.start()]
            if parts and not literal:  # {a}{b}: one wildcard of at least two characters
                gaps[-1] += 1
            else:
                parts.append(literal)
                gaps.append(1)
            last = match.end()
        parts.append(segment[last:])
        self.parts: tuple[str, ...] = tuple(parts)  # literal texts around the variables
        self.gaps: tuple[int, ...] = tuple(gaps)  # at least that many characters between them

    def fullmatch(self, typed: str) -> bool:
        if not self.gaps:  # no variable: the text itself
            return typed == self.parts[0]
        first, last = self.parts[0], self.parts[-1]
        if not typed.startswith(first):
            return False
        at = len(first)
        end = len(typed) - len(last)
        if end < at or not typed.endswith(last):
            return False
        for gap, literal in zip(self.gaps[:-1], self.parts[1:-1], strict=True):
            found = typed.find(literal, at + gap, end)
            if found == -1:
                return False
            at = found + len(literal)
        return end - at >= self.gaps[-1]


@dataclass(frozen=True)
class PathEntry:
    """One path template and the operations on it, by method."""

    template: str
    segments: tuple[str, ...]
    matchers: tuple[SegmentMatcher | None, ...]  # None: a literal segment
    literal: int  # characters outside {variables}: more is more specific
    methods: dict[str, Operation]

    def segment_matches(self, position: int, typed: str) -> bool:
        """Whether a typed segment fits the template's segment at ``position``."""
        matcher = self.matchers[position]
        if matcher is None:
            return typed == self.segments[position]
        return matcher.fullmatch(typed) or typed.startswith("{{")


def _segment_matcher(segment: str, cache: dict[str, SegmentMatcher]) -> SegmentMatcher | None:
    if "{" not in segment or _VARIABLE.search(segment) is None:
        return None
    matcher = cache.get(segment)
    if matcher is None:
        matcher = cache[segment] = SegmentMatcher(segment)
    return matcher


def request_path(path: str) -> str:
    """The path part of what a user typed: no scheme, host, query or fragment; a leading /."""
    path = _PLACEHOLDER.sub("x", path.strip())
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    return "/" + unquote(path).lstrip("/")


class OperationIndex:
    """The operations of a description, by path template, for matching and completion."""

    def __init__(self, operations: Iterable[Operation], base_path: str = "") -> None:
        self.base_path = base_path  # the API URL's path: what a full URL typed has before ours
        by_path: dict[str, dict[str, Operation]] = {}
        for op in operations:
            by_path.setdefault(op.path, {})[op.method] = op
        cache: dict[str, SegmentMatcher] = {}
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
        """The most specific path template that ``path`` matches, or None. A full URL's path
        is taken below the API URL's (``https://host/v2/animal`` is ``/animal`` there)."""
        full = "://" in path
        path = request_path(path)
        if full and self.base_path and path.startswith(self.base_path + "/"):
            path = path[len(self.base_path) :]
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

    def closest(self, method: str, path: str, *, sending: bool = True) -> str:
        """A warning for a request the description does not have, naming the closest one;
        ``sending=False`` (``%ue_api``, which sends nothing) leaves out "sending anyway"."""
        method, path = method.upper(), request_path(path)
        tail = "; sending anyway." if sending else "."
        entry = self.entry(path)
        if entry is not None:
            have = ", ".join(entry.methods)
            return (
                f"The API description has no {method} {entry.template} (it has {have} there)" + tail
            )
        wanted = f"{method} {path[:200]}" + ("…" if len(path) > 200 else "")
        compared = path[:_CLOSEST_CHARS]  # difflib is quadratic in the length
        best, best_score = "", 0.0
        for entry in self.entries:
            matcher = difflib.SequenceMatcher(None, compared, entry.template[:_CLOSEST_CHARS])
            if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
                continue
            ratio = matcher.ratio()
            if ratio < 0.6:
                continue
            for m in entry.methods:
                score = ratio + (0.1 if m == method else 0.0)
                if score > best_score:
                    best, best_score = f"{m} {entry.template}", score
        hint = f"; closest: {best}" if best else ""
        return f"The API description has no {wanted}{hint}" + (
            ". Sending anyway." if sending else "."
        )
