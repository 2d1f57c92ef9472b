"""The files of one description are bounded in all, before any is parsed: 25 MB of text and
2,500,000 values (24 MB of ``[{},…]`` took 0.9 GB of memory; a description may refer to 100
files). Past either: one warning naming the description and the file, and no description."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.openapi.test_hostile_descriptions import METERS, doc, inline_body
from ue_magic.cells.openapi import _load, load_description
from ue_magic.errors import DescriptionError

EMPTY_OBJECTS = b"[" + b"{}," * 1_300_000 + b"{}]"  # 3.9 MB, 2.6 million values counted


def described(tmp_path: Path, refs: dict[str, bytes], **extra: Any) -> Path:
    """openapi.json whose body schema refers to each of ``refs`` (name -> the file's text)."""
    for name, text in refs.items():
        (tmp_path / name).write_bytes(text)
    schema = {"allOf": [{"$ref": f"{name}#/0"} for name in refs]}
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps({**doc({METERS: inline_body(schema)}), **extra}))
    return path


def test_a_referred_file_of_millions_of_values_is_refused(tmp_path: Path) -> None:
    path = described(tmp_path, {"big.json": EMPTY_OBJECTS})
    with pytest.raises(DescriptionError) as caught:
        load_description(str(path))
    message = str(caught.value)
    assert f"the files of {path} hold over 2,500,000 JSON values in all" in message
    assert "big.json" in message


def test_the_description_s_own_file_counts(tmp_path: Path) -> None:
    path = described(tmp_path, {}, **{"x-pad": [{}] * 1_300_000})
    with pytest.raises(DescriptionError, match="over 2,500,000 JSON values in all;"):
        load_description(str(path))


def test_files_under_the_size_limit_each_are_refused_over_it_in_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_load, "MAX_TOTAL_BYTES", 1_000_000)
    part = json.dumps(["x" * 400_000]).encode()  # one value, 0.4 MB
    path = described(tmp_path, {"a.json": part, "b.json": part, "c.json": part})
    with pytest.raises(DescriptionError, match=r"over 1 MB in all \(with .*\.json\)"):
        load_description(str(path))


def test_a_description_within_the_budget_loads(tmp_path: Path) -> None:
    part = json.dumps([{"type": "object"}] + [{}] * 100_000).encode()
    described_path = described(tmp_path, {"a.json": part, "b.json": part})
    assert load_description(str(described_path)).operations[0].method == "POST"


def test_values_are_counted_from_the_text() -> None:
    assert _load.values_at_most(b'{"a": [1, 2], "b": {}}') == 5
    assert _load.values_at_most(b"a: 1\nb:\n  - 2\n") == 3
