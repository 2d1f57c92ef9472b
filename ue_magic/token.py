"""OAuth 2.0 client credentials: get a bearer token, cache it, renew it early, put it on requests.

The fast path (a cached token that is still fresh) takes no lock and reads two clocks. Only the
token request itself runs under a lock, and the lock holder checks again first, so a thousand
calls from any number of threads make one token request per lifetime.

Secrets and tokens stay inside small objects whose repr is masked (``Secret``, ``_Token``): a
traceback that prints every frame's locals (IPython's ``%xmode Verbose``) shows only masks.
Everything between the form with the secret and the finished token (building the request,
sending it, reading the answer) runs inside one ``try`` that turns any error into a ``_Failure``;
errors are raised later, outside ``except`` blocks, so they carry no ``__context__`` and no frame
that held the secret or the token.

When the token endpoint fails, the failure is kept for a short cool-down: calls in that window
get the same error at once instead of each retrying. A token that is due for renewal but not yet
expired is used until it really expires if the renewal fails.
"""

from __future__ import annotations

import base64
import email.utils
import hmac
import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx

from .credentials import Credentials, origin_of
from .errors import (
    InvalidClientError,
    OriginError,
    TokenError,
    TokenRateLimitedError,
    TokenServerError,
)

__all__ = [
    "BearerAuth",
    "TokenInfo",
    "TokenManager",
    "backoff_delay",
    "clock_time",
    "decode_claims",
    "log_wait",
    "parse_retry_after",
    "renew_margin",
]

logger = logging.getLogger("ue_magic")

DEFAULT_LIFETIME = 3600.0  # used when neither expires_in nor the JWT's exp says otherwise
MIN_LIFETIME = 1.0  # a shorter lifetime would mean a token request on every call
MAX_LIFETIME = 86400.0  # an absurd expires_in or exp is taken as one day
FAILURE_COOLDOWN = 5.0  # seconds a failed token request is answered from memory
# a 401 on a token younger than this is the answer, not a reason to renew (capped by lifetime)
RECENT_TOKEN = 5.0
RECENT_TOKEN_AFTER_401 = 60.0  # the same for a token that was itself fetched after a 401
_LOUD_WAIT = 5.0  # waits this long or longer are logged as warnings, shorter ones as info
_MARGIN_SECONDS = 300.0
_MARGIN_FRACTION = 0.1
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII: never echoed by a header error
_AUDIENCE_HINTS = ("audience", "service not found", "resource server")


def renew_margin(lifetime: float) -> float:
    """How long before expiry to renew: a few minutes, less for short lifetimes."""
    return min(_MARGIN_SECONDS, _MARGIN_FRACTION * max(lifetime, 0.0))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def clock_time(wall: float) -> str:
    """``wall`` (seconds since the epoch) as an HH:MM:SS UTC time, or a date when not today."""
    try:
        when = datetime.fromtimestamp(wall, timezone.utc)
        today = datetime.fromtimestamp(time.time(), timezone.utc).date()
    except (OverflowError, ValueError, OSError):
        return "a long time from now"
    shape = "%H:%M:%S UTC" if when.date() == today else "%Y-%m-%d %H:%M:%S UTC"
    return when.strftime(shape)


def log_wait(seconds: float, why: str, what: str) -> None:
    """Say that ue-magic is about to sleep, how long and why (a silent stall looks like a hang)."""
    level = logging.WARNING if seconds >= _LOUD_WAIT else logging.INFO
    logger.log(level, "ue_magic: %s; waiting %.1f s before %s", why, seconds, what)


