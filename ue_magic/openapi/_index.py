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

from ._model import Operation

_VARIABLE = re.compile(r"\{[^{}/]*\}")
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")  # a {{name}} the user has not filled in yet


@dataclass(frozen=True)
class PathEntry:
    """One path template and the operations on it, by method."""

    template: str
    segments: tuple[str, ...]
    pattern: re.Pattern[str]
    literal: int  # characters outside {variables}: more is more specific
    methods: dict[str, Operation]


def _compile(template: str) -> re.Pattern[str]:
    parts, last = [], 0
    for match in _VARIABLE.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        parts.append("[^/]+")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


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
        self.entries = [
            PathEntry(
                template,
                tuple(template.split("/")[1:]),
                _compile(template),
                len(_VARIABLE.sub("", template)),
                methods,
            )
            for template, methods in by_path.items()
        ]
        self._exact = {entry.template: entry for entry in self.entries}

    def entry(self, path: str) -> PathEntry | None:
        """The most specific path template that ``path`` matches, or None."""
        path = request_path(path)
        exact = self._exact.get(path)
        if exact is not None:
            return exact
        best: PathEntry | None = None
        for entry in self.entries:
            if entry.pattern.fullmatch(path) and (best is None or entry.literal > best.literal):
                best = entry
        return best

    def match(self, method: str, path: str) -> Operation | None:
        """The operation for ``METHOD path``, or None when the description has no such one."""
        entry = self.entry(path)
        if entry is None:
            return None
        method = method.upper()
        return entry.methods.get("GET" if method == "HEAD" else method) or entry.methods.get(method)

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
