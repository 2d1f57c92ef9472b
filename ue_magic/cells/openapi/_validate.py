"""Checking a JSON body against an operation's request schema, before anything is sent.

Uses ``jsonschema``, ``referencing`` and ``regex`` (the ``openapi`` extra): Draft 2020-12 for
OpenAPI 3.1, Draft 4 for 3.0, where ``nullable: true`` admits null for the whole schema. Every
keyword runs under a deadline and patterns in an engine with a time limit (``_bounded``).
Without them, ``available()`` is False and bodies go out unchecked (completion and ``%ue_api``
still work).

A failure is a ``BodyProblem``: the JSON path of the value, what the schema expected, and the
offset of that value in the body text, which the magic turns into a line and column in the cell.
"""

from __future__ import annotations

import contextlib
import heapq
import importlib.util
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import DescriptionError
from ._bounded import Deadline, TooComplex, bounded_keywords, json_start
from ._model import Description
from ._operation import Operation
from ._schema_import import import_jsonschema

PathItem = str | int


@dataclass(frozen=True)
class BodyProblem:
    """Why a body does not fit: ``path`` like ``$.thresholds[0].name``, and ``expected``."""

    path: str
    expected: str
    location: tuple[PathItem, ...]  # the same path as keys and indices
    missing: str = ""  # for a required name the object lacks: that name (location: the object)


def available() -> bool:
    """True when jsonschema, referencing and regex are installed (the ``openapi`` extra).

    Asked without importing them: importing jsonschema can take seconds (its format checkers
    build grammars), which a request without a body must not wait for."""
    return _installed("jsonschema") and _installed("referencing") and _installed("regex")


def _installed(name: str) -> bool:
    if name in sys.modules:
        return sys.modules[name] is not None  # None: marked as not importable
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class BodyValidator:
    """Validators for the operations of one description, built once each, on first use."""

    def __init__(self, description: Description) -> None:
        self.description = description
        self._registry: Any = None
        self._validators: dict[str, Any] = {}
        self._lock = threading.Lock()  # held while jsonschema and the registry are made
        self._warming: threading.Thread | None = None
        self._deadline = Deadline()
        self._bounded: Any = None  # the validator class with bounded keywords

    def warm_up(self) -> None:
        """Import jsonschema and build the registry in a background thread, once, so that the
        first check need not; a check that comes first waits for it (the same lock)."""
        if self._warming is None and self._registry is None:
            self._warming = threading.Thread(
                target=self._warm, name="ue-magic body checks warm-up", daemon=True
            )
            self._warming.start()

    def _warm(self) -> None:
        with contextlib.suppress(Exception):  # the first check does it again and says why
            self._registry_of()

    def check(self, operation: Operation, body: Any) -> BodyProblem | None:
        """The first (most relevant) problem of ``body``, or None when it fits or has no schema.

        Raises DescriptionError when the schema itself is broken (an unknown type, a bad
        pattern, a loop, a keyword of the wrong shape): the description is at fault, not the body;
        TooComplex (a DescriptionError) when checking takes over 0.5 s.
        """
        if not operation.body_schema_uri:
            return None
        try:
            validator = self._validator(operation.body_schema_uri)
            from jsonschema.exceptions import best_match

            self._deadline.start()
            error = best_match(validator.iter_errors(body))
            return None if error is None else _problem(error)
        except TooComplex as exc:
            raise TooComplex(
                f"the body schema of {operation.label} in {self.description.source} is too "
                f"complex to check: {exc}"
            ) from None
        except _broken_schema_errors() as exc:
            detail = str(exc).strip().split("\n")[0][:120] or type(exc).__name__
            raise DescriptionError(
                f"the body schema of {operation.label} is broken ({detail})"
            ) from None
        except BaseException as exc:
            if not is_panic(exc):
                raise
            # a $ref loop whose recursion ends inside referencing's Rust part (rpds), which
            # turns the RecursionError into a pyo3 panic (a BaseException)
            raise DescriptionError(
                f"the body schema of {operation.label} is broken (it refers to itself without end)"
            ) from None

    def problems(
        self, operation: Operation, body: Any, seconds: float | None = None
    ) -> list[BodyProblem]:
        """Every top-level problem of ``body``, under the same deadline (raises as ``check``),
        or a shorter one of ``seconds``."""
        if not operation.body_schema_uri:
            return []
        validator = self._validator(operation.body_schema_uri)
        self._deadline.start(seconds)
        return [_problem(error) for error in validator.iter_errors(body)]

    def _validator(self, uri: str) -> Any:
        validator = self._validators.get(uri)
        if validator is None:
            registry = self._registry_of()  # first: it imports jsonschema (_schema_import)
            validator = self._class()({"$ref": uri}, registry=registry)
            self._validators[uri] = validator
        return validator

    def _class(self) -> Any:
        """Draft 2020-12 (3.1) or Draft 4 (3.0), its keywords bounded (``_bounded``)."""
        if self._bounded is None:
            from jsonschema import Draft4Validator, Draft202012Validator
            from jsonschema.validators import extend

            is_31 = self.description.is_31
            cls = Draft202012Validator if is_31 else Draft4Validator
            files = self.description.documents.files.values()
            keywords = bounded_keywords(
                dict(cls.VALIDATORS),
                self._deadline,
                nullable=not is_31,
                pattern_properties_anywhere=lambda: any(
                    _holds_key(f, "patternProperties") for f in files
                ),
            )
            self._bounded = extend(cls, keywords)
        return self._bounded

    def _registry_of(self) -> Any:
        """The description's documents as a ``referencing.Registry``, made at most once
        (jsonschema imported first: see ``_schema_import``); waits for a warm-up under way.
        The documents are used as they are (3.0's ``nullable`` is read by ``_bounded``), so
        making it costs no copy of a large description."""
        with self._lock:
            if self._registry is None:
                import_jsonschema()
                from referencing import Registry
                from referencing.jsonschema import DRAFT4, DRAFT202012

                spec = DRAFT202012 if self.description.is_31 else DRAFT4
                resources = [
                    (uri, spec.create_resource(doc))
                    for uri, doc in self.description.documents.files.items()
                ]
                self._registry = Registry().with_resources(resources)
            return self._registry


