"""The cell parser: any cell, any magic-line method and path, any values in the namespace. Only
ue-magic's own errors come out, each input within the time budget, and the error never holds
the secret a value carried."""

from __future__ import annotations

import contextlib
import math

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import SECRET, hostile_text, json_values, pieces
from ue_magic.cells.request import compile_request
from ue_magic.errors import UsageEngineError

ODD: dict[str, object] = {
    "huge": 10**5000,
    "negative": -(10**4400),
    "nan": math.nan,
    "inf": math.inf,
    "bytes": b"\xff",
    "set": {1, 2},
}
namespaces = st.fixed_dictionaries(
    {
        "x": json_values,
        "item": json_values,
        "a": st.fixed_dictionaries({"b": json_values}),
        # drawn by name: Hypothesis cannot print a 5000-digit int when it reports an input
        "big": st.sampled_from(["huge", "negative", "nan", "inf", "bytes", "set"]).map(
            lambda name: ODD[name]
        ),
    }
)


@given(st.one_of(pieces, hostile_text), namespaces)
def test_any_cell(cell: str, namespace: dict[str, object]) -> None:
    try:
        spec = compile_request(cell).render(namespace)
    except UsageEngineError as error:
        assert SECRET not in str(error) or SECRET in cell
        return
    assert spec.method and spec.path is not None


@given(
    st.sampled_from(["GET", "POST", "PATCH", "get", "BREW", ""]),
    st.one_of(st.just("/usage-metering/v1/meters/{{x}}"), pieces),
    st.one_of(pieces, hostile_text),
    namespaces,
)
def test_any_body_with_a_method_and_path(
    method: str, path: str, body: str, namespace: dict[str, object]
) -> None:
    with contextlib.suppress(UsageEngineError):
        compile_request(body, method, path).render(namespace)
