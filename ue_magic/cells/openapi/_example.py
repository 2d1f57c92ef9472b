"""The example body ``%ue_api METHOD PATH`` prints: one that passes its own check.

It fills in what the schema requires (the schema's own example, default, const or first enum
value; the first of ``oneOf``/``anyOf``; a value within the limits of its type), then checks
the result as ``%ue_call`` would. Whatever still fails becomes a ``{{name}}`` placeholder,
which ``%ue_call`` then names ("no variable 'title'") until it is given a value, rather than
an example that the check refuses.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urldefrag

from ._model import Description
from ._operation import Operation
from ._schema_walk import SchemaWalker, TooBig

MAX_DEPTH = 4
_FIXES = 20  # checks of one example: each turns one more failing value into a placeholder
FIX_SECONDS = 1.0  # all of them: a schema's example of 400,000 items took 0.5 s a check
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "ipv4": "127.0.0.1",
    "hostname": "example.com",
}
_NOT_NAME = re.compile(r"\W")


def placeholder_name(text: str) -> str:
    """A name the description chose (a key, a parameter), made a plain identifier: written as
    ``{{name}}`` it must look a variable up, never reach into one (``os.environ[...]``)."""
    name = _NOT_NAME.sub("_", text) or "value"
    return name if not name[0].isdigit() else "v_" + name


def literal(text: str) -> str:
    """Description text written into a cell as it is: every ``{{`` escaped (``\\{{``), so that
    a value such as ``"{{os.environ['UE_CLIENT_SECRET'][0]}}"`` stays text when the cell runs."""
    return text.replace("{{", "\\{{")


class Placeholder:
    """A value the example leaves to the user: ``{{name}}`` in the cell."""

    def __init__(self, name: str) -> None:
        self.name = placeholder_name(name)


class ExampleTooLong(Exception):
    """The example would be longer than the characters asked for (``example_body``'s limit)."""


def example_body(op: Operation, description: Description, limit: int | None = None) -> str | None:
    """The body of the example cell as JSON text (placeholders as ``{{name}}``), or None when
    the operation's schema is too big to walk. Raises ``ExampleTooLong`` when the example
    would be over ``limit`` characters, before it is checked and fixed (a schema's example of
    400,000 items took 20 checks of it, over a second, for a text never shown)."""
    if op.body_schema is None:
        return None
    walker = SchemaWalker(description)
    try:
        body = _example(op.body_schema, walker, urldefrag(op.body_schema_uri)[0], 0)
    except TooBig:
        return None
    if limit is not None and _longer_than(body, limit):
        raise ExampleTooLong
    body = _fixed(op, description, body)
    return _text(body)


def _longer_than(value: Any, limit: int) -> bool:
    """Whether ``value`` as JSON is over ``limit`` characters, counting at least a character a
    value (and a key's text) and stopping as soon as it is."""
    size, stack = 0, [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            size += 2 + sum(len(str(key)) + 4 for key in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            size += 2 + len(node)
            stack.extend(node)
        else:
            size += len(node) + 2 if isinstance(node, str) else 1
        if size > limit:
            return True
    return False


def _example(schema: Any, walker: SchemaWalker, base: str, depth: int) -> Any:
    schema, base = walker.merged(schema, base)
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        parts = schema.get(key)
        if isinstance(parts, list) and parts and depth < MAX_DEPTH:
            return _example(parts[0], walker, base, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else None
    if kind == "object":
        if depth >= MAX_DEPTH:
            return {}
        properties = schema.get("properties") or {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        return {
            name: _example(properties.get(name, {}), walker, base, depth + 1) for name in required
        }
    if kind == "array":
        count = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        if not count or depth >= MAX_DEPTH:
            return []
        return [_example(schema.get("items", {}), walker, base, depth + 1)] * min(count, 10)
    if kind == "string":
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        least = schema.get("minLength") if isinstance(schema.get("minLength"), int) else 0
        return "x" * min(least, 1000)
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return Placeholder("value")  # a schema that says nothing of its type: the user's to fill


def _number(schema: dict[str, Any], kind: str) -> Any:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: Any = 0
    if isinstance(low, (int, float)) and not isinstance(low, bool) and low > 0:
        value = low + (1 if "exclusiveMinimum" in schema or schema.get("exclusiveMinimum") else 0)
    elif isinstance(high, (int, float)) and not isinstance(high, bool) and high < 0:
        value = high - 1
    # no float(): a minimum of 10**400 is an integer too large for one
    return (
        int(value)
        if kind == "integer" and isinstance(value, float) and value.is_integer()
        else value
    )


def _fixed(op: Operation, description: Description, body: Any) -> Any:
    """``body`` with each value the check refuses turned into a placeholder; a placeholder
    stands for any value, so problems at one are not problems."""
    from ._validate import BodyValidator, available, is_panic

    if not available():
        return body
    validator = BodyValidator(description)
    ends = time.monotonic() + FIX_SECONDS
    for _ in range(_FIXES):
        left = ends - time.monotonic()
        if left <= 0:  # what is fixed so far: the rest is the user's to see
            return body
        try:
            problems = [
                p
                for p in validator.problems(op, _standin(body), left)
                if not _at_placeholder(
                    body, [*p.location, p.missing] if p.missing else [*p.location]
                )
            ]
        except BaseException as error:  # a schema too broken or complex: show what we have
            if not isinstance(error, Exception) and not is_panic(error):
                raise
            return body
        if not problems:
            return body
        body = _replace(body, list(problems[0].location), problems[0].missing)
    return body


_STANDIN = "\x00placeholder"  # what the check sees for one


def _standin(value: Any) -> Any:
    if isinstance(value, Placeholder):
        return _STANDIN
    if isinstance(value, dict):
        return {k: _standin(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_standin(v) for v in value]
    return value


def _at_placeholder(body: Any, location: list[Any]) -> bool:
    node = body
    for step in location:
        if isinstance(node, Placeholder):
            return True
        if not _has(node, step):
            return False
        node = node[step]
    return isinstance(node, Placeholder)


def _replace(body: Any, location: list[Any], missing: str) -> Any:
    """``body`` with the value at ``location`` (or the ``missing`` key of the object there)
    a placeholder named after its key."""
    if missing:
        location = [*location, missing]
    name = next((str(s) for s in reversed(location) if isinstance(s, str)), "body")
    if not location:
        return Placeholder(name)
    node = body
    for step in location[:-1]:
        if not _has(node, step):
            return Placeholder("body")
        node = node[step]
    if isinstance(node, dict) or (isinstance(node, list) and _has(node, location[-1])):
        node[location[-1]] = Placeholder(name)
        return body
    return Placeholder("body")


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    if isinstance(node, list):
        return isinstance(key, int) and 0 <= key < len(node)
    return False


_MARK = re.compile(r'"\\u0000(\d+)\\u0000"')  # a placeholder's mark, as json.dumps writes it


def _text(body: Any) -> str:
    """``body`` as JSON with each placeholder as ``{{name}}``, in one pass over the text (one
    ``str.replace`` per placeholder was quadratic: 19,000 of them took over a minute)."""
    names: list[str] = []

    def encode(value: Any) -> Any:
        if isinstance(value, Placeholder):
            names.append("{{" + value.name + "}}")
            return f"\x00{len(names) - 1}\x00"
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [encode(v) for v in value]
        return value

    text = literal(json.dumps(encode(body), default=str))  # the description's values: text
    return _MARK.sub(lambda m: names[int(m.group(1))], text)
