"""YAML merge keys (``<<: *a``) under the alias budget: PyYAML copies the merged pairs into
each mapping while it loads, before the loaded value can be measured (break8 H5: 138 KB took
50 s and 850 MB; 338 KB ran out of memory). The bounds here only guard against a hang."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import HANG, completions, within
from ue_magic.cells.openapi._load import CHILD_BYTES, parse_elsewhere
from ue_magic.cells.openapi._parse_child import MAX_ALIAS_VALUES, parse_text

pytestmark = [pytest.mark.timeout(120)]
yaml = pytest.importorskip("yaml")

HEAD = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\n"
PATHS = "paths:\n  /v1/things:\n    get:\n      responses: {'200': {description: ok}}\n"


def merge_bomb(keys: int, merges: int) -> str:
    """One anchor of ``keys`` pairs merged into ``merges`` mappings: keys * merges pairs."""
    anchor = "x-a: &a {" + ", ".join(f"k{i}: 1" for i in range(keys)) + "}\n"
    merged = "x-m:\n" + "".join(f"  m{i}: {{<<: *a}}\n" for i in range(merges))
    return HEAD + anchor + merged + PATHS


def test_a_merge_key_bomb_is_refused_before_it_is_built() -> None:
    text = merge_bomb(3_000, 3_000)  # 80 KB, 9,000,000 pairs
    assert len(text) + MAX_ALIAS_VALUES < 3_000 * 3_000
    assert within(HANG, lambda: parse_text(text.encode())) == ("aliases", "")


def test_merge_keys_within_the_budget_are_read() -> None:
    text = (
        HEAD + PATHS + "components:\n  schemas:\n"
        "    Base: &base {type: object, description: shared}\n"
        "    Named:\n      <<: *base\n      required: [name]\n"
        "    Both:\n      <<: [*base, {title: both}]\n      description: own\n"
    )
    kind, document = parse_text(text.encode())
    assert kind == "ok"
    schemas = document["components"]["schemas"]
    assert schemas["Named"] == {"type": "object", "description": "shared", "required": ["name"]}
    assert schemas["Both"] == {"type": "object", "description": "own", "title": "both"}


def test_a_merge_of_long_strings_counts_their_characters() -> None:
    """A merged pair's text is copied with it, as an alias of a long string is."""
    text = HEAD + 'x-a: &a {k: "' + "x" * 20_000 + '"}\n'
    text += "x-m: [" + ", ".join(["{<<: *a}"] * 200) + "]\n" + PATHS  # 4,000,000 characters
    assert within(HANG, lambda: parse_text(text.encode())) == ("aliases", "")


def test_a_merge_key_bomb_named_at_login_is_refused(ip: Any, tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(merge_bomb(3_000, 3_000))
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    with capture_output() as captured:
        found = within(HANG, lambda: completions(ip, "%ue_call GET /v1/th"))
    assert not any(found)
    assert "merge.yaml" in captured.stderr and "YAML aliases" in captured.stderr


def test_a_merge_key_bomb_over_a_megabyte_is_refused_by_the_child() -> None:
    """Over ``CHILD_BYTES`` the text is parsed in a child process, with the same loader."""
    padding = "x-pad: '" + "p" * CHILD_BYTES + "'\n"
    data = (merge_bomb(3_000, 3_000) + padding).encode()
    assert within(HANG, lambda: parse_elsewhere(data)) == ("aliases", "")


def test_one_mapping_merged_many_times_in_one_list_is_refused() -> None:
    """break9: ``<<: [*a, *a, ...]`` leaves K pairs (PyYAML drops the repeated keys) after
    N x K work: counted before it is done."""
    keys, times = 1_000, 100_000
    text = "x-a: &a {" + ", ".join(f"k{i}: 1" for i in range(keys)) + "}\n"
    text += "x-m: {<<: [" + ", ".join(["*a"] * times) + "]}\n"
    assert len(text) < 500_000
    assert within(HANG, lambda: parse_text(text.encode())) == ("aliases", "")
