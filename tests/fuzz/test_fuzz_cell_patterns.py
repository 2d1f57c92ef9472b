"""The string-method parsers that replaced backtracking patterns (issue 22, break2 f10-f12)
read every short text exactly as the patterns did. The patterns stay here as the reference:
on short text they are quick, and they are what the cells, ``.http`` files and Tab meant."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from ue_magic.cells.openapi._complete import expression_steps
from ue_magic.cells.request._call import without_blank_tail
from ue_magic.cells.request._file import request_name
from ue_magic.cells.request._foreign import _blank_placeholders
from ue_magic.cells.request._form import separators
from ue_magic.cells.request._message import split_header, without_version
from ue_magic.cells.request._placeholders import Origin, position, tokenize
from ue_magic.cells.request._variables import definition

# the reference patterns, as they were
DEFINITION = re.compile(r"[ \t]*@([A-Za-z_][\w.\-]*)[ \t]*=[ \t]*(.*?)[ \t\r]*")
NAME = re.compile(r"[ \t]*(?:#|//)[ \t]*@name(?:[ \t]*=[ \t]*|[ \t]+)(\S.*?)[ \t\r]*")
HEADER = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*(.*?)[ \t]*")
HTTP_VERSION = re.compile(r"\s+HTTP/\d+(?:\.\d+)?\s*$", re.IGNORECASE)
SEPARATOR = re.compile(r"\s*([=&])\s*")
BLANK_TAIL = re.compile(r"(?:\r?\n[ \t]*)+\Z")
PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)
EXPRESSION = re.compile(r"\s*([^\W\d]\w*(?:\s*\.\s*\w*)*)?\s*$")

BLANKS = " \t\r\n\x0b\xa0\u2003"


def text(alphabet: str, size: int = 30) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet + BLANKS, max_size=size)


@given(text("@=#/aZ_.-1x\u00e9"))
def test_variable_lines(line: str) -> None:
    found = DEFINITION.fullmatch(line)
    assert definition(line) == (found.groups() if found else None)


@given(text("@=#/namexZ\u00e9"), st.sampled_from(["", "#", "# ", "//", " # @name", "# @name"]))
def test_request_names(tail: str, head: str) -> None:
    line = head + tail
    found = NAME.fullmatch(line)
    assert request_name(line) == (found.group(1) if found else None)


@given(text("X-a:;1{}\u00e9"))
def test_header_lines(line: str) -> None:
    found = HEADER.fullmatch(line)
    expected = (found.group(1), found.group(2), found.start(2)) if found else None
    assert split_header(line) == expected


@given(text("GEThtp/1.2 x\u0663", 24))
def test_request_lines_lose_their_http_version(raw: str) -> None:
    line = raw.strip()
    assert without_version(line) == HTTP_VERSION.sub("", line)


@given(text("a=&%b", 24))
def test_form_separators(value: str) -> None:
    expected = [(m.start(), m[1], m.end()) for m in SEPARATOR.finditer(value)]
    assert list(separators(value)) == expected


@given(text("ab"))
def test_blank_tails(cell: str) -> None:
    assert without_blank_tail(cell) == BLANK_TAIL.sub("", cell)


@given(text("{}\\a"))
def test_placeholders_blanked(line: str) -> None:
    assert _blank_placeholders(line) == PLACEHOLDER.sub(lambda m: " " * len(m[0]), line)


@given(text("a_.1!-\u00e9"))
def test_tab_expressions(expression: str) -> None:
    found = EXPRESSION.fullmatch(expression)
    expected = [s.strip() for s in (found.group(1) or "").split(".")] if found else None
    assert expression_steps(expression) == expected


@given(st.lists(st.sampled_from(["{{a}}", "{{ b.c }}", "x", "\n", "\\{{", " "]), max_size=20))
def test_placeholder_positions(pieces: list[str]) -> None:
    cell = "".join(pieces)
    origin = Origin(cell.split("\n"), 3, 5)
    _tokens, placeholders = tokenize(cell, origin)
    for start, found in placeholders.items():
        assert (found.line, found.column, found.source_line) == position(cell, origin, start)
