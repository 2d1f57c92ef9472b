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
from .paging import paginate
from .state import API_PREFIX, SandboxState

TYPES = f"{API_PREFIX}/meter-types"
METERS = f"{API_PREFIX}/meters"
_REALM = 'Bearer realm="usage-engine"'
Endpoint = Callable[[Request], Awaitable[Response]]


class MeteringApi:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.store = state.store

    def routes(self) -> list[Route]:
        """One Route per path, so a wrong method gets a 405 whose Allow header lists them all."""
        by_path: dict[str, dict[str, Endpoint]] = {
            TYPES: {"GET": self.list_types, "POST": self.create_type},
            TYPES + "/{id}": {
                "GET": self.get_type,
                "PUT": self.replace_type,
                "PATCH": self.patch_type,
                "DELETE": self.delete_type,
            },
            METERS: {"GET": self.list_meters, "POST": self.create_meter},
            METERS + "/{id}": {"GET": self.get_meter, "DELETE": self.delete_meter},
        }
        return [
            Route(path, _dispatch(handlers), methods=list(handlers))
            for path, handlers in by_path.items()
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
        self.authorize(request, "create:meter_types")
        record = self.store.create_type(await read_json(request))
        return json_response(record, 201, {"Location": f"{TYPES}/{record['id']}"})

    async def list_types(self, request: Request) -> Response:
        self.authorize(request, "read:meter_types")
        items = self.store.list_types(request.query_params.get("name"))
        return self._page("meterTypes", items, request)

    async def get_type(self, request: Request) -> Response:
        self.authorize(request, "read:meter_types")
        return json_response(self.store.get_type(request.path_params["id"]))

    async def replace_type(self, request: Request) -> Response:
        self.authorize(request, "update:meter_types")
        body = await read_json(request)
        return json_response(self.store.replace_type(request.path_params["id"], body))

    async def patch_type(self, request: Request) -> Response:
        self.authorize(request, "update:meter_types")
        body = await read_json(request)
        return json_response(self.store.patch_type(request.path_params["id"], body))

    async def delete_type(self, request: Request) -> Response:
        self.authorize(request, "delete:meter_types")
        self.store.delete_type(request.path_params["id"])
        return Response(status_code=204)

    # meters

    async def create_meter(self, request: Request) -> Response:
        self.authorize(request, "create:meters")
        record = self.store.create_meter(await read_json(request))
        return json_response(record, 201, {"Location": f"{METERS}/{record['id']}"})

    async def list_meters(self, request: Request) -> Response:
        self.authorize(request, "read:meters")
        items = self.store.list_meters_json(request.query_params.get("meterTypeId"))
        page, next_token = paginate(items, request.query_params, self.state.page_size)
        return raw_list_response("meters", page, next_token)

    async def get_meter(self, request: Request) -> Response:
        self.authorize(request, "read:meters")
        return json_response(self.store.get_meter(request.path_params["id"]))

    async def delete_meter(self, request: Request) -> Response:
        self.authorize(request, "delete:meters")
        self.store.delete_meter(request.path_params["id"])
        return Response(status_code=204)


def _dispatch(handlers: dict[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return endpoint
