"""Fuzzing the description loader, the path matcher and the body checker (hypothesis): for any
description and any body, each step ends within a time budget and raises nothing but
ue-magic's own errors.

The profile is the folder's (``make test``: short, fixed seed; ``make fuzz``: long, random);
each step has its own budget here, as one example loads, matches, checks and outlines.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from typing import Any

import jsonschema  # noqa: F401  imported here, so the budget measures checking, not importing
import pytest
import regex  # noqa: F401
from hypothesis import given, settings
from hypothesis import strategies as st

from ue_magic.cells.openapi import RequestChecker, api_view, load_description
from ue_magic.cells.openapi._index import SegmentMatcher
from ue_magic.cells.openapi._load import parse
from ue_magic.errors import BodyCheckError, DescriptionError

BUDGET = 5.0  # seconds per step: generous against a shared machine, far below a hang
FUZZ = settings(deadline=None)  # the budget is per step (``timed``), not per example
NAMES = [f"S{i}" for i in range(4)]
PATTERNS = [
    r"^[a-z]+$",
    r"^(\w+\s?)*$",
    r"^(a|a)*$",
    r"(x+x+)+y",
    r"\s*\s*\s*$",
    r"^\d{3}-\d{4}$",
    "((",  # not a pattern at all
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def schemas() -> Any:
    ref = st.sampled_from(NAMES).map(lambda name: {"$ref": f"#/components/schemas/{name}"})
    leaf = st.one_of(
        ref,
        st.sampled_from(["string", "integer", "number", "boolean", "object", "array", "null"]).map(
            lambda kind: {"type": kind}
        ),
        st.sampled_from(PATTERNS).map(lambda p: {"type": "string", "pattern": p}),
        st.lists(scalars, min_size=1, max_size=4).map(lambda values: {"enum": values}),
        st.just({"uniqueItems": True}),
        st.just({"nullable": True, "oneOf": [{"type": "string"}, {"type": "integer"}]}),
    )

    def nest(inner: Any) -> Any:
        names = st.text(min_size=1, max_size=6)
        return st.one_of(
            st.lists(inner, min_size=1, max_size=4).map(lambda parts: {"allOf": parts}),
            st.lists(inner, min_size=1, max_size=4).map(lambda parts: {"anyOf": parts}),
            st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"oneOf": parts}),
            st.dictionaries(names, inner, max_size=4).map(
                lambda props: {"type": "object", "properties": props, "required": sorted(props)[:2]}
            ),
            inner.map(lambda item: {"type": "array", "items": item}),
            st.tuples(st.sampled_from(PATTERNS), inner).map(
                lambda pair: {
                    "patternProperties": {pair[0]: pair[1]},
                    "additionalProperties": False,
                }
            ),
        )

    return st.recursive(leaf, nest, max_leaves=12)


descriptions = st.fixed_dictionaries(
    {
        "version": st.sampled_from(["3.0.3", "3.1.0"]),
        "schemas": st.fixed_dictionaries({name: schemas() for name in NAMES}),
        "path": st.sampled_from(["/x", "/x/{id}", "/x/{a}{b}{c}z", "/x/{a}.{b}"]),
    }
)


def document(case: dict[str, Any]) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}
    return {
        "openapi": case["version"],
        "info": {"title": "fuzz", "version": "1"},
        "paths": {case["path"]: {"post": {"requestBody": body, "responses": {}}}},
        "components": {"schemas": case["schemas"]},
    }


def timed(work: Any) -> Any:
    started = time.monotonic()
    try:
        return work()
    finally:
        elapsed = time.monotonic() - started
        assert elapsed < BUDGET, f"took {elapsed:.1f} s"


@FUZZ
@given(case=descriptions, body=json_values, segment=st.text(max_size=30))
def test_any_description_and_body_end_within_the_budget(
    case: dict[str, Any], body: Any, segment: str
) -> None:
    try:
        description = timed(lambda: load_description(document(case)))
    except DescriptionError:
        return
    checker = RequestChecker(description)
    matched = timed(lambda: checker.match("POST", "/x/" + segment.replace("/", "")))
    operation = description.operations[0]
    text = json.dumps(body)
    with contextlib.suppress(BodyCheckError, DescriptionError):
        timed(lambda: checker.check_body(operation, body, text, text, 1))
    try:
        view = timed(lambda: api_view(description, ["POST", operation.path]))
    except Exception as error:  # only ue-magic's own error, saying what is broken
        from ue_magic.errors import UsageEngineError

        assert isinstance(error, UsageEngineError), repr(error)
    else:
        assert repr(view).startswith("POST")
    assert matched.operation in (None, operation)


@FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_parse_or_say_why(data: bytes) -> None:
    try:
        timed(lambda: parse(data, "fuzz.yaml"))
    except DescriptionError as error:
        assert "fuzz.yaml" in str(error)


@FUZZ
@given(
    aliases=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=9),
)
def test_yaml_aliases_are_parsed_or_refused_within_the_budget(aliases: list[int]) -> None:
    pytest.importorskip("yaml")
    lines = ["l0: &l0 [1, 2, 3]"]
    for n, width in enumerate(aliases, start=1):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]")
    try:
        timed(lambda: parse("\n".join(lines).encode(), "aliases.yaml"))
    except DescriptionError as error:
        assert "YAML aliases" in str(error)


@FUZZ
@given(
    template=st.lists(
        st.one_of(st.sampled_from(["{a}", "{b}", "{c}"]), st.text("xyz.-", min_size=1, max_size=3)),
        min_size=1,
        max_size=8,
    ).map("".join),
    typed=st.text("xyz.-ab", max_size=20),
)
def test_segment_matching_agrees_with_a_regex(template: str, typed: str) -> None:
    """The matcher that cannot backtrack says what ``[^/]+`` per variable says."""
    pattern = "".join(
        "[^/]+" if re.fullmatch(r"\{\w\}", part) else re.escape(part)
        for part in re.split(r"(\{\w\})", template)
        if part
    )
    expected = re.fullmatch(pattern, typed) is not None
    assert SegmentMatcher(template).fullmatch(typed) == expected