def backoff_delay(attempt: int, cap: float, base: float = 0.5) -> float:
    """Exponential backoff with jitter for retry ``attempt`` (1, 2, ...), never above ``cap``."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return ceiling * (0.5 + random.random() / 2)


def decode_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, not verified (we only report them); {} when it is not a JWT.

    Never raises (not even for a payload nested too deeply for ``json``), so its frame, which
    holds the token, is gone before anything can.
    """
    try:
        parts = token.split(".")
        if len(parts) != 3:
            return {}
        payload = parts[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:  # RecursionError, binascii.Error, ValueError, ...: not a JWT we can read
        return {}
    return claims if isinstance(claims, dict) else {}


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
        self.after_401 = False  # fetched because the API refused the token before it
        self.expires_mono = mono + remaining
        self.expires_wall = wall + remaining
        self.renew_mono = self.expires_mono - margin
        self.renew_wall = self.expires_wall - margin

    def renew_after_401(self, now: float) -> bool:
        """Whether a 401 on this token is worth a renewal: not when it is brand new.

        A token fetched a moment ago (or fetched because of a 401) that is refused again is
        refused for a reason a new token will not fix; renewing would cost a token request per
        API call and hit the token endpoint's rate limit.
        """
        if self.after_401:
            recent = min(RECENT_TOKEN_AFTER_401, self.lifetime / 2)
        else:
            recent = min(RECENT_TOKEN, self.lifetime / 4)
        return now - self.obtained >= recent

    def __repr__(self) -> str:
        return "<token ***>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a token cannot be pickled")


