"""Header names of an operation with thousands are offered from an index made once per
operation, as query names are (80,000 header parameters: 100-180 ms every Tab), matched
ignoring case, then the common headers it does not name."""

from __future__ import annotations

import pytest

from tests.openapi.test_complete import OPTIONS
from tests.openapi.test_hostile_descriptions import METERS, doc
from ue_magic.cells.openapi import CompletionContext, complete, load_description
from ue_magic.cells.openapi._complete import COMMON_HEADERS, MAX_CANDIDATES
from ue_magic.cells.openapi._operation import Operation

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
