"""Properties of the parser: values survive interpolation; random text only ever raises ours."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ue_magic.cells.request import RequestSyntaxError, compile_request

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


@given(json_values)
def test_any_json_value_round_trips_as_a_whole_value(value: Any) -> None:
    spec = compile_request('{"v": {{ value }}, "w": [{{value}}]}', "POST", "/x").render(
        {"value": value}
    )
    assert json.loads(spec.body or b"") == {"v": value, "w": [value]}


@given(st.text())
def test_any_text_round_trips_inside_a_json_string(text: str) -> None:
    spec = compile_request('{"a": "{{ t }}", "b": "<{{ t }}>"}', "POST", "/x").render({"t": text})
    assert json.loads(spec.body or b"") == {"a": text, "b": f"<{text}>"}


@given(st.text())
def test_any_text_round_trips_in_a_text_body(text: str) -> None:
    cell = "POST /x\nContent-Type: text/plain\n\n{{ t }}"
    assert compile_request(cell).render({"t": text}).body == text.encode()


@given(st.text(), st.text())
@settings(max_examples=300)
def test_random_cells_raise_only_request_syntax_errors(cell: str, value: str) -> None:
    for method, path in ((None, None), ("POST", "/x")):
        try:
            compile_request(cell, method, path).render({"x": value, "item": {"id": value}})
        except RequestSyntaxError as error:
            assert error.line >= 0 and error.column >= 1
            assert str(error)


@given(st.lists(st.sampled_from(["{{", "}}", "\\{{", "{{ x }}", '"', "\\", "\n", ":", "{", "["])))
def test_brace_soup_raises_only_request_syntax_errors(pieces: list[str]) -> None:
    cell = "".join(pieces)
    for method, path in ((None, None), ("POST", "/x"), ("GET", cell.split("\n")[0] or "/")):
        with contextlib.suppress(RequestSyntaxError):
            compile_request(cell, method, path).render({"x": 1})