def is_panic(error: BaseException) -> bool:
    """A pyo3 ``PanicException`` (raised by Rust extensions such as rpds; not importable)."""
    return type(error).__name__ == "PanicException"


def _broken_schema_errors() -> tuple[type[BaseException], ...]:
    """What jsonschema and referencing raise on a schema that is not a valid schema."""
    import re

    import regex
    from jsonschema.exceptions import SchemaError, UnknownType
    from referencing.exceptions import Unresolvable

    return (
        SchemaError,
        UnknownType,
        Unresolvable,
        re.error,
        regex.error,
        RecursionError,
        TypeError,
        AttributeError,
        KeyError,
        IndexError,
        ValueError,
        ArithmeticError,  # multipleOf: 0 (ZeroDivisionError)
    )


def _holds_key(document: Any, key: str) -> bool:
    """Whether any object in ``document`` has ``key`` (each shared node walked once)."""
    stack, seen = [document], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            if key in item:
                return True
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (dict, list)))
    return False


_JSON_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _problem(error: Any) -> BodyProblem:
    location: tuple[PathItem, ...] = tuple(error.absolute_path)
    keyword, expected_value, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = next((n for n in expected_value if n not in instance), expected_value[0])
        location = (*location, missing)
        return BodyProblem(
            json_path(location), "is required but missing", location[:-1], str(missing)
        )
    if keyword == "type":
        kinds = [expected_value] if isinstance(expected_value, str) else list(expected_value)
        wanted = " or ".join(_JSON_TYPES.get(k, k) for k in dict.fromkeys(kinds))
        expected = f"expected {wanted}, got {json_type(instance)}"
    elif keyword in ("enum", "const"):
        values = expected_value if keyword == "enum" else [expected_value]
        shown = ", ".join(json_start(v) for v in values[:10])
        expected = f"expected one of {shown}, got {_json_text(instance)[:40]}"
    elif keyword == "additionalProperties":
        fields = error.schema.get("properties", {})
        extra = sorted(k for k in instance if k not in fields)
        name = extra[0] if extra else "?"
        first = heapq.nsmallest(_ALLOWED, fields)  # a schema may list a million
        allowed = ", ".join(first) + (
            f" and {len(fields) - len(first):,} more" if len(fields) > _ALLOWED else ""
        )
        allowed = allowed or "none"
        location = (*location, name)
        expected = f"is not a field here (allowed: {allowed})"
    elif keyword in ("maxLength", "minLength"):
        bound = "at most" if keyword == "maxLength" else "at least"
        unit = "character" if expected_value == 1 else "characters"
        expected = f"expected {bound} {expected_value} {unit}, got {len(instance)}"
    elif keyword in ("maxItems", "minItems"):
        bound = "at most" if keyword == "maxItems" else "at least"
        expected = f"expected {bound} {expected_value} items, got {len(instance)}"
    else:
        expected = error.message if len(error.message) < 160 else error.message[:157] + "..."
    return BodyProblem(json_path(location), expected, location)


