"""File variables: ``@name = value`` lines before the request line, as REST Client and httpyac
have them.

A variable is the cell author's own text: ``{{name}}`` is replaced by its value before the cell
is read, exactly as if the value had been written there (so ``GET {{baseUrl}}/health`` is a URL,
and a value in a JSON string must be valid there). A value may use earlier variables; what is
left as ``{{...}}`` (a notebook name, ``{{$guid}}``) is read as usual. The variables shadow the
notebook's names in that cell. Their lines are blanked, so errors keep the cell's line numbers.
``{{%name}}`` is the value percent-encoded, as REST Client has it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ...errors import RequestSyntaxError

_DEFINITION = re.compile(r"[ \t]*@([A-Za-z_][\w.\-]*)[ \t]*=[ \t]*")
_USE = re.compile(r"(?<!\\)\{\{[ \t]*(%?)([A-Za-z_][\w.\-]*)[ \t]*\}\}")
_COMMENT = ("#", "//")
#: characters the variables may add to a cell, counted as they expand (before the text is
#: built): ``@v1 = {{v0}}{{v0}}`` lines double per line, so a few hundred bytes could ask for GBs
GROWTH_LIMIT = 4 * 2**20


def is_variable_line(line: str) -> bool:
    """Does ``line`` define (or try to define) a file variable?"""
    return line.lstrip().startswith("@")


def definition(line: str) -> tuple[str, str] | None:
    """``(name, value)`` of an ``@name = value`` line (the value without the blanks around it),
    or None. The value is cut with string methods: no pattern backtracks over a long line."""
    match = _DEFINITION.match(line)
    if match is None or "\n" in line:
        return None
    return match.group(1), line[match.end() :].rstrip(" \t\r")


def expand_file_variables(cell: str) -> str:
    """The cell with its ``@name = value`` lines blanked and their ``{{name}}`` replaced.

    Raises RequestSyntaxError for a line that starts with ``@`` but is not ``@name = value``,
    and, naming the variable, for variables that would add more than GROWTH_LIMIT characters.
    """
    if "@" not in cell:
        return cell
    lines = cell.split("\n")
    values: dict[str, str] = {}
    budget = _Budget(len(cell) + GROWTH_LIMIT)
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(_COMMENT):
            continue
        if not is_variable_line(line):
            break  # the request line: variables stand before it
        found = definition(line)
        if found is None:
            raise RequestSyntaxError(
                "not a variable line; write @name = value (a name of letters, digits, _ . -).",
                number + 1,
                len(line) - len(line.lstrip()) + 1,
                line,
            )
        name, value = found
        budget.lines[name] = (number + 1, line)
        values[name] = _replace(value, values, budget, name)
        lines[number] = ""
    if not values:
        return cell
    return _replace("\n".join(lines), values, budget, None)


class _Budget:
    """Characters left for the expanded text (the cell's own count in), and the line where each
    variable is defined, for the error."""

    def __init__(self, left: int) -> None:
        self.left = left
        self.lines: dict[str, tuple[int, str]] = {}

    def check(self, size: int, name: str) -> None:
        if size <= self.left:
            return
        line, text = self.lines[name]
        mb = GROWTH_LIMIT // 2**20
        raise RequestSyntaxError(
            f"@{name} expands to over {mb} MB of text; file variables may add at most {mb} MB"
            " to a request (a variable used n times in another is n times as long).",
            line,
            len(text) - len(text.lstrip()) + 1,
            text,
        )


def _replace(text: str, values: dict[str, str], budget: _Budget, defining: str | None) -> str:
    """``{{ name }}`` -> the value, for the names in ``values`` (``\\{{`` stays literal). The
    size is counted against ``budget`` as it grows, before the text is built; past it the error
    names ``defining`` (the variable whose value this is), else the variable used."""
    if not values or "{{" not in text:
        budget.left -= len(text)
        return text
    pieces: list[str] = []
    size = pos = 0
    for match in _USE.finditer(text):
        value = values.get(match.group(2))
        if value is None:
            continue  # a notebook name or {{$guid}}: read later, as usual
        if match.group(1):  # {{%name}}: percent-encoded, as REST Client's encodeURIComponent
            value = quote(value, safe="-_.!~*'()")
        size += match.start() - pos + len(value)
        budget.check(size, defining or match.group(2))
        pieces += (text[pos : match.start()], value)
        pos = match.end()
    pieces.append(text[pos:])
    budget.left -= size + len(text) - pos
    return "".join(pieces)
