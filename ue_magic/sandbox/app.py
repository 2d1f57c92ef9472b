"""The sandbox's ASGI app: token endpoint, JWKS, usage metering API and test hooks.

It follows ../shared/usage-engine-api.md. Where that page says "not documented", the sandbox
guesses the ordinary behaviour; these are the guesses:

Token endpoint
- Fields are checked in this order: body encoding (form, JSON, or no Content-Type with a
  body that is one of the two; anything else 400 invalid_request), each required field
  (400 invalid_request "Missing required parameter: X"), grant type (400 unsupported_grant_type),
  client id and secret (401 access_denied "Unauthorized"), audience (403 access_denied
  "Service not found: X"). A repeated form field is 400 invalid_request (RFC 6749 3.2).
- No `audience` field (DigitalRoute's own request sample in the API reference sends none,
  though the reference marks it required): accepted, and the token is issued for the sandbox's
  own base URL, as Auth0 uses the API's default audience.
- client_secret_basic (an `Authorization: Basic` header) is accepted as well as form fields.
- An optional `scope` field asks for a subset of the client's scopes; asking for one it was
  not granted is 403 access_denied, as Auth0 does. Without it the token has all its scopes.
- Rate limit per client id (as sent, before the secret is checked, so wrong secrets count too):
  10 requests a second, burst 5 (one of the two documented figures), a token bucket. Refused:
  429 `{"error": "too_many_requests", "error_description": "Global limit has been reached"}`
  with `Retry-After` in whole seconds (at least 1). Answers carry Cache-Control: no-store.

Metering API
- The scope for updating meters is named `update:meters` (the real name is not public).
- Rate limit (off unless `api_rate` / `--api-rate` is given: the real limits are not public):
  per client (the token's azp), checked after the token, 429 `too_many_requests` with
  `Retry-After` in whole seconds.
- Answers: create 201 with the stored object and a Location header; GET by id 200; PUT
  (full replace: fields left out go back to their defaults) and PATCH (RFC 7396 merge at the top
  level: null removes a field) 200 with the stored object; DELETE 204 with no body. Both PUT
  and PATCH exist for meter types and for meters (which method the service uses is not public).
- Error body `{"error", "message", "field"?}`: 400 validation_error or invalid_json,
  401 unauthorized / invalid_token (with `WWW-Authenticate: Bearer realm="usage-engine"...`),
  403 insufficient_scope, 404 not_found (unknown id or path), 405 method_not_allowed (with
  Allow), 409 conflict, 413 payload_too_large (bodies over 1 MiB, read incrementally).
- Route first (404/405), then token (401), rate (429), scope (403), then body (413/400), then
  the data (404/409).
- Request bodies are parsed as JSON whatever their Content-Type says (no 415).
- Idle keep-alive connections are closed after 65 s (as a load balancer would; AWS ALB: 60 s),
  longer than clients keep them (httpx: 5 s), so a client is always the one to close them.
- Meter type rules beyond the documented ones: name and unit required, non-blank, at most 80
  characters; aggregation required; category a free, non-blank label of at most 200 characters
  (default DEFAULT; a new one comes into being when used); timezone an IANA zone (default
  Etc/UTC); capacity a number > 0 or null; thresholds a list of {name (<= 80), exactly one
  of capacityPercentage (> 0, above 100 too: an overage warning; needs a capacity) or
  absoluteValue (>= 0), customFields}; resetSchedule null or all five cron-like fields,
  strings or numbers (see schedule.py: `*`, `?`, numbers, ranges, lists, steps, month and
  weekday names, day `L`, `L-N`, `NW`, `LW`, weekday `D#K`, `DL`, wrapping ranges as in
  Quartz; a schedule that matches no date, such as day 30 of month 2, is refused);
  activeFrom/activeTo ISO 8601 (activeFrom defaults to createdAt, activeTo must be after it);
  customFields objects at most 32 levels deep. Names need not be unique; unknown fields are
  ignored, so a GET answer can be sent back as a PUT body.
- Meters: userId and meterKey required, non-blank, at most 200 characters; meterTypeId must
  name an existing type (else 400, field meterTypeId); a second meter with the same
  meterTypeId, userId and meterKey is 409. A meter copies unit, aggregation, capacity,
  thresholds, resetSchedule and timezone from its type when it is made (later changes to the
  type do not reach existing meters); value 0; periodStart is its creation time and periodEnd
  the next time the reset schedule fires (null without a schedule).
- Meter updates (PUT, PATCH): userId, meterKey, customFields, deleteOnReset, and capacity and
  thresholds (which then override what the meter inherited); meterTypeId cannot change (400);
  a userId/meterKey that another meter of the type has is 409; other fields are ignored. A PUT
  that leaves out capacity or thresholds keeps the meter's own; a threshold that stays the same
  (name and limit) keeps its `reachedAt`.
- Deleting a meter type that still has meters is 409 (field "id"); delete the meters first.
- ?name= (meter types) and ?meterTypeId=, ?meterKey=, ?userId= (meters) filter by exact match,
  every one given (DigitalRoute's purge example filters by meterTypeId and meterKey and deletes
  all it gets); an unknown value gives an empty list. Other query parameters are ignored.
- Pagination: see paging.py (`limit` 1..1000, `pageToken`, `nextPageToken`).
- Trailing slashes are not redirected: /usage-metering/v1/meters/ is a 404.

Usage (the Meter processor, emulated: see metering.py)
- Records come through the test hook `POST /_sandbox/usage` (or `Sandbox.record_usage`), not an
  API: `userId` and `meterKey` (every meter with both; a number is matched as text) or `meterId`,
  optional `meterTypeId` or `category` (of the meter's type, as a Meter processor's guiding
  rule matches one) to narrow, `value`, optional `timestamp` (ISO 8601 or epoch ms; default
  now). Aggregations: sum adds, increment counts records, minimum/maximum keep the extreme of
  the period (its first record sets it). A batch is all or nothing: a record without a value
  for a meter that needs one is a 400 and no record is applied. A threshold gains `reachedAt`
  (the record's time) when the value first reaches it. Records older than the meter's
  periodStart are skipped.
- Resets happen when the sandbox's clock (or a record's time) passes periodEnd: value 0,
  `reachedAt` removed, periodStart the reset time, periodEnd the next one; `deleteOnReset`
  deletes the meter instead. A changed type schedule does not reach existing meters.

Described by `{base}openapi.json` (openapi.py), built from the same table as the routes.
Test hooks and faults: see hooks.py and middleware.py.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from .api import MeteringApi
from .errors import ApiError
from .hooks import Hooks
from .httputil import error_response, json_response
from .middleware import SandboxMiddleware
from .oauth import TokenEndpoint
from .openapi import OPENAPI_PATH, document
from .state import SandboxState


def build_app(state: SandboxState) -> ASGIApp:
    described = json_response(document(state.base_url)).body

    async def openapi(request: Request) -> Response:
        return Response(described, media_type="application/json")

    routes = [
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        *TokenEndpoint(state).routes(),
        *MeteringApi(state).routes(),
        *Hooks(state).routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.router.redirect_slashes = False
    return SandboxMiddleware(app, state)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405, in the API's JSON shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
        return json_response({"error": "not_found", "message": message}, 404)
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
        return json_response({"error": "method_not_allowed", "message": message}, 405, exc.headers)
    body = {"error": "http_error", "message": exc.detail}
    return json_response(body, exc.status_code, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    """A bug: still a JSON answer (Starlette re-raises, so uvicorn logs the traceback)."""
    return json_response({"error": "internal_error", "message": "internal sandbox error"}, 500)
