"""The one place that knows how list endpoints page, so the rule can change in one spot.

The real scheme is not public. We follow, in order: a ``nextPageToken`` in the JSON body (sent
back as the ``pageToken`` parameter, the sandbox's scheme), a ``Link: <...>; rel="next"`` header,
and a ``next`` URL in the JSON body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["NextPage", "find_next", "next_page", "params_dict"]

TOKEN_FIELD = "nextPageToken"
TOKEN_PARAM = "pageToken"


@dataclass(frozen=True)
class NextPage:
    """Where the next page is: ``url`` None means the same URL with new ``params``."""

    url: httpx.URL | None
    params: dict[str, Any] = field(default_factory=dict)


def params_dict(params: Any) -> dict[str, Any]:
    """Any httpx params value as a dict; repeated keys keep all their values as a list."""
    if not params:
        return {}
    query = params if isinstance(params, httpx.QueryParams) else httpx.QueryParams(params)
    result: dict[str, Any] = {}
    for key in query:
        values = query.get_list(key)
        result[key] = values if len(values) > 1 else values[0]
    return result


def find_next(response: httpx.Response, params: Any = None) -> NextPage | None:
    """The next page after ``response`` (asked for with ``params``), or None on the last one."""
    if not response.is_success:
        return None
    body = _json_object(response)
    token = body.get(TOKEN_FIELD)
    if isinstance(token, str) and token:
        merged = params_dict(params)
        merged[TOKEN_PARAM] = token
        return NextPage(None, merged)
    link = response.links.get("next", {}).get("url")
    if not link:
        candidate = body.get("next")
        link = candidate if isinstance(candidate, str) and candidate else None
    if link is None:
        return None
    target = response.url.join(link)
    return NextPage(target.copy_with(query=None), params_dict(target.params))


def next_page(response: httpx.Response, params: Any = None) -> dict[str, Any] | None:
    """The params of the next page on the same path, or None (last page, or another path)."""
    found = find_next(response, params)
    if found is None:
        return None
    if found.url is not None and found.url.path != response.url.path:
        return None
    return found.params


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    if "json" not in response.headers.get("content-type", ""):
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
