"""One keyword over a schema-sized list (a description under 25 MB can hold a `required` of a
million names): the check makes one error where jsonschema made one per name, asks the
deadline while it reads the list, and writes messages of a bounded size."""

from __future__ import annotations

from typing import Any

import pytest

from tests.openapi.test_hostile_descriptions import METERS, doc, inline_body
from ue_magic.cells.openapi import load_description
from ue_magic.cells.openapi._bounded import Deadline
from ue_magic.cells.openapi._validate import BodyProblem, BodyValidator

pytestmark = pytest.mark.timeout(120)
NAMES = [f"r{i}" for i in range(20_000)]


def checked(schema: Any, body: Any, openapi: str = "3.1.0") -> tuple[BodyProblem | None, list]:
    """The problem the check reports and every top-level problem of ``body``."""
    description = load_description({**doc({METERS: inline_body(schema)}), "openapi": openapi})
    operation = description.operations[0]
    validator = BodyValidator(description)
    return validator.check(operation, body), validator.problems(operation, body)


def test_a_required_list_of_many_names_makes_one_error() -> None:
    """jsonschema made 20,000 errors for an empty body (1,000,000 names: 19 s)."""
    problem, problems = checked({"type": "object", "required": NAMES}, {"r0": 1})
    assert len(problems) == 1
    assert problem is not None and (problem.path, problem.missing) == ("$.r1", "r1")


@pytest.mark.parametrize(
    ("keyword", "openapi"), [("dependentRequired", "3.1.0"), ("dependencies", "3.0.3")]
)
def test_a_dependency_list_of_many_names_makes_one_error(keyword: str, openapi: str) -> None:
    schema = {"type": "object", keyword: {"a": NAMES}}
    problem, problems = checked(schema, {"a": 1}, openapi)
    assert len(problems) == 1
    assert problem is not None and "'r0' is a dependency of 'a'" in problem.expected


def test_a_big_const_is_shown_cut() -> None:
    """Both jsonschema's message and the one shown held the whole value."""
    schema = {"type": "object", "properties": {"k": {"const": NAMES}}}
    problem, problems = checked(schema, {"k": "nope"})
    assert problem is not None and problem.expected.startswith('expected one of ["r0", "r1"')
    assert len(problem.expected) < 200 and len(problems[0].expected) < 200


def test_a_list_of_many_types_is_read_once_each() -> None:
    problem, _ = checked({"type": ["string"] * 20_000}, {})
    assert problem is not None and problem.expected == "expected a string, got an object"


def test_an_extra_field_names_a_few_of_many_allowed() -> None:
    fields = {name: {} for name in NAMES}
    schema = {"type": "object", "properties": fields, "additionalProperties": False}
    problem, _ = checked(schema, {"zz": 1})
    assert problem is not None and problem.path == "$.zz"
    assert "allowed: r0, r1, r10, r100" in problem.expected
    assert problem.expected.endswith("and 19,980 more)") and len(problem.expected) < 300


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ({"type": "object", "properties": {name: {} for name in NAMES}}, {}),
        ({"type": "object", "required": NAMES}, {name: 1 for name in NAMES}),
        ({"allOf": [{"$ref": "#/components/schemas/S"}] * 20_000}, {}),
        ({"type": "array", "uniqueItems": True}, list(range(20_000))),
    ],
    ids=["properties", "required-all-there", "allOf", "uniqueItems"],
)
def test_the_deadline_is_asked_while_a_long_list_is_read(
    schema: Any, body: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One keyword call reading 20,000 items asks the deadline every few thousand; before,
    only when the keyword started, so a list of millions ran past it."""
    asked: list[float] = []
    real = Deadline.left

    def counted(self: Deadline) -> float:
        asked.append(0)
        return real(self)

    description = load_description(doc({METERS: inline_body(schema)}, {"S": {}}))
    validator = BodyValidator(description)
    operation = description.operations[0]
    validator.check(operation, body)  # builds the validator
    monkeypatch.setattr(Deadline, "left", counted)
    validator.check(operation, body)
    keyword_calls = 3  # the $ref, the keyword's own schema, its type
    assert len(asked) > keyword_calls + 3
