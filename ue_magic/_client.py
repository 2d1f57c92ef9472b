"""UsageEngineClient: one pooled httpx.Client for the API, the origin guard, retries and counters.

The token goes only to the API's origin: every URL is checked before anything is sent, and
redirects are never followed. After the final response the Authorization header on
``response.request`` is masked, so a response kept in a notebook variable holds no token.
Whatever httpx raises while sending becomes an ``ApiConnectionError`` (``ClientClosedError`` for
a closed client) with a message that names no secret or token, raised outside ``except``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from ._response import explained
from .credentials import Credentials, is_loopback_host, origin_of
from .errors import ApiConnectionError, OriginError, UsageEngineError
from .pagination import find_next, query_pairs
from .token import (
    TokenManager,
    _scrub,
    backoff_delay,
    clock_time,
    log_wait,
    parse_retry_after,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RETRIES",
    "RETRY_STATUSES",
    "ClientClosedError",
    "ClientStats",
    "UsageEngineClient",
]

logger = logging.getLogger("ue_magic")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRIES = 10  # more retries of one request would only hide an outage
# failures where the request may not have reached the server, or the server dropped it
_RETRYABLE_ERRORS = (
    httpx.NetworkError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
)
_MASK = "Bearer ***"
_CLOSED = (
    "This client was closed (logged out, or logged in again): get a new one with "
    "ue_magic.client() or UsageEngineClient(...)."
)


class ClientClosedError(ApiConnectionError):
    """The client was used after ``close()`` (a logout, or a new login replaced it)."""


@dataclass(frozen=True)
class _Problem:
    """Why sending failed: turned into an exception outside the ``except`` block."""

    message: str  # what happened
    hint: str = ""  # what to do
    retryable: bool = False
    closed: bool = False


@dataclass(frozen=True)
class ClientStats:
    """Counters a user can read: HTTP requests sent to the API, token requests, retries."""

    requests: int
    token_requests: int
    retries: int


class _Counters:
    """Thread-safe counts (``+=`` on an attribute can lose updates between threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    def request_sent(self, request: httpx.Request) -> None:
        with self._lock:
            self.requests += 1

    def retried(self) -> None:
        with self._lock:
            self.retries += 1


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        return f"ue-magic/{version('ue-magic')}"
    except Exception:  # not installed as a distribution: any agent string will do
        return "ue-magic"


class UsageEngineClient:
    """Sends authenticated requests to ``credentials.api_url``; use it as a context manager."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        transport: httpx.BaseTransport | None = None,
        token_manager: TokenManager | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.credentials = credentials
        base = httpx.URL(credentials.api_url)
        if not base.raw_path.endswith(b"/"):
            base = base.copy_with(raw_path=base.raw_path + b"/")
        self.base_url = base
        self._origin = origin_of(base)
        self.max_retries = _check_retries(max_retries, "max_retries")
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._resolve_text = functools.lru_cache(maxsize=1024)(self._resolve)
        self._owns_manager = token_manager is None
        self.token_manager = token_manager or TokenManager(
            credentials, transport=transport, sleep=sleep, max_retry_wait=max_retry_wait
        )
        self._auth = self.token_manager.auth
        self._counters = _Counters()
        self._http = httpx.Client(
            base_url=base,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
            follow_redirects=False,
            trust_env=True,
            headers={"User-Agent": _user_agent(), "Accept": "application/json"},
            event_hooks={"request": [self._counters.request_sent]},
        )

    # -- URLs ------------------------------------------------------------------------------------
    def resolve_url(self, url: str | httpx.URL) -> httpx.URL:
        """Join a relative URL to the API URL; refuse an absolute URL on another origin."""
        if isinstance(url, str):
            return self._resolve_text(url)  # cached: loops send the same paths again and again
        return self._resolve(url)

    def _resolve(self, url: str | httpx.URL) -> httpx.URL:
        try:
            target = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise UsageEngineError(
                f"{str(url)[:200]!r} is not a valid URL; give a path relative to "
                f"{self.credentials.variable('api_url')} or a URL on {self.credentials.api_url}."
            ) from None
        if not target.host and not target.scheme:
            # like httpx's base_url: always appended to the API URL's path
            return self.base_url.copy_with(
                raw_path=self.base_url.raw_path + target.raw_path.lstrip(b"/")
            )
        if not target.scheme:  # "//host/path": the API's scheme
            target = target.copy_with(scheme=self.base_url.scheme)
        self._check_origin(target)
        return target

    def _check_origin(self, url: httpx.URL) -> None:
        if origin_of(url) == self._origin:
            return
        api = f"{self.base_url.scheme}://{self.base_url.netloc.decode('ascii')}"
        if url.scheme == "http" and not is_loopback_host(url.host):
            reason = "plain http off loopback would expose it"
        else:
            reason = f"it is only sent to the API's origin {api}"
        raise OriginError(
            f"Refusing to send the token to {url.scheme}://{url.netloc.decode('ascii')}: "
            f"{reason}; use a path relative to {self.credentials.variable('api_url')} "
            "or change that setting."
        )

    # -- requests --------------------------------------------------------------------------------
    def build_request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Any = None,
        headers: Any = None,
        json: Any = None,
        content: Any = None,
        timeout: float | None = None,
    ) -> httpx.Request:
        """The request as it would be sent, without a token and without sending (dry runs)."""
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        return self._http.build_request(
            method.upper(),
            self.resolve_url(url),
            params=params,
            headers=headers,
            json=json,
            content=content,
            **extra,
        )

    def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Any = None,
        headers: Any = None,
        json: Any = None,
        content: Any = None,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> httpx.Response:
        """Send one API request with the token, retrying where that is safe (see ``send``)."""
        request = self.build_request(
            method, url, params=params, headers=headers, json=json, content=content, timeout=timeout
        )
        return self.send(request, retries=retries)

    def send(self, request: httpx.Request, *, retries: int | None = None) -> httpx.Response:
        """Send ``request`` with the token; retry connection errors, 429, 502, 503 and 504.

        ``retries=None``: idempotent methods, or POST/PATCH with an ``Idempotency-Key`` header,
        get ``max_retries`` retries, others none; ``retries=N`` (at most ``MAX_RETRIES``): up to
        N for any method. A Retry-After longer than ``max_retry_wait`` is not waited for: the
        answer is returned and a warning says when to try again.
        """
        self._check_origin(request.url)
        allowed = self._allowed_retries(request, retries)
        try:
            return explained(self._send_retrying(request, allowed))  # says why, on raise_for_status
        finally:
            _mask(request)  # also when a token error or a connection error ends it

    def _send_retrying(self, request: httpx.Request, allowed: int) -> httpx.Response:
        attempt = 0
        while True:
            outcome = self._send_once(request)
            if isinstance(outcome, _Problem):
                if outcome.closed:
                    raise ClientClosedError(_CLOSED)
                if outcome.retryable and attempt < allowed:
                    attempt += 1
                    self._wait(attempt, allowed, None, outcome.message)
                    continue
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise ApiConnectionError(f"{outcome.message}{tries}; {outcome.hint}.")
            response = outcome
            if response.status_code not in RETRY_STATUSES or attempt >= allowed:
                return response
            status = f"{_where(request)} answered {response.status_code} {response.reason_phrase}"
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait is not None and wait > self.max_retry_wait:
                logger.warning(
                    "ue_magic: %s and asks to wait %.0f s, longer than ue-magic waits (%g s): "
                    "not retrying; try again after %s",
                    status,
                    wait,
                    self.max_retry_wait,
                    clock_time(time.time() + wait),
                )
                return response
            response.close()
            attempt += 1
            self._wait(attempt, allowed, wait, status)

    def _send_once(self, request: httpx.Request) -> httpx.Response | _Problem:
        """One try; what httpx raises becomes a _Problem (its frames may hold the token)."""
        if self._http.is_closed:
            return _Problem(_CLOSED, closed=True)
        try:
            return self._http.send(request, auth=self._auth)
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            return self._problem(exc, request)
        except RuntimeError:
            if not self._http.is_closed:  # not httpx's "client has been closed": a bug, keep it
                raise
            return _Problem(_CLOSED, closed=True)

    def _allowed_retries(self, request: httpx.Request, retries: int | None) -> int:
        if retries is not None:
            return _check_retries(retries, "retries")
        if request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers:
            return self.max_retries
        return 0

    def _wait(self, attempt: int, allowed: int, retry_after: float | None, why: str) -> None:
        if retry_after is None:
            wait, how = backoff_delay(attempt, self.max_retry_wait), "backoff"
        else:
            wait, how = retry_after, "as Retry-After asks"
        self._counters.retried()
        log_wait(wait, f"{why} ({how})", f"retry {attempt} of {allowed}")
        self._sleep(wait)

    def _problem(self, exc: Exception, request: httpx.Request) -> _Problem:
        """What went wrong, in words; never the request's headers or body, nor a token."""
        where = _where(request)
        name = type(exc).__name__
        network = f"check the network and {self.credentials.variable('api_url')}"
        retryable = isinstance(exc, _RETRYABLE_ERRORS)
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return _Problem(f"{where} timed out ({name})", network, retryable)
        token = self.token_manager._token
        secrets = [self.credentials.client_secret.get_secret_value()]
        if token is not None:
            secrets.append(token.value)
        detail = _scrub(str(exc), *secrets)[:200] or name
        if isinstance(exc, httpx.TransportError):
            return _Problem(f"Could not reach {where} ({name}: {detail})", network, retryable)
        if isinstance(exc, httpx.DecodingError):
            return _Problem(
                f"{where} answered a body that cannot be decoded ({name}: {detail})",
                "the server's Content-Encoding is broken: report it, or ask with the header "
                "'Accept-Encoding: identity'",
            )
        if isinstance(exc, httpx.StreamError):
            hint = "give the body as bytes or JSON, which can be sent again; a stream cannot"
        else:
            hint = "try again, and report it if it persists"
        return _Problem(f"Could not send {where} ({name}: {detail})", hint)

    def get(self, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

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
    ) -> Iterator[httpx.Response]:
        """Yield each page's response in order, following ``ue_magic.pagination``'s rule.

        ``params`` may repeat a name (a list of pairs, or ``?a=1&a=2`` in ``url``): every page
        gets them all (a query in ``url`` comes first, then ``params``; unlike ``request``,
        where httpx lets ``params`` replace it). Stops after an error response (it is yielded,
        last) or after ``max_pages``.
        A next link on the API's origin is followed, whatever its path; one on another origin
        raises ``OriginError``, and a next page that was already fetched ``UsageEngineError``,
        after the pages before it were yielded.
        """
        first = self.resolve_url(url)
        pairs = query_pairs(first.params) + query_pairs(params)
        target = first.copy_with(query=None)
        seen: set[str] = set()
        pages = 0
        while True:
            request = self.build_request(
                method, target, params=list(pairs) or None, headers=headers, timeout=timeout
            )
            if str(request.url) in seen:
                raise UsageEngineError(
                    f"The API pointed to the same next page of {url} twice; stopped after "
                    f"{pages} pages to avoid an endless loop (pass max_pages to take what came)."
                )
            seen.add(str(request.url))
            response = self.send(request, retries=retries)
            yield response
            pages += 1
            if max_pages is not None and pages >= max_pages:
                return
            found = find_next(response, pairs)
            if found is None:
                return
            if found.url is not None:
                if origin_of(found.url) != self._origin:
                    raise OriginError(
                        f"The next page of {url} is on another origin ({found.url.scheme}://"
                        f"{found.url.netloc.decode('ascii')}); stopped after {pages} pages: the "
                        f"token is only sent to {self.credentials.api_url}."
                    )
                target = found.url
            pairs = found.params

    # -- state -----------------------------------------------------------------------------------
    @property
    def stats(self) -> ClientStats:
        """A snapshot of the counters."""
        return ClientStats(
            requests=self._counters.requests,
            token_requests=self.token_manager.token_requests,
            retries=self._counters.retries,
        )

    def close(self) -> None:
        """Close the connection pool (and the token manager if this client made it)."""
        self._http.close()
        if self._owns_manager:
            self.token_manager.close()

    def __enter__(self) -> UsageEngineClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<UsageEngineClient api_url={self.credentials.api_url!r} "
            f"client_id={self.credentials.client_id!r}>"
        )


def _check_retries(retries: int, name: str) -> int:
    if retries > MAX_RETRIES:
        raise ValueError(f"{name}={retries} is too many; give at most {MAX_RETRIES}.")
    return max(0, retries)


def _where(request: httpx.Request) -> str:
    """``METHOD URL`` without the query, which may hold things not meant for logs."""
    return f"{request.method} {request.url.copy_with(query=None)}"


def _mask(request: httpx.Request) -> None:
    """Replace the bearer token on a request we are done with."""
    if "authorization" in request.headers:
        request.headers["Authorization"] = _MASK
