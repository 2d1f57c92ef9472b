"""Pages made from the code, so they cannot drift from it.

- ``{ue-magic} NAME``: a magic's options, from the same declarations ``%NAME?`` shows (its
  ``magic_arguments`` parser), with its docstring.
- ``{ue-config}``: the ``%config UsageEngineMagics.*`` settings, from the traitlets.
- The getting-started page: a ``<!-- quickstart -->`` line is replaced by the cells of
  ``notebooks/quickstart.ipynb`` as MyST-NB code cells, so MyST-NB executes the very notebook
  ``make demo`` runs, against the sandbox, when the site is built.
"""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"
MARKER = "<!-- quickstart -->"


# -- tables -----------------------------------------------------------------------------------


def _cell(content: str | nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    if isinstance(content, nodes.Node):
        entry += nodes.paragraph("", "", content)
    else:
        entry += nodes.paragraph(text=content)
    return entry


def _table(header: list[str], rows: list[list[str | nodes.Node]]) -> nodes.table:
    table = nodes.table()
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    head += nodes.row("", *[_cell(h) for h in header])
    group += head
    body = nodes.tbody()
    for row in rows:
        body += nodes.row("", *[_cell(c) for c in row])
    group += body
    return table


# -- magics -----------------------------------------------------------------------------------


def _magics_class() -> Any:
    from ue_magic.ipython.magics import UsageEngineMagics

    return UsageEngineMagics


def _kinds(name: str) -> str:
    magics = _magics_class().magics
    line, cell = name in magics["line"], name in magics["cell"]
    if line and cell:
        return f"Line and cell magic: `%{name}` and `%%{name}`."
    return f"Cell magic: `%%{name}`." if cell else f"Line magic: `%{name}`."


def _option_rows(parser: argparse.ArgumentParser) -> list[list[str | nodes.Node]]:
    rows: list[list[str | nodes.Node]] = []
    for action in parser._actions:  # argparse's declarations, as %magic? formats them
        if isinstance(action, argparse._HelpAction):
            continue
        metavar = action.metavar if isinstance(action.metavar, str) else None
        if action.option_strings:
            spelled = ", ".join(action.option_strings)
            if action.nargs != 0:
                spelled += f" {metavar or action.dest.upper()}"
        else:
            spelled = metavar or action.dest
        default = action.default
        shown_default = "" if default in (None, False, []) else repr(default)
        rows.append([nodes.literal(text=spelled), action.help or "", shown_default])
    return rows


class MagicDirective(SphinxDirective):
    """``{ue-magic} ue_call``: the magic's docstring and an options table from its parser."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        func = getattr(_magics_class(), name, None)
        if func is None:
            raise self.error(f"UsageEngineMagics has no magic {name!r}")
        parser = getattr(func, "parser", None)
        doc = parser.description if parser is not None else inspect.getdoc(func)
        summary, _, usage = (doc or "").strip().partition("\n\n")
        section = nodes.section(ids=[nodes.make_id(f"magic-{name}")])
        section += nodes.title(text=f"%{name}")
        section += nodes.paragraph(text=_kinds(name).replace("`", ""))
        section += nodes.paragraph(text=" ".join(summary.split()))
        if usage.strip():
            section += nodes.literal_block(text=inspect.cleandoc(usage), language="text")
        if parser is not None:
            section += _table(["option", "what it does", "default"], _option_rows(parser))
        else:
            section += nodes.paragraph(text="No options.")
        return [section]


# -- settings ---------------------------------------------------------------------------------


class ConfigDirective(SphinxDirective):
    """``{ue-config}``: every ``%config UsageEngineMagics.NAME`` setting from the traitlets."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        cls = _magics_class()
        rows: list[list[str | nodes.Node]] = []
        for name, trait in sorted(cls.class_traits(config=True).items()):
            low, high = getattr(trait, "min", None), getattr(trait, "max", None)
            limits = (("at least", low), ("at most", high))
            bounds = [f"{word} {value:g}" for word, value in limits if value is not None]
            kind = f"{type(trait).__name__.lower()}; {trait.default_value!r}"
            kind += f"; {', '.join(bounds)}" if bounds else ""
            rows.append([nodes.literal(text=f"{cls.__name__}.{name}"), kind, trait.help or ""])
        return [_table(["setting", "type; default; bounds", "what it does"], rows)]


# -- the quickstart notebook --------------------------------------------------------------------


def _as_myst_cells(notebook: dict[str, Any]) -> str:
    """The notebook's cells in MyST-NB's text form; its title becomes a section of the page."""
    parts: list[str] = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"]).rstrip("\n")
        if cell["cell_type"] == "markdown":
            lines = source.splitlines()
            if lines and lines[0].startswith("# "):
                lines[0] = "## The quickstart notebook"
            parts.append("\n".join(lines))
        elif cell["cell_type"] == "code":
            tags = cell.get("metadata", {}).get("tags", [])
            head = "```{code-cell} ipython3"
            meta = f":tags: {json.dumps(tags)}\n\n" if tags else ""
            parts.append(f"{head}\n{meta}{source}\n```")
    return "\n\n".join(parts) + "\n"


def _insert_quickstart(app: Sphinx, docname: str, source: list[str]) -> None:
    if MARKER in source[0]:
        app.env.note_dependency(str(QUICKSTART))
        notebook = json.loads(QUICKSTART.read_text(encoding="utf-8"))
        source[0] = source[0].replace(MARKER, _as_myst_cells(notebook))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("ue-magic", MagicDirective)
    app.add_directive("ue-config", ConfigDirective)
    app.connect("source-read", _insert_quickstart)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
