"""Tab completion for %ue_call, %%ue_call cells, %ue_login and %ue_api: a pure function.

``complete(text, cursor, context)`` takes the cell (or line) and the cursor offset, and returns
the candidates and where they start; the IPython adapter (``ue_magic/completer.py``) only turns
that into IPython's matcher result. It works without the ``openapi`` extra.

What is completed, by where the cursor is:
- an option (``--ta`` -> ``--table``), a ``--profile`` name, an ``--each`` variable;
- the method, then the path, one segment at a time (``{id}`` shown as such), on the magic line
  and on a cell's request line;
- query parameter names after ``?``/``&`` and on ``?``/``&`` lines; header names on header lines
  and after ``-H``;
- inside ``{{``: names from the user's namespace, then keys or attributes after a dot.
Completion reads the description (``context.describe``, loaded once); it sends nothing else.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import quote, unquote

from ..._constants import METHODS
from ..magic_line import word_spans
from ._index import TooManyTemplates, request_path
from ._model import Description
from ._operation import Operation
from ._static import MISSING, attribute, attribute_names, inherits, is_routine, lookup

COMMON_HEADERS = (
    "Accept",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "User-Agent",
)
MAX_CANDIDATES = 200
MAX_KEYS = 100_000  # keys of one dict, or enum values, looked at for one Tab
MAX_VALUE = 1_000  # characters of an enum value offered
# the name ends before the cursor: a name still being typed (`%ue_lo`) is IPython's to complete
_MAGIC_IN_LINE = re.compile(r"(?:^|[\s=(])%(ue_\w+)(?=\s)")
_NAME = re.compile(r"[^\W\d]\w*")
_WORD = re.compile(r"\w*")


def expression_steps(expression: str) -> list[str] | None:
    """The names of ``name . attr . at`` (blanks allowed around the dots; the last may be
    empty or partly typed), or None for any other text; ``[""]`` for blank text. Split with
    string methods: a pattern with blanks on both sides of each dot backtracks exponentially."""
    steps = [step.strip() for step in expression.split(".")]
    if steps == [""]:
        return steps
    if _NAME.fullmatch(steps[0]) and all(_WORD.fullmatch(step) for step in steps[1:]):
        return steps
    return None


_METHODS_WITH_PATH = frozenset(("api", "call"))


@dataclass(frozen=True)
class Candidate:
    """One completion: the text that replaces ``text[start:cursor]``, its kind and a note."""

    text: str
    kind: str  # option, profile, variable, method, path, param, header, key, attribute
    detail: str = ""


@dataclass(frozen=True)
class Completions:
    start: int
    candidates: list[Candidate]


@dataclass
class CompletionContext:
    """What completion may look at. ``describe(profile)`` gives the login's description (it
    may fetch it, once); ``options`` maps a magic (``ue_call``) to its option strings and
    whether each takes a value."""

    describe: Callable[[str | None], Description | None] = lambda profile: None
    namespace: Mapping[str, Any] = field(default_factory=dict)
    profiles: Sequence[str] = ()
    options: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)


@dataclass
class _Line:
    """The words of a magic line before the cursor, with their offsets in the text."""

    magic: str
    words: list[tuple[str, int]]  # finished words and their start offsets
    current: str
    current_start: int


def _nothing(cursor: int) -> Completions:
    return Completions(cursor, [])


def complete(text: str, cursor: int, context: CompletionContext) -> Completions | None:
    """Candidates for the cursor at ``text[cursor]``, or None when this is not ours.

    On a magic line, inside ``{{`` and anywhere in a ``%%ue_`` cell, the answer is ours even
    when it is empty: IPython's own completers would evaluate what is typed there (and run
    properties), or offer Python's names (``abs``, ``print``) in a header or a JSON body. A
    path with more templates to compare than a Tab may take (``TooManyTemplates``): nothing.
    """
    try:
        return _complete(text, cursor, context)
    except TooManyTemplates:
        return _nothing(cursor)


def _complete(text: str, cursor: int, context: CompletionContext) -> Completions | None:
    before = text[:cursor]
    line_start = before.rfind("\n") + 1
    line = before[line_start:]
    first_line = text.split("\n", 1)[0]
    cell_magic = _cell_magic(first_line)
    header = None
    magic_line: _Line | None = None
    if cell_magic is not None:
        after = first_line.index(cell_magic) + len(cell_magic)
        if cursor <= after:
            return None  # the cell magic's name is being typed (`%%ue_c`): IPython completes it
        header = _words(cell_magic, first_line + " ", 0, after)  # every word, none unfinished
        if line_start == 0:
            magic_line = _words(cell_magic, line, 0, after)
    else:
        magic_line = _magic_line(line, line_start)
        if magic_line is None:
            return None
    open_at = line.rfind("{{")
    if open_at != -1 and "}}" not in line[open_at:]:
        each = _option_value(magic_line or header, "--each")  # type: ignore[arg-type]
        return _namespace(line[open_at + 2 :], cursor, context, each) or _nothing(cursor)
    if magic_line is not None:
        return _complete_magic_line(magic_line, context) or _nothing(cursor)
    assert header is not None
    if header.magic != "ue_call" or _positionals(header, context):
        return _nothing(cursor)  # a body (JSON or text): no Python in it but inside {{ }}
    return _complete_message(text, line_start, cursor, header, context) or _nothing(cursor)


# -- where the cursor is ------------------------------------------------------------------------


def _cell_magic(first_line: str) -> str | None:
    stripped = first_line.lstrip()
    if not stripped.startswith("%%ue_"):
        return None
    name = stripped[2:].split(None, 1)[0]
    return name if name.startswith("ue_") else None


def _magic_line(line: str, offset: int) -> _Line | None:
    matches = list(_MAGIC_IN_LINE.finditer(line))
    if not matches:
        return None
    found = matches[-1]
    return _words(found.group(1), line, offset, found.end())


def _words(magic: str, line: str, offset: int, after: int) -> _Line:
    """Split as %ue_call will (``magic_line``); the word at the end of the line is the one
    being typed, kept as typed (an open quote included)."""
    rest = line[after:]
    spans = word_spans(rest)
    words = [(word, offset + after + start) for word, start, _ in spans]
    if spans and spans[-1][2] == len(rest):
        current, start = rest[spans[-1][1] :], words.pop()[1]
    else:
        current, start = "", offset + len(line)
    return _Line(magic, words, current, start)


def _option_value(line: _Line, option: str) -> str | None:
    for (word, _), (value, _) in zip(line.words, line.words[1:], strict=False):
        if word == option:
            return value
    return None


def _positionals(line: _Line, context: CompletionContext) -> list[str]:
    takes_value = context.options.get(line.magic, {})
    found: list[str] = []
    skip = False
    for word, _ in line.words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = takes_value.get(word.split("=")[0], False) and "=" not in word
        else:
            found.append(word)
    return found


def _profile_of(line: _Line) -> str | None:
    return _option_value(line, "--profile")


# -- the magic line -----------------------------------------------------------------------------


def _complete_magic_line(line: _Line, context: CompletionContext) -> Completions | None:
    options = context.options.get(line.magic, {})
    previous = line.words[-1][0] if line.words else ""
    start, current = line.current_start, line.current
    if options.get(previous):
        if previous == "--profile":
            return _pick(start, current, context.profiles, "profile")
        if previous == "--each":
            names = [
                n
                for n, v in context.namespace.items()
                if type(n) is str  # a str subclass's startswith is the user's code
                and _is_items(v)
                and (not n.startswith("_") or current.startswith("_"))
            ]
            return _pick(start, current, names, "variable")
        if previous in ("-H", "--header"):
            quote = current[:1] if current[:1] in "\"'" else ""
            description = context.describe(_profile_of(line))
            operation = _line_operation(line, description, context)
            return _headers(start + len(quote), current[len(quote) :], operation, description)
        return None
    if current.startswith("-"):
        return _pick(start, current, sorted(options), "option")
    short = line.magic[3:] if line.magic.startswith("ue_") else line.magic
    if short not in _METHODS_WITH_PATH:
        return None
    positionals = _positionals(line, context)
    if not positionals:
        if current.startswith("/") or "?" in current:
            return _path(start, current, None, _profile_of(line), context)
        return _pick(start, current, METHODS, "method", upper=True)
    if len(positionals) == 1 and positionals[0].upper() in METHODS:
        return _path(start, current, positionals[0].upper(), _profile_of(line), context)
    return None


def _line_operation(
    line: _Line, description: Description | None, context: CompletionContext
) -> Operation | None:
    positionals = _positionals(line, context)
    if len(positionals) == 2:
        method, path = positionals
    elif len(positionals) == 1:
        method, path = "GET", positionals[0]
    else:
        return None
    return description.index.match(method, path) if description else None


def _is_items(value: Any) -> bool:
    return issubclass(type(value), (list, tuple)) or _is_frame(value)


def _is_frame(value: Any) -> bool:
    """Exactly pandas' DataFrame, by identity (a subclass's ``columns`` property, or a
    metaclass's ``__name__``, is the user's code), and only when pandas is imported."""
    frame = getattr(sys.modules.get("pandas"), "DataFrame", None)
    return frame is not None and type(value) is frame


def _pick(
    start: int, typed: str, names: Sequence[str], kind: str, *, upper: bool = False
) -> Completions | None:
    wanted = typed.upper() if upper else typed.lower()
    found = [
        Candidate(name, kind)
        for name in names
        if (name.upper() if upper else name.lower()).startswith(wanted)
    ]
    return Completions(start, found[:MAX_CANDIDATES]) if found else None


# -- paths and query parameters -----------------------------------------------------------------


def _path(
    start: int, word: str, method: str | None, profile: str | None, context: CompletionContext
) -> Completions | None:
    description = context.describe(profile)
    if description is None:
        return None
    if "?" in word:
        return _query(start, word, method, description)
    if word.startswith("/"):
        slash = word.rfind("/")
        typed = word[1:slash].split("/") if slash > 0 else []
        partial, segment_start, lead = word[slash + 1 :].lower(), start + slash + 1, ""
    else:  # nothing typed yet, or a first segment without its slash
        typed, partial, segment_start, lead = [], word.lower(), start, "/"
    found: dict[str, set[str]] = {}
    for node in description.index.nodes(typed):  # the path tree: no walk over every operation
        for following in node.by_prefix(partial, method):
            child = node.children[following]
            if method and not _has(child.methods_below, method):
                continue
            methods = found.setdefault(following, set())
            if child.entry is not None and (not method or _has(child.entry.methods, method)):
                methods.update(child.entry.methods)
            if len(found) >= MAX_CANDIDATES:
                break
    if not found:
        return None
    ordered = sorted(found, key=lambda s: (s.startswith("{"), s))
    candidates = [
        Candidate(lead + path_word(name), "path", " ".join(m for m in METHODS if m in found[name]))
        for name in ordered
    ]
    return Completions(segment_start, candidates[:MAX_CANDIDATES])


def path_word(segment: str) -> str:
    """A path segment a description chose, as it may be written on a magic line: a space, a
    quote, a backslash or a control character %-encoded, so that it stays one word of the path
    and never becomes options (``meters --save notes.txt`` would overwrite the file), and ``{{``
    too, so that it never becomes a placeholder that reads the notebook (``{{aws_key}}``)."""
    return "".join(
        quote(ch, safe="") if ch.isspace() or ch in "'\"\\" or not ch.isprintable() else ch
        for ch in segment.replace("{{", "%7B%7B")
    )


def query_word(text: str) -> str:
    """A query name or value a description chose, as ``path_word`` writes a segment, with the
    query's own separators (``&``, ``=``, ``#``) %-encoded too: one name, one value."""
    text = text.replace("{{", "%7B%7B")
    return "".join(quote(ch, safe="") if ch in "&=#" else path_word(ch) for ch in text)


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _has(methods: Mapping[str, Operation] | set[str], method: str) -> bool:
    return method in methods or (method == "HEAD" and "GET" in methods)


def _query(
    start: int, word: str, method: str | None, description: Description
) -> Completions | None:
    path = word.split("?", 1)[0]
    cut = max(word.rfind("?"), word.rfind("&")) + 1
    return _param_names(start + cut, word[cut:], method, path, description)


def _param_names(
    start: int, typed: str, method: str | None, path: str, description: Description
) -> Completions | None:
    if "=" in typed:
        return _param_values(start, typed, method, path, description)
    found: dict[str, str] = {}
    for operation in _operations(description, method, path):
        names = description.names.of(operation, "query")
        for name, detail in names.starting(typed, MAX_CANDIDATES):
            found.setdefault(name, detail)
    candidates = [
        Candidate(query_word(n), "param", d) for n, d in list(found.items())[:MAX_CANDIDATES]
    ]
    return Completions(start, candidates) if candidates else None


def _param_values(
    start: int, typed: str, method: str | None, path: str, description: Description
) -> Completions | None:
    name, _, value = typed.partition("=")
    for operation in _operations(description, method, path):
        names = description.names.of(operation, "query")
        param = names.named(name) or names.named(unquote(name))  # as Tab wrote it
        enum = (param.schema or {}).get("enum") if param is not None else None
        if isinstance(enum, list):
            # bounded: the first MAX_KEYS values, scalars only, up to MAX_CANDIDATES found
            # (1,000,000 values, or one of 20 MB, took over 10 s a Tab)
            found: list[Candidate] = []
            for v in islice(enum, MAX_KEYS):
                if isinstance(v, (dict, list)):
                    continue
                text = v if isinstance(v, str) else str(v)
                if len(text) <= MAX_VALUE and text.startswith(value):
                    found.append(Candidate(query_word(text), "value"))
                    if len(found) >= MAX_CANDIDATES:
                        break
            return Completions(start + len(name) + 1, found) if found else None
    return None


def _operations(description: Description, method: str | None, path: str) -> list[Operation]:
    entry = description.index.entry(path)
    if entry is None:
        return []
    if method and _has(entry.methods, method):
        return [entry.methods.get(method) or entry.methods["GET"]]
    return list(entry.methods.values())


def _headers(
    start: int, typed: str, operation: Operation | None, description: Description | None
) -> Completions | None:
    """The operation's header names that start with ``typed`` (any case), then the common
    ones it does not name; at most ``MAX_CANDIDATES``."""
    found: dict[str, str] = {}
    if operation is not None and description is not None:
        found = dict(description.names.of(operation, "header").starting(typed, MAX_CANDIDATES))
    if len(found) < MAX_CANDIDATES:  # every name of the operation that starts so is in found
        wanted = typed.lower()
        found.update(
            (h, "") for h in COMMON_HEADERS if h.lower().startswith(wanted) and h not in found
        )
    # only a name a header line can hold (RFC 9110's token): never a space, a colon, an option
    names = [name for name in found if _TOKEN.fullmatch(name)]
    candidates = [Candidate(name, "header") for name in names[:MAX_CANDIDATES]]
    return Completions(start, candidates) if candidates else None


# -- a cell that is an HTTP message -------------------------------------------------------------


def _complete_message(
    text: str, line_start: int, cursor: int, header: _Line, context: CompletionContext
) -> Completions | None:
    lines = text[:line_start].split("\n")[1:-1]  # the body lines before the cursor's line
    current = text[line_start:cursor]
    request = None  # (method, path) once the request line is behind us
    section = "request"
    for raw in lines:
        stripped = raw.strip()
        if section == "request":
            if stripped and not stripped.startswith("#"):
                words = stripped.split()
                request = (words[0].upper(), words[1]) if len(words) > 1 else ("GET", words[0])
                section = "query"
        elif section == "query" and stripped[:1] not in ("?", "&"):
            section = "headers" if stripped else "body"
        elif section == "headers" and not stripped:
            section = "body"
    if section == "request":
        return _request_line(line_start, current, header, context)
    if section == "body" or request is None:
        return None
    method, path = request
    stripped = current.lstrip()
    if section == "query" and stripped[:1] in ("?", "&"):
        description = context.describe(_profile_of(header))
        if description is None:
            return None
        cut = max(current.rfind("?"), current.rfind("&")) + 1
        return _param_names(line_start + cut, current[cut:], method, path, description)
    if ":" in current:
        return None
    return _header_names(line_start, current, method, path, context, header)


def _request_line(
    line_start: int, current: str, header: _Line, context: CompletionContext
) -> Completions | None:
    words = [(m.group(), m.start()) for m in re.finditer(r"\S+", current)]
    ends_with_space = not current or current[-1].isspace()
    if not words or (len(words) == 1 and not ends_with_space):
        typed = words[0][0] if words else ""
        start = line_start + (words[0][1] if words else len(current))
        if typed.startswith("/"):
            return _path(start, typed, None, _profile_of(header), context)
        return _pick(start, typed, METHODS, "method", upper=True)
    method = words[0][0].upper()
    if ends_with_space:
        typed, at = "", len(current)
    else:
        typed, at = words[-1]
    if len(words) - (0 if ends_with_space else 1) != 1 or method not in METHODS:
        return None
    return _path(line_start + at, typed, method, _profile_of(header), context)


def _header_names(
    line_start: int,
    current: str,
    method: str,
    path: str,
    context: CompletionContext,
    header: _Line,
) -> Completions | None:
    description = context.describe(_profile_of(header))
    operation = description.index.match(method, request_path(path)) if description else None
    indent = len(current) - len(current.lstrip())
    return _headers(line_start + indent, current.lstrip(), operation, description)


# -- {{ names from the namespace }} -------------------------------------------------------------


def _namespace(
    expression: str, cursor: int, context: CompletionContext, each: str | None
) -> Completions | None:
    steps = expression_steps(expression)
    if steps is None:
        return None
    typed = steps[-1]
    start = cursor - len(typed)
    # names only of exact str: a str subclass's startswith or __eq__ is the user's code
    namespace = {k: v for k, v in context.namespace.items() if type(k) is str}
    if each is not None:
        items: Any = namespace.get(each)
        kind = type(items)
        if issubclass(kind, list) and list.__len__(items):  # the list's own code is not run
            namespace["item"] = list.__getitem__(items, 0)
        elif issubclass(kind, tuple) and tuple.__len__(items):
            namespace["item"] = tuple.__getitem__(items, 0)
        elif _is_frame(items):  # its rows are sent as dicts keyed by the column names
            namespace["item"] = dict.fromkeys(c for c in items.columns if type(c) is str)
    if len(steps) == 1:
        names = [n for n in namespace if not n.startswith("_") or typed.startswith("_")]
        return _pick(start, typed, sorted(names), "variable")
    value: Any = namespace.get(steps[0], _MISSING)
    for step in steps[1:-1]:
        value = _step(value, step)
    if value is _MISSING:
        return None
    # neither a mapping's own __iter__ or .get, nor an object's __dir__, __getattr__, properties
    # or __class__ is run: type() and the static reads of _static only
    if issubclass(type(value), dict):
        # the first MAX_KEYS keys only: a dict of 2,000,000 took 4 s a Tab
        keys = [
            k
            for k in islice(dict.keys(value), MAX_KEYS)
            if type(k) is str  # a str subclass's startswith or isidentifier is the user's code
            and k.startswith(typed)
            and k.isidentifier()
            and not k.startswith("__")
        ]
        return _pick(start, typed, keys, "key")
    if inherits(type(value), Mapping):
        return None  # a mapping of other kinds would run its own code to list its keys
    listed = attribute_names(value)
    # a private attribute is refused inside {{ }} (it leads to the kernel's objects): not offered
    names = [n for n in listed if not n.startswith("_") and not is_routine(value, n)]
    return _pick(start, typed, sorted(names), "attribute")


_MISSING = MISSING


def _step(value: Any, name: str) -> Any:
    """One ``.name`` without running code: a dict's key or an object's own data (see _static)."""
    if value is _MISSING:
        return value
    if issubclass(type(value), dict):
        return _MISSING if name.startswith("__") else lookup(value, name)
    if inherits(type(value), Mapping) or name.startswith("_"):
        return _MISSING  # its own .get would run; a private attribute is refused in {{ }}
    return attribute(value, name)
