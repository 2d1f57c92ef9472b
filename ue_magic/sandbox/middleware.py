"""Counting, latency and injected faults, applied before any route sees a request.

Pure ASGI (no BaseHTTPMiddleware) so a fault can do what a route cannot: drop the connection
after the response has started, which clients see as a transport error.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import Fault
from .openapi import OPENAPI_PATH
from .rates import RATE_HEADERS
from .state import HOOKS_PREFIX, TOKEN_PATH, SandboxState

_dropping: contextvars.ContextVar[bool] = contextvars.ContextVar("ue_sandbox_drop", default=False)
_INCOMPLETE = "ASGI callable returned without completing response"


class _DeliberateDropFilter(logging.Filter):
    """Silences uvicorn's complaint about the responses we cut short on purpose (and no other)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_dropping.get() and record.getMessage().startswith(_INCOMPLETE))


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DeliberateDropFilter) for f in logger.filters):
        logger.addFilter(_DeliberateDropFilter())


def classify(path: str) -> str:
    """'hook' (test hooks: not counted, never faulted), 'token', 'description' (openapi.json:
    counted apart, so that a client's one-time fetch of it is not taken for an API call), or
    'api' (everything else)."""
    if path == HOOKS_PREFIX or path.startswith(HOOKS_PREFIX + "/"):
        return "hook"
    if path == OPENAPI_PATH:
        return "description"
    return "token" if path == TOKEN_PATH else "api"


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        kind = classify(path)
        if kind == "hook":
            await self.app(scope, receive, send)
            return
        if kind == "token":
            self.state.counters.token_request()
        elif kind == "description":
            self.state.counters.description_request()
        else:
            self.state.counters.api_request(scope["method"], path)
            if self.state.faults.latency > 0:
                await asyncio.sleep(self.state.faults.latency)
        fault = self.state.faults.take(kind, path)
        if fault is None:
            await self.app(scope, receive, _with_rate_headers(scope, send))
            return
        if fault.delay > 0:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            await _drop(send)
        elif fault.status is not None:
            await _send_fault(send, fault, kind)
        else:
            await self.app(scope, receive, send)


def _with_rate_headers(scope: Scope, send: Send) -> Send:
    """``send`` that adds the headers the API's rate limit put in the scope (``--api-rate
    ...,headers=x``) to the answer."""

    async def sending(message: Message) -> None:
        extra = scope.get(RATE_HEADERS)
        if extra and message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _drop(send: Send) -> None:
    """Starts a response that promises a body, sends a bit, and returns: uvicorn then closes the
    connection mid-body, so the client sees a broken connection (httpx.RemoteProtocolError)."""
    _dropping.set(True)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"', "more_body": True})


async def _send_fault(send: Send, fault: Fault, kind: str) -> None:
    assert fault.status is not None
    if fault.status in (204, 304):
        body, media = b"", b""
    elif isinstance(fault.body, str):
        body, media = fault.body.encode(), b"text/plain; charset=utf-8"
    else:
        content = fault.body if fault.body is not None else _default_body(fault.status, kind)
        body, media = json.dumps(content).encode(), b"application/json"
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", media)]
    if fault.status in (204, 304):
        headers = []  # these answers carry neither a body nor its headers
    retry_after = fault.retry_after_header()
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode("latin-1")))
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _default_body(status: int, kind: str) -> dict[str, str]:
    if status == 429:
        error, text = "too_many_requests", "Rate limit exceeded (injected by the sandbox)"
    elif status >= 500:
        error, text = "server_error", f"Injected {status} from the sandbox"
    else:
        error, text = "injected_fault", f"Injected {status} from the sandbox"
    key = "error_description" if kind == "token" else "message"
    return {"error": error, key: text}
