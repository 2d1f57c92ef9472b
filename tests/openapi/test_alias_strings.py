"""YAML aliases of one long string (issue 22, seventh attack): ``x-l: &l [*s, *s, ...]`` makes
S x N characters reachable from a file of S + 4N bytes. The alias budget counts characters as
well as values, a description's text is cut before it is read, and the checks' own messages
never write a schema out whole (jsonschema's ``not`` and ``oneOf`` did)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import HANG, completions, within
from ue_magic.cells.openapi._parse_child import MAX_ALIAS_VALUES, expanded_size, parse_text

pytestmark = [pytest.mark.timeout(120)]
yaml = pytest.importorskip("yaml")

THINGS = "/v1/things"


def described(tmp_path: Path, size: int, count: int, *, where: str) -> Path:
    """A description whose ``where`` holds ``count`` aliases of one ``size``-character string."""
    aliases = "[" + ", ".join(["*s"] * count) + "]"
    body = {
        "plain": "{type: object}",
        "enum": "{type: object, properties: {k: {type: string, enum: [*s, b]}}}",
        "not": f"{{type: object, not: {{x-pad: {aliases}}}}}",
        "oneof": f"{{type: object, oneOf: [{{x-pad: {aliases}}}, {{x-pad: [{aliases}]}}]}}",
    }.get(where, "{type: object}")
    text = f"""openapi: 3.0.3
x-s: &s "{"x" * size}"
info:
  title: {aliases if where == "title" else "T"}
  version: "1"
paths:
  {THINGS}:
    post:
      summary: {aliases if where == "summary" else "make one"}
      requestBody:
        content:
          application/json:
            schema: {body}
      responses:
        "201": {{description: ok}}
"""
    path = tmp_path / "aliases.yaml"
    path.write_text(text)
    return path


def test_an_alias_of_a_long_string_counts_its_characters_each_time() -> None:
    text = '{s: &s "' + "x" * 1000 + '", l: [' + ", ".join(["*s"] * 50) + "]}"
    document = yaml.safe_load(text)
    assert expanded_size(document, 10**9) >= 51 * 1000
    assert expanded_size(document, 10_000) == 10_001  # over the limit: said at once


def test_a_small_file_that_expands_to_gigabytes_of_text_is_refused_when_parsed() -> None:
    text = 'x-s: &s "' + "x" * 400_000 + '"\nx-l: [' + ", ".join(["*s"] * 4000) + "]\n"
    assert len(text) < 1_000_000  # parsed in the kernel, under every size limit
    assert within(HANG, lambda: parse_text(text.encode())) == ("aliases", "")


def test_a_file_that_repeats_its_strings_a_little_is_read() -> None:
    count = 20
    text = 'x-s: &s "' + "x" * 10_000 + '"\nx-l: [' + ", ".join(["*s"] * count) + "]\n"
    assert count * 10_000 < MAX_ALIAS_VALUES
    assert parse_text(text.encode())[0] == "ok"


@pytest.mark.parametrize("where", ["summary", "title"])
def test_a_summary_that_aliases_expand_past_the_budget_leaves_the_description_out(
    ip: Any, tmp_path: Path, where: str
) -> None:
    path = described(tmp_path, 400_000, 2_000, where=where)
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    with capture_output() as captured:
        found = within(HANG, lambda: completions(ip, f"%ue_call POST {THINGS[:-2]}"))
    assert not any(found)
    assert "YAML aliases" in captured.stderr and "aliases.yaml" in captured.stderr


def test_a_summary_made_of_aliases_within_the_budget_is_read_cut(ip: Any, tmp_path: Path) -> None:
    path = described(tmp_path, 5_000, 150, where="summary")  # 750,000 characters
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    view = within(HANG, lambda: ip.run_line_magic("ue_api", f"POST {THINGS}"))
    assert len(repr(view)) < 20_000


def test_an_enum_value_of_a_long_string_is_outlined_cut(ip: Any, tmp_path: Path) -> None:
    path = described(tmp_path, 600_000, 1, where="enum")
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    view = within(HANG, lambda: ip.run_line_magic("ue_api", f"POST {THINGS}"))
    shown = repr(view)
    assert '"xxxx' in shown and "x" * 100 not in shown


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("not", "should not be valid under its 'not' schema"),
        ("oneof", "is valid under each of oneOf[0] and oneOf[1]"),
    ],
)
def test_not_and_one_of_say_so_without_writing_the_schema(
    ip: Any, tmp_path: Path, where: str, said: str
) -> None:
    path = described(tmp_path, 2_000, 200, where=where)  # 400,000 characters in each part
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    with pytest.raises(UsageError) as info:
        within(HANG, lambda: ip.run_cell_magic("ue_call", f"POST {THINGS} --dry-run", '{"k": "y"}'))
    message = str(info.value)
    assert said in message and len(message) < 1_000
