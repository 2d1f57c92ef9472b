"""Which operation a request is: templated-path matching, and the closest one when none is.

``/usage-metering/v1/meters/abc`` matches ``/usage-metering/v1/meters/{id}``; where two
templates match, the one with more literal characters wins (``/meters/search`` over
``/meters/{id}``), as OpenAPI says concrete paths come first.

Templated siblings (``/{a}.json``, ``/{b}.json``, ...) are grouped by their shape (the segment
with its variables' names left out) and found by their leading literal text, so a typed segment
is compared with each shape once, not with each sibling; past ``MATCH_BUDGET`` comparisons for
one path, ``TooManyTemplates``: the request goes out unchecked, a Tab offers nothing.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ...core._visible import visible
from ...errors import DescriptionError
from ._operation import Operation

_VARIABLE = re.compile(r"\{[^{}/]*\}")
_CLOSEST_CHARS = 200  # of a path compared for "closest": enough to tell, and bounded
CLOSEST_CANDIDATES = 500  # templates compared for "closest": those nearest in the path tree
_VISITS = 8 * CLOSEST_CANDIDATES  # tree nodes visited to find them
_CLOSEST_CACHE = 256  # hints kept: a loop sending to a path the description lacks asks again
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")  # a {{name}} the user has not filled in yet
MATCH_BUDGET = 2_000  # templated segment shapes compared for one path (about 1 µs each)
_WIDE = 1_000  # a node with this many children has them sorted once the index is built


class TooManyTemplates(DescriptionError):
    """Matching one path would compare it with more than ``MATCH_BUDGET`` template shapes."""


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
    """The segment's matcher, one per shape (``{a}.json`` and ``{b}.json`` share one)."""
    if "{" not in segment or _VARIABLE.search(segment) is None:
        return None
    shape = _VARIABLE.sub("{}", segment)
    matcher = cache.get(shape)
    if matcher is None:
        matcher = cache[shape] = SegmentMatcher(segment)
    return matcher


def _nearest_children(node: PathNode, segment: str) -> Iterator[PathNode]:
    """``node``'s children, those whose segment starts with more of ``segment`` (lower case)
    first."""
    seen: set[str] = set()
    for length in range(min(len(segment), 40), -1, -1):
        for child in node.by_prefix(segment[:length]):
            if child not in seen:
                seen.add(child)
                yield node.children[child]


def request_path(path: str) -> str:
    """The path part of what a user typed: no scheme, host, query or fragment; a leading /."""
    path = _PLACEHOLDER.sub("x", path.strip())
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    return "/" + unquote(path).lstrip("/")


MAX_LIVE = 1000  # path-tree nodes followed at once: templates that all match a typed segment


