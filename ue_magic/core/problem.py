"""One short sentence for an error answer, so a failing cell says what went wrong at a glance."""

from __future__ import annotations

from typing import Any

import httpx

from ._visible import visible

_DETAIL_KEYS = ("message", "error_description", "detail", "title", "error")


def describe_error(response: httpx.Response, body: Any, limit: int = 200) -> str:
    """'400 Bad Request from POST /x: name must be at most 80 characters'."""
    request = response.request
    head = (
        f"{response.status_code} {response.reason_phrase} from {request.method} {request.url.path}"
    )
    detail = _detail(body)
    if len(detail) > limit:
        detail = detail[: limit - 1] + "…"
    # the server's words end up in an exception's one line: no newline, no escape sequence
    return visible(f"{head}: {detail}" if detail else head, one_line=True)


def server_message(body: Any, limit: int = 200) -> str:
    """The server's own words in an error body ('' if it has none), at most ``limit`` characters."""
    detail = visible(_detail(body), one_line=True)
    return detail if len(detail) <= limit else detail[: limit - 1] + "…"


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        for key in _DETAIL_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        return ""
    if isinstance(body, str):
        return " ".join(body.split())
    return ""
