"""``--python``: the same request as Python code on ``ue_magic.client()``, sending nothing.

Values that came from ``{{name}}`` are written as the Python expressions they came from
(``api_calls["id"]``), so the code keeps working when the variables change. To find them, the
template is rendered a second time with each name it uses replaced by a *marked* copy, whose
scalars are unique markers; where a marker lands in the request, its expression goes. Every
expression is then checked by evaluating it against the namespace: where it would not give the
same text or JSON as the magic sent (a date, a number in a path, an object), the literal value
is written instead. So the printed code, run in the same kernel, sends the same request.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import re
from collections import ChainMap
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from .request import RequestSpec, RequestSyntaxError, RequestTemplate

__all__ = ["python_code"]

_MARKER = re.compile(r"zq(\d+)xUEq")  # letters and digits only: URL and form encoding keep it
_MAX_NODES = 5000  # a bigger variable is written as its value, not walked
_WIDTH = 88
_LONG_BITS = 13_000  # an int's bits past which it has over 3,900 digits
_FORM = "application/x-www-form-urlencoded"
_BODY_METHODS = frozenset({"GET", "POST", "PUT", "PATCH"})
_HELPERS = {"quote": quote, "quote_plus": quote_plus}
_ENCODERS = {"quote": "quote(str({}), safe='')", "quote_plus": "quote_plus(str({}))"}


class _TooBig(Exception):
    pass


class _Marks:
    """Marked copies of the template's names, and what each marker stands for."""

    def __init__(self) -> None:
        self.exprs: list[str] = []
        self.containers: dict[str, str] = {}  # canonical JSON of a marked dict/list -> expr
        self._nodes = 0

    def copy(self, value: Any, expr: str) -> Any:
        self._nodes += 1
        if self._nodes > _MAX_NODES:
            raise _TooBig
        if isinstance(value, Mapping):
            out: Any = {k: self.copy(v, f"{expr}[{k!r}]") for k, v in value.items()}
        elif isinstance(value, (list, tuple)):
            out = [self.copy(v, f"{expr}[{i}]") for i, v in enumerate(value)]
        elif value is None or isinstance(value, (str, int, float)):
            self.exprs.append(expr)
            return f"zq{len(self.exprs) - 1}xUEq"
        else:
            return value  # dates, objects: rendered as they are, written as literals
        with contextlib.suppress(TypeError, ValueError):
            self.containers.setdefault(json.dumps(out, sort_keys=True), expr)
        return out


def python_code(
    template: RequestTemplate,
    namespace: Mapping[str, Any],
    spec: RequestSpec,
    profile: str | None = None,
) -> str:
    """Code that sends ``spec`` (the request rendered from ``template`` and ``namespace``)
    with the logged-in client; ``{{name}}`` values are expressions where they check out."""
    marks = _Marks()
    marked_spec = spec
    if template.names:
        marked: dict[str, Any] = {}
        for name in template.names:
            if name in namespace:
                # too big: the real value stays, and its placeholders are written as literals
                with contextlib.suppress(_TooBig):
                    marked[name] = marks.copy(namespace[name], name)
        try:
            marked_spec = template.render(ChainMap(marked, dict(namespace)))
        except RequestSyntaxError:
            marked_spec = spec  # a step the copy cannot take: every value as a literal
    writer = _Writer(marks, namespace)
    return writer.code(spec, marked_spec, profile)