class PathNode:
    """One segment of the path tree: its children by segment text (literal or ``{id}``), the
    templated ones again with their matchers, the entry that ends here, and every method
    found at or below it. Matching and completion follow the tree from the root, so their
    cost grows with the typed path, not with the number of operations."""

    __slots__ = (
        "_by_first",
        "_by_method",
        "_first_lengths",
        "_sorted",
        "children",
        "entry",
        "methods_below",
        "order",
        "templated",
    )

    def __init__(self) -> None:
        self.children: dict[str, PathNode] = {}
        # the templated children by shape; the shapes by their leading literal text
        self.templated: dict[SegmentMatcher, list[PathNode]] = {}
        self._by_first: dict[str, list[SegmentMatcher]] = {}
        self._first_lengths: list[int] = []  # sorted: the lengths of those leading texts
        self.entry: PathEntry | None = None
        self.order = 0  # the entry's place in the description (first wins a tie)
        self.methods_below: set[str] = set()
        self._sorted: list[tuple[str, str]] | None = None
        self._by_method: dict[str, list[tuple[str, str]]] = {}  # those with the method below

    def add_templated(self, matcher: SegmentMatcher, child: PathNode) -> None:
        children = self.templated.get(matcher)
        if children is None:
            children = self.templated[matcher] = []
            first = matcher.parts[0]
            self._by_first.setdefault(first, []).append(matcher)
            at = bisect.bisect_left(self._first_lengths, len(first))
            if self._first_lengths[at : at + 1] != [len(first)]:
                self._first_lengths.insert(at, len(first))
        children.append(child)

    def matching(self, segment: str, budget: list[int]) -> Iterator[PathNode]:
        """The templated children that ``segment`` fits (all of them for a ``{{name}}``);
        each shape compared takes one from ``budget[0]``: TooManyTemplates past it."""
        if segment.startswith("{{"):
            for children in self.templated.values():
                yield from children
            return
        for length in self._first_lengths:
            if length > len(segment):
                break
            for matcher in self._by_first.get(segment[:length], ()):
                budget[0] -= 1
                if budget[0] < 0:
                    raise TooManyTemplates(
                        f"over {MATCH_BUDGET:,} templated path segments to compare one path with"
                    )
                if matcher.fullmatch(segment):
                    yield from self.templated[matcher]

    def by_prefix(self, prefix: str, method: str | None = None) -> Iterator[str]:
        """Child segments whose lower case starts with ``prefix`` (lower case), in that order;
        with ``method``, only those with that method at or below them (``HEAD``: ``GET`` too),
        found in a list of their own: a Tab for a method few children have does not walk past
        every other child (300,000 of them took 0.2 s a Tab)."""
        if self._sorted is None:
            self._sort()
        rows = self._sorted if method is None else self._by_method.get(method, [])
        assert rows is not None
        at = bisect.bisect_left(rows, (prefix, ""))
        while at < len(rows) and rows[at][0].startswith(prefix):
            yield rows[at][1]
            at += 1

    def _sort(self) -> None:
        rows = sorted((segment.lower(), segment) for segment in self.children)
        by_method: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            below = self.children[row[1]].methods_below
            for method in below:
                by_method.setdefault(method, []).append(row)
            if "GET" in below and "HEAD" not in below:
                by_method.setdefault("HEAD", []).append(row)
        self._by_method = by_method  # before _sorted: another thread reads _sorted first
        self._sorted = rows


