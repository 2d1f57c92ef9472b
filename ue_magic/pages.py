"""--all-pages: follow a list endpoint's next pages and join them into one answer.

How the next page is found is ``pagination.next_page``'s business (the real scheme is not
public); this module only loops and joins the lists.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from .errors import UsageEngineError
from .pagination import next_page
from .render import decode_body
from .request import RequestSpec

if TYPE_CHECKING:
    from ._client import UsageEngineClient
    from .call import CallOptions

MAX_PAGES = 10_000


def fetch_all_pages(
    client: UsageEngineClient, spec: RequestSpec, options: CallOptions
) -> tuple[httpx.Response, Any]:
    """Every page of a GET list; the last response and the joined body (stops at an error)."""
    from .call import send_spec

    if spec.method != "GET":
        raise UsageEngineError("--all-pages works with GET requests only.")
    response = send_spec(client, spec, options)
    body = decode_body(response)
    for _ in range(MAX_PAGES):
        if response.is_error:
            return response, body
        following = next_page(response, dict(response.request.url.params))
        if following is None:
            return response, body
        params = {str(k): str(v) for k, v in following.items()}
        page_spec = replace(spec, path=spec.path.split("?", 1)[0], params=tuple(params.items()))
        response = send_spec(client, page_spec, options)
        page = decode_body(response)
        if response.is_error:
            return response, page
        body = join_pages(body, page)
    raise UsageEngineError(f"--all-pages stopped after {MAX_PAGES} pages; narrow the query.")


def join_pages(first: Any, page: Any) -> Any:
    """Lists are concatenated; in objects, list values are extended, the rest is the last page's."""
    if isinstance(first, list) and isinstance(page, list):
        return first + page
    if isinstance(first, dict) and isinstance(page, dict):
        joined = dict(page)
        for key, value in first.items():
            if isinstance(value, list) and isinstance(page.get(key), list):
                joined[key] = value + page[key]
        return joined
    raise UsageEngineError("--all-pages got pages that are not lists or objects; cannot join them.")
