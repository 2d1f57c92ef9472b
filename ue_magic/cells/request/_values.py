"""Value conversion: how a placeholder's value is written where it stands.

- a whole JSON value: ``json.dumps`` of the value (dates as ISO text, Decimal as a number, sets
  and tuples as lists, numpy/pandas scalars and arrays through ``tolist()``);
- inside a JSON string: the value's text, JSON-escaped;
- a header or query value, or a text body: its text (``str``; dates in ISO format); line breaks
  are refused in headers and query values (header injection), and a header value is checked
  exactly as literal header text is (``header_value_problem``); a form body gets it URL-encoded;
- the path: its text URL-encoded (``/`` too), except when the placeholder is the whole path (a
  URL kept in a variable), which is used as it is. A value never changes the path's shape: a
  segment it leaves empty, ``.`` or ``..`` is refused (httpx would drop or merge it).

A compiled piece of text is ``Parts``: literal runs and (placeholder, conversion) pairs.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, quote_plus, urlsplit

from ...errors import UsageEngineError
from ._long_ints import MAX_INT_DIGITS
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
    if type(value) is int:
        return int_text(ph, value)
    if _is_frame(value):
        # str() of a Series is many lines, so the line-break check would hide the real cause
        expression = ph.text[2:-2].strip()
        raise ph.error(
            f"this is a pandas {type(value).__name__} ({len(value):,} rows), not one value: "  # type: ignore[arg-type]
            f"pick one (such as {{{{{expression}[0]}}}}), or send one call per value with --each."
        )
    try:
        return str(value)
    except Exception as exc:
        raise ph.error(
            f"str() of {with_article(type(value).__name__)} failed ({type(exc).__name__})."
        ) from None


def _is_frame(value: object) -> bool:
    """A pandas Series or DataFrame (pandas is not imported for this: only looked up)."""
    kind = type(value)
    return kind.__module__.split(".")[0] == "pandas" and kind.__name__ in ("Series", "DataFrame")


_SURROGATE = re.compile("[\ud800-\udfff]")


def one_line(ph: Placeholder, value: object) -> str:
    text = as_text(ph, value)
    if "\n" in text or "\r" in text or "\x00" in text:
        raise ph.error("the value has a line break, which a header or query value cannot hold.")
    lone = _SURROGATE.search(text)
    if lone is not None:  # "\ud800" alone: valid in JSON, but no character UTF-8 can encode
        raise ph.error(f"the value holds {lone.group()!r}, which UTF-8 cannot encode.")
    return text


def header_value_problem(text: str) -> tuple[int, str] | None:
    """Where and why ``text`` cannot be a header value, or None: the one check for literal
    header text and placeholder values alike. httpx sends header values as ASCII, and a control
    character (tab aside) would be refused by the server or split the header."""
    for index, char in enumerate(text):
        if char in "\r\n":
            return index, "a header value cannot hold a line break (it would start a new header)."
        if (ord(char) < 0x20 and char != "\t") or char == "\x7f":
            return index, f"a header value cannot hold a control character ({char!r})."
        if ord(char) > 0x7E:
            return index, (
                f"a header value can only hold ASCII characters, not {char!r};"
                " percent-encode it, or send it in the body."
            )
    return None


def header_text(ph: Placeholder, value: object) -> str:
    text = as_text(ph, value)
    problem = header_value_problem(text)
    if problem is not None:
        raise ph.error(problem[1])
    return text


def path_text(ph: Placeholder, value: object) -> str:
    return quote(one_line(ph, value), safe="")


DOT_SEGMENTS = frozenset({".", ".."})
_SHAPE = (
    "would change the path's shape (an empty, . or .. segment is dropped or merged before"
    " sending); check the value."
)


def whole_path(ph: Placeholder, value: object) -> str:
    text = one_line(ph, value).strip()
    if not text or any(c.isspace() for c in text):
        raise ph.error("a path or URL with spaces (or none at all) cannot be sent.")
    if any(segment in DOT_SEGMENTS for segment in urlsplit(text).path.split("/")):
        raise ph.error(f"the URL {text[:80]!r} has a . or .. segment, which {_SHAPE}")
    return text


def url_text(ph: Placeholder, value: object) -> str:
    """A value where the URL begins (``{{baseUrl}}/health``) or inside its scheme and authority
    (``http://{{host}}/x``): URL text, as the ``.http`` references read it; the origin guard
    then decides on the whole URL."""
    return whole_path(ph, value)


_HOST_LIKE = re.compile(
    r"(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|(?:[\w-]+\.)+[A-Za-z]{2,}"
    r"|[\w.-]+(?=:\d))(?::\d+)?(?=[/?#]|$)"
)
_HALF_SCHEME = re.compile(r"(https?):(?!//)", re.IGNORECASE)


def absolute_target(path: str) -> str:
    """A target without a scheme whose first segment is a host (``127.0.0.1:8000/v1``,
    ``localhost:4000/x``, ``example.com/x``) is ``http://`` as the JetBrains format reads it;
    ``http:host`` (no ``//``) is ``http://host``, as browsers read it. Anything else as it is."""
    if path[:1] == "/":
        return path
    half = _HALF_SCHEME.match(path)
    if half:
        return f"{half.group(1)}://{path[half.end() :]}"
    if "://" not in path and _HOST_LIKE.match(path):
        return "http://" + path
    return path


def render_path(parts: Parts, namespace: Mapping[str, object]) -> str:
    """The path with its placeholders filled; a path segment that a placeholder leaves empty,
    ``.`` or ``..`` is refused, because httpx (and servers) would remove or merge it and the
    request would go elsewhere (``DELETE /meter-types/{{id}}`` with ``id = ".."``)."""
    if len(parts) == 1:  # a literal path, or a whole URL kept in a variable (checked itself)
        return render_parts(parts, namespace)
    pieces: list[str] = []
    spans: list[tuple[int, int, Placeholder, str]] = []  # start, end, placeholder, value
    size = 0
    query = -1  # where the query (or fragment) starts, once a literal part starts it
    for part in parts:
        if isinstance(part, str):
            text = part
            cuts = [i for i in (text.find("?"), text.find("#")) if i >= 0]
            if query < 0 and cuts:
                query = size + min(cuts)
        else:
            ph, convert = part
            text = convert(ph, ph.resolve(namespace))
            if convert is not url_text:  # URL text is checked by itself
                spans.append((size, size + len(text), ph, text))
        pieces.append(text)
        size += len(text)
    path = "".join(pieces)
    _check_segments(path[:query] if query >= 0 else path, spans)
    return path


def _check_segments(path: str, spans: list[tuple[int, int, Placeholder, str]]) -> None:
    start = 0
    for segment in path.split("/"):
        end = start + len(segment)
        if not segment or segment in DOT_SEGMENTS:
            for first, last, ph, value in spans:
                if start <= first and last <= end:
                    raise ph.error(
                        f"the value {value!r} makes the path segment {segment!r}, which {_SHAPE}"
                    )
        start = end + 1


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
        try:
            return _dumps(value)
        except ValueError as exc:
            if "integer string conversion" not in str(exc):
                raise
            return _dumps_big_ints(ph, value)  # rare: only when an int is over 4300 digits
    except TypeError as exc:
        kind = exc.args[0] if exc.args and " " not in str(exc.args[0]) else type(value).__name__
        raise ph.error(
            f"{with_article(kind)} cannot be written as JSON;"
            " convert it (to a dict, list, str or number) first."
        ) from None
    except UsageEngineError:
        raise
    except RecursionError:
        raise ph.error(
            "this value cannot be written as JSON: it is nested too deeply (lists or objects"
            f" inside one another more than about {sys.getrecursionlimit():,} levels)."
        ) from None
    except ValueError as exc:
        reason = "it refers to itself" if "ircular" in str(exc) else "NaN and infinity are not JSON"
        raise ph.error(f"this value cannot be written as JSON: {reason}.") from None


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)


_CHUNK = 600  # digits written at a time: under Python's smallest int-to-str limit (640)


def int_text(ph: Placeholder, value: int) -> str:
    """The decimal digits of any int. Python refuses ``str()`` of an int over 4300 digits (a
    guard for parsing untrusted text, ``sys.set_int_max_str_digits``); writing one is safe, so
    it is written in chunks. Over ``MAX_INT_DIGITS`` digits it is refused, saying so."""
    try:
        return int.__repr__(value)
    except ValueError:
        pass
    digits = int(value.bit_length() * 0.30103) + 1
    if digits > MAX_INT_DIGITS:
        raise ph.error(
            f"this int has about {digits:,} digits; at most {MAX_INT_DIGITS:,} are sent."
        ) from None
    sign, rest = ("-", -value) if value < 0 else ("", value)
    chunks: list[str] = []
    unit = 10**_CHUNK
    while rest >= unit:
        rest, low = divmod(rest, unit)
        chunks.append(int.__repr__(low).zfill(_CHUNK))
    return sign + int.__repr__(rest) + "".join(reversed(chunks))


def _dumps_big_ints(ph: Placeholder, value: object) -> str:
    """``_dumps`` with each int too long for ``str()`` written by ``int_text``: each is
    swapped for a unique marker string, then the markers for the digits."""
    big: dict[str, str] = {}
    tag = uuid.uuid4().hex

    def swap(item: object) -> object:
        if type(item) is int:
            try:
                int.__repr__(item)  # under Python's int-to-str limit: kept as it is
                return item
            except ValueError:
                pass
            marker = f"ue-big-int-{tag}-{len(big)}"
            big[marker] = int_text(ph, item)
            return marker
        if item is None or isinstance(item, (str, float, bool, int)):
            return item
        if isinstance(item, dict):
            return {swap_key(k): swap(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [swap(v) for v in item]
        return swap(_json_default(item))

    def swap_key(key: object) -> object:
        return int_text(ph, key) if type(key) is int else key

    text = _dumps(swap(value))
    for marker, digits in big.items():
        text = text.replace(f'"{marker}"', digits)
    return text


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
