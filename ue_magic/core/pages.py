"""Paging, in one place: the rule (where the next page is), the walk, and the join (--all-pages).

The real scheme is not public. We follow, in order: a ``nextPageToken`` in the JSON body (sent
back as the ``pageToken`` parameter, the sandbox's scheme), a ``Link: <...>; rel="next"`` header,
and a ``next`` URL in the JSON body. ``walk_pages`` follows them on the API's origin only
(``UsageEngineClient.iter_pages`` is it as a method); ``fetch_all_pages`` joins the lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from .._constants import USE_CLIENT_DEFAULT, UseClientDefault, refusing_origin
from ..errors import OriginError, UsageEngineError
from ._media import decode_body, is_json, media_type
from .credentials import origin_of

__all__ = [
    "MAX_PAGES",
    "NextPage",
    "PageJoin",
    "Pages",
    "Pairs",
    "count_items",
    "fetch_all_pages",
    "find_next",
    "join_pages",
    "query_pairs",
    "walk_pages",
]

MAX_PAGES = 10_000


class PagedClient(Protocol):
    """What the walk uses of a client (``UsageEngineClient`` has it): paging needs no more."""

    @property
    def base_url(self) -> httpx.URL: ...

    @property
    def credentials(self) -> Any: ...

    def resolve_url(self, url: str | httpx.URL) -> httpx.URL: ...

    def build_request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Any = None,
        headers: Any = None,
        timeout: float | None = None,
    ) -> httpx.Request: ...

    def send(
        self,
        request: httpx.Request,
        *,
        retries: int | None = ...,
        max_bytes: int | UseClientDefault | None = ...,
    ) -> httpx.Response: ...

    def iter_pages(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Any = None,
        headers: Any = None,
        timeout: float | None = None,
        retries: int | None = None,
        max_pages: int | None = None,
        max_bytes: int | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Iterator[httpx.Response]: ...


class PageRequest(Protocol):
    """What --all-pages reads of a request (``cells.request.RequestSpec`` has it)."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def params(self) -> Any: ...

    @property
    def headers(self) -> Any: ...


class PageOptions(Protocol):
    """What --all-pages reads of a call's options (``call.CallOptions`` has them)."""

    @property
    def timeout(self) -> float | None: ...

    @property
    def retry(self) -> int | None: ...

    @property
    def max_bytes(self) -> int | None: ...


# -- the rule ------------------------------------------------------------------------------------
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


_UNREAD: Any = object()  # find_next's body was not given: read it from the response


def find_next(response: httpx.Response, params: Any = None, body: Any = _UNREAD) -> NextPage | None:
    """The next page after ``response`` (asked for with ``params``), or None on the last one.

    A page token is sent back with the same ``params`` (its ``pageToken`` replaced); a link
    (``Link`` header or body ``next``) is taken as it is, query included, and may point to
    another path or origin: the caller decides whether to follow it. ``body``: the answer
    already decoded (a dict for a JSON object), so that it is not parsed a second time.
    """
    if not response.is_success:
        return None
    if body is _UNREAD:
        body = _json_object(response)
    elif not isinstance(body, Mapping):
        body = {}
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


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    if not is_json(media_type(response.headers.get("content-type", ""))):
        return {}
    try:
        body = response.json()
    except Exception:  # ValueError, or RecursionError for JSON nested too deeply
        return {}
    return body if isinstance(body, dict) else {}


# -- the walk ------------------------------------------------------------------------------------
def walk_pages(
    client: PagedClient,
    method: str,
    url: str | httpx.URL,
    *,
    params: Any = None,
    headers: Any = None,
    timeout: float | None = None,
    retries: int | None = None,
    max_pages: int | None = None,
    max_bytes: int | UseClientDefault | None = USE_CLIENT_DEFAULT,
) -> Iterator[httpx.Response]:
    """Yield each page's response in order, following ``find_next``'s rule.

    ``max_bytes``: the most bytes of each page (as ``UsageEngineClient.send`` takes it).

    ``params`` may repeat a name (a list of pairs, or ``?a=1&a=2`` in ``url``): every page
    gets them all (a query in ``url`` comes first, then ``params``; unlike ``request``,
    where httpx lets ``params`` replace it). Stops after an error response (it is yielded,
    last) or after ``max_pages``.
    A next link on the API's origin is followed, whatever its path; one on another origin
    raises ``OriginError``, and a next page that was already fetched, or one whose token
    no URL can hold (a lone surrogate), ``UsageEngineError``, after the pages before it were
    yielded.
    """
    first = client.resolve_url(url)
    pairs = query_pairs(first.params) + query_pairs(params)
    target = first.copy_with(query=None)
    seen: set[str] = set()
    pages = 0
    while True:
        try:
            request = client.build_request(
                method, target, params=list(pairs) or None, headers=headers, timeout=timeout
            )
        except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800" in the JSON) in a token
            if not pages:
                raise
            raise UsageEngineError(
                f"The API's next page of {url} holds {exc.object[exc.start]!r}, which no URL can "
                f"hold; stopped after {pages} page{'s' if pages > 1 else ''}."
            ) from None
        if str(request.url) in seen:
            raise UsageEngineError(
                f"The API pointed to the same next page of {url} twice; stopped after "
                f"{pages} pages to avoid an endless loop (pass max_pages to take what came)."
            )
        seen.add(str(request.url))
        response = client.send(request, retries=retries, max_bytes=max_bytes)
        yield response
        pages += 1
        if max_pages is not None and pages >= max_pages:
            return
        found = find_next(response, pairs)
        if found is None:
            return
        if found.url is not None:
            if origin_of(found.url) != origin_of(client.base_url):
                where = f"{found.url.scheme}://{found.url.netloc.decode('ascii')}"
                raise OriginError(
                    refusing_origin(
                        where,
                        f"the next page of {url} is on another origin ({where}) and the token "
                        f"is only sent to {client.credentials.api_url}",
                        f"stopped after {pages} pages",
                    )
                )
            target = found.url
        pairs = found.params