@dataclass
class _Failure:
    """Why one token request failed; turned into an exception only outside any except block."""

    error: type[TokenError]
    message: str  # may contain "{attempts}" -> " (4 attempts)" or "{after}" -> " after 4 attempts"
    retry: bool = False
    wait: float | None = None  # the server's Retry-After, if it sent one
    reason: str = "failed"  # a short "what happened" for log lines

    def exception(self, attempts: int) -> TokenError:
        counted = f" ({attempts} attempts)" if attempts > 1 else ""
        after = f" after {attempts} attempts" if attempts > 1 else ""
        return self.error(self.message.replace("{attempts}", counted).replace("{after}", after))


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
        max_attempts: int = 4,
        max_retry_wait: float = 30.0,
    ) -> None:
        self.credentials = credentials
        self._own_client = client is None
        self._http = client or httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=True,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=1),
        )
        self._timeout = timeout
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._max_retry_wait = max_retry_wait
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._requests = 0
        self._fetches = 0  # finished fetches, successful or not
        self._failure: TokenError | None = None  # the last fetch's error, if it failed
        self._failure_until = 0.0  # monotonic time until which that error is the answer
        self.auth = BearerAuth(self)

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
        self._token = None
        self._failure = None

    def close(self) -> None:
        """Close the HTTP client if this manager made it."""
        self.forget()
        if self._own_client:
            self._http.close()

    def __repr__(self) -> str:
        left = self.seconds_left()
        state = "no token" if left is None else f"token valid {left:.0f} s"
        return (
            f"<TokenManager client_id={self.credentials.client_id!r} "
            f"token_url={self.credentials.token_url!r} {state}>"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("a TokenManager cannot be pickled")

    # -- cache ---------------------------------------------------------------------------------
    def _valid(self) -> _Token:
        """The fast path: no lock while the cached token is fresh on both clocks."""
        token = self._token
        if token is not None and self._fresh(token):
            return token
        reason = "first token" if token is None else "the token is expiring"
        return self._refresh(token, reason, early=True)

    def _renew_after_401(self, failed: _Token) -> _Token | None:
        """After a 401: a token to resend with, or None when the 401 is the answer.

        Renews if ``failed`` is still current and not brand new; uses a newer token if another
        thread already replaced it.
        """
        if failed is self._token and not failed.renew_after_401(self._clock()):
            logger.debug(
                "ue_magic: the API refused a token fetched %.1f s ago (401); not renewing it "
                "again so soon",
                self._clock() - failed.obtained,
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
        """Ask the token endpoint, retrying 429, 5xx and connection errors up to ``attempts``."""
        url = self.credentials.token_url
        attempt = 0
        while True:
            attempt += 1
            logger.debug(
                "ue_magic: requesting a token from %s (%s, attempt %d)", url, reason, attempt
            )
            outcome = self._attempt()
            if isinstance(outcome, _Token):
                logger.debug(
                    "ue_magic: token received for client id %r, account %s, expires %s",
                    outcome.info.client_id,
                    outcome.info.account_id,
                    outcome.info.expires_at.isoformat(timespec="seconds"),
                )
                return outcome
            if outcome.wait is not None and outcome.wait > self._max_retry_wait:
                error: TokenError = self._too_long_to_wait(outcome, outcome.wait)
            elif outcome.retry and attempt < attempts:
                wait = outcome.wait
                if wait is None:
                    wait = backoff_delay(attempt, self._max_retry_wait)
                how = "as Retry-After asks" if outcome.wait is not None else "backoff"
                log_wait(
                    wait,
                    f"the token endpoint {url} {outcome.reason} ({how})",
                    f"token request attempt {attempt + 1} of {attempts}",
                )
                self._sleep(wait)
                continue
            else:
                error = outcome.exception(attempt)
            logger.debug("ue_magic: token request failed: %s", error)
            return error

    def _too_long_to_wait(self, failure: _Failure, wait: float) -> TokenError:
        return failure.error(
            f"The token endpoint {self.credentials.token_url} {failure.reason} and asks to "
            f"wait {wait:.0f} s, longer than ue-magic waits ({self._max_retry_wait:g} s); "
            f"try again after {clock_time(self._wall_clock() + wait)}."
        )

    def _attempt(self) -> _Token | _Failure:
        """One token request; never raises (its frames hold the secret, then the token)."""
        url = self.credentials.token_url
        if self._http.is_closed:
            return _Failure(
                TokenError,
                "This client was closed (logged out, or logged in again): get a new one with "
                "ue_magic.client() or UsageEngineClient(...).",
                reason="closed",
            )
        try:
            request = _token_request(self._http, self.credentials)
        except Exception as exc:  # e.g. an id or secret that cannot be encoded
            return _Failure(
                TokenError,
                f"Could not build the token request for {url} ({type(exc).__name__}); check "
                f"{self.credentials.variable('client_id')} and "
                f"{self.credentials.variable('client_secret')}: they must be plain text.",
                reason="could not be asked",
            )
        mono, wall = self._clock(), self._wall_clock()
        self._requests += 1
        try:
            response = self._http.send(request, auth=None)
        except httpx.TransportError as exc:
            return self._transport_failure(exc)
        except Exception as exc:  # DecodingError, a closed client, a broken transport, ...
            detail = _scrub(str(exc), self.credentials.client_secret.get_secret_value())
            return _Failure(
                TokenServerError,
                f"The token request to {url} failed ({type(exc).__name__}: {detail[:200]}); "
                f"try again later or check {self.credentials.variable('token_url')}.",
                reason=f"failed ({type(exc).__name__})",
            )
        try:
            return self._parse(response, mono, wall)
        except Exception as exc:  # nothing may escape with the answer (the token) in a local
            return _Failure(
                TokenServerError,
                f"The token endpoint {url} answered {response.status_code} with something "
                f"ue-magic cannot read ({type(exc).__name__}); report this to the service.",
                reason="answered something unreadable",
            )
        finally:
            response.close()

    def _transport_failure(self, exc: httpx.TransportError) -> _Failure:
        url = self.credentials.token_url
        if isinstance(exc, httpx.TimeoutException) and not isinstance(
            exc, (httpx.ConnectTimeout, httpx.PoolTimeout)
        ):
            return _Failure(
                TokenServerError,
                f"The token endpoint {url} did not answer within {self._timeout:g} s; "
                "try again later or check UE_TOKEN_URL.",
                reason="did not answer",
            )
        secret = self.credentials.client_secret.get_secret_value()
        detail = _scrub(str(exc), secret) or type(exc).__name__
        retry = isinstance(
            exc, (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
        )
        return _Failure(
            TokenServerError,
            f"Could not reach the token endpoint {url}{{after}} ({type(exc).__name__}: "
            f"{detail}); check {self.credentials.variable('token_url')} and the network.",
            retry=retry,
            reason=f"could not be reached ({type(exc).__name__})",
        )

    def _parse(self, response: httpx.Response, mono: float, wall: float) -> _Token | _Failure:
        """Turn the token endpoint's answer into a token or a failure."""
        if response.status_code != 200:
            return self._error_failure(response)
        url = self.credentials.token_url
        try:
            data = response.json()
        except Exception:  # ValueError, or RecursionError for JSON nested too deeply
            data = None
        if not isinstance(data, dict):
            kind = response.headers.get("content-type", "no content type")
            return _Failure(
                TokenServerError,
                f"The token endpoint {url} answered 200 with a body that is not a JSON object "
                f"({kind}); check {self.credentials.variable('token_url')}.",
                reason="answered something that is not JSON",
            )
        value = data.get("access_token")
        if not isinstance(value, str) or not value:
            return _Failure(
                TokenServerError,
                f"The token endpoint {url} answered without an access_token; "
                f"check {self.credentials.variable('token_url')}.",
                reason="answered without a token",
            )
        if not _HEADER_SAFE.match(value):
            return _Failure(
                TokenServerError,
                f"The token endpoint {url} answered an access_token that cannot be sent in a "
                "header; report this to the service.",
                reason="answered an unusable token",
            )
        return self._make_token(value, data, mono, wall)

    def _make_token(self, value: str, data: dict[str, Any], mono: float, wall: float) -> _Token:
        """Work out account, scopes and the remaining lifetime on both clocks."""
        claims = decode_claims(value)
        now_mono, now_wall = self._clock(), self._wall_clock()
        remaining = _remaining(data, claims, now_mono - mono, now_wall)
        scope = claims.get("scope", data.get("scope"))
        if isinstance(scope, str):
            scopes = tuple(scope.split())
        elif isinstance(scope, list):
            scopes = tuple(str(item) for item in scope)
        else:
            scopes = ()
        account = claims.get("accountId")
        info = TokenInfo(
            account_id=None if account is None else str(account),
            scopes=scopes,
            expires_at=datetime.fromtimestamp(now_wall + remaining, timezone.utc),
            issued_at=datetime.fromtimestamp(wall, timezone.utc),
            client_id=self.credentials.client_id,
        )
        return _Token(value, info, now_mono, now_wall, remaining)

    def _error_failure(self, response: httpx.Response) -> _Failure:
        """A clear failure for a non-200 answer of the token endpoint."""
        creds = self.credentials
        url = creds.token_url
        status = response.status_code
        error, description = _oauth_error(response)
        detail = _scrub(
            f"{status} {error}: {description}" if error else _status_text(response),
            creds.client_secret.get_secret_value(),
        )
        answered = f"answered {_status_text(response)}"
        if status == 429:
            return _Failure(
                TokenRateLimitedError,
                f"The token endpoint {url} kept answering 429 Too Many Requests{{attempts}}; "
                "wait a minute, and reuse one login instead of logging in again and again.",
                retry=True,
                wait=parse_retry_after(response.headers.get("retry-after"), self._wall_clock()),
                reason=answered,
            )
        if status >= 500:
            return _Failure(
                TokenServerError,
                f"The token endpoint {url} failed{{after}} ({detail}); try again later.",
                retry=True,
                wait=parse_retry_after(response.headers.get("retry-after"), self._wall_clock()),
                reason=answered,
            )
        if 300 <= status < 400:
            location = response.headers.get("location", "elsewhere")
            return _Failure(
                TokenError,
                f"The token endpoint {url} redirects to {location} ({status}); set "
                f"{creds.variable('token_url')} to the final URL (the secret is not re-sent).",
                reason=answered,
            )
        if any(hint in f"{error} {description}".lower() for hint in _AUDIENCE_HINTS):
            return _Failure(
                InvalidClientError,
                f"The token endpoint {url} does not accept the audience {creds.audience!r} "
                f"({detail}); check {creds.variable('audience')}: it must be the environment's "
                "base URL exactly, trailing slash included.",
                reason=answered,
            )
        if creds.scope and "scope" in description.lower():
            return _Failure(
                TokenError,
                f"The token endpoint {url} refused the scope {creds.scope!r} ({detail}); check "
                f"{creds.variable('scope')}: ask only for scopes the client was granted, or none.",
                reason=answered,
            )
        if status in (401, 403) or error in (
            "access_denied",
            "invalid_client",
            "unauthorized_client",
        ):
            return _Failure(
                InvalidClientError,
                f"The token endpoint {url} refused client id {creds.client_id!r} ({detail}). "
                f"Check {creds.variable('client_id')} and {creds.variable('client_secret')}.",
                reason=answered,
            )
        return _Failure(
            TokenError,
            f"The token endpoint {url} refused the request ({detail}); check "
            f"{creds.variable('token_url')} and {creds.variable('audience')}.",
            reason=answered,
        )


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
                f"Refusing to put the token on a request to {request.url.scheme}://"
                f"{request.url.netloc.decode('ascii')}: it is only sent to "
                f"{self._manager.credentials.api_url}."
            )
        token = self._manager._valid()
        request.headers["Authorization"] = token.header
        response = yield request
        if response.status_code != 401 or not _replayable(request):
            return
        response.read()  # frees the connection before the token request
        renewed = self._manager._renew_after_401(token)
        if renewed is None:  # refused although brand new: the 401 is the answer
            return
        request.headers["Authorization"] = renewed.header
        yield request


def _replayable(request: httpx.Request) -> bool:
    """A body that was given as bytes can be sent again; a stream cannot."""
    return isinstance(request.stream, httpx.ByteStream)


def _token_request(http: httpx.Client, credentials: Credentials) -> httpx.Request:
    """The form-encoded client_secret_post request; the only place the secret is unwrapped."""
    fields = {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret.get_secret_value(),
        "audience": credentials.audience,
    }
    if credentials.scope:
        fields["scope"] = credentials.scope
    return http.build_request(
        "POST",
        credentials.token_url,
        content=urlencode(fields).encode("utf-8"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    """``error`` and ``error_description`` of an OAuth error body, if it has them."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    description = body.get("error_description") or body.get("message") or ""
    return (str(error) if error else ""), str(description)[:200]


def _status_text(response: httpx.Response) -> str:
    return f"{response.status_code} {response.reason_phrase}".strip()


def _scrub(text: str, *secrets: str) -> str:
    """Remove secrets (or tokens) from text a server or library produced, in case it echoes them.

    A secret of 8 characters or more is removed wherever it appears; a shorter one only as a
    whole word, so that a secret "s" does not turn "server_error" into "***erver_error".
    """
    for secret in secrets:
        if len(secret) >= 8:
            text = text.replace(secret, "***")
        elif secret:
            text = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", "***", text)
    return text


def _number(value: object) -> float | None:
    """A finite number from a JSON value (a number or a numeric string), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _remaining(data: dict[str, Any], claims: dict[str, Any], elapsed: float, now: float) -> float:
    """Seconds the token has left: expires_in and the JWT's exp, the sooner wins; clamped.

    Values that are not finite, not positive or absurd are ignored or capped, so that no date
    built from the result can overflow.
    """
    candidates = []
    expires_in = _number(data.get("expires_in"))
    if expires_in is not None and expires_in > 0:
        candidates.append(expires_in - elapsed)
    exp = _number(claims.get("exp"))
    if exp is not None and exp - now > 0:
        candidates.append(exp - now)  # also catches exp rounded down to whole seconds
    remaining = min(candidates) if candidates else DEFAULT_LIFETIME
    return min(max(remaining, MIN_LIFETIME), MAX_LIFETIME)
