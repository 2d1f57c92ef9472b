"""Header names of an operation with thousands are offered from an index made once per
operation, as query names are (80,000 header parameters: 100-180 ms every Tab), matched
ignoring case, then the common headers it does not name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.openapi.test_complete import OPTIONS
from tests.openapi.test_hostile_descriptions import HANG, METERS, doc
from ue_magic.cells.openapi import (
    CompletionContext,
    LoginDescription,
    complete,
    load_description,
)
from ue_magic.cells.openapi._complete import COMMON_HEADERS, MAX_CANDIDATES
from ue_magic.cells.openapi._operation import Operation
from ue_magic.cells.openapi._param_names import WARM_AT, ParameterNames

HEADERS = [{"name": f"X-H{i}", "in": "header"} for i in range(20_000)]
FEW = [{"name": "X-Trace", "in": "header"}, {"name": "Accept", "in": "header"}]


def tab(text: str, params: list[dict[str, str]]) -> list[str]:
    description = load_description(doc({METERS: {"get": {"parameters": params, "responses": {}}}}))
    context = CompletionContext(describe=lambda profile: description, options=OPTIONS)
    found = complete(text, len(text), context)
    return [c.text for c in found.candidates] if found else []


@pytest.mark.parametrize(
    "text", [f"%%ue_call\nGET {METERS}\nX-H1999", f"%ue_call GET {METERS} -H X-H1999"]
)
def test_header_names_are_offered_by_prefix(text: str) -> None:
    assert tab(text, HEADERS) == ["X-H1999", *(f"X-H1999{n}" for n in range(10))]
    assert len(tab(text[:-4], HEADERS)) == MAX_CANDIDATES


def test_header_names_match_ignoring_case_then_the_common_ones() -> None:
    assert tab(f"%%ue_call\nGET {METERS}\nx-t", FEW) == ["X-Trace"]
    offered = tab(f"%%ue_call\nGET {METERS}\n", FEW)
    assert offered == ["X-Trace", "Accept", *(h for h in COMMON_HEADERS if h != "Accept")]


def test_the_index_is_made_once_per_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    description = load_description(doc({METERS: {"get": {"parameters": HEADERS, "responses": {}}}}))
    context = CompletionContext(describe=lambda profile: description)
    text = f"%%ue_call\nGET {METERS}\nX-H7"
    complete(text, len(text), context)
    reads: list[str] = []
    real = Operation.params_in

    def counted(self: Operation, location: str) -> list:
        reads.append(location)
        return real(self, location)

    monkeypatch.setattr(Operation, "params_in", counted)
    for _ in range(3):
        found = complete(text, len(text), context)
        assert found is not None and found.candidates[0].text == "X-H7"
    assert "header" not in reads


def test_a_big_operation_s_names_are_sorted_in_the_load_not_at_the_first_tab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 400,000 query names sorted inside the first `?`-Tab took 0.5 s
    query = [{"name": f"p{i}", "in": "query"} for i in range(WARM_AT * 3)]
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(doc({METERS: {"get": {"parameters": query, "responses": {}}}})))
    described = LoginDescription(str(path), "http://127.0.0.1:9/", _no_fetch, _no_warning)
    described.start()
    assert described.get(wait=HANG) is not None
    sorted_at_tab: list[str] = []
    real = ParameterNames.__init__

    def counted(self: ParameterNames, parameters: tuple[Any, ...], location: str) -> None:
        sorted_at_tab.append(location)
        real(self, parameters, location)

    monkeypatch.setattr(ParameterNames, "__init__", counted)
    context = CompletionContext(describe=lambda profile: described.for_tab(), options=OPTIONS)
    for text in (
        f"%ue_call GET {METERS}?p1",
        f"%ue_call GET {METERS}?p1=",
        f"%%ue_call\nGET {METERS}\nX",
    ):
        complete(text, len(text), context)
    found = complete(f"%ue_call GET {METERS}?p599", len(f"%ue_call GET {METERS}?p599"), context)
    assert found is not None and [c.text for c in found.candidates][:2] == ["p599", "p5990"]
    assert sorted_at_tab == []


def test_operations_of_a_shared_path_item_share_their_sorted_names() -> None:
    item = {"parameters": [{"name": f"q{i}", "in": "query"} for i in range(WARM_AT)]}
    item |= {"get": {"responses": {}}, "put": {"responses": {}}}
    paths = {f"/p{i}": {"$ref": "#/components/pathItems/big"} for i in range(50)}
    description = load_description(doc(paths, **{"components": {"pathItems": {"big": item}}}))
    gets = [op for op in description.operations if op.method == "GET"]
    assert len(gets) == 50 and len({id(op.parameters) for op in gets}) == 1
    description.names.warm(description.operations)
    assert len({id(description.names.of(op, "query")) for op in gets}) == 1


def _no_fetch(url: str, **_: Any) -> tuple[int, bytes]:
    raise AssertionError(f"nothing is fetched for a file: {url}")


def _no_warning(text: str) -> None:
    raise AssertionError(f"no warning expected: {text}")
