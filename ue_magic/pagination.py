"""The one place that knows how list endpoints page, so the rule can change in one spot.

The real scheme is not public. We follow, in order: a ``nextPageToken`` in the JSON body (sent
back as the ``pageToken`` parameter, the sandbox's scheme), a ``Link: <...>; rel="next"`` header,
and a ``next`` URL in the JSON body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["NextPage", "Pairs", "find_next", "next_page", "params_dict", "query_pairs"]

TOKEN_FIELD = "nextPageToken"
TOKEN_PARAM = "pageToken"

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class NextPage:
    """Where the next page is: ``url`` None means the same URL with new ``params``.

    ``params`` are (name, value) pairs, in order, so repeated names (``?a=1&a=2``) survive.
    """

    url: httpx.URL | None
    params: Pairs = ()


def query_pairs(params: Any) -> Pairs:
    """Any httpx params value (dict, list of pairs, str, QueryParams) as (name, value) pairs.

    Every value of a repeated name is kept; values are grouped by name, as httpx sends them.
    """
    if not params:
        return ()
    query = params if isinstance(params, httpx.QueryParams) else httpx.QueryParams(params)
    return tuple(query.multi_items())


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
    """The next page after ``response`` (asked for with ``params``), or None on the last one.

    A page token is sent back with the same ``params`` (its ``pageToken`` replaced); a link
    (``Link`` header or body ``next``) is taken as it is, query included, and may point to
    another path or origin: the caller decides whether to follow it.
    """
    if not response.is_success:
        return None
    body = _json_object(response)
    token = body.get(TOKEN_FIELD)
    if isinstance(token, str) and token:
        kept = tuple(pair for pair in query_pairs(params) if pair[0] != TOKEN_PARAM)
        return NextPage(None, (*kept, (TOKEN_PARAM, token)))
    link = response.links.get("next", {}).get("url")
    if not link:
        candidate = body.get("next")
        link = candidate if isinstance(candidate, str) and candidate else None
    if link is None:
        return None
    try:
        target = response.url.join(link)
    except (httpx.InvalidURL, ValueError, TypeError):
        return None  # a link we cannot even parse leads nowhere
    return NextPage(target.copy_with(query=None, fragment=None), query_pairs(target.params))


def next_page(response: httpx.Response, params: Any = None) -> dict[str, Any] | None:
    """The params of the next page on the same path, or None (last page, or another path)."""
    found = find_next(response, params)
    if found is None:
        return None
    if found.url is not None and found.url.path != response.url.path:
        return None
    return params_dict(found.params)


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    if "json" not in response.headers.get("content-type", ""):
        return {}
    try:
        body = response.json()
    except Exception:  # ValueError, or RecursionError for JSON nested too deeply
        return {}
    return body if isinstance(body, dict) else {}
