"""JSON answers and bounded request bodies."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .errors import ApiError

MAX_BODY = 1024 * 1024  # documented 413 "request body too large"; the exact limit is a guess


def json_response(
    data: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """One json.dumps call for the whole answer (fast for big lists; ASCII-safe for any string)."""
    body = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def raw_list_response(key: str, items: Sequence[bytes], next_token: str | None) -> Response:
    """`{key: [...], "nextPageToken"?}` from items that are JSON already."""
    parts = [b'{"', key.encode(), b'":[', b",".join(items), b"]"]
    if next_token is not None:
        parts += [b',"nextPageToken":', json.dumps(next_token).encode()]
    parts.append(b"}")
    return Response(b"".join(parts), media_type="application/json")


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read chunk by chunk and abandoned as soon as it passes `limit` (413)."""
    too_large = ApiError(413, "payload_too_large", f"request body must be at most {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "invalid_request", "the client went away mid-body") from None
    return b"".join(chunks)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def parse_json(body: bytes) -> object:
    """Strict JSON (no NaN/Infinity); 400 invalid_json with the position of the mistake."""
    if not body.strip():
        raise ApiError(400, "invalid_json", "the request body must be JSON, and it is empty")
    try:
        return json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except (ValueError, RecursionError) as exc:  # bad UTF-8, NaN, huge ints, deep nesting
        message = f"invalid JSON: {exc}"[:200]
        if "integer string conversion" in str(exc):  # valid JSON, more than this API reads
            digits = sys.get_int_max_str_digits()
            message = f"the body holds an integer of over {digits:,} digits; this API reads fewer"
    raise ApiError(400, "invalid_json", message)


async def read_json(request: Request) -> object:
    return parse_json(await read_body(request))
