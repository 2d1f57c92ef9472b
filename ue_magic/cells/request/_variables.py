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

_DEFINITION = re.compile(r"[ \t]*@([A-Za-z_][\w.\-]*)[ \t]*=[ \t]*(.*?)[ \t\r]*")
_COMMENT = ("#", "//")


def is_variable_line(line: str) -> bool:
    """Does ``line`` define (or try to define) a file variable?"""
    return line.lstrip().startswith("@")


def expand_file_variables(cell: str) -> str:
    """The cell with its ``@name = value`` lines blanked and their ``{{name}}`` replaced.

    Raises RequestSyntaxError for a line that starts with ``@`` but is not ``@name = value``.
    """
    if "@" not in cell:
        return cell
    lines = cell.split("\n")
    values: dict[str, str] = {}
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(_COMMENT):
            continue
        if not is_variable_line(line):
            break  # the request line: variables stand before it
        match = _DEFINITION.fullmatch(line)
        if match is None:
            raise RequestSyntaxError(
                "not a variable line; write @name = value (a name of letters, digits, _ . -).",
                number + 1,
                len(line) - len(line.lstrip()) + 1,
                line,
            )
        values[match.group(1)] = _replace(match.group(2), values)
        lines[number] = ""
    if not values:
        return cell
    return _replace("\n".join(lines), values)


def _replace(text: str, values: dict[str, str]) -> str:
    """``{{ name }}`` -> the value, for the names in ``values`` (``\\{{`` stays literal)."""
    if not values or "{{" not in text:
        return text
    names = "|".join(re.escape(n) for n in sorted(values, key=len, reverse=True))
    pattern = re.compile(r"(?<!\\)\{\{[ \t]*(%?)(" + names + r")[ \t]*\}\}")

    def value(match: re.Match[str]) -> str:
        text = values[match.group(2)]
        # {{%name}}: percent-encoded, as REST Client's encodeURIComponent
        return quote(text, safe="-_.!~*'()") if match.group(1) else text

    return pattern.sub(value, text)
