"""A big description is parsed in a child process and rebuilt here in pieces (issue 22): a Tab
pressed while it loads answers at once, and the value and the refusals are those of a parse
here (JSON and YAML alike)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.openapi.big import big_description
from tests.openapi.test_hostile_descriptions import METERS, doc, inline_body
from ue_magic.cells.openapi import CompletionContext, LoginDescription, _load, _session, complete
from ue_magic.cells.openapi._parse_child import _write, records
from ue_magic.errors import DescriptionError

pytestmark = pytest.mark.timeout(180)


class _Out:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, part: bytes) -> None:
        self.parts.append(part)


def _round_trip(document: Any, piece: int) -> Any:
    out = _Out()
    for record in records(document, piece):
        _write(out, record)
    parsed = _load.rebuild(b"".join(out.parts))
    assert parsed is not None and parsed[0] == "ok"
    return parsed[1]


@pytest.mark.parametrize("piece", [1, 3, 50, 10_000])
def test_the_pieces_rebuild_the_value_in_order(piece: int) -> None:
    nested: Any = {"leaf": [1, 2.5, None, True, "x"]}
    for depth in range(60):
        nested = {f"k{depth}": nested, "after": list(range(depth)), "s": "é" * depth}
    document = {
        "z": 1,
        "a": [nested, [[], {}], list(range(200))],
        "m": {str(i): i for i in range(99)},
    }
    rebuilt = _round_trip(document, piece)
    assert rebuilt == document
    assert json.dumps(rebuilt) == json.dumps(document)  # the keys' order too


def test_pieces_cut_short_are_not_a_value() -> None:
    out = _Out()
    for record in records({"a": list(range(100))}, 10):
        _write(out, record)
    whole = b"".join(out.parts)
    assert _load.rebuild(whole[: len(whole) // 2]) is None  # no "end": the parse is done here


def _big_text(kind: str, size: int = 1_500_000) -> bytes:
    text = big_description(size)
    if kind == "yaml":
        return b"# YAML: a comment is not JSON\n" + text
    return text


@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_a_big_description_is_the_same_parsed_in_a_child(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "yaml":
        pytest.importorskip("yaml")
    data = _big_text(kind)
    children: list[Any] = []
    real = _load.parse_elsewhere

    def counted(data: bytes) -> Any:
        children.append(found := real(data))
        return found

    monkeypatch.setattr(_load, "parse_elsewhere", counted)
    assert _load.parse(data, "big") == json.loads(big_description(1_500_000))
    assert len(children) == 1 and children[0] is not None  # parsed there, not here


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        (b'{"openapi": "3.1.0", "x": [1, NaN]}', "holds NaN"),
        (b'{"openapi": "3.1.0", "y": 1' + b"0" * 5000 + b"}", "digits"),
        (b"openapi: 3.1.0\nx: [1, -.inf]\n", "holds -Infinity"),
        (b"openapi: 3.1.0\nx: &a [*a]\n", "aliases"),
        (b"[" * 100_000, "nested too deeply"),
        (b"{\n", "neither JSON nor YAML"),
    ],
    ids=["json-nan", "json-digits", "yaml-inf", "yaml-self-alias", "deep", "broken"],
)
def test_a_description_is_refused_in_a_child_as_here(
    text: bytes, refused: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("yaml")
    children: list[Any] = []
    real = _load.parse_elsewhere
    monkeypatch.setattr(_load, "parse_elsewhere", lambda data: children.append(1) or real(data))
    monkeypatch.setattr(_load, "CHILD_BYTES", 0)  # parsed there
    with pytest.raises(DescriptionError, match=refused) as there:
        _load.parse(text, "big")
    assert children == [1]
    monkeypatch.setattr(_load, "CHILD_BYTES", _load.MAX_BYTES + 1)  # parsed here
    with pytest.raises(DescriptionError) as here:
        _load.parse(text, "big")
    assert str(there.value) == str(here.value) and children == [1]


def test_yaml_goes_to_a_child_sooner_than_json(monkeypatch: pytest.MonkeyPatch) -> None:
    # PyYAML builds values in Python, 10-20 times slower than json: 200 kB of YAML held the
    # kernel's GIL long enough to slow a Tab; as JSON it is parsed here in a few ms
    pytest.importorskip("yaml")
    children: list[bytes] = []
    real = _load.parse_elsewhere
    monkeypatch.setattr(_load, "parse_elsewhere", lambda data: children.append(data) or real(data))
    padding = "p" * 200_000
    assert _load.parse(f"openapi: 3.1.0\nx-pad: {padding}\n".encode(), "y")["x-pad"] == padding
    assert len(children) == 1
    text = json.dumps({"openapi": "3.1.0", "x-pad": padding}).encode()
    assert _load.parse(b"  " + text, "j")["x-pad"] == padding and len(children) == 1


def test_without_a_child_the_description_is_parsed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "")
    assert _load.parse_elsewhere(b"{}") is None
    assert _load.parse(_big_text("json"), "big")["openapi"] == "3.1.0"


def test_a_tab_answers_at_once_while_a_20_mb_description_is_parsed(tmp_path: Path) -> None:
    """Parsed here, ``json.loads`` held the GIL for the whole parse and Python's full garbage
    collections (each walking every object made so far) ran again and again while the objects
    were made: a Tab waited 0.8 s and more. Each Tab waits ``TAB_WAIT`` (50 ms) at most for a
    load; 0.5 s is a generous bound for what the kernel's GIL adds to it."""
    path = tmp_path / "openapi.json"
    path.write_bytes(big_description(20_000_000))
    described = LoginDescription(str(path), "http://127.0.0.1:9/", _no_fetch, print)
    described.tab_wait = _session.TAB_WAIT
    context = CompletionContext(describe=lambda profile: described.for_tab())
    described.start()
    slowest, tabs, started = 0.0, 0, time.monotonic()
    while not described.loaded:
        assert time.monotonic() - started < 120, "the description did not load"
        tab = time.perf_counter()
        complete("%ue_call GET /service-1/v1/", 26, context)
        slowest = max(slowest, time.perf_counter() - tab)
        tabs += 1
    assert tabs >= 10  # the load took a while: the Tabs above pressed during it
    assert slowest < 0.5, f"a Tab took {slowest:.2f} s while the description loaded"
    line = "%ue_call GET /service-1/v1/"
    found = complete(line, len(line), context).candidates
    assert any("things-20" in str(item) for item in found)  # loaded, and completed


