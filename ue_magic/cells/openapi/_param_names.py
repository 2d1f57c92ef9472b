"""An operation's parameter names in one place (``query``, ``header``), sorted for a prefix
search, so that a Tab costs the names it offers, not all of them.

Sorting is the cost: 400,000 query names took 0.5 s, inside the first Tab. An operation with
``WARM_AT`` parameters or more has its names sorted in the description's load (its thread, at
login); a smaller one is sorted at its first Tab, which takes a millisecond or two. Operations
that share their parameters (a path item shared by ``$ref``) share the sorted names too.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Iterable

from ._operation import Operation, Parameter

WARM_AT = 2_000  # parameters of one operation: from there, sorted in the load, not at a Tab
_RECENT = 64  # sorted names of small operations kept for the next Tab
PLACES = ("query", "header")


class ParameterNames:
    """The names of ``parameters`` in one place, first of each name kept. Header names are
    matched ignoring case. Compact: the sorted keys and where each name's parameter is."""

    __slots__ = ("fold", "keys", "parameters", "where")

    def __init__(self, parameters: tuple[Parameter, ...], location: str) -> None:
        self.fold = location == "header"
        self.parameters = parameters
        first: dict[str, int] = {}
        for at, param in enumerate(parameters):
            if param.location == location:
                first.setdefault(param.name, at)
        ordered = sorted((self._key(name), at) for name, at in first.items())
        self.keys = [key for key, _ in ordered]
        self.where = array("q", [at for _, at in ordered])

    def _key(self, name: str) -> str:
        return name.lower() if self.fold else name

    def starting(self, prefix: str, most: int) -> list[tuple[str, str]]:
        """At most ``most`` names that start with ``prefix``, with their details (``required``
        or the start of the description), in the description's order when they are that few."""
        key = self._key(prefix)
        at = bisect.bisect_left(self.keys, key)
        found: list[int] = []
        while at < len(self.keys) and len(found) < most and self.keys[at].startswith(key):
            found.append(self.where[at])
            at += 1
        chosen = (self.parameters[i] for i in sorted(found))
        return [(p.name, "required" if p.required else p.description[:60]) for p in chosen]

    def named(self, name: str) -> Parameter | None:
        """The first parameter called ``name`` (any case for a header)."""
        key = self._key(name)
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            return self.parameters[self.where[at]]
        return None


class NameIndex:
    """The sorted names of a description's operations, by their parameters and place."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # by (id(parameters), place), the parameters kept alive so their id stays theirs
        self._warm: dict[tuple[int, str], tuple[tuple[Parameter, ...], ParameterNames]] = {}
        self._recent: dict[tuple[int, str], tuple[tuple[Parameter, ...], ParameterNames]] = {}

    def warm(self, operations: Iterable[Operation]) -> None:
        """Sort now the names of every operation with ``WARM_AT`` parameters or more."""
        for operation in operations:
            parameters = operation.parameters
            if len(parameters) < WARM_AT:
                continue
            for place in PLACES:
                key = (id(parameters), place)
                if key not in self._warm:
                    self._warm[key] = (parameters, ParameterNames(parameters, place))

    def of(self, operation: Operation, location: str) -> ParameterNames:
        parameters = operation.parameters
        key = (id(parameters), location)
        kept = self._warm.get(key) or self._recent.get(key)
        if kept is None or kept[0] is not parameters:
            kept = (parameters, ParameterNames(parameters, location))
            with self._lock:
                if len(self._recent) >= _RECENT:
                    self._recent.clear()
                self._recent[key] = kept
        return kept[1]
