"""UsageEngineClient: one pooled httpx.Client for the API, the origin guard, retries and counters.

The token goes only to the API's origin: every URL is checked before anything is sent, and
redirects are never followed. After the final response the Authorization header on
``response.request`` is masked, so a response kept in a notebook variable holds no token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from .credentials import Credentials, is_loopback_host, origin_of
from .errors import ApiConnectionError, OriginError, UsageEngineError
from .pagination import find_next
from .token import TokenManager, backoff_delay, parse_retry_after

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "ClientStats", "UsageEngineClient"]

logger = logging.getLogger("ue_magic")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# failures where the request may not have reached the server, or the server dropped it
_RETRYABLE_ERRORS = (
    httpx.NetworkError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
)
_MASK = "Bearer ***"


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
        self.max_retries = max(0, max_retries)
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
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
        get ``max_retries`` retries, others none; ``retries=N``: up to N for any method.
        """
        self._check_origin(request.url)
        allowed = self._allowed_retries(request, retries)
        attempt = 0
        while True:
            problem: str | None = None
            retryable = False
            try:
                response = self._http.send(request, auth=self._auth)
            except httpx.TransportError as exc:
                problem = self._describe(exc, request)
                retryable = isinstance(exc, _RETRYABLE_ERRORS)
            if problem is not None:
                if retryable and attempt < allowed:
                    attempt += 1
                    self._wait(attempt, None, problem)
                    continue
                _mask(request)
                tries = f" after {attempt + 1} attempts" if attempt else ""
                setting = self.credentials.variable("api_url")
                raise ApiConnectionError(f"{problem}{tries}; check the network and {setting}.")
            if response.status_code in RETRY_STATUSES and attempt < allowed:
                wait = parse_retry_after(response.headers.get("retry-after"))
                response.close()
                attempt += 1
                self._wait(attempt, wait, f"{response.status_code} {response.reason_phrase}")
                continue
            _mask(response.request)
            return response

    def _allowed_retries(self, request: httpx.Request, retries: int | None) -> int:
        if retries is not None:
            return max(0, retries)
        if request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers:
            return self.max_retries
        return 0

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        wait = backoff_delay(attempt, self.max_retry_wait) if retry_after is None else retry_after
        wait = min(wait, self.max_retry_wait)
        self._counters.retried()
        logger.debug("ue_magic: %s; retry %d in %.2f s", why, attempt, wait)
        self._sleep(wait)

    @staticmethod
    def _describe(exc: httpx.TransportError, request: httpx.Request) -> str:
        """One clause about a transport failure; never the request's headers or body."""
        where = f"{request.method} {request.url.copy_with(query=None)}"
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return f"{where} timed out ({type(exc).__name__})"
        detail = str(exc) or type(exc).__name__
        return f"Could not reach {where} ({type(exc).__name__}: {detail[:200]})"

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
        max_pages: int | None = None,
        **kwargs: Any,
    ) -> Iterator[httpx.Response]:
        """Yield each page's response, following the paging rule of ``ue_magic.pagination``.

        Stops after an error response (it is yielded) or after ``max_pages``.
        """
        seen: set[str] = set()
        target: str | httpx.URL = url
        pages = 0
        while True:
            response = self.request(method, target, params=params, **kwargs)
            yield response
            pages += 1
            found = find_next(response, params)
            if found is None or (max_pages is not None and pages >= max_pages):
                return
            if found.url is not None:
                target = found.url
            params = found.params
            key = f"{target} {sorted(params.items())!r}"
            if key in seen:
                raise UsageEngineError(
                    f"The API pointed to the same next page of {url} twice; stopped to avoid "
                    "an endless loop (pass max_pages to take what came)."
                )
            seen.add(key)

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


def _mask(request: httpx.Request) -> None:
    """Replace the bearer token on a request we are done with."""
    if "authorization" in request.headers:
        request.headers["Authorization"] = _MASK
