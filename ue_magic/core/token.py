"""The token cache: get a bearer token, cache it, renew it early, put it on requests.

The token endpoint's wire protocol (the form, the answer, the wording of errors) is ``_oauth``;
retries follow ``_retry``'s policy. This module keeps the cache, the lock and the failure cool-down.

The fast path (a cached token that is still fresh) takes no lock and reads two clocks. Only the
token request itself runs under a lock, and the lock holder checks again first, so a thousand
calls from any number of threads make one token request per lifetime.

Secrets and tokens stay inside small objects whose repr is masked (``Secret``, ``_Token``): a
traceback that prints every frame's locals (IPython's ``%xmode Verbose``) shows only masks.
Everything between the form with the secret and the finished token (building the request,
sending it, reading the answer) runs inside one ``try`` that turns any error into a
``DeferredError``;
errors are raised later, outside ``except`` blocks, so they carry no ``__context__`` and no frame
that held the secret or the token.

When the token endpoint fails, the failure is kept for a short cool-down: calls in that window
get the same error at once instead of each retrying. A token that is due for renewal but not yet
expired is used until it really expires if the renewal fails.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NoReturn

import httpx

from .._constants import CLOSED_CLIENT, MAX_RETRY_WAIT, refusing_origin
from ..errors import DeferredError, OriginError, TokenError
from . import _oauth
from ._http import TOKEN_MAX_BYTES, Budget, http_client
from ._kept import forget_echoed_cookies
from ._log_mask import mask_in_logs
from ._oauth import DEFAULT_LIFETIME, MAX_LIFETIME, MIN_LIFETIME, decode_claims
from ._retry import TOKEN_RETRIES, TOKEN_STATUSES, Retry, RetryPolicy, run
from .credentials import Credentials, origin_of, without_password

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "MIN_LIFETIME",
    "BearerAuth",
    "TokenInfo",
    "TokenManager",
    "decode_claims",
    "renew_margin",
]

logger = logging.getLogger("ue_magic")

FAILURE_COOLDOWN = 5.0  # seconds a failed token request is answered from memory
_MARGIN_SECONDS = 300.0
_MARGIN_FRACTION = 0.1


def renew_margin(lifetime: float) -> float:
    """How long before expiry to renew: a few minutes, less for short lifetimes."""
    return min(_MARGIN_SECONDS, _MARGIN_FRACTION * max(lifetime, 0.0))


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: no token inside."""

    account_id: str | None
    scopes: tuple[str, ...]
    expires_at: datetime
    issued_at: datetime
    client_id: str

    @property
    def lifetime(self) -> float:
        """Seconds between issue and expiry."""
        return (self.expires_at - self.issued_at).total_seconds()


class _Token:
    """A token and its deadlines; the repr is masked so tracebacks and logs cannot show it."""

    __slots__ = (
        "after_401",
        "expires_mono",
        "expires_wall",
        "header",
        "info",
        "lifetime",
        "obtained",
        "renew_mono",
        "renew_wall",
        "value",
    )

    def __init__(
        self, value: str, info: TokenInfo, mono: float, wall: float, remaining: float
    ) -> None:
        self.value = value
        self.header = "Bearer " + value
        self.info = info
        margin = renew_margin(remaining)
        self.lifetime = remaining
        self.obtained = mono
        # fetched because the API refused the token before it, and not yet accepted by the API
        self.after_401 = False
        self.expires_mono = mono + remaining
        self.expires_wall = wall + remaining
        self.renew_mono = self.expires_mono - margin
        self.renew_wall = self.expires_wall - margin

    def renew_after_401(self) -> bool:
        """Whether a 401 on this token is worth a renewal: yes, however young the token.

        A token can be revoked, or its signing key rotated, seconds after it was issued. But a
        token fetched because of a 401 that is refused too, before the API ever accepted it, is
        refused for a reason a new token will not fix: renewing again would cost a token
        request per API call and hit the token endpoint's rate limit, so the 401 is the answer.
        """
        return not self.after_401

    def __repr__(self) -> str:
        return "<token ***>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a token cannot be pickled")