class _Writer:
    def __init__(self, marks: _Marks, namespace: Mapping[str, Any]) -> None:
        self.marks = marks
        self.namespace = namespace
        self.imports: set[str] = set()

    # -- checking an expression ----------------------------------------------------------------

    def _eval(self, expr: str) -> Any:
        scope = {"__builtins__": builtins, **_HELPERS}
        return eval(expr, scope, dict(self.namespace))

    def _text(self, marked: str, real: str, encode: str = "") -> str:
        """A str literal, or an f-string whose markers are expressions, if it gives ``real``."""
        if not _MARKER.search(marked):
            return _str(real)
        pieces: list[str] = []
        for i, piece in enumerate(_MARKER.split(marked)):
            if i % 2 == 0:
                pieces.append(_str(piece)[1:-1].replace("{", "{{").replace("}", "}}"))
            else:
                expr = self.marks.exprs[int(piece)]
                pieces.append("{" + (_ENCODERS[encode].format(expr) if encode else expr) + "}")
        candidate = 'f"' + "".join(pieces) + '"'
        whole = _MARKER.fullmatch(marked)
        if whole and not encode:
            expr = self.marks.exprs[int(whole.group(1))]
            if self._gives(expr, real):
                return expr
        if self._gives(candidate, real):
            if encode:
                self.imports.add(encode)
            return candidate
        return _str(real)

    def _gives(self, expr: str, real: Any, as_json: bool = False) -> bool:
        try:
            value = self._eval(expr)
            if as_json and type(value) is int:  # json.dumps refuses over 4,300 digits
                return value == real
            if as_json:
                return bool(json.loads(json.dumps(value)) == real)
            return bool(value == real and type(value) is type(real))
        except Exception:  # a syntax error, a lookup that fails, a value json cannot write
            return False

    # -- JSON bodies -----------------------------------------------------------------------------

    def _json(self, marked: Any, real: Any, indent: int) -> str:
        if isinstance(marked, str):
            whole = _MARKER.fullmatch(marked)
            if whole:
                expr = self.marks.exprs[int(whole.group(1))]
                if self._gives(expr, real, as_json=True):
                    return expr
            if isinstance(real, str):
                return self._text(marked, real)
            return _literal(real, indent)
        if isinstance(marked, (dict, list)):
            found: str | None = None
            with contextlib.suppress(TypeError, ValueError):
                found = self.marks.containers.get(json.dumps(marked, sort_keys=True))
            if found is not None and self._gives(found, real, as_json=True):
                return found
        if isinstance(marked, dict) and isinstance(real, dict) and marked.keys() == real.keys():
            items = [
                f"{_str(str(k))}: {self._json(v, real[k], indent + 4)}" for k, v in marked.items()
            ]
            return _layout("{", items, "}", indent)
        if isinstance(marked, list) and isinstance(real, list) and len(marked) == len(real):
            items = [self._json(m, r, indent + 4) for m, r in zip(marked, real, strict=True)]
            return _layout("[", items, "]", indent)
        return _literal(real, indent)

    # -- the call --------------------------------------------------------------------------------

    def code(self, spec: RequestSpec, marked: RequestSpec, profile: str | None) -> str:
        args = [_str(spec.method), self._text(marked.path, spec.path, _path_encoder(marked, spec))]
        if spec.params:
            pairs = [
                f"({self._text(mk, k)}, {self._text(mv, v)})"
                for (k, v), (mk, mv) in zip(
                    spec.params, _aligned(marked.params, spec.params), strict=False
                )
            ]
            args.append("params=" + _layout("[", pairs, "]", 4))
        headers = list(zip(spec.headers, _aligned(marked.headers, spec.headers), strict=False))
        if spec.sends_json:  # json= sets this header itself
            headers = [h for h in headers if h[0] != ("Content-Type", "application/json")]
        if headers:
            pairs = [f"({_str(n)}, {self._text(mv, v)})" for (n, v), (_mn, mv) in headers]
            args.append("headers=" + _layout("[", pairs, "]", 4))
        if spec.body is not None:
            args.append(self._body(spec, marked))
        client = f"ue_magic.client({profile!r})" if profile else "ue_magic.client()"
        lines = ["import ue_magic"]
        if self.imports:
            lines.append(f"from urllib.parse import {', '.join(sorted(self.imports))}")
        lines += ["", f"ue = {client}", "response = ue.request(", *[f"    {a}," for a in args]]
        lines += [")", "response.raise_for_status()"]
        if spec.method in _BODY_METHODS:
            lines.append("answer = response.json() if response.content else None")
        return "\n".join(lines)

    def _body(self, spec: RequestSpec, marked: RequestSpec) -> str:
        if spec.sends_json:
            sent = spec.json_value()
            try:
                marked_json = marked.json_value()
            except ValueError:
                marked_json = sent
            return "json=" + self._json(marked_json, sent, 4)
        body = spec.body or b""
        try:
            text = body.decode("utf-8")
            marked_text = (marked.body or b"").decode("utf-8")
        except UnicodeDecodeError:
            return f"content={body!r}"
        form = any(
            n.lower() == "content-type" and v.lower().startswith(_FORM) for n, v in spec.headers
        )
        return "content=" + self._text(marked_text, text, "quote_plus" if form else "")


def _path_encoder(marked: RequestSpec, spec: RequestSpec) -> str:
    """A placeholder that is the whole path is sent as it is; inside a path, URL-encoded."""
    return "" if _MARKER.fullmatch(marked.path) else "quote"


def _aligned(
    marked: tuple[tuple[str, str], ...], real: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The marked pairs when they line up with the real ones, else the real ones (literals)."""
    return marked if len(marked) == len(real) else real


def _str(text: str) -> str:
    """A double-quoted Python literal (JSON's escapes are Python's too)."""
    return json.dumps(text, ensure_ascii=False)


def _literal(value: Any, indent: int) -> str:
    """A JSON value as a Python literal."""
    if isinstance(value, dict):
        items = [f"{_str(str(k))}: {_literal(v, indent + 4)}" for k, v in value.items()]
        return _layout("{", items, "}", indent)
    if isinstance(value, list):
        return _layout("[", [_literal(v, indent + 4) for v in value], "]", indent)
    if isinstance(value, str):
        return _str(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int) and value.bit_length() > _LONG_BITS:
        # Python refuses a decimal literal of over 4,300 digits; a hex one has no limit
        return int.__format__(value, "#x")
    return json.dumps(value)


def _layout(open_: str, items: list[str], close: str, indent: int) -> str:
    """On one line when it fits, else one item a line."""
    flat = open_ + ", ".join(items) + close
    if len(flat) + indent <= _WIDTH and "\n" not in flat:
        return flat
    pad = " " * (indent + 4)
    return open_ + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + close
