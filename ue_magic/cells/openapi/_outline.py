"""%ue_api's views: the operations as a table, and one operation in the API's own words.

Both are plain objects with a text ``__repr__`` (terminals) and ``_repr_html_`` (notebooks),
built once and without side effects, so ``ops = %ue_api meters`` keeps them too.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urldefrag

from ...core._visible import visible
from ...errors import DescriptionError, UsageEngineError
from .._terminal import terminal_width
from ._bounded import json_start
from ._complete import METHODS, path_word
from ._example import ExampleTooLong, example_body, literal, placeholder_name
from ._index import TooManyTemplates
from ._model import Description
from ._operation import Operation
from ._schema_walk import MAX_NESTING, SchemaWalker, TooBig

MAX_DEPTH = 4
MAX_LINES = 400  # of a body's outline, parameters or answers
MIN_SUMMARY = 12  # below this, the table's lines are cut at the width instead
MAX_ROWS = 500  # operations the table shows; the rest are counted, and a filter word finds them
MAX_EXAMPLE = 20_000  # characters of an example body shown (a schema's example may be megabytes)
MAX_TEXT = 2_000  # characters of one summary or answer text in the view
# What a schema of the wrong shape (or a loop of allOf) makes the outline raise.
_BROKEN = (
    DescriptionError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    ValueError,
    ArithmeticError,
    RecursionError,
)
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def loaded_line(description: Description) -> str:
    kind = f"OpenAPI {description.version}"
    count = len(description.operations)
    line = f"API description: {count} operations from {description.source} ({kind})."
    return visible(line, one_line=True)  # its openapi field is the author's words


def matched_line(operation: Operation) -> str:
    name = f" ({operation.operation_id})" if operation.operation_id else ""
    summary = f": {operation.summary}" if operation.summary else ""
    return visible(f"Matches {operation.label}{name}{summary}.", one_line=True)


def api_view(description: Description, words: Sequence[str]) -> OperationTable | OperationView:
    """``[]``: every operation; ``[METHOD, PATH]``: that one; other words filter the table.

    Raises UsageEngineError for an operation the description lacks, or whose schemas are too
    broken to outline (a loop, a keyword of the wrong shape).
    """
    try:
        return _api_view(description, words)
    except TooManyTemplates as exc:
        raise UsageEngineError(f"API description {description.source} has {exc}.") from None


def _api_view(description: Description, words: Sequence[str]) -> OperationTable | OperationView:
    if len(words) == 2 and words[0].upper() in METHODS:
        operation = description.index.match(words[0], words[1])
        if operation is None:
            raise UsageEngineError(description.index.closest(words[0], words[1], sending=False))
        try:
            return OperationView(operation, description)
        except _BROKEN as exc:
            detail = str(exc).strip().split("\n")[0][:120] or type(exc).__name__
            raise UsageEngineError(
                f"Cannot show {operation.label}: its description is broken ({detail})."
            ) from None
    if len(words) == 1 and words[0].startswith("/"):
        entry = description.index.entry(words[0])
        if entry is not None:
            return OperationTable(list(entry.methods.values()), words[0])
    wanted = [w.lower() for w in words]
    found = [op for op in description.operations if all(w in _haystack(op) for w in wanted)]
    return OperationTable(found, " ".join(words))


def _haystack(op: Operation) -> str:
    return " ".join((op.method, op.path, op.summary, op.operation_id, *op.scopes)).lower()


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _row(method: str, path: str, summary: str, scopes: str) -> tuple[str, str, str, str]:
    """A table row the API author wrote: no control character reaches the screen raw."""
    return (
        visible(method, one_line=True),
        visible(path, one_line=True),
        visible(summary, one_line=True),
        visible(scopes, one_line=True),
    )


class OperationTable:
    """Operations as rows: method, path, summary, scopes."""

    def __init__(self, operations: list[Operation], filtered_by: str = "") -> None:
        self.operations = operations
        self.filtered_by = filtered_by

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The shown rows: at most MAX_ROWS (``operations`` holds them all)."""
        shown = self.operations[:MAX_ROWS]
        return [_row(o.method, o.path, o.summary, " ".join(o.scopes)) for o in shown]

    def _note(self) -> str:
        count = len(self.operations)
        where = f" matching {self.filtered_by!r}" if self.filtered_by else ""
        plural = "" if count == 1 else "s"
        note = f"{count:,} operation{plural}{where}; %ue_api METHOD PATH shows one."
        if count > MAX_ROWS:
            note += (
                f" The first {MAX_ROWS:,} are shown: add words to filter (%ue_api meters), "
                "or read them all from the value (ops = %ue_api, then ops.operations)."
            )
        return visible(note, one_line=True)

    def __repr__(self) -> str:
        """One line per operation, cut to the terminal's width: the summary gives way first."""
        rows = self.rows()
        width = terminal_width()
        note = textwrap.fill(self._note(), width)
        if not rows:
            return note
        method_w, path_w, scopes_w = (max(len(r[i]) for r in rows) for i in (0, 1, 3))
        summary_w = max(len(r[2]) for r in rows)
        room = width - (method_w + 2 + path_w + 2) - (2 + scopes_w if scopes_w else 0)
        summary_w = min(summary_w, max(room, MIN_SUMMARY))
        lines = []
        for method, path, summary, scopes in rows:
            line = (
                f"{method:<{method_w}}  {path:<{path_w}}  {_cut(summary, summary_w):<{summary_w}}"
            )
            lines.append(_cut(f"{line}  {scopes}".rstrip(), width))
        return "\n".join([*lines, note])

    def _repr_html_(self) -> str:
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self.rows()
        )
        head = "".join(f"<th>{h}</th>" for h in ("method", "path", "summary", "scopes"))
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
            f"<p>{html.escape(self._note())}</p>"
        )


