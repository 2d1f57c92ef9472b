"""Walking a body schema for people: ``$ref``s followed and ``allOf`` folded in, memoised and
under a budget, for ``%ue_api``'s outline and example.

Why memoised: ``allOf: [{"$ref": S1}] * 4`` down eleven levels is 4**11 folds when each part is
folded again wherever it is named; here each (schema, file) is folded once. Why a budget: a
description may still be built to be walked long (wide and deep at once); past ``MAX_STEPS``
folds the walk stops with ``TooBig`` and the view says what it left out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag, urljoin

from ...errors import DescriptionError
from ._model import Description

MAX_STEPS = 20_000  # schemas folded for one view: real operations need a few hundred
MAX_NESTING = 64  # allOf inside allOf, items inside items


class TooBig(DescriptionError):
    """The schema is too big (or too deep) to walk within the budget."""


class SchemaWalker:
    """Folds the schemas of one description for one view."""

    def __init__(self, description: Description, max_steps: int = MAX_STEPS) -> None:
        self.description = description
        self.steps = 0
        self.max_steps = max_steps
        self._merged: dict[tuple[int, str], tuple[dict[str, Any], str]] = {}
        self._busy: set[tuple[int, str]] = set()

    def step(self, count: int = 1) -> None:
        """Count ``count`` units of work (a fold, a name joined); past the budget: ``TooBig``."""
        self.steps += count
        if self.steps > self.max_steps:
            raise TooBig(
                f"its schemas take over {self.max_steps:,} steps to outline in "
                f"{self.description.source}"
            )

    def deref(self, schema: Any, base: str) -> tuple[Any, str]:
        for _ in range(32):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                break
            uri = urljoin(base, schema["$ref"])
            schema = self.description.documents.lookup(uri)
            base = urldefrag(uri)[0] or base
        return schema, base

    def merged(self, schema: Any, base: str, nesting: int = 0) -> tuple[dict[str, Any], str]:
        """The schema with ``allOf`` parts folded in (properties and required joined); a
        part that is being folded already (a loop) adds nothing."""
        self.step()
        schema, base = self.deref(schema, base)
        if not isinstance(schema, dict):
            return {}, base
        if "allOf" not in schema:
            return schema, base
        key = (id(schema), base)
        done = self._merged.get(key)
        if done is not None:
            return done
        if key in self._busy or nesting > MAX_NESTING:
            return {}, base
        self._busy.add(key)
        try:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            properties: dict[str, Any] = dict(merged.get("properties") or {})
            required: list[str] = list(merged.get("required") or [])
            seen = {r for r in required if isinstance(r, str)}
            parts = schema["allOf"] if isinstance(schema["allOf"], list) else []
            for part in parts:
                sub, _ = self.merged(part, base, nesting + 1)
                properties.update(sub.get("properties") or {})
                names = sub.get("required") or []
                self.step(len(names) if isinstance(names, list) else 1)
                for name in names:  # one pass with a set: 20,000 names once, not 20,000**2
                    if isinstance(name, str) and name not in seen:
                        seen.add(name)
                        required.append(name)
                merged.setdefault("type", sub.get("type"))
                for keyword in ("nullable", "oneOf", "anyOf", "enum", "items"):
                    if keyword in sub:
                        merged.setdefault(keyword, sub[keyword])
            merged["properties"], merged["required"] = properties, required
        finally:
            self._busy.discard(key)
        self._merged[key] = (merged, base)
        return merged, base
