"""What the line form ``r = %ue_call GET /path`` returns: the decoded body that shows itself.

A bare ``%ue_call GET /path`` displays through IPython's Out as the response view (status line,
truncated tree); assigned, it is an ordinary dict, list or str to the user's code. Either way the
answer is shown once, and never in full when it is big. With ``-q`` it shows nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any


class _Shown:
    """Mixin: display as the response view that came with the body (or not at all)."""

    _ue_view: Any = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        if self._ue_view is None:
            return {"text/plain": ""}
        return self._ue_view._repr_mimebundle_(include=include, exclude=exclude)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's pretty printer would print the whole body; print the view's text instead."""
        if self._ue_view is not None:
            printer.text(self._ue_view._repr_mimebundle_()["text/plain"])


class JsonDict(_Shown, dict):  # type: ignore[type-arg,unused-ignore]
    """A JSON object body."""


class JsonList(_Shown, list):  # type: ignore[type-arg,unused-ignore]
    """A JSON array body."""


class TextBody(_Shown, str):
    """A text body."""


class BytesBody(_Shown, bytes):
    """A binary body."""


_WRAPPERS: dict[type, type] = {dict: JsonDict, list: JsonList, str: TextBody, bytes: BytesBody}


def shown(body: Any, view: Any) -> Any:
    """``body`` wrapped so that it displays as ``view`` (None: not at all); None if it can't be."""
    wrapper = _WRAPPERS.get(type(body))
    if wrapper is None:
        return None
    result = wrapper(body)
    result._ue_view = view
    return result


@functools.lru_cache(maxsize=64)  # a loop of calls asks about the same cell again and again
def value_is_used(cell: str, magic: str, line: str) -> bool:
    """False when every ``%magic line`` in ``cell`` (IPython's transformed source) stands
    alone as a statement, so its value could only be shown as ``Out[n]``; True otherwise,
    also when unsure (the cell does not parse, or the call is not found)."""
    import ast

    try:
        tree = ast.parse(cell)
    except (SyntaxError, ValueError):
        return True
    calls = bare = 0
    for node in ast.walk(tree):
        if _is_magic_call(node, magic, line):
            calls += 1
        elif isinstance(node, ast.Expr) and _is_magic_call(node.value, magic, line):
            bare += 1
    return calls == 0 or calls > bare


def _is_magic_call(node: Any, magic: str, line: str) -> bool:
    import ast

    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if node.func.attr != "run_line_magic" or len(node.args) < 2:
        return False
    name, text = node.args[0], node.args[1]
    return (
        isinstance(name, ast.Constant)
        and name.value == magic
        and isinstance(text, ast.Constant)
        and text.value == line
    )


def line_value_is_used(shell: Any, line: str) -> bool:
    """Is this %ue_call line's value used (``r = %ue_call ...``), or is it a bare statement?
    Read from the cell being run (the shell's last parsed input), as IPython's own ``;`` rule
    is; unsure means used."""
    try:
        cell = shell.history_manager.input_hist_parsed[-1]
    except (AttributeError, IndexError):
        return True
    return value_is_used(cell, "ue_call", line)


def output_left(name: str, namespace: Mapping[str, Any]) -> str:
    """What a call that raises did to ``-o NAME``: nothing, which the error says (a variable
    never set is named as such, so that its NameError in the next cell is no surprise)."""
    if name in namespace:
        return f"-o {name} keeps its value"
    return f"-o {name} is not set"