class OperationView:
    """One operation: summary, scopes, parameters, the body as an outline, answers, example."""

    def __init__(self, operation: Operation, description: Description) -> None:
        self.operation = operation
        # the description's words are the API author's: no control character reaches the screen
        self.text = visible("\n".join(_describe(operation, description)))

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"


def _describe(op: Operation, description: Description) -> list[str]:
    name = f"  ({op.operation_id})" if op.operation_id else ""
    lines = [f"{op.label}{name}" + ("  DEPRECATED" if op.deprecated else "")]
    if op.summary:
        lines.append(_cut(op.summary, MAX_TEXT))
    if op.description and op.description != op.summary:
        lines.append(op.description[:400])
    if op.scopes:
        lines.append("Scopes: " + " ".join(op.scopes))
    walker = SchemaWalker(description)
    if op.parameters:
        lines.append("Parameters (* required):")
        for p in op.parameters[:MAX_LINES]:
            star = "*" if p.required else ""
            kind = _kind(p.schema or {}, walker, "")
            note = f"  {p.description}" if p.description else ""
            lines.append(f"  {p.name}{star} ({p.location}, {kind}){note}")
    body: Any = None
    too_long = False
    if op.body_media:
        required = ", required" if op.body_required else ""
        lines.append(f"Body ({op.body_media}{required}; * required):")
        if op.body_schema is not None:
            base = urldefrag(op.body_schema_uri)[0]
            outline: list[str] = []
            try:
                _outline(op.body_schema, walker, base, "  ", 0, set(), outline)
            except TooBig as too_big:
                outline.append(f"  … (cut: {too_big})")
            lines.extend(outline)
            try:
                body = example_body(op, description, MAX_EXAMPLE)
            except ExampleTooLong:  # said below, not built
                too_long = True
    if op.responses:
        lines.append("Answers:")
        answers = op.responses[:MAX_LINES]
        lines.extend(f"  {_cut(status, 40)}  {_cut(text, MAX_TEXT)}" for status, text in answers)
    lines.append("Example:")
    if too_long or (body is not None and len(body) > MAX_EXAMPLE):
        lines.append(
            f"  (its example body is over the {MAX_EXAMPLE:,} characters shown: "
            "{} below; see the body's schema in the description)"
        )
        body = "{}"
    lines.extend("  " + line for line in _example_cell(op, body).split("\n"))
    return lines


def _kind(schema: Any, walker: SchemaWalker, base: str, nesting: int = 0) -> str:
    schema, base = walker.merged(schema, base)
    if "enum" in schema and isinstance(schema["enum"], list):
        return " | ".join(json_start(v, 40) for v in schema["enum"][:8])
    if "const" in schema:
        return json_start(schema["const"], 40)
    kind = schema.get("type") or ("object" if "properties" in schema else "any")
    text = " | ".join(map(str, kind)) if isinstance(kind, list) else str(kind)
    if schema.get("nullable"):
        text += " | null"
    if "array" in text and "items" in schema and nesting < MAX_NESTING:
        inner = _kind(schema["items"], walker, base, nesting + 1)
        text = text.replace("array", "array of " + inner, 1)
    limits = [
        f"{label} {schema[key]}"
        for key, label in (("minLength", "min"), ("maxLength", "max"), ("minimum", ">="))
        if key in schema and not isinstance(schema[key], bool)
    ]
    limits += [f"<= {schema['maximum']}"] if "maximum" in schema else []
    return text + (f" ({', '.join(limits)})" if limits else "")


def _outline(
    schema: Any,
    walker: SchemaWalker,
    base: str,
    indent: str,
    depth: int,
    seen: set[int],
    lines: list[str],
) -> None:
    """Appends to ``lines`` (so a walk cut short keeps what it found), at most MAX_LINES."""
    schema, base = walker.merged(schema, base)
    properties = schema.get("properties")
    if not isinstance(properties, dict) or depth >= MAX_DEPTH:
        lines.append(indent + _kind(schema, walker, base))
        return
    required = set(schema.get("required") or [])
    for name, sub in properties.items():
        if len(lines) >= MAX_LINES:
            raise TooBig(f"over {MAX_LINES} lines")
        child, child_base = walker.merged(sub, base)
        star = "*" if name in required else ""
        note = child.get("description", "") if isinstance(child, dict) else ""
        note = f"  {' '.join(str(note).split())[:80]}" if note else ""
        lines.append(f"{indent}{name}{star}: {_kind(child, walker, child_base)}{note}")
        nested = child.get("items") if "properties" not in child else child
        nested, nested_base = walker.merged(nested, child_base)
        if isinstance(nested, dict) and nested.get("properties") and id(nested) not in seen:
            _outline(
                nested, walker, nested_base, indent + "  ", depth + 1, {*seen, id(nested)}, lines
            )


def _example_cell(op: Operation, body: str | None) -> str:
    # the description chose the path and the names: literal text escaped, each variable a
    # plain name, each query name URL-encoded (a name is never code that runs in the cell)
    parts = _TEMPLATE.split(op.path)  # literal, variable, literal, ...
    path = "".join(
        "{{" + placeholder_name(part) + "}}" if n % 2 else literal(path_word(part))
        for n, part in enumerate(parts)
    )
    query = [p.name for p in op.params_in("query") if p.required]
    if query:
        path += "?" + "&".join(f"{quote(n, safe='')}={{{{{placeholder_name(n)}}}}}" for n in query)
    if not op.body_media:
        return f"%ue_call {op.method} {path}"
    return f"%%ue_call {op.method} {path}\n" + (body if body is not None else "{}")
