"""The JSON check: a JSON body is checked when compiled, with the user's line and column.

Placeholders are replaced by stand-ins of the same width (``0`` for a whole value, ``x`` inside
a string), so ``json.loads`` reports positions in the cell as the user wrote it.
"""

from __future__ import annotations

import json
import re

from ...errors import RequestSyntaxError
from ._long_ints import TooLongInt, shape_only
from ._placeholders import Origin, Placeholder, position, source_line, tokenize
from ._values import Part, Parts, json_string_text, json_value

_NOT_JSON_HINT = (
    " The body is sent as JSON; for text, add a header such as Content-Type: text/plain."
)


def compile_json_body(text: str, origin: Origin) -> Parts:
    """Tokenize, tell string from value placeholders, and check the JSON with stand-ins."""
    parts, standin = _scan(text, origin)
    _check_json(standin, origin)
    return parts


def json_standin(text: str) -> str:
    """``text`` (a JSON body as written in the cell) with each ``{{ }}`` replaced by a stand-in
    of the same width (``0`` for a whole value, ``x`` inside a string): JSON whose offsets are
    the cell's, so a problem found in the rendered body can be shown where the user wrote it.
    Raises RequestSyntaxError for a placeholder that would not render anyway. Whole-line ``#``
    and ``//`` comments (dropped from a ``.http`` body) are blanked, so lines keep their places."""
    text = _COMMENT_LINE.sub("", text)
    return _scan(text, Origin(text.split("\n"), 1, 1))[1]


_COMMENT_LINE = re.compile(r"^[ \t]*(?:#|//).*$", re.MULTILINE)


def _scan(text: str, origin: Origin) -> tuple[Parts, str]:
    tokens, placeholders = tokenize(text, origin)
    in_string = False
    escaped = False
    standin: list[str] = []
    out: list[Part] = []
    for kind, value, start, end in tokens:
        if kind == "ph":
            ph = placeholders[start]
            if in_string:
                standin.append("x" * (end - start))
                out.append((ph, json_string_text))
            else:
                _check_standalone(text, start, end, ph)
                standin.append("0" + " " * (end - start - 1))
                out.append((ph, json_value))
            continue
        standin.append(" {{" if kind == "esc" else value)
        if out and isinstance(out[-1], str):
            out[-1] += value
        else:
            out.append(value)
        if kind == "lit":
            for char in value:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = in_string
                elif char == '"':
                    in_string = not in_string
    return tuple(out), "".join(standin)


_BEFORE_VALUE = frozenset("[,:")
_AFTER_VALUE = frozenset("]},")


def _check_standalone(text: str, start: int, end: int, ph: Placeholder) -> None:
    """A whole-value placeholder must be a JSON value by itself, not glued to other tokens."""
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    if (before and before[-1] not in _BEFORE_VALUE) or (after and after[0] not in _AFTER_VALUE):
        raise ph.error(
            'outside a string, {{ }} must be a whole JSON value (after ":", "," or "["); '
            'to join it with text, put it in a string: "…{{ x }}…".'
        )


def _reject_constant(name: str) -> object:
    raise ValueError(name)


def _check_json(standin: str, origin: Origin) -> None:
    try:
        json.loads(standin, parse_constant=_reject_constant, parse_int=shape_only)
    except TooLongInt as exc:
        line, col, src = position(standin, origin, max(0, standin.find(exc.literal)))
        raise RequestSyntaxError(f"{exc}.", line, col, source_line(origin, line)) from None
    except json.JSONDecodeError as exc:
        hint = _NOT_JSON_HINT if standin[: exc.pos].strip() == "" else ""
        line, col, src = position(standin, origin, exc.pos)
        src = source_line(origin, line)
        raise RequestSyntaxError(
            f"invalid JSON: {exc.msg.lower()}.{hint}", line, col, src
        ) from None
    except ValueError as exc:  # NaN / Infinity
        line, col, src = position(standin, origin, 0)
        raise RequestSyntaxError(f"invalid JSON: {exc} is not JSON.", line, col, src) from None
    except RecursionError:
        raise RequestSyntaxError("the JSON body is nested too deeply.", origin.line, 1) from None
