"""The usage metering API under /usage-metering/v1: meter types and meters, with scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import InvalidToken, scopes_of
from .errors import ApiError
from .httputil import json_response, raw_list_response, read_json
from .openapi import OPERATIONS
from .paging import paginate
from .rates import RATE_HEADERS
from .state import API_PREFIX, SandboxState

_REALM = 'Bearer realm="usage-engine"'
Endpoint = Callable[[Request], Awaitable[Response]]


class MeteringApi:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.store = state.store

    def routes(self) -> list[Route]:
        """One Route per path of `OPERATIONS` under the API prefix, so a wrong method gets a
        405 whose Allow header lists them all; each handler checks its operation's scope."""
        handlers = {
            "listMeterTypes": self.list_types,
            "createMeterType": self.create_type,
            "getMeterType": self.get_type,
            "replaceMeterType": self.replace_type,
            "updateMeterType": self.patch_type,
            "deleteMeterType": self.delete_type,
            "listMeters": self.list_meters,
            "createMeter": self.create_meter,
            "getMeter": self.get_meter,
            "replaceMeter": self.replace_meter,
            "updateMeter": self.patch_meter,
            "deleteMeter": self.delete_meter,
        }
        by_path: dict[str, dict[str, Endpoint]] = {}
        for op in OPERATIONS:
            if op.path.startswith(API_PREFIX + "/"):
                assert op.scope is not None
                endpoint = _scoped(self, op.scope, handlers[op.operation_id])
                by_path.setdefault(op.path, {})[op.method] = endpoint
        return [
            Route(path, _dispatch(methods), methods=list(methods))
            for path, methods in by_path.items()
        ]

    def authorize(self, request: Request, scope: str) -> dict[str, Any]:
        """The token's claims if it is valid and grants `scope`; 401 or 403 otherwise."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "unauthorized",
                "a bearer token is required (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": _REALM},
            )
        try:
            claims = self.state.signer.verify(token.strip())
        except InvalidToken as exc:
            challenge = f'{_REALM}, error="invalid_token", error_description="{exc}"'
            raise ApiError(
                401, "invalid_token", str(exc), headers={"WWW-Authenticate": challenge}
            ) from None
        admission = self.state.api_limiter.admit(str(claims.get("azp", "")))
        if admission.wait > 0:
            raise ApiError(
                429,
                "too_many_requests",
                "rate limit exceeded: slow down and retry after the Retry-After seconds",
                headers=admission.headers,
            )
        if admission.headers:  # the limit stated on every answer: the middleware adds them
            request.scope[RATE_HEADERS] = admission.headers
        if scope not in scopes_of(claims):
            challenge = f'{_REALM}, error="insufficient_scope", scope="{scope}"'
            raise ApiError(
                403,
                "insufficient_scope",
                f"the access token lacks the scope {scope}",
                headers={"WWW-Authenticate": challenge},
            )
        return claims

    def _page(self, key: str, items: list[dict[str, Any]], request: Request) -> Response:
        page, next_token = paginate(items, request.query_params, self.state.page_size)
        body: dict[str, object] = {key: page}
        if next_token is not None:
            body["nextPageToken"] = next_token
        return json_response(body)

    # meter types

    async def create_type(self, request: Request) -> Response:
        record = self.store.create_type(await read_json(request))
        return json_response(record, 201, {"Location": f"{API_PREFIX}/meter-types/{record['id']}"})

    async def list_types(self, request: Request) -> Response:
        items = self.store.list_types(request.query_params.get("name"))
        return self._page("meterTypes", items, request)

    async def get_type(self, request: Request) -> Response:
        return json_response(self.store.get_type(request.path_params["id"]))

    async def replace_type(self, request: Request) -> Response:
        body = await read_json(request)
        return json_response(self.store.replace_type(request.path_params["id"], body))

    async def patch_type(self, request: Request) -> Response:
        body = await read_json(request)
        return json_response(self.store.patch_type(request.path_params["id"], body))

    async def delete_type(self, request: Request) -> Response:
        self.store.delete_type(request.path_params["id"])
        return Response(status_code=204)

    # meters

    async def create_meter(self, request: Request) -> Response:
        record = self.store.create_meter(await read_json(request))
        return json_response(record, 201, {"Location": f"{API_PREFIX}/meters/{record['id']}"})

    async def list_meters(self, request: Request) -> Response:
        query = request.query_params
        items = self.store.list_meters_json(
            query.get("meterTypeId"), query.get("meterKey"), query.get("userId")
        )
        page, next_token = paginate(items, request.query_params, self.state.page_size)
        return raw_list_response("meters", page, next_token)

    async def get_meter(self, request: Request) -> Response:
        return json_response(self.store.get_meter(request.path_params["id"]))

    async def replace_meter(self, request: Request) -> Response:
        body = await read_json(request)
        return json_response(self.store.replace_meter(request.path_params["id"], body))

    async def patch_meter(self, request: Request) -> Response:
        body = await read_json(request)
        return json_response(self.store.patch_meter(request.path_params["id"], body))

    async def delete_meter(self, request: Request) -> Response:
        self.store.delete_meter(request.path_params["id"])
        return Response(status_code=204)


def _scoped(api: MeteringApi, scope: str, handler: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        api.authorize(request, scope)
        return await handler(request)

    return endpoint


def _dispatch(handlers: dict[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return endpoint
