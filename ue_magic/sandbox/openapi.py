"""The sandbox's own OpenAPI 3.1 description, served at `{base}openapi.json`.

`OPERATIONS` is the one table of what the sandbox serves: `api.py` and `hooks.py` build their
routes from it, and the document is built from it and from the limits in `validate.py`, so the
routes, the scopes and the published schemas cannot drift apart. The body schemas state the rules
the validators enforce that JSON Schema can say (types, required fields, lengths, enums, ranges);
a few checks need the server's data or more than a schema (an IANA timezone, a reset schedule's
grammar, a capacityPercentage threshold needing a capacity, activeTo after activeFrom).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import validate as v
from .auth import ALL_SCOPES
from .faults import TARGETS
from .paging import MAX_LIMIT
from .state import API_PREFIX, HOOKS_PREFIX, JWKS_PATH, TOKEN_PATH

OPENAPI_PATH = "/openapi.json"
TYPES = f"{API_PREFIX}/meter-types"
METERS = f"{API_PREFIX}/meters"
Schema = dict[str, Any]
_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    scope: str | None = None  # None: no token needed
    query: tuple[str, ...] = ()
    body: str | None = None  # a schema name under components
    answer: tuple[int, str | None] = (200, None)  # status and schema name (None: no body)
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = field(default=("usage-metering",))
    body_required: bool = True  # False: an empty body is taken as {}


_ID = "id"
OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", TYPES, "listMeterTypes", "List meter types", "read:meter_types",
              ("name", "limit", "pageToken"), None, (200, "MeterTypeList"), (400,)),
    Operation("POST", TYPES, "createMeterType", "Create a meter type", "create:meter_types",
              (), "MeterTypeInput", (201, "MeterType"), (400, 409, 413)),
    Operation("GET", TYPES + "/{id}", "getMeterType", "Get a meter type", "read:meter_types",
              answer=(200, "MeterType"), errors=(404,)),
    Operation("PUT", TYPES + "/{id}", "replaceMeterType",
              "Replace a meter type (fields left out go back to their defaults)",
              "update:meter_types", (), "MeterTypeInput", (200, "MeterType"),
              (400, 404, 409, 413)),
    Operation("PATCH", TYPES + "/{id}", "updateMeterType",
              "Update some fields of a meter type (JSON merge patch: null removes)",
              "update:meter_types", (), "MeterTypePatch", (200, "MeterType"),
              (400, 404, 409, 413)),
    Operation("DELETE", TYPES + "/{id}", "deleteMeterType",
              "Delete a meter type that has no meters", "delete:meter_types",
              answer=(204, None), errors=(404, 409)),
    Operation("GET", METERS, "listMeters", "List meters, filtered by every parameter given",
              "read:meters", ("meterTypeId", "meterKey", "userId", "limit", "pageToken"), None,
              (200, "MeterList"), (400,)),
    Operation("POST", METERS, "createMeter", "Create a meter of a meter type", "create:meters",
              (), "MeterInput", (201, "Meter"), (400, 409, 413)),
    Operation("GET", METERS + "/{id}", "getMeter", "Get a meter", "read:meters",
              answer=(200, "Meter"), errors=(404,)),
    Operation("PUT", METERS + "/{id}", "replaceMeter",
              "Replace a meter's editable fields (capacity and thresholds left out stay as they "
              "are; the scope name update:meters is a guess)",
              "update:meters", (), "MeterUpdate", (200, "Meter"), (400, 404, 409, 413)),
    Operation("PATCH", METERS + "/{id}", "updateMeter",
              "Update some fields of a meter, e.g. deleteOnReset (JSON merge patch)",
              "update:meters", (), "MeterPatch", (200, "Meter"), (400, 404, 409, 413)),
    Operation("DELETE", METERS + "/{id}", "deleteMeter", "Delete a meter", "delete:meters",
              answer=(204, None), errors=(404,)),
    Operation("POST", TOKEN_PATH, "getToken",
              "Get an access token (OAuth 2.0 client credentials)", None, (), "TokenRequest",
              (200, "TokenResponse"), tags=("authentication",)),
    Operation("GET", JWKS_PATH, "getJwks", "The public keys that verify access tokens",
              tags=("authentication",)),
    Operation("GET", OPENAPI_PATH, "getOpenApi", "This description", tags=("sandbox",)),
    Operation("GET", f"{HOOKS_PREFIX}/counters", "sandboxCounters",
              "Sandbox only: request counters", tags=("sandbox",)),
    Operation("POST", f"{HOOKS_PREFIX}/reset", "sandboxReset",
              "Sandbox only: clear counters, faults, latency and rate limits (data: the store)",
              body="SandboxReset", errors=(400,), tags=("sandbox",), body_required=False),
    Operation("POST", f"{HOOKS_PREFIX}/faults", "sandboxFaults",
              "Sandbox only: queue a fault (status, delay, dropped connection)",
              body="SandboxFault", answer=(201, None), errors=(400,), tags=("sandbox",),
              body_required=False),
    Operation("POST", f"{HOOKS_PREFIX}/latency", "sandboxLatency",
              "Sandbox only: a delay before every API answer", body="SandboxLatency",
              errors=(400,), tags=("sandbox",), body_required=False),
    Operation("POST", f"{HOOKS_PREFIX}/clients", "sandboxClients",
              "Sandbox only: register an OAuth client", body="SandboxClient",
              answer=(201, None), errors=(400,), tags=("sandbox",)),
    Operation("POST", f"{HOOKS_PREFIX}/seed", "sandboxSeed",
              "Sandbox only: add meters in bulk", body="SandboxSeed", answer=(201, None),
              errors=(400,), tags=("sandbox",)),
    Operation("POST", f"{HOOKS_PREFIX}/rates", "sandboxRates",
              "Sandbox only: set the token and API rate limits (N/B, 0 for none)",
              body="SandboxRates", errors=(400,), tags=("sandbox",), body_required=False),
    Operation("POST", f"{HOOKS_PREFIX}/usage", "sandboxUsage",
              "Sandbox only: usage records, applied as the Meter processor would", None, (),
              "UsageRecords", (200, "UsageResult"), (400,), tags=("sandbox",)),
    Operation("POST", f"{HOOKS_PREFIX}/clock", "sandboxClock",
              "Sandbox only: set the time the sandbox lives in (null: the real time)",
              body="SandboxClock", errors=(400,), tags=("sandbox",), body_required=False),
)  # fmt: skip


def _text(max_len: int, *, nullable: bool = False, blank_ok: bool = False) -> Schema:
    schema: Schema = {"type": ["string", "null"] if nullable else "string", "maxLength": max_len}
    if not blank_ok:
        schema["minLength"] = 1
        schema["pattern"] = r"\S"
    return schema


def _nullable(kind: str, **rules: Any) -> Schema:
    return {"type": [kind, "null"], **rules}


_OBJECT_OR_NULL: Schema = {"type": ["object", "null"]}
_NUMBER: Schema = {"type": "number"}
_NULL: Schema = {"type": "null"}
_THRESHOLDS: Schema = {
    "type": ["array", "null"],
    "items": {"$ref": "#/components/schemas/Threshold"},
}
_SCHEDULE_VALUE: Schema = {
    "type": ["string", "integer"],
    "pattern": r"^[0-9A-Za-z*?,/#\- ]+$",
    "description": "cron-like: *, ?, N, A-B, /STEP, lists, names; day L, L-N, NW, LW; "
    "weekday D#K, DL",
}
# what parse_ts takes: any ISO 8601 date or date-time (no offset: UTC), so no RFC 3339 "format"
_STAMP: Schema = {
    "type": ["string", "null"],
    "maxLength": v.MAX_TIMESTAMP,
    "pattern": "^[0-9]{4}",
    "description": "ISO 8601; a date alone is midnight, no offset is UTC",
}


def _threshold() -> Schema:
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": _text(v.MAX_NAME),
            "capacityPercentage": _nullable("number", exclusiveMinimum=0),
            "absoluteValue": _nullable("number", minimum=0),
            "customFields": _OBJECT_OR_NULL,
            "reachedAt": {"type": "string", "format": "date-time", "readOnly": True},
        },
        "oneOf": [
            {
                "required": ["capacityPercentage"],
                "properties": {"capacityPercentage": _NUMBER, "absoluteValue": _NULL},
            },
            {
                "required": ["absoluteValue"],
                "properties": {"absoluteValue": _NUMBER, "capacityPercentage": _NULL},
            },
        ],
    }  # fmt: skip


def _meter_type_properties() -> dict[str, Schema]:
    return {
        "name": _text(v.MAX_NAME),
        "description": _text(v.MAX_DESCRIPTION, nullable=True, blank_ok=True),
        "unit": _text(v.MAX_UNIT),
        "category": {**_text(v.MAX_CATEGORY, nullable=True), "default": v.DEFAULT_CATEGORY},
        "aggregation": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": list(v.AGGREGATIONS)}},
        },
        "resetSchedule": {
            "type": ["object", "null"],
            "required": list(v.SCHEDULE_FIELDS),
            "properties": {name: _SCHEDULE_VALUE for name in v.SCHEDULE_FIELDS},
            "description": "in the type's timezone; a schedule that matches no date is refused",
        },
        "timezone": {**_text(64, nullable=True), "default": v.DEFAULT_TIMEZONE},
        "capacity": _nullable("number", exclusiveMinimum=0),
        "thresholds": _THRESHOLDS,
        "externalRef": _text(v.MAX_EXTERNAL_REF, nullable=True),
        "activeFrom": _STAMP,
        "activeTo": _STAMP,
    }  # fmt: skip


def _meter_update_properties() -> dict[str, Schema]:
    return {
        "userId": _text(v.MAX_USER_ID),
        "meterKey": _text(v.MAX_METER_KEY),
        "meterTypeId": {"type": "string", "description": "must stay the meter's own"},
        "customFields": _OBJECT_OR_NULL,
        "deleteOnReset": _nullable("boolean", default=False),
        "capacity": _nullable("number", exclusiveMinimum=0),
        "thresholds": _THRESHOLDS,
    }  # fmt: skip


def _stored(properties: dict[str, Schema], extra: dict[str, Schema]) -> Schema:
    return {"type": "object", "properties": {**properties, **extra}, "required": list(extra)}


def schemas() -> dict[str, Schema]:
    """The JSON Schemas (2020-12, as OpenAPI 3.1 has them) of bodies and answers."""
    type_props = _meter_type_properties()
    update_props = _meter_update_properties()
    ref = {name: {"$ref": f"#/components/schemas/{name}"} for name in ("MeterType", "Meter")}
    stamp = {"type": "string", "format": "date-time"}
    return {
        "Threshold": _threshold(),
        "MeterTypeInput": {
            "type": "object",
            "required": ["name", "unit", "aggregation"],
            "properties": type_props,
        },
        "MeterTypePatch": {
            "type": "object",
            "properties": {
                **type_props,
                "name": _text(v.MAX_NAME),
                "unit": _text(v.MAX_UNIT),
                "aggregation": type_props["aggregation"],
            },
        },
        "MeterInput": {
            "type": "object",
            "required": ["userId", "meterKey", "meterTypeId"],
            "properties": {
                "userId": _text(v.MAX_USER_ID),
                "meterKey": _text(v.MAX_METER_KEY),
                "meterTypeId": _text(v.MAX_METER_TYPE_ID),
                "customFields": _OBJECT_OR_NULL,
                "deleteOnReset": _nullable("boolean", default=False),
            },
        },
        "MeterUpdate": {
            "type": "object",
            "required": ["userId", "meterKey"],
            "properties": update_props,
        },
        "MeterPatch": {"type": "object", "properties": update_props},
        "MeterType": _stored(
            type_props,
            {
                "id": {"type": "string"},
                "accountId": {"type": "string"},
                "createdAt": stamp,
                "updatedAt": stamp,
                "numberOfMeters": {"type": "integer", "minimum": 0},
            },
        ),
        "Meter": _stored(
            update_props,
            {
                "id": {"type": "string"},
                "meterTypeId": {"type": "string"},
                "meterTypeName": {"type": "string"},
                "userId": {"type": "string"},
                "meterKey": {"type": "string"},
                "value": {"type": "number"},
                "unit": {"type": ["string", "null"]},
                "aggregation": type_props["aggregation"],
                "resetSchedule": type_props["resetSchedule"],
                "timezone": {"type": "string"},
                "periodStart": stamp,
                "periodEnd": {"type": ["string", "null"], "format": "date-time"},
                "deleteOnReset": {"type": "boolean"},
                "createdAt": stamp,
                "updatedAt": stamp,
            },
        ),
        "MeterTypeList": _list_of("meterTypes", ref["MeterType"]),
        "MeterList": _list_of("meters", ref["Meter"]),
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        },
        "OAuthError": {
            "type": "object",
            "required": ["error", "error_description"],
            "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
        },
        "TokenRequest": {
            "type": "object",
            "description": "client_id and client_secret go in the body (client_secret_post) or "
            "in an Authorization: Basic header (client_secret_basic)",
            "required": ["grant_type", "audience"],
            "properties": {
                "grant_type": {"enum": ["client_credentials"]},
                "client_id": {"type": "string", "minLength": 1},
                "client_secret": {"type": "string", "minLength": 1, "writeOnly": True},
                "audience": {"type": "string", "minLength": 1},
                "scope": {"type": "string", "description": "space separated subset"},
            },
        },
        "TokenResponse": {
            "type": "object",
            "required": ["access_token", "scope", "expires_in", "token_type"],
            "properties": {
                "access_token": {"type": "string"},
                "scope": {"type": "string"},
                "expires_in": {"type": "integer", "minimum": 1},
                "token_type": {"enum": ["Bearer"]},
            },
        },
        "UsageRecord": _usage_record(),
        "UsageRecords": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["records"],
                    "properties": {
                        "records": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/components/schemas/UsageRecord"},
                        }
                    },
                },
                {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/components/schemas/UsageRecord"},
                },
                {"$ref": "#/components/schemas/UsageRecord"},
            ]
        },
        **_hook_bodies(),
        "UsageResult": {
            "type": "object",
            "required": ["applied", "skipped", "meters"],
            "properties": {
                "applied": {"type": "integer"},
                "skipped": {"type": "integer"},
                "meters": {"type": "array", "items": ref["Meter"]},
            },
        },
    }


def _hook_bodies() -> dict[str, Schema]:
    """The bodies of the /_sandbox/ hooks (hooks.py and faults.py check the same rules)."""
    seconds = {"type": "number", "minimum": 0}
    rate = {
        "type": ["string", "number", "null"],
        "pattern": r"^\s*\d+(\.\d+)?\s*(/\s*\d+\s*)?$",
        "minimum": 0,
        "description": "N/B: N requests a second, bursts of B; 0 or null for no limit",
    }

    def closed(properties: dict[str, Schema], *required: str) -> Schema:
        schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = list(required)
        return schema

    return {
        "SandboxReset": {"type": "object", "properties": {"data": {"type": "boolean"}}},
        "SandboxFault": closed(
            {
                "target": {"enum": list(TARGETS)},
                "status": {"type": ["integer", "null"], "minimum": 200, "maximum": 599},
                "count": {"type": "integer", "minimum": 1},
                "retry_after": {"type": ["number", "string", "null"], "minimum": 0},
                "delay": seconds,
                "drop": {"type": "boolean"},
                "body": {"description": "JSON sent as the answer (a string: sent as text)"},
                "path_prefix": {"type": ["string", "null"]},
            }
        ),
        "SandboxLatency": {"type": "object", "properties": {"seconds": seconds}},
        "SandboxClient": {
            "type": "object",
            "required": ["client_id", "client_secret", "scopes"],
            "properties": {
                "client_id": {"type": "string", "minLength": 1},
                "client_secret": {"type": "string", "minLength": 1},
                "scopes": {"type": "string", "description": "space separated"},
            },
        },
        "SandboxSeed": {
            "type": "object",
            "required": ["n"],
            "properties": {
                "n": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                "meterTypeId": {"type": ["string", "null"]},
            },
        },
        "SandboxRates": closed({"token": rate, "api": rate}),
        "SandboxClock": {
            "type": "object",
            "properties": {
                "now": {
                    "type": ["string", "null"],
                    "pattern": "^[0-9]{4}",
                    "description": "ISO 8601 (no offset: UTC); null: back to the start clock",
                }
            },
        },
    }


def _usage_record() -> Schema:
    return {
        "type": "object",
        "not": {"required": ["records"]},
        "properties": {
            "userId": {"type": ["string", "integer"], "minLength": 1, "maxLength": v.MAX_USER_ID},
            "meterKey": {
                "type": ["string", "integer"],
                "minLength": 1,
                "maxLength": v.MAX_METER_KEY,
            },
            "meterId": {"type": "string", "minLength": 1, "maxLength": v.MAX_METER_TYPE_ID},
            "meterTypeId": {"type": "string", "minLength": 1, "maxLength": v.MAX_METER_TYPE_ID},
            "category": {
                "type": "string",
                "minLength": 1,
                "maxLength": v.MAX_CATEGORY,
                "description": "only meters whose type has this category (a guiding rule's)",
            },
            "value": {"type": "number"},
            "timestamp": {
                "type": ["string", "number"],
                "pattern": "^[0-9]{4}",
                "maxLength": v.MAX_TIMESTAMP,
                "description": "ISO 8601, or epoch milliseconds",
            },
        },
        "anyOf": [{"required": ["meterId"]}, {"required": ["userId", "meterKey"]}],
    }


def _list_of(key: str, item: Schema) -> Schema:
    return {
        "type": "object",
        "required": [key],
        "properties": {
            key: {"type": "array", "items": item},
            "nextPageToken": {"type": "string", "description": "present while items remain"},
        },
    }


_PARAMETERS: dict[str, Schema] = {
    "name": {"description": "exact meter type name", "schema": {"type": "string"}},
    "meterTypeId": {"description": "exact meter type id", "schema": {"type": "string"}},
    "meterKey": {"description": "exact meter key", "schema": {"type": "string"}},
    "userId": {"description": "exact user id", "schema": {"type": "string"}},
    "limit": {
        "description": "page size",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    },
    "pageToken": {
        "description": "nextPageToken of the previous page",
        "schema": {"type": "string"},
    },
}

_ERROR_TEXT = {
    400: "Invalid request (validation_error or invalid_json, naming the field)",
    401: "Missing or invalid bearer token",
    403: "The token lacks the operation's scope",
    404: "Unknown id",
    409: "Conflict (a duplicate, or a meter type that still has meters)",
    413: "Request body too large",
    429: "Rate limited: retry after the Retry-After seconds",
}


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": list(op.tags),
        "security": [{"oauth2": [op.scope]}] if op.scope else [],
    }
    params = [
        {"name": name, "in": "query", "required": False, **_PARAMETERS[name]} for name in op.query
    ]
    if "{id}" in op.path:
        params.insert(
            0, {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    if params:
        out["parameters"] = params
    if op.body is not None:
        ref = {"schema": {"$ref": f"#/components/schemas/{op.body}"}}
        content = {"application/json": ref}
        if op.path == TOKEN_PATH:
            content = {"application/x-www-form-urlencoded": ref, **content}
        out["requestBody"] = {"required": op.body_required, "content": content}
    status, answer = op.answer
    responses: dict[str, Any] = {str(status): {"description": "Success"}}
    if answer is not None:
        schema = {"$ref": f"#/components/schemas/{answer}"}
        responses[str(status)]["content"] = {"application/json": {"schema": schema}}
    elif status != 204:
        responses[str(status)]["content"] = {"application/json": {"schema": {"type": "object"}}}
    error_kind = "OAuthError" if op.path == TOKEN_PATH else "Error"
    codes = set(op.errors)
    if op.scope:
        codes |= {401, 403, 429}
    if op.path == TOKEN_PATH:
        codes |= {400, 401, 403, 429}
    for code in sorted(codes):
        responses[str(code)] = {
            "description": _ERROR_TEXT[code],
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{error_kind}"}}
            },
        }
    out["responses"] = responses
    return out


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a sandbox whose base URL (with a trailing slash) is given."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    scopes = {scope: scope.replace(":", " ").replace("_", " ") for scope in ALL_SCOPES}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Usage Engine sandbox (ue-magic)",
            "version": "1",
            "description": "A local emulator of DigitalRoute's Usage Engine token endpoint and "
            "usage metering API. Paths are relative to the server URL.",
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "security": [{"oauth2": []}],
        "tags": [{"name": "usage-metering"}, {"name": "authentication"}, {"name": "sandbox"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": base_url + TOKEN_PATH.lstrip("/"),
                            "scopes": scopes,
                        }
                    },
                }
            },
            "schemas": schemas(),
        },
    }
