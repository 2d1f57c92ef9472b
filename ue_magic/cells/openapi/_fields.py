"""Which fields of an answer's records the description declares ``format: date-time``, so that
a DataFrame of them (``--df``) has datetimes even where a page holds no value, or values without
an offset. ``$ref``s, ``allOf``, ``anyOf`` and ``oneOf`` are followed; nested objects give dotted
names (``period.start``), as ``pandas.json_normalize`` names their columns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...errors import DescriptionError
from ._index import TooManyTemplates
from ._load import Documents
from ._model import Description, _at

MAX_DEPTH = 8  # nesting followed, refs and combinators included (a schema may refer to itself)
_BRANCHES = ("allOf", "anyOf", "oneOf")


def date_time_fields(
    description: Description, method: str, path: str, key: str | None
) -> frozenset[str]:
    """The fields of the records in the answer to ``method path`` that ``description`` declares
    ``format: date-time``, nested ones dotted (``period.start``): the records of its list
    ``key``, or of the answer itself when it is a list (``key`` None). Empty when the
    description does not say, or cannot be followed."""
    try:
        operation = description.index.match(method, path)
    except TooManyTemplates:  # the call said so
        return frozenset()
    if operation is None or operation.answer_schema is None:
        return frozenset()
    documents = description.documents
    try:
        node = (operation.answer_schema, operation.answer_schema_uri)
        if key is not None:
            found = _child(documents, *node, "properties", key)
            if found is None:
                return frozenset()
            node = found
        records = _child(documents, *node, "items", None)
        if records is None:
            return frozenset()
        return frozenset(_date_times(documents, *records, "", 0))
    except DescriptionError:
        return frozenset()


def _variants(documents: Documents, node: Any, loc: str, depth: int = 0) -> Iterator[tuple]:
    """``node`` with its $ref followed, and the same for every branch of its combinators."""
    node, loc = _at(documents, node, loc)
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return
    yield node, loc
    for word in _BRANCHES:
        branches = node.get(word)
        if isinstance(branches, list):
            for i, branch in enumerate(branches):
                yield from _variants(documents, branch, f"{loc}/{word}/{i}", depth + 1)


def _child(
    documents: Documents, node: Any, loc: str, word: str, key: str | None
) -> tuple[Any, str] | None:
    """``properties/key`` or ``items`` of ``node`` (in any of its variants)."""
    for variant, at in _variants(documents, node, loc):
        holder = variant.get(word)
        if key is None and isinstance(holder, dict):
            return holder, f"{at}/{word}"
        if key is not None and isinstance(holder, dict) and key in holder:
            return holder[key], f"{at}/{word}/{_escape(key)}"
    return None


def _date_times(
    documents: Documents, node: Any, loc: str, prefix: str, depth: int
) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    seen: set[str] = set()
    for variant, at in _variants(documents, node, loc):
        properties = variant.get("properties")
        if not isinstance(properties, dict):
            continue
        for name, schema in properties.items():
            if name in seen:
                continue
            seen.add(name)
            where = f"{at}/properties/{_escape(name)}"
            kinds = list(_variants(documents, schema, where))
            if any(kind.get("format") == "date-time" for kind, _ in kinds):
                yield prefix + name
            elif any(isinstance(kind.get("properties"), dict) for kind, _ in kinds):
                yield from _date_times(documents, schema, where, f"{prefix}{name}.", depth + 1)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
