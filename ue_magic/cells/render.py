"""How an answer looks in a notebook (HTML) and a terminal (text): pure, no IPython.

Big answers are shown cut to ``display_limit`` items per list or object and ``display_bytes`` of
output per form; the walk visits only what is shown, so a 20 MB answer renders as fast as a small
one. The whole answer stays in ``_ue`` and ``-o VAR``; a note says so whenever something was cut.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable, Iterable
from itertools import islice
from json.encoder import encode_basestring
from typing import Any

import httpx

from .._constants import BEARER_MASK
from .._extras import coding_missing
from ..core._decoding import codings
from ..core._media import (
    charset,
    codec,
    decode_body,
    decode_text,
    is_json,
    media_type,
    media_type_of,
)
from ..core._visible import visible
from ..core.credentials import without_password
from ._terminal import fit_width
from .table import MAX_COLUMNS, NAMED_COLUMNS, Table, find_records, html_cell

_quote: Callable[[str], str] = encode_basestring  # JSON string literal, non-ASCII kept

__all__ = ["RequestView", "ResponseView", "format_size", "html_cell"]

_UNSET: Any = object()
_MAX_DEPTH = 64  # deeper levels are shown as "…"
_MAX_STRING = 1000  # characters of one string value shown
_RESERVE = 2048  # bytes kept for closing tags and the note
_SECRET_HEADERS = {"authorization": BEARER_MASK, "proxy-authorization": "***", "cookie": "***"}

_CSS = (
    "<style>"
    ".ue-view{font-family:var(--jp-code-font-family,monospace);"
    "font-size:var(--jp-code-font-size,13px);line-height:1.4}"
    ".ue-view details>details{margin-left:1.2em}"
    ".ue-view details>div{margin-left:2.1em}"
    ".ue-view summary{cursor:pointer}"
    ".ue-view details[open]>summary>.preview{display:none}"
    ".ue-view b{color:var(--jp-mirror-editor-property-color,inherit);font-weight:600}"
    ".ue-view .s{color:var(--jp-mirror-editor-string-color,inherit)}"
    ".ue-view .n{color:var(--jp-mirror-editor-number-color,inherit)}"
    ".ue-view .b{color:var(--jp-mirror-editor-keyword-color,inherit)}"
    ".ue-view .m{opacity:.6}"
    ".ue-view .st{font-weight:600;margin-bottom:.3em;white-space:pre-wrap}"
    ".ue-view .err{color:var(--jp-error-color1,#d32f2f)}"
    ".ue-view pre{margin:0;white-space:pre-wrap}"
    ".ue-view table{border-collapse:collapse;margin:.3em 0}"
    ".ue-view th,.ue-view td{border:1px solid rgba(128,128,128,.35);padding:1px 6px;"
    "text-align:left;vertical-align:top;color:inherit;background:none}"
    ".ue-view .note{opacity:.7;font-style:italic;margin-top:.3em}"
    ".ue-view .note code{font-style:normal}"
    "</style>"
)
# Untrusted notebooks (run by nbconvert, or from a colleague) drop the <style> block above but
# keep inline styles with plain values (no var()): the font, the tree's indentation, the status
# line and the error's red are therefore inline too. The block adds the theme's colors on top.
_VIEW_STYLE = " style='font-family:monospace;font-size:13px;line-height:1.4'"
_STATUS_STYLE = "font-weight:600;margin-bottom:.3em;white-space:pre-wrap"
_ERROR_STYLE = _STATUS_STYLE + ";color:#d32f2f"
_NOTE_STYLE = " style='opacity:.7;font-style:italic;margin-top:.3em'"
_NESTED_STYLE = " style='margin-left:1.2em'"  # a container inside a container
_LEAF_STYLE = " style='margin-left:2.1em'"  # a scalar inside a container


# --------------------------------------------------------------------------- helpers


def format_size(size: int) -> str:
    """Bytes as ``532 B``, ``1.2 kB``, ``20.3 MB`` (decimal units, like browsers)."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


_CODE = re.compile(r"`([^`]+)`")


def note_text(note: str, width: int | None = None) -> str:
    """A note for a terminal: Markdown backticks dropped (``Table of `meters`.`` -> ``meters``),
    wrapped between words to ``width`` (default: the terminal's), never inside a word."""
    return wrap_text(_CODE.sub(r"\1", note), width)


