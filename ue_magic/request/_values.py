"""Value conversion: how a placeholder's value is written where it stands.

- a whole JSON value: ``json.dumps`` of the value (dates as ISO text, Decimal as a number, sets
  and tuples as lists, numpy/pandas scalars and arrays through ``tolist()``);
- inside a JSON string: the value's text, JSON-escaped;
- a header or query value, or a text body: its text (``str``; dates in ISO format); line breaks
  are refused in headers and query values (header injection); a form body gets it URL-encoded;
- the path: its text URL-encoded (``/`` too), except when the placeholder is the whole path (a
  URL kept in a variable), which is used as it is.

A compiled piece of text is ``Parts``: literal runs and (placeholder, conversion) pairs.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, quote_plus

from ._placeholders import Placeholder, Token, with_article

Convert = Callable[[Placeholder, object], str]


def as_text(ph: Placeholder, value: object) -> str:
    """The text of a value: str for most, ISO 8601 for dates, UTF-8 for bytes."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return as_text(ph, value.value)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ph.error("these bytes are not UTF-8 text.") from None
    try:
        return str(value)
    except Exception as exc:
        raise ph.error(
            f"str() of {with_article(type(value).__name__)} failed ({type(exc).__name__})."
        ) from None


def one_line(ph: Placeholder, value: object) -> str:
    text = as_text(ph, value)
    if "\n" in text or "\r" in text or "\x00" in text:
        raise ph.error("the value has a line break, which a header or query value cannot hold.")
    return text


def path_text(ph: Placeholder, value: object) -> str:
    return quote(one_line(ph, value), safe="")


def whole_path(ph: Placeholder, value: object) -> str:
    text = one_line(ph, value).strip()
    if not text or any(c.isspace() for c in text):
        raise ph.error("a path or URL with spaces (or none at all) cannot be sent.")
    return text


def form_text(ph: Placeholder, value: object) -> str:
    return quote_plus(as_text(ph, value))


def json_string_text(ph: Placeholder, value: object) -> str:
    return json.dumps(as_text(ph, value), ensure_ascii=False)[1:-1]


def _json_default(value: object) -> object:
    """What json.dumps cannot encode itself but a notebook commonly holds."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError("NaN or infinite")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if type(value).__module__.partition(".")[0] in ("numpy", "pandas"):
        if type(value).__name__ == "DataFrame":
            return value.to_dict(orient="records")  # type: ignore[attr-defined]
        for name in ("tolist", "item"):
            method = getattr(value, name, None)
            if callable(method):
                return method()
    raise TypeError(type(value).__name__)


def json_value(ph: Placeholder, value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)
    except TypeError as exc:
        kind = exc.args[0] if exc.args and " " not in str(exc.args[0]) else type(value).__name__
        raise ph.error(
            f"{with_article(kind)} cannot be written as JSON;"
            " convert it (to a dict, list, str or number) first."
        ) from None
    except (ValueError, RecursionError) as exc:
        reason = "it refers to itself" if "ircular" in str(exc) else "NaN and infinity are not JSON"
        raise ph.error(f"this value cannot be written as JSON: {reason}.") from None


Part = str | tuple[Placeholder, Convert]
Parts = tuple[Part, ...]


def parts_of(
    tokens: Iterable[Token], placeholders: Mapping[int, Placeholder], conv: Convert
) -> Parts:
    """Literal text merged into runs; each placeholder with its conversion."""
    out: list[Part] = []
    for kind, value, start, _end in tokens:
        if kind == "ph":
            out.append((placeholders[start], conv))
        elif out and isinstance(out[-1], str):
            out[-1] += value
        else:
            out.append(value)
    return tuple(out)


def render_parts(parts: Parts, namespace: Mapping[str, object]) -> str:
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    return "".join(
        part if isinstance(part, str) else part[1](part[0], part[0].resolve(namespace))
        for part in parts
    )