# -- the join ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pages:
    """What ``--all-pages`` got (``_ue`` after a Ctrl-C): the last response, the joined body,
    how many pages and list entries made it, and whether the walk stopped at the page limit
    (``limited``: more pages remain) or at a Ctrl-C (``interrupted``: ``body`` holds the pages
    fetched so far, partial) rather than at the last page.

    ``body``: the pages' bodies joined into one (their lists concatenated), None if no page
    came; ``page_count`` and ``item_count`` are ints (pages and entries that came). ``failed``:
    page ``page_count + 1`` answered an error, ``response`` (its decoded body ``error_body``), and
    ``body`` holds the pages before it. Other attributes are the last response's
    (``_ue.status_code``, ``_ue.json()``).
    """

    response: httpx.Response
    body: Any
    page_count: int
    limited: bool = False
    item_count: int = 0  # list entries joined so far
    interrupted: bool = False  # Ctrl-C: body is the pages fetched before it
    failed: bool = False  # an error answer: body is the pages fetched before it
    error_body: Any = None  # that answer's body, decoded

    def __getattr__(self, name: str) -> Any:
        # what a response gives (status_code, json(), headers): _ue reads as the last answer
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.response, name)

    def summary(self) -> str:
        """'3 pages, 250 items' and, at the limit, that more pages remain."""
        count = self.page_count
        line = f"{count} page{'s' if count != 1 else ''}, {self.item_count} items"
        if self.interrupted:
            line += "; interrupted (Ctrl-C): the list is partial"
        if self.failed:
            answer = f"{self.response.status_code} {self.response.reason_phrase}".strip()
            line += f"; page {count + 1} answered {answer}: the list is partial"
        if self.limited:
            line += (
                f"; stopped at the page limit ({self.page_count} pages): more pages remain, "
                "the list is incomplete"
            )
        return line

    def __repr__(self) -> str:
        # the joined body can be megabytes: at the prompt, what it is and where the list is
        return f"<Pages: {self.summary()}; .body holds the list, .response the last answer>"


PageProgress = Callable[[int, int], None]  # (pages fetched, items so far)


def fetch_all_pages(
    client: PagedClient,
    spec: PageRequest,
    options: PageOptions,
    progress: PageProgress | None = None,
    max_pages: int = MAX_PAGES,
) -> Pages:
    """Every page of a GET list; stops at the first error answer (keeping what came before).

    ``progress(pages, items)`` is called after each page; a walk cut at ``max_pages`` says so.
    A Ctrl-C after the first page keeps what came (``interrupted``); before it, it propagates.
    """
    if spec.method != "GET":
        raise UsageEngineError("--all-pages works with GET requests only.")
    join = PageJoin()
    count = 0
    last: httpx.Response | None = None
    walk = client.iter_pages(
        spec.method,
        spec.path,
        params=list(spec.params) or None,
        headers=list(spec.headers) or None,
        timeout=options.timeout,
        retries=options.retry,
        max_pages=max_pages,
        max_bytes=USE_CLIENT_DEFAULT if options.max_bytes is None else options.max_bytes,
    )
    try:
        for response in walk:
            body = decode_body(response)
            if response.is_error:
                return Pages(
                    response, join.body, count, item_count=join.items, failed=True, error_body=body
                )
            join.add(body)
            count, last = count + 1, response
            if progress is not None:
                progress(count, join.items)
    except KeyboardInterrupt:
        close = getattr(walk, "close", None)  # a generator: its connection goes back
        if close is not None:
            close()
        if last is None:
            raise
        return Pages(last, join.body, count, item_count=join.items, interrupted=True)
    assert count, "iter_pages yields at least one response"
    limited = count >= max_pages and find_next(response) is not None
    return Pages(response, join.body, count, limited=limited, item_count=join.items)


def count_items(body: Any) -> int:
    """Entries of a joined list: its length, or the lengths of an object's list values."""
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        return sum(len(v) for v in body.values() if isinstance(v, list))
    return 0


class PageJoin:
    """The pages joined so far, as ``join_pages`` joins two, but extended in place: each
    entry is copied once, so the join is linear in the entries (``first + page`` per page
    copied all the pages before it again: 2,000 pages of 2,000 entries took 38 s).

    ``body`` holds every entry of every page at once: the memory of all pages' decoded
    bodies together (``--max-bytes`` bounds each page, ``MAX_PAGES`` their number)."""

    def __init__(self) -> None:
        self.body: Any = None
        self.items = 0  # list entries joined so far

    def add(self, page: Any) -> None:
        """Join ``page`` on; UsageEngineError for pages that are not lists or objects."""
        if self.body is None:
            self.body = _own_lists(page)
        elif isinstance(self.body, list) and isinstance(page, list):
            self.body.extend(page)
        elif isinstance(self.body, dict) and isinstance(page, dict):
            joined = _own_lists(page)
            for key, value in self.body.items():
                if isinstance(value, list) and isinstance(page.get(key), list):
                    value.extend(page[key])
                    joined[key] = value
            self.body = joined
        else:
            join_pages(self.body, page)  # raises: the same words
        self.items = count_items(self.body)


def _own_lists(page: Any) -> Any:
    """``page`` with its lists copied, so extending them changes nothing the caller holds."""
    if isinstance(page, list):
        return list(page)
    if isinstance(page, dict):
        return {key: list(v) if isinstance(v, list) else v for key, v in page.items()}
    return page


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