class TokenManager:
    """Gets and caches the client-credentials token of one set of credentials; thread safe."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
        max_attempts: int = TOKEN_RETRIES + 1,
        max_retry_wait: float = MAX_RETRY_WAIT,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.credentials = credentials
        self._own_client = client is None
        self._http = client or http_client(
            (credentials.token_url,),
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=1),
        )
        self._timeout = timeout
        self._clock = clock
        self._wall_clock = wall_clock
        self.retry_policy = retry_policy or RetryPolicy(
            statuses=TOKEN_STATUSES,
            retries=max(1, max_attempts) - 1,
            max_wait=max_retry_wait,
            sleep=sleep,
            clock=wall_clock,
        )
        self._max_attempts = self.retry_policy.retries + 1
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._previous: _Token | None = None  # the one it replaced: an answer may echo it
        self._requests = 0
        self._fetches = 0  # finished fetches, successful or not
        self._failure: TokenError | None = None  # the last fetch's error, if it failed
        self._failure_until = 0.0  # monotonic time until which that error is the answer
        self.auth = BearerAuth(self)
        mask_in_logs(self)

    # -- public --------------------------------------------------------------------------------
    def get_token(self) -> str:
        """A fresh token: the cached one, or a new one when it is near expiry."""
        return self._valid().value

    def renew(self, failed_token: str | None = None) -> str:
        """Get a new token; with ``failed_token``, only if that one is still the current one."""
        current = self._token
        if failed_token is not None and (
            current is None
            or not hmac.compare_digest(current.value.encode(), failed_token.encode())
        ):
            current = None  # already replaced: the current token will do if it is fresh
        del failed_token  # keep the token out of this frame's locals
        return self._refresh(current, "renewal asked for").value

    @property
    def info(self) -> TokenInfo | None:
        """Account, scopes and expiry of the current token, or None before the first one."""
        token = self._token
        return None if token is None else token.info

    @property
    def token_requests(self) -> int:
        """HTTP requests sent to the token endpoint (retries included)."""
        return self._requests

    def seconds_left(self) -> float | None:
        """Seconds until the current token expires (0 when expired), None without a token."""
        token = self._token
        if token is None:
            return None
        left = min(token.expires_mono - self._clock(), token.expires_wall - self._wall_clock())
        return max(0.0, left)

    def forget(self) -> None:
        """Drop the cached token and any remembered failure (logout); the next call fetches."""
        self._token = self._previous = None
        self._failure = None

    def close(self) -> None:
        """Forget the token and the secret; close the HTTP client if this manager made it."""
        self.forget()
        self.credentials = self.credentials.without_secret()
        if self._own_client:
            self._http.close()

    def __repr__(self) -> str:
        left = self.seconds_left()
        state = "no token" if left is None else f"token valid {left:.0f} s"
        return (
            f"<TokenManager client_id={self.credentials.client_id!r} "
            f"token_url={without_password(self.credentials.token_url)!r} {state}>"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("a TokenManager cannot be pickled")

    # -- cache ---------------------------------------------------------------------------------
    def _secrets(self) -> tuple[str, ...]:
        """What must never reach a log: the live tokens, the client secret, and a password in
        the userinfo of the API or token URL (httpx logs each request's URL)."""
        passwords = (
            httpx.URL(u).password for u in (self.credentials.api_url, self.credentials.token_url)
        )
        return (
            *self._known_values(),
            self.credentials.client_secret.get_secret_value(),
            *(p for p in passwords if p),
        )

    def _sent_secrets(self) -> tuple[tuple[str, str], tuple[str, ...]]:
        """(client secret, client id) and the live tokens: what no API request may carry
        (``_outgoing``), but the token in its Authorization header."""
        creds = self.credentials
        return (creds.client_secret.get_secret_value(), creds.client_id), self._known_values()

    def _answer_values(self) -> tuple[str, ...]:
        """What an API answer is masked of: the live tokens and the client secret (an API that
        manages credentials, or one that echoes a secret it was given, may send it back)."""
        return (*self._known_values(), self.credentials.client_secret.get_secret_value())

    def _known_values(self) -> tuple[str, ...]:
        """The tokens an answer could echo (the current one and the one before), to mask them."""
        return tuple(token.value for token in (self._token, self._previous) if token is not None)

    def _valid(self) -> _Token:
        """The fast path: no lock while the cached token is fresh on both clocks."""
        token = self._token
        if token is not None and self._fresh(token):
            return token
        reason = "first token" if token is None else "the token is expiring"
        return self._refresh(token, reason, early=True)

    def _renew_after_401(self, failed: _Token) -> _Token | None:
        """After a 401: a token to resend with, or None when the 401 is the answer.

        Renews if ``failed`` is still current (once: not if it was itself fetched after a 401
        and never accepted since); uses a newer token if another thread already replaced it.
        """
        if failed is self._token and not failed.renew_after_401():
            logger.debug(
                "ue_magic: the API also refused the token fetched after its last 401; not "
                "renewing it again (the 401 is the answer)"
            )
            return None
        return self._refresh(failed, "the API refused the token (401)", after_401=True)

    def _fresh(self, token: _Token) -> bool:
        return self._clock() < token.renew_mono and self._wall_clock() < token.renew_wall

    def _alive(self, token: _Token, slack: float = 0.0) -> bool:
        """Not expired (``slack`` seconds before expiry) on either clock."""
        return (
            self._clock() < token.expires_mono - slack
            and self._wall_clock() < token.expires_wall - slack
        )

    def _refresh(
        self, stale: _Token | None, reason: str, *, early: bool = False, after_401: bool = False
    ) -> _Token:
        """Replace ``stale`` unless another thread already did; one fetch at a time.

        ``early``: ``stale`` is only due for renewal. While another thread renews, it is used
        rather than waited for (until shortly before it expires); if the renewal fails, it is
        used until it really expires.
        """
        seen = self._fetches
        if early and stale is not None and self._alive(stale, renew_margin(stale.lifetime) / 2):
            if not self._lock.acquire(blocking=False):
                return stale
        else:
            self._lock.acquire()
        try:
            current = self._token
            if current is not None and current is not stale and self._fresh(current):
                return current
            failure = self._remembered_failure(seen)
            fetched = failure is None
            if failure is None:
                keep = early and current is not None and self._alive(current)
                outcome = self._fetch(reason, attempts=1 if keep else self._max_attempts)
                self._fetches += 1
                if isinstance(outcome, _Token):
                    outcome.after_401 = after_401
                    self._previous = current
                    self._token, self._failure = outcome, None
                    return outcome
                self._failure, failure = outcome, outcome
                self._failure_until = self._clock() + FAILURE_COOLDOWN
            if early and current is not None and self._alive(current):
                if fetched:
                    logger.warning(
                        "ue_magic: could not renew the token early (%s); going on with the "
                        "current one, which expires in %.0f s",
                        failure,
                        self.seconds_left(),
                    )
                return current
        finally:
            self._lock.release()
        raise type(failure)(*failure.args)  # a copy: threads must not share one traceback

    def _remembered_failure(self, seen: int) -> TokenError | None:
        """The last fetch's error if it failed while we waited or within the cool-down."""
        failure = self._failure
        if failure is not None and (self._fetches != seen or self._clock() < self._failure_until):
            return failure
        return None

    # -- token endpoint ------------------------------------------------------------------------
    def _fetch(self, reason: str, attempts: int) -> _Token | TokenError:
        """Ask the token endpoint, retrying as the policy says, at most ``attempts`` tries."""
        url = without_password(self.credentials.token_url)  # for messages and logs
        policy = self.retry_policy
        tries = 0

        def send() -> _Token | DeferredError:
            nonlocal tries
            tries += 1
            logger.debug(
                "ue_magic: requesting a token from %s (%s, attempt %d)", url, reason, tries
            )
            return self._attempt()

        def check(outcome: _Token | DeferredError) -> Retry | None:
            if isinstance(outcome, _Token):
                return None
            status = outcome.status
            if status is not None and policy.retries_status(status):
                wait = policy.retry_after(outcome.retry_after)
                return Retry(f"the token endpoint {url} {outcome.reason}", status, wait)
            return Retry(f"the token endpoint {url} {outcome.reason}") if outcome.retry else None

        done = run(
            policy,
            send,
            check,
            lambda _: attempts - 1,
            lambda retry, retries: f"token request attempt {retry + 1} of {retries + 1}",
        )
        outcome = done.outcome
        if isinstance(outcome, _Token):
            logger.debug(
                "ue_magic: token received for client id %r, account %s, expires %s",
                outcome.info.client_id,
                outcome.info.account_id,
                outcome.info.expires_at.isoformat(timespec="seconds"),
            )
            return outcome
        last = check(outcome)
        wait = None if last is None else last.retry_after
        if wait is not None and wait > policy.max_wait:
            error = outcome.error(
                f"The token endpoint {url} {outcome.reason} and asks to wait {wait:.0f} s, "
                f"longer than ue-magic waits ({policy.max_wait:g} s); "
                f"try again after {policy.try_again_at(wait)}."
            )
        else:
            error = outcome.exception(done.attempts)
        logger.debug("ue_magic: token request failed: %s", error)
        assert isinstance(error, TokenError)
        return error

    def _attempt(self) -> _Token | DeferredError:
        """One token request; never raises (its frames hold the secret, then the token)."""
        creds = self.credentials
        if self._http.is_closed:
            return DeferredError(TokenError, CLOSED_CLIENT, reason="closed")
        try:
            request = _oauth.build_request(self._http, creds)
        except Exception as exc:  # e.g. an id or secret that cannot be encoded
            return DeferredError(
                TokenError,
                f"Could not build the token request for {without_password(creds.token_url)} "
                f"({type(exc).__name__}); check {creds.variable('client_id')} and "
                f"{creds.variable('client_secret')}: they must be plain text.",
                reason="could not be asked",
            )
        mono, wall = self._clock(), self._wall_clock()
        self._requests += 1
        budget = Budget.start(request, TOKEN_MAX_BYTES)
        interrupted = False
        try:
            with budget.running():
                response = self._http.send(request, auth=None)
        except Exception as exc:  # a transport error, DecodingError, a closed client, ...
            return _oauth.send_failure(exc, creds, self._timeout)
        except KeyboardInterrupt:
            interrupted = True
        if interrupted:
            del request  # its body is the form with the secret
            raise KeyboardInterrupt  # outside ``except``: no frame below that held the secret
        try:
            now_mono, now_wall = self._clock(), self._wall_clock()
            answer = _oauth.read_answer(response, creds, now_mono - mono, now_wall)
            if isinstance(answer, DeferredError):
                return answer
            info = TokenInfo(
                account_id=answer.account_id,
                scopes=answer.scopes,
                expires_at=datetime.fromtimestamp(now_wall + answer.remaining, timezone.utc),
                issued_at=datetime.fromtimestamp(wall, timezone.utc),
                client_id=creds.client_id,
            )
            return _Token(answer.value, info, now_mono, now_wall, answer.remaining)
        except Exception as exc:  # nothing may escape with the answer (the token) in a local
            return _oauth.unreadable(response, creds, exc)
        finally:
            response.close()
            self._forget_cookies()

    def _forget_cookies(self) -> None:
        """A token endpoint needs no cookies, and one that echoes the form in a cookie would
        leave the secret in the jar: its own client's jar is emptied after each token request,
        a shared client's of the cookies that hold the secret or a token."""
        if self._own_client:
            self._http.cookies.clear()
            return
        creds = self.credentials
        forms = _oauth.secret_forms(creds.client_secret.get_secret_value(), creds.client_id)
        forget_echoed_cookies(self._http.cookies, (*forms, *self._known_values()))


class BearerAuth(httpx.Auth):
    """Puts the manager's token on each request; on a 401, renews once and resends once.

    It refuses requests to any origin but the API's, so the token stays there even when this
    auth is plugged into some other httpx client.
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(self, manager: TokenManager) -> None:
        self._manager = manager
        self._origin = origin_of(httpx.URL(manager.credentials.api_url))

    def __repr__(self) -> str:
        return f"<BearerAuth client_id={self._manager.credentials.client_id!r}>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) != self._origin:
            raise OriginError(
                refusing_origin(
                    f"{request.url.scheme}://{request.url.netloc.decode('ascii')}",
                    f"it is only sent to {self._manager.credentials.api_url}",
                    "send it through UsageEngineClient, which only sends to the API's origin",
                )
            )
        token = self._manager._valid()
        request.headers["Authorization"] = token.header
        response = yield request
        if response.status_code != 401:
            if token.after_401:
                token.after_401 = False  # accepted: a later 401 is worth a renewal again
            return
        if not _replayable(request):
            return
        response.read()  # frees the connection before the token request
        renewed = self._manager._renew_after_401(token)
        if renewed is None:  # refused although brand new: the 401 is the answer
            return
        request.headers["Authorization"] = renewed.header
        response = yield request
        if response.status_code != 401:
            renewed.after_401 = False


def _replayable(request: httpx.Request) -> bool:
    """A body that was given as bytes can be sent again; a stream cannot."""
    return isinstance(request.stream, httpx.ByteStream)
