"""Test hooks under /_sandbox/: counters, reset, faults, latency, clients, seeding, rate limits,
usage records and the clock.

They need no token (loopback-only test hooks), are refused to non-loopback peers, and are not
counted as API requests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError, ValidationError
from .faults import Fault
from .httputil import json_response, parse_json, read_body, read_json
from .metering import parse_usage
from .rates import parse_rate
from .state import HOOKS_PREFIX, SandboxState
from .timefmt import format_ts, parse_ts

Endpoint = Callable[[Request], Awaitable[Response]]
_FAULT_FIELDS = ("target", "status", "count", "retry_after", "delay", "drop", "body", "path_prefix")


class Hooks:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        table: dict[str, tuple[str, Endpoint]] = {
            "counters": ("GET", self.counters),
            "reset": ("POST", self.reset),
            "faults": ("POST", self.faults),
            "latency": ("POST", self.latency),
            "clients": ("POST", self.clients),
            "seed": ("POST", self.seed),
            "rates": ("POST", self.rates),
            "usage": ("POST", self.usage),
            "clock": ("POST", self.clock),
        }
        return [
            Route(f"{HOOKS_PREFIX}/{name}", _loopback_only(endpoint), methods=[method])
            for name, (method, endpoint) in table.items()
        ]

    async def counters(self, request: Request) -> Response:
        return json_response(self.state.counters.snapshot())

    async def reset(self, request: Request) -> Response:
        data = _flag(await _optional_object(request), "data")
        self.state.reset(data=data)
        return json_response({"reset": True, "data": data})

    async def faults(self, request: Request) -> Response:
        body = await _optional_object(request)
        unknown = set(body) - set(_FAULT_FIELDS)
        if unknown:
            raise ValidationError(sorted(unknown)[0], f"unknown fault field {sorted(unknown)[0]}")
        try:
            fault = Fault(**body)
        except (TypeError, ValueError) as exc:
            raise ValidationError("fault", str(exc)) from None
        self.state.faults.inject(fault)
        return json_response({"queued": True, "pending": self.state.faults.pending()}, 201)

    async def latency(self, request: Request) -> Response:
        seconds = (await _optional_object(request)).get("seconds", 0.0)
        try:
            self.state.faults.set_latency(seconds)
        except ValueError as exc:
            raise ValidationError("seconds", str(exc)) from None
        return json_response({"latency": self.state.faults.latency})

    async def clients(self, request: Request) -> Response:
        body = await _optional_object(request)
        client_id, secret, scopes = (body.get(k) for k in ("client_id", "client_secret", "scopes"))
        for name, value in (("client_id", client_id), ("client_secret", secret)):
            if not isinstance(value, str) or not value:
                raise ValidationError(name, f"{name} must be a non-empty string")
        if not isinstance(scopes, str):
            raise ValidationError("scopes", "scopes must be a space separated string")
        record = self.state.clients.add(str(client_id), str(secret), scopes)
        return json_response({"client_id": record.client_id, "scopes": list(record.scopes)}, 201)

    async def seed(self, request: Request) -> Response:
        body = await _optional_object(request)
        n, type_id = body.get("n"), body.get("meterTypeId")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1_000_000:
            raise ValidationError("n", "n must be an integer from 0 to 1000000")
        if type_id is not None and not isinstance(type_id, str):
            raise ValidationError("meterTypeId", "meterTypeId must be a string")
        type_id = self.state.store.seed_meters(n, type_id)
        return json_response({"meterTypeId": type_id, "seeded": n}, 201)

    async def rates(self, request: Request) -> Response:
        """`{"token": "10/5", "api": "50/10"}`: a key left out keeps its limit; 0 or null is
        none. The reset hook restores the limits the sandbox was started with."""
        body = await _optional_object(request)
        unknown = set(body) - {"token", "api"}
        if unknown:
            raise ValidationError(sorted(unknown)[0], "rates takes the keys token and api")
        limiters = {"token": self.state.token_limiter, "api": self.state.api_limiter}
        parsed = {}
        for key, spec in body.items():
            try:
                parsed[key] = parse_rate(spec)
            except ValueError as exc:
                raise ValidationError(key, str(exc)) from None
        for key, rate in parsed.items():
            limiters[key].set_rate(rate)
        return json_response(
            {key: str(limiter.rate) if limiter.rate else None for key, limiter in limiters.items()}
        )

    async def usage(self, request: Request) -> Response:
        usages = parse_usage(await read_json(request))
        return json_response(self.state.store.record_usage(usages))

    async def clock(self, request: Request) -> Response:
        """`{"now": ISO 8601}` fixes the sandbox's time; `{"now": null}` goes back to the clock it
        was started with (the reset hook does too)."""
        body = await _optional_object(request)
        now = body.get("now")
        if now is None:
            self.state.store.set_clock(self.state.clock)
        else:
            try:
                moment = parse_ts(now) if isinstance(now, str) else None
            except ValueError:
                moment = None
            if moment is None:
                raise ValidationError("now", "now must be an ISO 8601 timestamp, or null")
            self.state.store.set_clock(lambda: moment)
        return json_response({"now": format_ts(self.state.store.now())})


def _loopback_only(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        host = request.client.host if request.client else ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ApiError(403, "forbidden", "the /_sandbox/ hooks answer loopback clients only")
        return await endpoint(request)

    return guarded


async def _optional_object(request: Request) -> dict[str, Any]:
    raw = await read_body(request)
    if not raw.strip():
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ValidationError("body", "body must be a JSON object")
    return body


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError(name, f"{name} must be true or false")
    return value
