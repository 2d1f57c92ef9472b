"""The placeholder grammar: ``{{ name.attr[0]['key'] }}`` found in text, and looked up.

A placeholder holds a name, then ``.attr`` (a mapping's key first, else the attribute) and
``[0]`` / ``['key']`` steps; nothing is called or computed. A step that starts with ``_`` is
refused, but for a key a mapping holds (JSON's ``_id``, ``_links``) that is not a dunder: a
private attribute or a dunder leads from any object to the kernel's objects (``__globals__``,
``get_ipython.__self__``) and to the client secret. No step reads into a text that holds a
live login's client secret or token (a character or a slice of it would not be recognised
when sent). ``\\{{`` writes a literal ``{{``.
Every placeholder keeps where it was written (line, column, source line) for error messages.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

from ...core._outgoing import holds_live_secret
from ...errors import RequestSyntaxError, UnknownNameError


def with_article(noun: str) -> str:
    """'a dict', 'an int': messages read as sentences."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


_IDENT = re.compile(r"[^\W\d]\w*")
_STEP = re.compile(
    r"""[ \t]*(?:\.[ \t]*(?P<attr>[^\W\d]\w*)"""
    r"""|\[[ \t]*(?:(?P<int>-?\d+)|(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))[ \t]*\])"""
)
_OPEN = re.compile(r"\\\{\{|\{\{")


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ ... }}``: the root name and the steps after it, with where it was written."""

    text: str  # as written, braces included
    root: str
    steps: tuple[tuple[bool, str | int], ...]  # (is_attribute, key)
    line: int
    column: int
    source_line: str
    #: a system variable's function (``{{$guid}}``), called once per render; None for a name
    system: Callable[[], object] | None = field(default=None, compare=False)

    def error(self, message: str) -> RequestSyntaxError:
        return RequestSyntaxError(
            f"{self.text}: {message}", self.line, self.column, self.source_line
        )

    def resolve(self, namespace: Mapping[str, object]) -> object:
        """Look the value up: a mapping key or attribute for ``.x``, an item for ``[i]``."""
        if self.system is not None:
            return self.system()
        try:
            value = namespace[self.root]
        except KeyError:
            close = closest_name(self.root, namespace)
            raise UnknownNameError(
                self.root, self.line, self.column, self.source_line, close
            ) from None
        for is_attr, key in self.steps:
            value = self._step(value, is_attr, key)
        if inspect.isroutine(value):
            # Its text would be "<built-in method upper of str object at 0x...>": never meant.
            expression = self.text[2:-2].strip()
            raise self.error(
                f"this is a function or method, and placeholders call nothing: compute the "
                f"value first (v = {expression}(...)) and use {{{{ v }}}}."
            )
        return value

    def _step(self, value: object, is_attr: bool, key: str | int) -> object:
        kind = with_article(type(value).__name__)
        if isinstance(key, str) and key.startswith("_") and not _data_key(value, key):
            raise self.error(
                f"{key!r} is private (it starts with _), and placeholders read only public "
                f"attributes and keys; put the value in a variable first."
            )
        if isinstance(value, (str, bytes, bytearray)) and holds_live_secret(value):
            # {{os.environ["UE_CLIENT_SECRET"][0]}}: a character, a slice, each alone unknown
            raise self.error(
                "this text holds the client secret or an access token, and placeholders take "
                "no part of it; nothing was sent."
            )
        try:
            if is_attr:
                if isinstance(value, Mapping) and key in value:
                    return value[key]
                return getattr(value, str(key))
            return value[key]  # type: ignore[index]
        except AttributeError:
            problem = f"{kind} has no key or attribute {key!r}{_close_key(value, key) or '.'}"
        except (KeyError, IndexError):
            problem = f"{kind} has no item [{key!r}]{_close_key(value, key) or '.'}"
        except TypeError:
            problem = f"{kind} cannot be indexed with [{key!r}]."
        except Exception as exc:  # a property that raised: say so, briefly
            problem = f"reading {key!r} of {kind} failed ({type(exc).__name__})."
        raise self.error(problem) from None


def _data_key(value: object, key: str) -> bool:
    """A key a mapping holds (not a dunder): data, as JSON's ``_id``, not an object's insides."""
    if key.startswith("__") or not isinstance(value, Mapping):
        return False
    try:
        return key in value
    except Exception:  # a mapping whose lookup fails: not data to read
        return False


def closest_name(name: str, namespace: Mapping[str, object]) -> str | None:
    """The defined name nearest to a mistyped one (``itm`` -> ``item``), or None.
    Private names (``_x``) are offered only for a name that is private too."""
    import difflib
    import types

    private = name.startswith("_")
    names = [
        n
        for n in namespace
        if isinstance(n, str)
        and (private or not n.startswith("_"))
        and not callable(value := namespace[n])  # open, exit: not values to put in a request
        and not isinstance(value, types.ModuleType)
    ]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    return close[0] if close else None


def _close_key(value: object, key: object) -> str:
    """``; did you mean 'id'?`` for a mapping with a key near the mistyped one, else ``""``."""
    import difflib

    if not isinstance(value, Mapping) or not isinstance(key, str):
        return ""
    keys = [k for k in islice(value, 1000) if isinstance(k, str)]
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.7)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True)
class Origin:
    """Where a piece of text sits in the cell, to turn offsets into line and column."""

    lines: Sequence[str]  # the cell's lines (index 0 is line 1); the magic line when line == 0
    line: int
    column: int  # 1-based column of the text's first character


def position(text: str, origin: Origin, offset: int) -> tuple[int, int, str]:
    """Line, column and source line of ``offset`` in ``text``."""
    count = text.count("\n", 0, offset)
    if count:
        line = origin.line + count
        column = offset - text.rfind("\n", 0, offset)
    else:
        line, column = origin.line, origin.column + offset
    return line, column, source_line(origin, line)


def source_line(origin: Origin, line: int) -> str:
    index = 0 if origin.line == 0 else line - 1
    return origin.lines[index] if 0 <= index < len(origin.lines) else ""


Token = tuple[str, str, int, int]  # kind ("lit", "esc", "ph"), value, start, end


def tokenize(text: str, origin: Origin) -> tuple[list[Token], dict[int, Placeholder]]:
    """Split text into literal runs, ``\\{{`` escapes and placeholders (keyed by start offset)."""
    tokens: list[Token] = []
    placeholders: dict[int, Placeholder] = {}
    lines = _Lines(text, origin)
    pos = 0
    for match in _OPEN.finditer(text):
        start = match.start()
        if start < pos:
            continue  # inside a placeholder already taken
        if start > pos:
            tokens.append(("lit", text[pos:start], pos, start))
        if match.group() == "\\{{":
            tokens.append(("esc", "{{", start, match.end()))
            pos = match.end()
            continue
        end = _close(text, match.end())
        if end < 0:
            line, col, src = position(text, origin, start)
            raise RequestSyntaxError(
                "unclosed {{; close it with }} on the same line, or write \\{{ for a literal {{.",
                line,
                col,
                src,
            )
        placeholders[start] = _parse_placeholder(text, start, end, origin, lines.at(start))
        tokens.append(("ph", text[start:end], start, end))
        pos = end
    if pos < len(text):
        tokens.append(("lit", text[pos:], pos, len(text)))
    return tokens, placeholders


def _close(text: str, start: int) -> int:
    """Offset just past the ``}}`` that closes a placeholder on the same line, or -1."""
    end = text.find("}}", start)
    if end < 0 or text.find("\n", start, end) >= 0:  # not past }}: long lines of many {{}}
        return -1
    return end + 2


class _Lines:
    """``position`` of offsets met in increasing order, each line break counted once (counting
    from the start for every placeholder was quadratic in a long body)."""

    def __init__(self, text: str, origin: Origin) -> None:
        self.text, self.origin = text, origin
        self.offset = self.breaks = 0
        self.last_break = -1

    def at(self, offset: int) -> tuple[int, int, str]:
        if offset < self.offset:
            return position(self.text, self.origin, offset)
        found = self.text.rfind("\n", self.offset, offset)
        if found >= 0:
            self.breaks += self.text.count("\n", self.offset, offset)
            self.last_break = found
        self.offset = offset
        if not self.breaks:
            line, column = self.origin.line, self.origin.column + offset
        else:
            line, column = self.origin.line + self.breaks, offset - self.last_break
        return line, column, source_line(self.origin, line)


def _parse_placeholder(
    text: str, start: int, end: int, origin: Origin, where: tuple[int, int, str]
) -> Placeholder:
    """The placeholder ``text[start:end]``, which stands at ``where`` (line, column, source)."""
    inner = text[start + 2 : end - 2]
    lead = len(inner) - len(inner.lstrip(" \t"))
    expr = inner.strip(" \t")
    base = start + 2 + lead  # offset of expr in text

    def fail(at: int, message: str) -> RequestSyntaxError:
        line, col, src = position(text, origin, base + at)
        return RequestSyntaxError(message, line, col, src)

    if not expr:
        raise fail(0, "empty {{ }}; put a variable name inside, e.g. {{ meter_id }}.")
    if expr.startswith("$"):
        return _system_placeholder(text, start, end, expr, where, fail)
    match = _IDENT.match(expr)
    if match is None or not match.group().isidentifier():
        raise fail(0, "{{ }} must start with a variable name, e.g. {{ meter.id }}.")
    root = match.group()
    steps: list[tuple[bool, str | int]] = []
    pos = match.end()
    while pos < len(expr):
        step = _STEP.match(expr, pos)
        if step is None:
            pos += len(expr[pos:]) - len(expr[pos:].lstrip(" \t"))
            raise fail(
                pos,
                f"only a name, .attribute and [index] may stand inside {{{{ }}}},"
                f" not {expr[pos : pos + 20]!r}; compute the value in a Python cell first.",
            )
        if step.group("attr") is not None:
            steps.append((True, step.group("attr")))
        elif step.group("int") is not None:
            steps.append((False, int(step.group("int"))))
        else:
            try:
                key = ast.literal_eval(step.group("str"))
            except (ValueError, SyntaxError):
                raise fail(pos, "this quoted key is not a valid string literal.") from None
            steps.append((False, str(key)))
        pos = step.end()
    return Placeholder(text[start:end], root, tuple(steps), *where)


def is_placeholder_expression(expr: str) -> bool:
    """Does ``{{ expr }}`` take ``expr`` as written: a name, then ``.attr`` and ``[0]`` /
    ``['key']`` steps (what a refusal of IPython's ``{expr}`` may hint)?"""
    expr = expr.strip(" \t")
    match = _IDENT.match(expr)
    pos = match.end() if match else len(expr) + 1
    while pos < len(expr) and (step := _STEP.match(expr, pos)) is not None:
        pos = step.end()
    return pos == len(expr)


_SYSTEM_NAME = re.compile(r"\$[A-Za-z]\w*")


def _system_placeholder(
    text: str,
    start: int,
    end: int,
    expr: str,
    where: tuple[int, int, str],
    fail: Callable[[int, str], RequestSyntaxError],
) -> Placeholder:
    """``{{$guid}}``, ``{{$randomInt 1 9}}``: checked now, computed at each render."""
    from ._system import system_variable

    match = _SYSTEM_NAME.match(expr)
    name = match.group() if match else expr.split()[0]
    try:
        compute = system_variable(name, expr[len(name) :])
    except ValueError as exc:
        raise fail(0, str(exc)) from None
    return Placeholder(text[start:end], name, (), *where, compute)