def _json_text(value: Any) -> str:
    """``value`` as JSON; one holding an int too long to write (``LongInt``) as its repr."""
    try:
        return json.dumps(value)
    except ValueError:
        return repr(value)


_ALLOWED = 20  # field names shown as allowed
_PATH_END = 40  # characters of a long path kept at each end
_KEY = 40  # characters of a long key kept


def json_path(location: Sequence[PathItem]) -> str:
    """``("thresholds", 0, "name")`` -> ``$.thresholds[0].name``. A path of over 100
    characters (a body 300 levels deep) keeps its start and end around ``…`` and says how
    deep it is: ``$.a.a.a…a.a.a (300 levels)``; a key of over 40 characters is cut too."""
    parts = [_step(item) for item in location]
    whole = "$" + "".join(parts)
    if len(whole) <= 2 * _PATH_END + 20:
        return whole
    head, tail = "$" + parts[0], parts[-1]
    for part in parts[1:]:
        if len(head) + len(part) > _PATH_END:
            break
        head += part
    for part in reversed(parts[:-1]):
        if len(tail) + len(part) > _PATH_END:
            break
        tail = part + tail
    return f"{head}…{tail} ({len(parts):,} levels)"


def _step(item: PathItem) -> str:
    if isinstance(item, int):
        return f"[{item}]"
    if item.isidentifier() and len(item) <= _KEY:
        return f".{item}"
    if len(item) > _KEY:
        return f'[{json.dumps(item[:_KEY])[:-1]}…"]'
    return f"[{json.dumps(item)}]"


# -- where a value sits in the body text ------------------------------------------------------

_DECODER = json.JSONDecoder(parse_int=len)  # only where each value ends matters
_scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]
_SPACE = " \t\r\n"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _members(text: str, i: int) -> Iterator[tuple[str, int, int]]:
    """(key, key offset, value offset) of the object starting at ``text[i] == '{'``."""
    i = _skip(text, i + 1)
    while i < len(text) and text[i] == '"':
        key, end = _scanstring(text, i + 1)
        value = _skip(text, _skip(text, end) + 1)
        yield key, i, value
        _, end = _DECODER.raw_decode(text, value)
        i = _skip(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)


def _elements(text: str, i: int) -> Iterator[int]:
    i = _skip(text, i + 1)
    while i < len(text) and text[i] != "]":
        yield i
        _, end = _DECODER.raw_decode(text, i)
        i = _skip(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)


def locate(text: str, location: Sequence[PathItem]) -> int:
    """The offset in ``text`` (a JSON document) of the value at ``location``; for a name the
    object lacks, the offset of the object. Never raises: falls back to 0."""
    try:
        i = _skip(text, 0)
        for item in location:
            if i >= len(text):
                break
            if text[i] == "{" and isinstance(item, str):
                # the last of duplicate keys, the one json.loads keeps
                found = None
                for key, at, value in _members(text, i):
                    if key == item:
                        found = (at, value)
                if found is None:
                    break
                i = found[1]
            elif text[i] == "[" and isinstance(item, int):
                found_at = next((at for n, at in enumerate(_elements(text, i)) if n == item), None)
                if found_at is None:
                    break
                i = found_at
            else:
                break
        return i
    except (ValueError, IndexError):
        return 0
