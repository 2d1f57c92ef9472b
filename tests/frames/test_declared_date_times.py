"""Which record fields an API description declares date-time (``Description.date_time_fields``):
refs, combinators, nesting, a list at the top or under a key, and what it cannot say."""

from __future__ import annotations

from typing import Any

from ue_magic.cells.openapi import date_time_fields, load_description

STAMP = {"type": "string", "format": "date-time"}


def description(answers: dict[str, Any]) -> Any:
    """A description whose GET operations answer with the given schemas."""
    return load_description(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "/v1"}],
            "paths": {
                path: {
                    "get": {
                        "responses": {
                            "404": {"description": "no"},
                            "200": {
                                "description": "ok",
                                "content": {"application/json": {"schema": schema}},
                            },
                        }
                    }
                }
                for path, schema in answers.items()
            },
            "components": {
                "schemas": {
                    "Base": {"type": "object", "properties": {"createdAt": STAMP}},
                    "Node": {
                        "type": "object",
                        "properties": {"at": STAMP, "child": {"$ref": "#/components/schemas/Node"}},
                    },
                    "Thing": {
                        "allOf": [
                            {"$ref": "#/components/schemas/Base"},
                            {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "endsAt": {"anyOf": [STAMP, {"type": "null"}]},
                                    "period": {
                                        "type": "object",
                                        "properties": {"start": STAMP, "days": {"type": "integer"}},
                                    },
                                    "marks": {
                                        "type": "array",
                                        "items": {"properties": {"at": STAMP}},
                                    },
                                    "day": {"type": "string", "format": "date"},
                                },
                            },
                        ]
                    },
                }
            },
        }
    )


THING = {"$ref": "#/components/schemas/Thing"}
DECLARED = {"createdAt", "endsAt", "period.start"}  # not marks[].at (a list), not day (a date)


def test_fields_under_a_key_with_refs_combinators_and_nesting() -> None:
    found = description(
        {"/things": {"type": "object", "properties": {"things": {"type": "array", "items": THING}}}}
    )
    assert date_time_fields(found, "GET", "/v1/things", "things") == DECLARED
    assert date_time_fields(found, "GET", "/v1/things", "other") == frozenset()


def test_fields_of_a_list_at_the_top() -> None:
    found = description({"/things": {"type": "array", "items": THING}})
    assert date_time_fields(found, "GET", "/v1/things", None) == DECLARED


def test_nothing_declared_where_the_description_does_not_say() -> None:
    found = description({"/one": THING})
    assert date_time_fields(found, "GET", "/v1/one", None) == frozenset()  # not a list
    assert date_time_fields(found, "GET", "/v1/nowhere", None) == frozenset()
    assert date_time_fields(found, "POST", "/v1/one", None) == frozenset()


def test_a_schema_that_holds_itself_ends() -> None:
    node = {"$ref": "#/components/schemas/Node"}
    found = description({"/nodes": {"type": "array", "items": node}})
    fields = date_time_fields(found, "GET", "/v1/nodes", None)
    assert {"at", "child.at", "child.child.at"} <= fields and len(fields) < 20
