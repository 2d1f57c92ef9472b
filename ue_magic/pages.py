"""--all-pages: follow a list endpoint's next pages and join them into one answer.

How the next page is found is ``pagination``'s business (the real scheme is not public), and
``UsageEngineClient.iter_pages`` walks them; this module only joins the lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from .errors import UsageEngineError
from .render import decode_body
from .request import RequestSpec

if TYPE_CHECKING:
    from ._client import UsageEngineClient
    from .call import CallOptions

MAX_PAGES = 10_000


@dataclass(frozen=True)
class Pages:
    """The last response, the joined body, and how many pages made it."""

    response: httpx.Response
    body: Any
    pages: int
    before_error: Any = None  # the pages joined before an error answer, if any


def fetch_all_pages(client: UsageEngineClient, spec: RequestSpec, options: CallOptions) -> Pages:
    """Every page of a GET list; stops at the first error answer (keeping what came before)."""
    if spec.method != "GET":
        raise UsageEngineError("--all-pages works with GET requests only.")
    joined: Any = None
    count = 0
    for response in client.iter_pages(
        spec.method,
        spec.path,
        params=list(spec.params) or None,
        headers=list(spec.headers) or None,
        timeout=options.timeout,
        retries=options.retry,
        max_pages=MAX_PAGES,
    ):
        count += 1
        body = decode_body(response)
        if response.is_error:
            return Pages(response, body, count, before_error=joined)
        joined = body if joined is None else join_pages(joined, body)
    assert count, "iter_pages yields at least one response"
    return Pages(response, joined, count)


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
