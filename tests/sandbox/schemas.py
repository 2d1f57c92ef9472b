"""The sandbox's published schemas as jsonschema validators (corpus and OpenAPI tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CORPUS = Path(__file__).parent.parent / "data" / "conformance"
_ROOT = "urn:ue-sandbox:openapi"


def validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for `#/components/schemas/NAME` of an OpenAPI 3.1 document."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_ROOT, resource)
    return Draft202012Validator(
        {"$ref": f"{_ROOT}#/components/schemas/{name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def corpus(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / name).read_text(encoding="utf-8"))
    return data


def scenario_files() -> list[str]:
    return sorted(p.name for p in CORPUS.glob("*.json") if "steps" in corpus(p.name))