class OperationIndex:
    """The operations of a description, by path template, for matching and completion."""

    def __init__(self, operations: Iterable[Operation], base_path: str = "") -> None:
        self.base_path = base_path  # the API URL's path: what a full URL typed has before ours
        by_path: dict[str, dict[str, Operation]] = {}
        for op in operations:
            by_path.setdefault(op.path, {})[op.method] = op
        cache: dict[str, SegmentMatcher] = {}
        self.entries: list[PathEntry] = []
        self.root = PathNode()
        self._wide: list[PathNode] = []
        for template, methods in by_path.items():
            segments = tuple(template.split("/")[1:])
            entry = PathEntry(
                template,
                segments,
                tuple(_segment_matcher(s, cache) for s in segments),
                len(_VARIABLE.sub("", template)),
                methods,
            )
            self._add(entry, len(self.entries))
            self.entries.append(entry)
        for node in self._wide:  # sorted now, in the load's thread, not at a Tab
            next(node.by_prefix("\uffff"), None)
        self._exact = {entry.template: entry for entry in self.entries}
        self._closest: dict[tuple[str, str, bool, bool], str] = {}

    def _add(self, entry: PathEntry, order: int) -> None:
        node = self.root
        for segment, matcher in zip(entry.segments, entry.matchers, strict=True):
            child = node.children.get(segment)
            if child is None:
                child = node.children[segment] = PathNode()
                if matcher is not None:
                    node.add_templated(matcher, child)
                if len(node.children) == _WIDE:
                    self._wide.append(node)
            node = child
            node.methods_below.update(entry.methods)
        if node.entry is None:
            node.entry, node.order = entry, order

    def nodes(self, typed: Sequence[str]) -> list[PathNode]:
        """The tree nodes that the typed segments lead to (at most MAX_LIVE at each step).
        Raises TooManyTemplates, as ``entry`` and ``match`` do."""
        return self._trail(typed)[-1] if typed else [self.root]

    def _trail(self, typed: Sequence[str]) -> list[list[PathNode]]:
        """The nodes each typed segment leads to, from the root, as far as any lead: the
        last list is empty when the whole path does not. Raises TooManyTemplates."""
        trail = [[self.root]]
        live = trail[0]
        budget = [MATCH_BUDGET]
        for segment in typed:
            following: dict[int, PathNode] = {}
            for node in live:
                literal = node.children.get(segment)
                if literal is not None:
                    following[id(literal)] = literal
                if len(following) >= MAX_LIVE:
                    break
                for child in node.matching(segment, budget):
                    following[id(child)] = child
                    if len(following) >= MAX_LIVE:
                        break
            live = list(following.values())[:MAX_LIVE]
            trail.append(live)
            if not live:
                break
        return trail

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
        ended = [node for node in self.nodes(path.split("/")[1:]) if node.entry is not None]
        if not ended:
            return None
        best = max(ended, key=lambda node: (node.entry.literal, -node.order))  # type: ignore[union-attr]
        return best.entry

    def match(self, method: str, path: str) -> Operation | None:
        """The operation for ``METHOD path``, or None when the description has no such one."""
        entry = self.entry(path)
        if entry is None:
            return None
        method = method.upper()
        return entry.methods.get(method) or (entry.methods.get("GET") if method == "HEAD" else None)

    def closest(self, method: str, path: str, *, sending: bool = True, hint: bool = True) -> str:
        """A warning for a request the description does not have, naming the closest one;
        ``sending=False`` (``%ue_api``, which sends nothing) leaves out "sending anyway";
        ``hint=False`` (``--no-validate``) leaves out the closest one."""
        method, path = method.upper(), request_path(path)
        key = (method, path, sending, hint)
        warning = self._closest.get(key)
        if warning is None:
            if len(self._closest) >= _CLOSEST_CACHE:
                self._closest.clear()
            warning = self._closest[key] = self._warning(method, path, sending, hint)
        return warning

    def _candidates(self, path: str) -> list[PathEntry]:
        """At most CLOSEST_CANDIDATES templates to compare with ``path``: all of a small
        description; of a large one, those below the deepest tree nodes the path leads to,
        children that share the most leading characters with the next typed segment first
        (100,000 paths compared one by one took 8-20 s a call). At most ``_VISITS`` nodes."""
        if len(self.entries) <= CLOSEST_CANDIDATES:
            return self.entries
        typed = path.split("/")[1:]
        found: dict[int, tuple[int, PathEntry]] = {}
        visits = _VISITS
        trail = self._trail(typed)
        for depth in range(len(trail) - 1, -1, -1):
            following = typed[depth].lower() if depth < len(typed) else ""
            for start in trail[depth]:
                if start.entry is not None:
                    found.setdefault(id(start.entry), (start.order, start.entry))
                stack: list[Iterator[PathNode]] = [_nearest_children(start, following)]
                while stack and len(found) < CLOSEST_CANDIDATES and visits > 0:
                    node = next(stack[-1], None)
                    if node is None:
                        stack.pop()
                        continue
                    visits -= 1
                    if node.entry is not None:
                        found.setdefault(id(node.entry), (node.order, node.entry))
                    stack.append(iter(node.children.values()))
            if len(found) >= CLOSEST_CANDIDATES or visits <= 0:
                break
        return [entry for _, entry in sorted(found.values(), key=lambda pair: pair[0])]

    def _warning(self, method: str, path: str, sending: bool, hint: bool) -> str:
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
        for entry in self._candidates(path) if hint else ():
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
        named = f"; closest: {visible(best, one_line=True)}" if best else ""  # its words
        return f"The API description has no {visible(wanted, one_line=True)}{named}" + (
            ". Sending anyway." if sending else "."
        )
