"""UsageEngineClient: one pooled httpx.Client for the API, the origin guard and counters.

Retries follow ``_retry``'s policy and loop (the token endpoint uses the same), paging is
``pages.walk_pages``, and the token comes from ``token.TokenManager``.

The token goes only to the API's origin: every URL is checked before anything is sent, and
redirects are never followed. The final response is made safe to keep (``_kept.keep``: the
token masked on its requests, transport objects dropped, an echoed token masked), so a response
kept in a notebook variable holds no token. Each try has a deadline for the whole answer and a
size limit (``_http.Budget``). Whatever httpx raises while sending becomes an
``ApiConnectionError`` (``ClientClosedError`` for a closed client, ``AnswerTooLargeError`` past
the size limit) with a message that names no secret or token, raised outside ``except``; an
interrupt (Ctrl-C) is raised again from here, without the frames below that held the token.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from .._constants import (
    CLOSED_CLIENT,
    DEFAULT_TIMEOUT,
    IDEMPOTENT_METHODS,
    MAX_RETRIES,
    MAX_RETRY_WAIT,
    USE_CLIENT_DEFAULT,
    UseClientDefault,
    refusing_origin,
)
from ..errors import (
    AnswerTooLargeError,
    ApiConnectionError,
    ClientClosedError,
    DeferredError,
    OriginError,
    UsageEngineError,
)
from ._http import DEFAULT_MAX_BYTES, Budget, http_client, reads_seen
from ._kept import forget_echoed_cookies, keep, mask_request
from ._oauth import scrub, secret_forms
from ._outgoing import refuse_secrets
from ._response import explained
from ._retry import (
    API_STATUSES,
    TOKEN_RETRIES,
    TOKEN_STATUSES,
    Retry,
    RetryPolicy,
    check_retries,
    run,
)
from .credentials import Credentials, is_loopback_host, origin_of, without_password
from .pages import walk_pages
from .token import TokenManager

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RETRIES",
    "RETRY_STATUSES",
    "ClientClosedError",
    "ClientStats",
    "UsageEngineClient",
]

logger = logging.getLogger("ue_magic")

RETRY_STATUSES = frozenset(API_STATUSES)
# failures where the request may not have reached the server, or the server dropped it
_RETRYABLE_ERRORS = (
    httpx.NetworkError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
)


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
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        max_retry_wait: float = MAX_RETRY_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        limits: httpx.Limits | None = None,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
    ) -> None:
        self.credentials = credentials
        self.max_bytes = max_bytes  # the most bytes of one answer (None: no limit)
        base = httpx.URL(credentials.api_url)
        if not base.raw_path.endswith(b"/"):
            base = base.copy_with(raw_path=base.raw_path + b"/")
        self.base_url = base
        self._origin = origin_of(base)
        self.max_retries = check_retries(max_retries, "max_retries")
        self.max_retry_wait = max_retry_wait
        self.retry_policy = RetryPolicy(
            statuses=API_STATUSES, retries=self.max_retries, max_wait=max_retry_wait, sleep=sleep
        )
        self._resolve_text = functools.lru_cache(maxsize=1024)(self._resolve)
        self._owns_manager = token_manager is None
        self.token_manager = token_manager or TokenManager(
            credentials,
            transport=transport,
            timeout=min(timeout, 10.0),
            retry_policy=dataclasses.replace(
                self.retry_policy, statuses=TOKEN_STATUSES, retries=TOKEN_RETRIES
            ),
        )
        self._auth = self.token_manager.auth
        self._counters = _Counters()
        self._http = http_client(
            (credentials.api_url, credentials.token_url),
            base_url=base,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=64),
            follow_redirects=False,
            headers={"User-Agent": _user_agent(), "Accept": "application/json"},
            event_hooks={"request": [self._counters.request_sent]},
        )
        self._reads_seen = reads_seen(self._http)

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
            refusing_origin(
                f"{url.scheme}://{url.netloc.decode('ascii')}",
                reason,
                f"use a path relative to {self.credentials.variable('api_url')} "
                "or change that setting",
            )
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
        """The request as it would be sent, without a token and without sending (dry runs).

        Raises ``OriginError`` for a URL on another origin and ``SecretInRequestError`` for a
        request that holds a login's client secret or a token (``_outgoing``)."""
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        request = self._http.build_request(
            method.upper(),
            self.resolve_url(url),
            params=params,
            headers=headers,
            json=json,
            content=content,
            **extra,
        )
        refuse_secrets(request, self.token_manager)  # before a preview shows it, too
        return request

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
        max_bytes: int | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send one API request with the token, retrying where that is safe (see ``send``).

        ``timeout``: seconds for the whole answer (each try); ``max_bytes``: see ``send``.
        """
        request = self.build_request(
            method, url, params=params, headers=headers, json=json, content=content, timeout=timeout
        )
        return self.send(request, retries=retries, max_bytes=max_bytes)

    def send(
        self,
        request: httpx.Request,
        *,
        retries: int | None = None,
        policy: RetryPolicy | None = None,
        max_bytes: int | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send ``request`` with the token; retry connection errors, 429, 502, 503 and 504.

        The request's timeout is a deadline for each try's whole answer, however slowly it
        comes. ``max_bytes``: the most bytes of the answer (``USE_CLIENT_DEFAULT``: the client's
        ``max_bytes``;
        None: no limit); past it ``AnswerTooLargeError`` is raised and the request not retried.

        ``retries=None``: a 429 (not processed) gets ``max_retries`` retries for every method;
        idempotent methods, or POST/PATCH with an ``Idempotency-Key`` header, get them for the
        other statuses too, others none; ``retries=N`` (at most ``MAX_RETRIES``): up to
        N for any method. A Retry-After longer than ``max_retry_wait`` is not waited for: the
        answer is returned and a warning says when to try again. ``policy`` replaces the
        client's ``retry_policy`` for this request (a bulk run's sleep that a stop can end).
        """
        self._check_origin(request.url)
        refuse_secrets(request, self.token_manager)  # a request built elsewhere, or changed
        explicit = None if retries is None else check_retries(retries, "retries")
        policy = policy or self.retry_policy
        keyed = "idempotency-key" in request.headers
        limit = self.max_bytes if isinstance(max_bytes, UseClientDefault) else max_bytes

        def check(outcome: httpx.Response | DeferredError) -> Retry | None:
            if isinstance(outcome, DeferredError):
                return Retry(outcome.reason) if outcome.retry else None
            if not policy.retries_status(outcome.status_code):
                return None
            return Retry(
                _answered(request, outcome),
                outcome.status_code,
                policy.retry_after(outcome.headers.get("retry-after")),
            )

        def allowed(reason: Retry) -> int:
            return policy.retries_for(request.method, keyed, reason.status, explicit)

        def retrying(outcome: httpx.Response | DeferredError) -> None:
            self._counters.retried()
            if isinstance(outcome, httpx.Response):
                outcome.close()  # its connection goes back to the pool

        try:
            done = run(
                policy,
                lambda: self._send_once(request, limit),
                check,
                allowed,
                lambda retry, limit: f"retry {retry} of {limit}",
                on_retry=retrying,
            )
        finally:
            mask_request(request)  # also when a token error or a connection error ends it
            forget_echoed_cookies(self._http.cookies, self.token_manager._answer_values())
        outcome = done.outcome
        if isinstance(outcome, httpx.Response):
            keep(outcome, self.token_manager._answer_values())
        if isinstance(outcome, DeferredError):
            raise outcome.exception(done.attempts)
        if done.too_long is not None:
            logger.warning(
                "ue_magic: %s and asks to wait %.0f s, longer than ue-magic waits (%g s): "
                "not retrying; try again after %s",
                _answered(request, outcome),
                done.too_long,
                policy.max_wait,
                policy.try_again_at(done.too_long),
            )
        return explained(outcome)  # says why, on raise_for_status

    def _send_once(
        self, request: httpx.Request, max_bytes: int | None
    ) -> httpx.Response | DeferredError:
        """One try; what httpx raises becomes a DeferredError (its frames may hold the token).

        An interrupt is raised again from here, so ``sys.last_traceback`` (what ``%debug``
        shows) has no frame below this one, where httpx and httpcore held the token.
        """
        if self._http.is_closed:
            return DeferredError(ClientClosedError, CLOSED_CLIENT)
        budget = Budget.start(request, max_bytes)
        interrupted = False
        written = None
        if not self._reads_seen:  # a transport of the caller's: told by httpx's trace instead
            written = _Written(request.extensions.get("trace"))
            request.extensions["trace"] = written
        try:
            with budget.running():
                return self._http.send(request, auth=self._auth)
        except AnswerTooLargeError as exc:
            return DeferredError(AnswerTooLargeError, str(exc), reason="answered too much")
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            whole = budget.answering or (written is not None and written.written)
            return self._problem(exc, request, budget, whole)
        except RuntimeError:
            if not self._http.is_closed:  # not httpx's "client has been closed": a bug, keep it
                raise
            return DeferredError(ClientClosedError, CLOSED_CLIENT)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            mask_request(request)
            if written is not None:
                written.restore(request)
        assert interrupted
        raise KeyboardInterrupt  # outside ``except``: no context, no frame that held the token

    def _problem(
        self, exc: Exception, request: httpx.Request, budget: Budget, written: bool = False
    ) -> DeferredError:
        """What went wrong, in words; never the request's headers or body, nor a token.

        ``written``: the whole request reached the socket, so the server may have acted on it
        even though its answer was broken: "Could not reach" would invite sending it again.
        """
        where = _where(request)
        name = type(exc).__name__
        network = f"check the network and {self.credentials.variable('api_url')}"
        retry = isinstance(exc, _RETRYABLE_ERRORS)

        def problem(what: str, hint: str, retry: bool = False) -> DeferredError:
            return DeferredError(
                ApiConnectionError, f"{what}{{after}}; {hint}.", retry, reason=what
            )

        processed = "the server may have processed it: check before sending it again"
        if request.method in _SAFE_METHODS:  # changes nothing: sending it again is harmless
            processed = "try again, and report it if it persists"
            written = False if isinstance(exc, httpx.TimeoutException) else written
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            if budget.seconds is not None and isinstance(exc, httpx.ReadTimeout):
                what = f"{where} timed out: no whole answer within {budget.seconds:g} s"
                hint = "give it more time with --timeout S or the timeout setting, or check the "
                hint += "network"
                retry = False
            else:
                what, hint = f"{where} timed out ({name})", network
            # a request that reached the socket may have been acted on: say so before the rest
            return problem(what, f"{processed}; {hint}" if written else hint, retry)
        secrets = secret_forms(
            self.credentials.client_secret.get_secret_value(), self.credentials.client_id
        )
        detail = scrub(str(exc), *secrets, *self.token_manager._known_values())[:200] or name
        if isinstance(exc, httpx.TransportError) and written:
            return problem(
                f"{where} was sent, but its answer was broken ({name}: {detail})", processed, retry
            )
        if isinstance(exc, httpx.TransportError):
            return problem(f"Could not reach {where} ({name}: {detail})", network, retry)
        if isinstance(exc, httpx.DecodingError):
            return problem(  # the status line came first: the server did the request
                f"{where} answered a body that cannot be decoded ({name}: {detail})",
                "the server has processed it: check before sending it again; its "
                "Content-Encoding is broken: report it, or ask with 'Accept-Encoding: identity'",
            )
        if isinstance(exc, httpx.StreamError):
            hint = "give the body as bytes or JSON, which can be sent again; a stream cannot"
        else:
            hint = "try again, and report it if it persists"
        return problem(f"Could not send {where} ({name}: {detail})", hint)

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
        max_bytes: int | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Iterator[httpx.Response]:
        """Yield each page's response in order: ``ue_magic.pages.walk_pages`` for this client."""
        return walk_pages(
            self,
            method,
            url,
            params=params,
            headers=headers,
            timeout=timeout,
            retries=retries,
            max_pages=max_pages,
            max_bytes=max_bytes,
        )

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
        """Close the connection pool (and the token manager if this client made it).

        A closed client keeps no secret: a client kept in a variable after a logout cannot
        hand it out (the ``Credentials`` given to it are not changed).
        """
        self._http.close()
        self.credentials = self.credentials.without_secret()
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


class _Written:
    """httpx's ``trace`` extension for one try: notes when the whole request was written, and
    passes every event on to the trace the request already had (a bulk run's)."""

    __slots__ = ("inner", "written")

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.written = False

    def __call__(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith(".send_request_body.complete"):
            self.written = True
        if self.inner is not None:
            self.inner(name, info)

    def restore(self, request: httpx.Request) -> None:
        if self.inner is None:
            request.extensions.pop("trace", None)
        else:
            request.extensions["trace"] = self.inner


_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # RFC 9110, 9.2.1: they change nothing


def _where(request: httpx.Request) -> str:
    """``METHOD URL`` without the query, which may hold things not meant for logs."""
    return f"{request.method} {without_password(request.url.copy_with(query=None))}"


def _answered(request: httpx.Request, response: httpx.Response) -> str:
    return f"{_where(request)} answered {response.status_code} {response.reason_phrase}"
