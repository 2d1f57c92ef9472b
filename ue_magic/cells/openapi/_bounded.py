"""jsonschema keywords that cannot run away: every keyword under a deadline, patterns in an
engine with a time limit, ``uniqueItems`` in linear time, and 3.0's ``nullable``; and
``multipleOf`` exact where jsonschema's float division overflows (an int of over 309 digits).

Why: jsonschema walks a schema as a tree, so ``allOf`` chains that name the same ``$ref`` four
times are 4**n walks (over 60 s at n = 11), and ``re`` backtracks without limit
(``^(\\w+\\s?)*$`` against 34 characters: over 60 s, holding the GIL where nothing can stop
it). Each keyword call checks the deadline, and ``enum`` before each of its values (a
``const`` compares one value with the body: bounded by the body's size); a pattern runs in
``regex`` (mrab-regex, the ``openapi`` extra) with ``timeout=`` set to the time left.
``regex`` keeps ``re``'s syntax, which the checks have always used; RE2, the linear-time
engine, lacks the look-arounds and back-references that JSON Schema patterns (ECMA 262) may
use, and there is no well-kept pure-Python one. A pattern is read before it is compiled
(``_pattern_size``: compiling has no time limit) and compiled once per process. Past the
deadline, or for a pattern too big to compile: ``TooComplex``, and the body goes out unchecked.
``unevaluatedProperties`` and ``unevaluatedItems`` walk the schema within one call: their walk
is counted first (``_evaluated``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

from ._deadline import CHECK_SECONDS, Deadline, Keyword, TooComplex, short

__all__ = ["CHECK_SECONDS", "Deadline", "Keyword", "TooComplex", "bounded_keywords", "json_start"]
_EVERY = 4096  # items of a schema-sized list looked at between two asks of the deadline
_LONG_BITS = 13_000  # an int's bits past which it has over 3,900 digits (Python writes 4,300)


def bounded_keywords(
    keywords: dict[str, Keyword],
    deadline: Deadline,
    *,
    nullable: bool,
    pattern_properties_anywhere: Callable[[], bool],
) -> Any:
    """``keywords`` (a validator class's ``VALIDATORS``) wrapped to check ``deadline``, with
    the pattern keywords and ``uniqueItems`` replaced; ``nullable`` (OpenAPI 3.0): a schema
    with ``nullable: true`` admits null whatever else it says, as validators commonly read it.
    jsonschema's ``unevaluatedProperties`` matches ``patternProperties`` with ``re``, out of
    the deadline's reach: in a description that has any (``pattern_properties_anywhere()``,
    asked once, when first needed), it is not checked (the server is)."""
    # jsonschema's own, from the public VALIDATORS mapping (its module moved between versions)
    from jsonschema._utils import equal
    from jsonschema.exceptions import ValidationError

    own_additional_properties = keywords["additionalProperties"]
    own_multiple_of = keywords["multipleOf"]
    own_type = keywords["type"]

    def pattern(validator: Any, patrn: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not deadline.search(patrn, instance):
            yield ValidationError(f"{short(instance)} does not match {patrn!r}")

    def pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in patterns.items():
            for key, value in instance.items():
                if deadline.search(patrn, key):
                    yield from validator.descend(value, subschema, path=key, schema_path=patrn)

    def additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Any:
        # jsonschema's own matches patternProperties with re; only its message is reused
        if not validator.is_type(instance, "object"):
            return
        patterns = schema.get("patternProperties") or {}
        known = schema.get("properties") or {}
        kept = {
            k: v
            for k, v in instance.items()
            if k in known or not any(deadline.search(p, k) for p in patterns)
        }
        shown = {k: v for k, v in schema.items() if k != "patternProperties"}
        yield from own_additional_properties(validator, extra, kept, shown) or ()

    def unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
        if unique and validator.is_type(instance, "array"):
            seen: set[str] = set()
            for i, item in enumerate(instance):
                if not i % _EVERY:
                    deadline.left()
                key = json.dumps(_canonical(item, deadline), sort_keys=True)
                if key in seen:
                    yield ValidationError(f"{short(instance)} has non-unique elements")
                    return
                seen.add(key)

    def multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Any:
        # jsonschema's divides an int by a float divisor as floats: an int over float's range
        # (309 digits) raises OverflowError; exact fractions have no range
        try:
            yield from list(own_multiple_of(validator, divisor, instance, schema) or ())
        except OverflowError:
            if (Fraction(instance) / Fraction(divisor)).denominator != 1:
                yield ValidationError(f"{short(instance)} is not a multiple of {divisor!r}")

    def enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Any:
        # jsonschema's compares every value within one keyword call, past the deadline
        # (100,000 objects: 3.9 s): the deadline is asked before each value
        values = enums if isinstance(enums, list) else [enums]
        wanted = _canonical(instance, deadline)  # JSON's equality: 1 is 1.0, true is not 1
        for value in values:
            deadline.left()
            if _canonical(value, deadline) == wanted:
                return
        yield ValidationError(f"{short(instance)} is not one of the {len(values):,} values")

    # jsonschema's ``required`` and ``dependentRequired`` make one error per missing name
    # within one keyword call (1,000,000 names, an empty body: 19 s); the check keeps the
    # first (best_match takes the first of equals), so only the first is made
    def required(validator: Any, names: Any, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "object"):
            missing = _first_missing(names, instance, deadline)
            if missing is not _ALL_THERE:
                yield ValidationError(f"{short(missing)} is a required property")

    def present(instance: Any, dependent: Any) -> Any:
        """The (name, what it needs) pairs of ``dependent`` whose name the object holds."""
        for i, (name, wanted) in enumerate(dependent.items()):
            if not i % _EVERY:
                deadline.left()
            if name in instance:
                yield name, wanted

    def missing_names(names: Any, instance: Any, name: str) -> Any:
        missing = _first_missing(names, instance, deadline)
        if missing is not _ALL_THERE:
            yield ValidationError(f"{short(missing)} is a dependency of {name!r}")

    def dependent_required(validator: Any, dependent: Any, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "object"):
            for name, names in present(instance, dependent):
                yield from missing_names(names, instance, name)

    def dependencies(validator: Any, dependent: Any, instance: Any, schema: Any) -> Any:
        # Draft 4's: a list of names (as dependentRequired) or a schema
        if validator.is_type(instance, "object"):
            for name, wanted in present(instance, dependent):
                if validator.is_type(wanted, "array"):
                    yield from missing_names(wanted, instance, name)
                else:
                    yield from validator.descend(instance, wanted, schema_path=name)

    def properties(validator: Any, fields: Any, instance: Any, schema: Any) -> Any:
        # jsonschema's looks up every field of the schema in one call (schema order kept)
        if validator.is_type(instance, "object"):
            for i, (name, subschema) in enumerate(fields.items()):
                if not i % _EVERY:
                    deadline.left()
                if name in instance:
                    yield from validator.descend(
                        instance[name], subschema, path=name, schema_path=name
                    )

    def const(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        # jsonschema's message holds the repr of the whole value (a description-sized text)
        if not equal(instance, value):
            yield ValidationError(f"{short(value)} was expected")

    def type_(validator: Any, kinds: Any, instance: Any, schema: Any) -> Any:
        # a list of types is read once each (["string"] * 1,000,000 is ["string"])
        if isinstance(kinds, list):
            kinds = list(dict.fromkeys(kinds))
        yield from own_type(validator, kinds, instance, schema) or ()

    # jsonschema's ``not`` and ``oneOf`` write the repr of the whole subschema into their
    # message, inside one keyword call: a schema that YAML aliases make big took seconds
    def not_(validator: Any, not_schema: Any, instance: Any, schema: Any) -> Any:
        if validator.evolve(schema=not_schema).is_valid(instance):
            yield ValidationError(f"{short(instance)} should not be valid under its 'not' schema")

    def one_of(validator: Any, parts: Any, instance: Any, schema: Any) -> Any:
        valid: list[int] = []
        errors: list[Any] = []
        for index, part in enumerate(parts):
            deadline.left()
            found = list(validator.descend(instance, part, schema_path=index))
            if found:
                errors.extend(found)
            else:
                valid.append(index)
                if len(valid) == 2:
                    break
        if not valid:
            message = f"{short(instance)} is not valid under any of the given schemas"
            yield ValidationError(message, context=errors)
        elif len(valid) > 1:
            which = " and ".join(f"oneOf[{i}]" for i in valid)
            yield ValidationError(f"{short(instance)} is valid under each of {which}")

    def once_each(name: str) -> Keyword:
        """``allOf``/``anyOf`` with repeated parts checked once: ``[{"$ref": X}] * 4`` is X."""
        keyword = keywords[name]

        def run(validator: Any, parts: Any, instance: Any, schema: Any) -> Any:
            if isinstance(parts, list) and len(parts) > 1:
                unique: dict[tuple[str, Any], Any] = {}
                for i, part in enumerate(parts):
                    if not i % _EVERY:
                        deadline.left()  # the same $ref, or the same node (a YAML alias)
                    ref = part.get("$ref") if isinstance(part, dict) and len(part) == 1 else None
                    key = ("$ref", ref) if isinstance(ref, str) else ("node", id(part))
                    unique.setdefault(key, part)
                parts = list(unique.values())
            return keyword(validator, parts, instance, schema)

        return run

    replaced: dict[str, Keyword] = {
        "allOf": once_each("allOf"),
        "anyOf": once_each("anyOf"),
        "pattern": pattern,
        "patternProperties": pattern_properties,
        "additionalProperties": additional_properties,
        "uniqueItems": unique_items,
        "enum": enum,
        "multipleOf": multiple_of,
        "required": required,
        "properties": properties,
        "const": const,
        "type": type_,
        "not": not_,
        "oneOf": one_of,
    }
    for name, own in (("dependentRequired", dependent_required), ("dependencies", dependencies)):
        if name in keywords:
            replaced[name] = own
    if "unevaluatedProperties" in keywords:  # Draft 2020-12 (OpenAPI 3.1)
        from ._evaluated import unevaluated

        replaced["unevaluatedProperties"] = _unless(
            unevaluated(deadline, keys=True), pattern_properties_anywhere
        )
        replaced["unevaluatedItems"] = unevaluated(deadline, keys=False)
    return {
        name: _timed(replaced.get(name, keyword), deadline, nullable)
        for name, keyword in keywords.items()
    }


def _timed(keyword: Keyword, deadline: Deadline, nullable: bool) -> Keyword:
    def run(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        deadline.left()
        if nullable and instance is None and schema.get("nullable") is True:
            return
        errors = keyword(validator, value, instance, schema)
        if errors:
            yield from errors

    return run


def _unless(keyword: Keyword, skip: Callable[[], bool]) -> Keyword:
    answer: list[bool] = []

    def run(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if not answer:
            answer.append(skip())
        return None if answer[0] else keyword(validator, value, instance, schema)

    return run


def _canonical(value: Any, deadline: Deadline) -> Any:
    """A JSON value where equal values (1 and 1.0; not true and 1) are equal Python values."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return [type(value).__name__, value]
    if isinstance(value, int):
        # hex: no float is that large, and json.dumps refuses its decimal digits (LongInt)
        return ["long", hex(value)] if value.bit_length() > _LONG_BITS else ["number", value]
    if isinstance(value, float):
        return ["number", int(value) if value.is_integer() else value]
    if isinstance(value, list):
        return [_canonical(v, deadline) for v in value]
    if isinstance(value, dict):
        deadline.left()
        return {k: _canonical(v, deadline) for k, v in value.items()}
    return ["other", repr(value)]


_ALL_THERE = object()


def _first_missing(names: Any, instance: Any, deadline: Deadline) -> Any:
    """The first of ``names`` not a key of ``instance``, or ``_ALL_THERE``."""
    for i, name in enumerate(names):
        if not i % _EVERY:
            deadline.left()
        if name not in instance:
            return name
    return _ALL_THERE


def json_start(value: Any, limit: int = 60) -> str:
    """``value`` as JSON up to ``limit`` characters, made piece by piece (a value from the
    description may be megabytes long); one holding an int too long to write: its repr."""
    text = ""
    try:
        for piece in json.JSONEncoder().iterencode(value):
            text += piece
            if len(text) > limit:
                return text[: limit - 1] + "…"
    except ValueError:
        return short(value)
    return text