def _no_fetch(url: str) -> tuple[int, bytes]:
    raise AssertionError(f"a file is not fetched: {url}")


def test_nan_and_infinity_in_a_yaml_description_are_refused_as_in_json(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    from ue_magic.cells.openapi import load_description

    said = {}
    for spelled, name in [(".nan", "NaN"), (".inf", "Infinity"), ("-.Inf", "-Infinity")]:
        path = tmp_path / "openapi.yaml"
        path.write_text(
            f"openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths: {{}}\nx: {spelled}\n"
        )
        with pytest.raises(DescriptionError) as error:
            load_description(path)
        said["yaml", name] = str(error.value).replace(str(path), "FILE")
        path = tmp_path / "openapi.json"
        path.write_text(f'{{"openapi": "3.1.0", "paths": {{}}, "x": {name}}}')
        with pytest.raises(DescriptionError) as error:
            load_description(path)
        said["json", name] = str(error.value).replace(str(path), "FILE")
        assert said["yaml", name] == said["json", name]
        assert f"holds {name}, which JSON does not allow" in said["yaml", name]


@pytest.mark.parametrize("where", ["key", "nested", "aliased"])
def test_nan_anywhere_in_yaml_is_refused(tmp_path: Path, where: str) -> None:
    pytest.importorskip("yaml")
    text = json.dumps(doc({METERS: inline_body({"type": "number"})}))
    extra = {
        "key": "x-k: {.nan: 1}",
        "nested": "x-k: [[[{a: [1, .NaN]}]]]",
        "aliased": "x-a: &n [1, .nan]\nx-b: [*n, *n]",
    }[where]
    path = tmp_path / "openapi.yaml"
    path.write_text(_yaml_with(json.loads(text), extra))
    from ue_magic.cells.openapi import load_description

    with pytest.raises(DescriptionError, match="holds NaN, which JSON does not allow"):
        load_description(path)


def _yaml_with(document: Any, extra: str) -> str:
    import yaml

    return yaml.safe_dump(document) + extra + "\n"


def test_a_loaded_description_is_kept_out_of_later_garbage_collections(tmp_path: Path) -> None:
    """Python's full collections walk every object, holding the GIL: 0.1 to 0.4 s each with a
    20 MB description's objects, again and again while they were made. The load runs without
    collection and freezes what it made (a big description only); collection is on again after."""
    import gc

    path = tmp_path / "openapi.json"
    path.write_bytes(big_description(_load.CHILD_BYTES))
    described = LoginDescription(str(path), "http://127.0.0.1:9/", _no_fetch, print)
    assert gc.isenabled()
    described.start()
    deadline = time.monotonic() + 60
    while not described.loaded:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    description = described.get()
    assert description is not None and gc.isenabled()
    root = description.documents.root
    assert root["paths"] and not any(root["paths"] is o for o in gc.get_objects())  # frozen


def test_a_small_description_is_not_frozen(tmp_path: Path) -> None:
    """Freezing is process-wide (cycles alive then are never collected): not for a small one."""
    import gc

    path = tmp_path / "openapi.json"
    path.write_bytes(big_description(100_000))
    described = LoginDescription(str(path), "http://127.0.0.1:9/", _no_fetch, print)
    description = described.get()
    assert description is not None and gc.isenabled()
    root = description.documents.root
    assert any(root["paths"] is o for o in gc.get_objects())  # walked by collections as before


def test_the_child_is_handed_none_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A secret set in the environment (UE_CLIENT_SECRET) is not copied into the child's."""
    import subprocess

    seen: dict[str, Any] = {}
    real = subprocess.run

    def run(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setenv("UE_CLIENT_SECRET", "s3cr3t-in-env")
    monkeypatch.setattr(subprocess, "run", run)
    assert _load.parse(_big_text("json"), "big")["openapi"] == "3.1.0"
    assert "s3cr3t-in-env" not in repr(seen["env"])


def test_yaml_dates_sets_and_bytes_come_back_from_the_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """YAML gives values JSON has not (an example's date): the child hands them back as they are."""
    pytest.importorskip("yaml")
    text = b"openapi: 3.1.0\nx-when: 2024-01-02\nx-set: !!set {a: null}\nx-bin: !!binary aGk=\n"
    assert _load.parse_elsewhere(text) == _load.parse_text(text)
