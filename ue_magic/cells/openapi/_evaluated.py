"""``unevaluatedProperties`` and ``unevaluatedItems`` with a bounded walk.

Why: to learn which keys (or items) the rest of the schema evaluated, jsonschema walks the
schema as a tree through ``$ref``, ``$dynamicRef``, ``allOf``/``anyOf``/``oneOf``,
``if``/``then``/``else`` (and ``dependentSchemas`` for keys), all inside one keyword call, where
the deadline is not asked: ten schemas each with ``dependentSchemas`` of four ``$ref`` to the
next are 4**10 walks from 2.4 KB (27-50 s a body). Before jsonschema walks, the walk is counted
(``walk_size``: each schema once, a schema reached on many paths counted on each, so the count
is linear in the description); past ``MAX_WALK`` the schema is too complex to check (TooComplex:
the body goes out unchecked). Then the evaluated keys and indexes are looked up in a set
(jsonschema's list made an array of n items n**2 / 2 steps: 60,000 items took 26 s).
"""

from __future__ import annotations

from typing import Any

from ._deadline import Deadline, Keyword, TooComplex, short

MAX_WALK = 5_000  # schemas jsonschema's walk may reach, paths counted (real ones: tens)
_SHOWN = 10  # extra keys or items named in the message
_EVERY = 256  # schemas counted between two asks of the deadline
_IN_PLACE = ("allOf", "anyOf", "oneOf")
_BRANCHES = ("if", "then", "else")


def walk_size(validator: Any, instance: Any, schema: Any, *, keys: bool, deadline: Deadline) -> int:
    """How many schemas jsonschema's ``find_evaluated_property_keys_by_schema`` (``keys``) or
    ``find_evaluated_item_indexes_by_schema`` reaches from ``schema``, each counted once per
    path; ``MAX_WALK + 1`` as soon as that is over ``MAX_WALK``, or for a walk that comes back
    to a schema it is in (endless). Every ``allOf`` part and ``if``/``then``/``else`` branch is
    counted (jsonschema follows those that fit: an upper bound); ``dependentSchemas`` only for
    names ``instance`` holds, as jsonschema does."""
    resolver = getattr(validator, "_resolver", None)
    sizes: dict[tuple[int, Any], int] = {}
    busy: set[tuple[int, Any]] = set()
    held: list[Any] = []  # keeps resolved schemas alive: their ids stay theirs
    stack: list[tuple[Any, Any, list[tuple[Any, Any]] | None]] = [(schema, resolver, None)]
    visits = 0
    while stack:
        node, where, children = stack.pop()
        key = (id(node), getattr(where, "_base_uri", None))
        if children is not None:  # its children are counted: add them up
            total = 1 + sum(sizes[(id(c), getattr(r, "_base_uri", None))] for c, r in children)
            busy.discard(key)
            if total > MAX_WALK:
                return MAX_WALK + 1
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in busy:
            return MAX_WALK + 1
        visits += 1
        if not visits % _EVERY:
            deadline.left()
        found = _children(node, where, instance, keys)
        held.extend(found)
        busy.add(key)
        stack.append((node, where, found))
        for child in found:
            child_key = (id(child[0]), getattr(child[1], "_base_uri", None))
            if child_key in busy:
                return MAX_WALK + 1
            stack.append((child[0], child[1], None))
    return sizes.get((id(schema), getattr(resolver, "_base_uri", None)), 1)


def _children(node: Any, where: Any, instance: Any, keys: bool) -> list[tuple[Any, Any]]:
    """The (schema, resolver) pairs jsonschema's walk goes on to from ``node``."""
    if not isinstance(node, dict) or (not keys and "items" in node):
        return []  # a boolean schema; ``items`` evaluates every item and ends the walk
    found: list[tuple[Any, Any]] = []
    for name in ("$ref", "$dynamicRef"):
        ref = node.get(name)
        if isinstance(ref, str) and where is not None:
            try:
                resolved = where.lookup(ref)
            except Exception:  # jsonschema's own walk says why (a broken schema)
                continue
            found.append((resolved.contents, resolved.resolver))
    if keys and isinstance(dependent := node.get("dependentSchemas"), dict):
        found.extend((s, where) for name, s in dependent.items() if name in instance)
    for name in _IN_PLACE:
        if isinstance(parts := node.get(name), list):
            found.extend((s, where) for s in parts)
    found.extend((node[name], where) for name in _BRANCHES if name in node)
    return found


def unevaluated(deadline: Deadline, *, keys: bool) -> Keyword:
    """jsonschema's ``unevaluatedProperties`` (``keys``) or ``unevaluatedItems``, its walk
    counted first (TooComplex past ``MAX_WALK``), its lookups in a set."""
    from jsonschema._utils import (
        find_evaluated_item_indexes_by_schema,
        find_evaluated_property_keys_by_schema,
    )
    from jsonschema.exceptions import ValidationError

    def run(validator: Any, wanted: Any, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "object" if keys else "array"):
            return
        if walk_size(validator, instance, schema, keys=keys, deadline=deadline) > MAX_WALK:
            name = "unevaluatedProperties" if keys else "unevaluatedItems"
            raise TooComplex(f"its {name} reaches over {MAX_WALK:,} schemas")
        if keys:
            evaluated = set(find_evaluated_property_keys_by_schema(validator, instance, schema))
            extra = [
                name
                for name in instance
                if name not in evaluated
                and next(validator.descend(instance[name], wanted, path=name), None) is not None
            ]
            if extra and wanted is False:
                message = "Unevaluated properties are not allowed (%s %s unexpected)"
                yield ValidationError(message % _named(sorted(extra, key=str)))
            elif extra:
                message = (
                    "Unevaluated properties are not valid under the given schema "
                    "(%s %s unevaluated and invalid)"
                )
                yield ValidationError(message % _named(extra))
            return
        indexes = set(find_evaluated_item_indexes_by_schema(validator, instance, schema))
        items = [item for index, item in enumerate(instance) if index not in indexes]
        if items:
            message = "Unevaluated items are not allowed (%s %s unexpected)"
            yield ValidationError(message % _named(items))

    return run


def _named(extras: list[Any]) -> tuple[str, str]:
    """jsonschema's (``'a', 'b'``, ``were``) for at most ``_SHOWN`` of ``extras``, each cut
    (it wrote them all: a message of 60,000 items)."""
    shown = ", ".join(short(e) for e in extras[:_SHOWN])
    verb = "was" if len(extras) == 1 else "were"
    more = f" and {len(extras) - _SHOWN:,} more" if len(extras) > _SHOWN else ""
    return shown + more, verb