def wrap_text(text: str, width: int | None = None, indent: str = "") -> str:
    """Each line of ``text`` wrapped between words to ``width`` columns (default: the
    terminal's); a word longer than the line (a URL, an id) is kept whole. Continuation lines
    start with ``indent``."""
    import textwrap

    columns = fit_width(width)
    return "\n".join(
        textwrap.fill(
            line,
            columns,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        or line
        for line in text.split("\n")
    )


def note_html(note: str) -> str:
    """A note as HTML: escaped, with backticked names as ``<code>``."""
    return _CODE.sub(r"<code>\1</code>", html.escape(note, quote=False))


def _clip_escaped(text: str, budget: int) -> tuple[str, bool]:
    """HTML-escape at most ``budget`` bytes' worth of text; True when text was cut."""
    escaped = html.escape(text[:budget], quote=False)
    cut = len(text) > budget
    while len(escaped) > budget:
        cut = True
        keep = max(0, len(text[:budget]) * budget // len(escaped) - 8)
        text = text[:keep]
        escaped = html.escape(text, quote=False)
    return escaped, cut


class _Out:
    """An output buffer with a size budget: the walk stops adding once it is spent."""

    __slots__ = ("budget", "first_cut", "more_cuts", "parts", "size")

    def __init__(self, budget: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.budget = budget
        self.first_cut: tuple[int, int, int] | None = None  # (depth, shown, total), outermost
        self.more_cuts = False

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    @property
    def full(self) -> bool:
        return self.size >= self.budget

    def cut(self, depth: int, shown: int, total: int) -> None:
        """Remember the outermost container that was cut: the note is about that one."""
        if self.first_cut is not None:
            self.more_cuts = True
            if self.first_cut[0] <= depth:
                return
        self.first_cut = (depth, shown, total)

    def text(self) -> str:
        return "".join(self.parts)


def _items(value: dict[Any, Any] | list[Any]) -> Iterable[tuple[object, object]]:
    return value.items() if isinstance(value, dict) else enumerate(value)


def _count(value: dict[Any, Any] | list[Any]) -> str:
    n = len(value)
    if isinstance(value, dict):
        return f"{{…}} {n:,} key" + ("" if n == 1 else "s")
    return f"[…] {n:,} item" + ("" if n == 1 else "s")


def _more(n: int) -> str:
    return f"… {n:,} more item{'' if n == 1 else 's'}"


def _key(key: object) -> str:
    """A key's text, clipped as a string value is (a 20 MB key was printed whole)."""
    text = str(key)
    return text if len(text) <= _MAX_STRING else f"{text[:_MAX_STRING]}… ({len(text):,} chars)"


def _scalar(value: object) -> tuple[str, str]:
    """JSON text of a scalar (strings clipped) and its CSS class; no json.dumps: it is slow
    per call, and this runs once per shown value."""
    if isinstance(value, str):
        if len(value) > _MAX_STRING:
            clipped = _quote(value[:_MAX_STRING])
            return f'{clipped[:-1]}…" ({len(value):,} chars)', "s"
        return _quote(value), "s"
    if value is None:
        return "null", "b"
    if isinstance(value, bool):
        return ("true" if value else "false"), "b"
    if isinstance(value, int):
        return int.__repr__(value), "n"
    if isinstance(value, float):
        return float.__repr__(value), "n"
    if isinstance(value, dict):  # empty, or too deep
        return ("{…}" if value else "{}"), "m"
    if isinstance(value, list):
        return ("[…]" if value else "[]"), "m"
    return repr(value)[:_MAX_STRING], "m"


def _preview(value: dict[Any, Any] | list[Any], width: int = 60) -> str:
    """The first few scalars of a collapsed container, so a closed row still says something."""
    out: list[str] = []
    used = 0
    for key, item in islice(_items(value), 6):
        if isinstance(item, (dict, list)) and item:
            text = _count(item).partition(" ")[0]
        else:
            text = _scalar(item)[0]
            if len(text) > 24:
                text = text[:23] + "…"
        label = str(key) if len(str(key)) <= 24 else str(key)[:23] + "…"
        piece = f"{label}: {text}" if isinstance(value, dict) else text
        if used + len(piece) > width and out:
            out.append("…")
            break
        out.append(piece)
        used += len(piece) + 2
    return ", ".join(out)


# --------------------------------------------------------------------------- tree


class _Tree:
    """One walk per form over at most ``limit`` items per container, within a byte budget."""

    def __init__(
        self, limit: int, budget: int, expand_levels: int, list_limit: int | None = None
    ) -> None:
        self.limit = max(1, limit)
        self.list_limit = self.limit if list_limit is None else max(1, list_limit)
        self.budget = budget
        self.expand = expand_levels

    def html(self, value: object) -> _Out:
        out = _Out(self.budget)
        self._html(out, "", value, 0)
        return out

    def _html(self, out: _Out, key: str, value: object, depth: int) -> None:
        if not isinstance(value, (dict, list)) or not value or depth >= _MAX_DEPTH:
            text, css = _scalar(value)
            indent = _LEAF_STYLE if depth else ""
            out.add(
                f"<div{indent}>{key}<span class={css}>{html.escape(text, quote=False)}</span></div>"
            )
            return
        is_open = depth < self.expand
        preview = (
            ""
            if is_open  # shown open: the items are right below, so no preview
            else f" <span class=preview>{html.escape(_preview(value), quote=False)}</span>"
        )
        indent = _NESTED_STYLE if depth else ""
        out.add(
            f"<details{indent}{' open' if is_open else ''}><summary>{key}"
            f"<span class=m>{_count(value)}</span>{preview}</summary>"
        )
        shown = 0
        for k, item in islice(_items(value), self.limit):
            if out.full:
                break
            label = html.escape(_key(k), quote=False)
            self._html(out, f"<b>{label}</b>: ", item, depth + 1)
            shown += 1
        if shown < len(value):
            out.cut(depth, shown, len(value))
            out.add(f"<div class=m{_LEAF_STYLE}>{_more(len(value) - shown)}</div>")
        out.add("</details>")

    def text(self, value: object) -> _Out:
        out = _Out(self.budget)
        self._text(out, "", value, 0, "")
        return out

    def _text(self, out: _Out, indent: str, value: object, depth: int, comma: str) -> None:
        if not isinstance(value, (dict, list)) or not value or depth >= _MAX_DEPTH:
            out.add(f"{_scalar(value)[0]}{comma}\n")
            return
        is_dict = isinstance(value, dict)
        out.add("{\n" if is_dict else "[\n")
        inner = indent + "  "
        total = len(value)
        shown = 0
        for k, item in islice(_items(value), self.limit if is_dict else self.list_limit):
            if out.full:
                break
            shown += 1
            more = "," if shown < total else ""
            out.add(f"{inner}{_quote(_key(k))}: " if is_dict else inner)
            self._text(out, inner, item, depth + 1, more)
        if shown < total:
            out.cut(depth, shown, total)
            out.add(f"{inner}{_more(total - shown)}\n")
        out.add(f"{indent}{'}' if is_dict else ']'}{comma}\n")


# --------------------------------------------------------------------------- the views


class ResponseView:
    """What ``%%ue_call`` displays: a status line and the body, cut to fit, built on demand."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        body: object = _UNSET,
        display_limit: int = 100,
        display_bytes: int = 200_000,
        table: bool = False,
        raw: bool = False,
        expand_levels: int = 2,
        output_var: str | None = None,
        text_limit: int | None = None,
        width: int | None = None,
        columns: tuple[str, ...] | None = None,
        more_pages: bool = False,
    ) -> None:
        """``text_limit``: items per list in the text form (default ``display_limit``);
        ``width``: terminal columns for the text form (default: the terminal's, else 80);
        ``columns``: the table's columns, in order; ``more_pages``: the answer is one page of
        several, so a note says how to get them all."""
        self.response = response
        self._body = body
        self.display_limit = display_limit
        self.display_bytes = display_bytes
        self.table = table
        self.raw = raw
        self.expand_levels = expand_levels
        self.output_var = output_var
        self.text_limit = display_limit if text_limit is None else text_limit
        self.width = width
        self.columns = columns
        self.more_pages = more_pages
        self._cache: dict[str, str] = {}

    @property
    def body(self) -> object:
        if self._body is _UNSET:
            self._body = decode_body(self.response)
        return self._body

    @property
    def is_error(self) -> bool:
        return self.response.status_code >= 400

    def __repr__(self) -> str:
        return f"<ResponseView {self.status_line()}>"

    def status_line(self) -> str:
        """``200 OK  GET /usage-metering/v1/meters  12.3 ms  1.2 kB`` (parts that are known)."""
        response = self.response
        parts = [f"{response.status_code} {response.reason_phrase}".strip()]
        try:
            request = response.request
            parts.append(f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}")
        except RuntimeError:
            pass
        try:
            ms = response.elapsed.total_seconds() * 1000
            parts.append(f"{ms:.1f} ms" if ms < 100 else f"{ms:,.0f} ms")
        except RuntimeError:
            pass
        with contextlib.suppress(httpx.ResponseNotRead):
            parts.append(format_size(len(response.content)))
        return "  ".join(parts)

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        wanted = _filter(("text/plain", "text/html"), include, exclude)
        return {mime: self._form(mime) for mime in wanted}

    def _form(self, mime: str) -> str:
        """One form, built on first use and kept (displaying twice costs nothing)."""
        if mime not in self._cache:
            want_html = mime == "text/html"
            notes: list[str] = []
            shown = self._body_form(want_html, notes)
            # the answer's text is the server's: no control character reaches the screen raw
            self._cache[mime] = visible(self._assemble(shown, notes, want_html))
        return self._cache[mime]

    def _note(self, shown: int, total: int, unit: str = "items") -> str:
        where = "`_ue`" + (f" and `{self.output_var}`" if self.output_var else "")
        return f"Showing {shown:,} of {total:,} {unit}; the whole answer is in {where}."

    def _body_form(self, want_html: bool, notes: list[str]) -> str:
        # text/plain gets half the budget: both forms are saved in the notebook, and a terminal
        # shows less anyway. So both together stay within 1.5 x display_bytes.
        size = self.display_bytes if want_html else self.display_bytes // 2
        budget = max(1000, size - (len(_CSS) if want_html else 0) - _RESERVE)
        body = self.body
        notes.extend(self._decoding_notes(body))
        if self.raw or isinstance(body, str):
            content = self._raw_text() if self.raw else str(body)
            return self._pre(content, budget, want_html, notes)
        if isinstance(body, (bytes, bytearray)):
            media = self.response.headers.get("content-type", "unknown type")
            text = f"{len(body):,} bytes of {media}"
            return f"<div class=m>{html.escape(text, quote=False)}</div>" if want_html else text
        if body is None:
            return "<div class=m>(empty body)</div>" if want_html else "(empty body)"
        limit = self.display_limit if want_html else self.text_limit
        if self.table or self.columns:
            found = find_records(body, limit)
            if found is not None:
                return self._table(found, limit, budget, want_html, notes)
            notes.append("No list of objects to show as a table; showing the tree.")
        # In a terminal, long lists are cut to text_limit, but an object keeps its keys.
        tree = _Tree(self.display_limit, budget, self.expand_levels, list_limit=limit)
        out = tree.html(body) if want_html else tree.text(body)
        if out.first_cut is not None:
            note = self._note(*out.first_cut[1:])
            notes.append(note[:-1] + "; nested values are cut too." if out.more_cuts else note)
        return out.text() if want_html else out.text().rstrip("\n")

    def _decoding_notes(self, body: object) -> list[str]:
        """What the reader must know about how the body was read: a coding it is still in (no
        package to decode it), a charset Python does not know, or an answer labelled JSON that
        is not."""
        content_type = self.response.headers.get("content-type", "")
        notes = [n for c in codings(self.response) if (n := coding_missing(c)) is not None]
        declared = charset(content_type)
        if declared is not None and codec(declared) != codec(self.response.encoding):
            # Python does not know it, knows it only for bytes (base64), or it cannot read
            # this body at all (idna): ``settle_encoding`` made the answer UTF-8
            notes.append(
                f"The answer declares the charset {declared!r}, which Python cannot read as"
                " text; it is read as UTF-8."
            )
        if isinstance(body, str) and is_json(media_type(content_type)) and not notes:
            notes.append(
                f"The answer says it is JSON ({media_type(content_type)}) but it does not parse"
                " as JSON; shown as text."
            )
        return notes

    def _raw_text(self) -> str:
        content = self.response.content[: self.display_bytes + 1]
        return decode_text(content, self.response.encoding)

    def _pre(self, content: str, budget: int, want_html: bool, notes: list[str]) -> str:
        total = len(self.response.content) if self.raw else len(content)
        unit = "bytes" if self.raw else "characters"
        if want_html:
            escaped, cut = _clip_escaped(content, budget)
            if cut:
                notes.append(self._note(min(len(content), budget), total, unit))
            return f"<pre>{escaped}</pre>"
        if len(content) > budget:
            notes.append(self._note(budget, total, unit))
        return content[:budget]

    def _table(
        self,
        found: tuple[str | None, list[Any]],
        limit: int,
        budget: int,
        want_html: bool,
        notes: list[str],
    ) -> str:
        key, rows = found
        table = Table(rows, limit, budget, self.columns)
        if key is not None:
            notes.append(f"Table of `{key}`.")
        if len(table.cells) < table.total:
            notes.append(self._note(len(table.cells), table.total, "rows"))
        if table.unknown:
            names = ", ".join(f"`{c}`" for c in table.unknown)
            known = ", ".join(table.available[:NAMED_COLUMNS])
            more = ", …" if len(table.available) > NAMED_COLUMNS else ""
            notes.append(f"No column {names} in the rows shown; they have: {known}{more}.")
        if table.some_columns_hidden:
            notes.append(f"Only the first {MAX_COLUMNS} columns are shown.")
        if want_html:
            return f"<div style='overflow-x:auto'>{table.html()}</div>"
        width = fit_width(self.width)
        drawn, left_out = table.text(width)
        if left_out:
            notes.append(
                f"{len(table.columns) - left_out} of {len(table.columns)} columns shown "
                f"(those that fit {width} characters); `--columns A,B,C` picks others."
            )
        return drawn

    def _assemble(self, shown: str, notes: list[str], want_html: bool) -> str:
        if "status" not in self._cache:  # once for both forms
            self._cache["status"] = self.status_line()
        status = self._cache["status"]
        if self.more_pages:
            notes.append("More pages exist: add `--all-pages` to get them all.")
        if not want_html:
            return "\n".join([status, shown, *(note_text(n, self.width) for n in notes)])
        css, style = ("st err", _ERROR_STYLE) if self.is_error else ("st", _STATUS_STYLE)
        notes_html = "".join(f"<div class=note{_NOTE_STYLE}>{note_html(n)}</div>" for n in notes)
        return (
            f"{_CSS}<div class=ue-view{_VIEW_STYLE}><div class='{css}' style='{style}'>"
            f"{html.escape(status, quote=False)}</div>{shown}{notes_html}</div>"
        )


class RequestView:
    """``--dry-run``: the request that would be sent, with the token masked, built on demand."""

    def __init__(
        self, request: httpx.Request, *, note: str | None = None, display_bytes: int = 200_000
    ) -> None:
        self.request = request
        self.note = note
        self.display_bytes = display_bytes

    def __repr__(self) -> str:
        return f"<RequestView {self.request.method} {without_password(self.request.url)}>"

    def headers(self) -> list[tuple[str, str]]:
        """Headers as sent, secrets masked: Authorization is always ``Bearer ***``."""
        out = []
        for raw_name, raw_value in self.request.headers.raw:
            name = raw_name.decode("latin-1")
            value = _SECRET_HEADERS.get(name.lower(), raw_value.decode("latin-1"))
            out.append((name, value))
        return out

    def body_text(self) -> str | None:
        """The body's bytes as they would be sent (never re-indented: ``Content-Length``
        counts these), decoded as UTF-8; a summary for binary bodies."""
        try:
            content = self.request.content
        except httpx.RequestNotRead:
            return "(streamed body)"
        if not content:
            return None
        media = media_type_of(self.request.headers)
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            return f"{len(content):,} bytes of {media or 'binary data'}"

    def _lines(self) -> tuple[str, list[str], str | None]:
        start = f"{self.request.method} {without_password(self.request.url)}"
        headers = [f"{n}: {v}" for n, v in self.headers()]
        body = self.body_text()
        if body is not None and len(body) > self.display_bytes:
            body = body[: self.display_bytes] + f"\n… ({len(body):,} characters in all)"
        return start, headers, body

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        start, headers, body = self._lines()
        note = [self.note] if self.note else []
        text = "\n".join(
            [*map(note_text, note), start, *headers, *(["", body] if body is not None else [])]
        )
        esc = html.escape
        parts = [f"<div class=note{_NOTE_STYLE}>{note_html(self.note)}</div>"] if self.note else []
        parts.append(f"<div class=st style='{_STATUS_STYLE}'>{esc(start, quote=False)}</div>")
        parts.append(f"<pre>{esc(chr(10).join(headers), quote=False)}</pre>")
        if body is not None:
            parts.append(f"<pre style='margin-top:.6em'>{esc(body, quote=False)}</pre>")
        page = f"{_CSS}<div class=ue-view{_VIEW_STYLE}>{''.join(parts)}</div>"
        bundle = {"text/plain": visible(text), "text/html": visible(page)}
        return {mime: bundle[mime] for mime in _filter(bundle, include, exclude)}


def _filter(
    mimes: Iterable[str], include: Iterable[str] | None, exclude: Iterable[str] | None
) -> list[str]:
    """The mime types IPython asked for (``include``) minus those it did not (``exclude``)."""
    wanted = None if include is None else set(include)
    unwanted = set() if exclude is None else set(exclude)
    return [m for m in mimes if (wanted is None or m in wanted) and m not in unwanted]
