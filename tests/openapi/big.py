"""A big description (about 5 MB, as large as real API references get) for tests and benchmarks."""

from __future__ import annotations

import json
from typing import Any


def big_description(target_bytes: int = 5_000_000) -> bytes:
    """An OpenAPI 3.1 document of about ``target_bytes``: many services, each with list,
    create, get and delete, parameters, and request schemas behind $refs."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "big", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    size, n = 0, 0
    while size < target_bytes:
        name = f"Thing{n}"
        base = f"/service-{n // 20}/v1/things-{n}"
        schemas[name] = {
            "type": "object",
            "required": ["name", "kind"],
            "properties": {
                "name": {"type": "string", "maxLength": 80, "description": "A name " * 8},
                "kind": {"enum": ["a", "b", "c"]},
                "size": {"type": ["integer", "null"], "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}},
                "extra": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
        query = [
            {
                "name": f"filter{k}",
                "in": "query",
                "description": "Filter " * 6,
                "schema": {"type": "string"},
            }
            for k in range(4)
        ]
        paths[base] = {
            "get": {
                "operationId": f"list{name}",
                "summary": f"List {name}",
                "parameters": query,
                "responses": {"200": {"description": "The list " * 5}},
            },
            "post": {
                "operationId": f"create{name}",
                "summary": f"Create {name}",
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    }
                },
                "responses": {"201": {"description": "Created " * 5}},
            },
        }
        paths[base + "/{id}"] = {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "operationId": f"get{name}",
                "summary": f"Get {name}",
                "responses": {"200": {"description": "It"}},
            },
            "delete": {
                "operationId": f"delete{name}",
                "summary": f"Delete {name}",
                "responses": {"204": {"description": "Gone"}},
            },
        }
        n += 1
        if n % 200 == 0:
            size = len(json.dumps(doc))
    return json.dumps(doc).encode()
