"""The token endpoint's wire protocol: build the client-credentials request, read the answer.

Stateless: no cache, no lock, no retries (``token.TokenManager`` and ``_retry`` do those). What
can go wrong becomes a ``DeferredError`` rather than an exception, so the caller raises it
outside any ``except`` block, with no frame that held the secret or the token. The wording of a
refusal is one table, ``REFUSALS``: the first row whose test matches the answer words the error.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx

from ..errors import (
    AnswerTooLargeError,
    DeferredError,
    InvalidClientError,
    TokenError,
    TokenRateLimitedError,
    TokenServerError,
)
from ._forms import scrub, secret_forms
from ._visible import visible
from .credentials import Credentials, without_password

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "MIN_LIFETIME",
    "REFUSALS",
    "Grant",
    "Refusal",
    "build_request",
    "decode_claims",
    "read_answer",
    "scrub",
    "secret_forms",
    "send_failure",
]

DEFAULT_LIFETIME = 3600.0  # used when neither expires_in nor the JWT's exp says otherwise
MIN_LIFETIME = 1.0  # a shorter lifetime would mean a token request on every call
MAX_LIFETIME = 86400.0  # an absurd expires_in or exp is taken as one day
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII: never echoed by a header error
# words of an audience refusal; "audience" as a field name ("audience=", '"audience"') is an
# echo of our own request, not a complaint about it
_AUDIENCE_HINT = re.compile(
    r"(?<![\w\"'])audience(?![\w\"']|\s*=)|service not found|resource server", re.IGNORECASE
)


class Grant:
    """A token as the endpoint gave it; the repr is masked so tracebacks cannot show it.

    ``remaining``: seconds it has left when read (expires_in and the JWT's exp, the sooner).
    """

    __slots__ = ("account_id", "remaining", "scopes", "value")

    def __init__(
        self, value: str, scopes: tuple[str, ...], account_id: str | None, remaining: float
    ) -> None:
        self.value = value
        self.scopes = scopes
        self.account_id = account_id
        self.remaining = remaining

    def __repr__(self) -> str:
        return "<grant ***>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a token cannot be pickled")


def build_request(http: httpx.Client, credentials: Credentials) -> httpx.Request:
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


def send_failure(exc: Exception, credentials: Credentials, timeout: float) -> DeferredError:
    """What an exception raised while sending the token request means, in words."""
    url = without_password(credentials.token_url)  # a password in it: ***
    secret = secret_forms(credentials.client_secret.get_secret_value(), credentials.client_id)
    name = type(exc).__name__
    if isinstance(exc, AnswerTooLargeError):
        return DeferredError(
            TokenServerError,
            f"The token endpoint {url} answered more than a token answer can be; check "
            f"{credentials.variable('token_url')}.",
            reason="answered too much",
        )
    if not isinstance(exc, httpx.TransportError):  # DecodingError, a closed client, ...
        return DeferredError(
            TokenServerError,
            f"The token request to {url} failed ({name}: {scrub(str(exc), *secret)[:200]}); "
            f"try again later or check {credentials.variable('token_url')}.",
            reason=f"failed ({name})",
        )
    if isinstance(exc, httpx.TimeoutException) and not isinstance(
        exc, (httpx.ConnectTimeout, httpx.PoolTimeout)
    ):
        return DeferredError(
            TokenServerError,
            f"The token endpoint {url} did not answer within {timeout:g} s (the whole answer); "
            f"try again later or check {credentials.variable('token_url')}.",
            reason="did not answer",
        )
    detail = scrub(str(exc), *secret)[:200] or name
    retry = isinstance(exc, (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError))
    return DeferredError(
        TokenServerError,
        f"Could not reach the token endpoint {url}{{after}} ({name}: {detail}); "
        f"check {credentials.variable('token_url')} and the network.",
        retry=retry,
        reason=f"could not be reached ({name})",
    )


def read_answer(
    response: httpx.Response, credentials: Credentials, elapsed: float, now: float
) -> Grant | DeferredError:
    """The token in a 200 answer, or why there is none.

    ``elapsed``: seconds since the request was sent (expires_in counts from then); ``now``:
    wall-clock seconds since the epoch (the JWT's exp is compared with it).
    """
    url = without_password(credentials.token_url)  # a password in it: ***
    if response.status_code != 200:
        return refusal_error(response, credentials)
    try:
        data = response.json()
    except Exception:  # ValueError, or RecursionError for JSON nested too deeply
        data = None
    if not isinstance(data, dict):
        kind = _quoted(response.headers.get("content-type", "no content type"), credentials, 100)
        return DeferredError(
            TokenServerError,
            f"The token endpoint {url} answered 200 with a body that is not a JSON object "
            f"({kind}); check {credentials.variable('token_url')}.",
            reason="answered something that is not JSON",
        )
    value = data.get("access_token")
    if data.get("error") and not value:  # an error answered with 200: the server's words
        return refusal_error(response, credentials)
    if not isinstance(value, str) or not value:
        return DeferredError(
            TokenServerError,
            f"The token endpoint {url} answered without an access_token; "
            f"check {credentials.variable('token_url')}.",
            reason="answered without a token",
        )
    if not _HEADER_SAFE.match(value):
        return DeferredError(
            TokenServerError,
            f"The token endpoint {url} answered an access_token that cannot be sent in a "
            "header; report this to the service.",
            reason="answered an unusable token",
        )
    token_type = data.get("token_type")
    if token_type is not None and str(token_type).lower() != "bearer":
        return DeferredError(
            TokenError,
            f"The token endpoint {url} gave a {_quoted(str(token_type), credentials, 40)!r} "
            "token, and ue-magic "
            "sends only Bearer tokens; ask the service for a Bearer token for this client.",
            reason="answered a token that is not a Bearer token",
        )
    claims = decode_claims(value)
    # shown by %ue_login and %ue_status: the endpoint may echo the secret or the token in them
    # (masked before the scope is split: a secret may hold a space)
    forms = (
        *secret_forms(credentials.client_secret.get_secret_value(), credentials.client_id),
        *secret_forms(value),
    )
    scope = claims.get("scope", data.get("scope"))
    if isinstance(scope, str):
        scopes = tuple(scrub(scope, *forms).split())
    elif isinstance(scope, list):
        scopes = tuple(scrub(str(item), *forms) for item in scope)
    else:
        scopes = ()
    account = claims.get("accountId")
    account = None if account is None else scrub(str(account), *forms)
    remaining = _remaining(data, claims, elapsed, now)
    return Grant(value, scopes, account, remaining)


def unreadable(response: httpx.Response, credentials: Credentials, exc: Exception) -> DeferredError:
    """An answer that broke the reader itself (it may hold the token: say nothing of it)."""
    return DeferredError(
        TokenServerError,
        f"The token endpoint {without_password(credentials.token_url)} answered "
        f"{response.status_code} with "
        f"something ue-magic cannot read ({type(exc).__name__}); report this to the service.",
        reason="answered something unreadable",
    )


@dataclass(frozen=True)
class Refusal:
    """A non-200 answer of the token endpoint, as the wording table sees it."""

    credentials: Credentials
    status: int
    error: str  # the OAuth ``error`` field, or ""
    description: str  # ``error_description`` (or ``message``), or ""
    detail: str  # "400 invalid_client: ..." or "400 Bad Request", secret scrubbed
    location: str  # a redirect's Location, or "elsewhere"

    @property
    def url(self) -> str:
        """The token URL as messages show it (a password in it as ``***``)."""
        return without_password(self.credentials.token_url)

    def var(self, setting: str) -> str:
        return self.credentials.variable(setting)


_Row = tuple[Callable[[Refusal], bool], type[TokenError], Callable[[Refusal], str]]

# (test, error class, message): the first row whose test is true words the error
REFUSALS: tuple[_Row, ...] = (
    (
        lambda r: r.status == 429,
        TokenRateLimitedError,
        lambda r: (
            f"The token endpoint {r.url} kept answering 429 Too Many Requests{{attempts}}; "
            "wait a minute, and reuse one login instead of logging in again and again."
        ),
    ),
    (
        lambda r: r.status >= 500,
        TokenServerError,
        lambda r: f"The token endpoint {r.url} failed{{after}} ({r.detail}); try again later.",
    ),
    (
        lambda r: 300 <= r.status < 400,
        TokenError,
        lambda r: (
            f"The token endpoint {r.url} redirects to {r.location} ({r.status}); set "
            f"{r.var('token_url')} to the final URL (the secret is not re-sent)."
        ),
    ),
    (
        lambda r: bool(_AUDIENCE_HINT.search(f"{r.error} {r.description}")),
        InvalidClientError,
        lambda r: (
            f"The token endpoint {r.url} does not accept the audience "
            f"{r.credentials.audience!r} ({r.detail}); check {r.var('audience')}: it must be the "
            "environment's base URL exactly, trailing slash included."
        ),
    ),
    (
        lambda r: bool(r.credentials.scope) and "scope" in r.description.lower(),
        TokenError,
        lambda r: (
            f"The token endpoint {r.url} refused the scope {r.credentials.scope!r} "
            f"({r.detail}); check {r.var('scope')}: ask only for scopes the client was granted, "
            "or none."
        ),
    ),
    (
        lambda r: (
            r.status in (401, 403)
            or r.error in ("access_denied", "invalid_client", "unauthorized_client")
        ),
        InvalidClientError,
        lambda r: (
            f"The token endpoint {r.url} refused client id {r.credentials.client_id!r} "
            f"({r.detail}). Check {r.var('client_id')} and {r.var('client_secret')}."
        ),
    ),
    (
        lambda r: True,
        TokenError,
        lambda r: (
            f"The token endpoint {r.url} refused the request ({r.detail}); check "
            f"{r.var('token_url')} and {r.var('audience')}."
        ),
    ),
)


def refusal_error(response: httpx.Response, credentials: Credentials) -> DeferredError:
    """A clear error for a non-200 answer, worded by the first matching row of ``REFUSALS``."""
    status = response.status_code
    # the server's words, the status line and the Location: a server that echoes the request
    # puts the form, secret included, in any of them
    error, description = (_quoted(t, credentials) for t in _oauth_error(response))
    status_text = _quoted(_status_text(response), credentials, 200)
    detail = f"{status} {error[:100]}: {description[:200]}" if error else status_text
    location = _quoted(response.headers.get("location", "elsewhere"), credentials, 500)
    refusal = Refusal(credentials, status, error, description, detail, location)
    kind, words = next((kind, words) for test, kind, words in REFUSALS if test(refusal))
    return DeferredError(
        kind,
        words(refusal),
        status=status,
        retry_after=response.headers.get("retry-after"),
        reason=f"answered {status_text}",
    )


def _quoted(text: str, credentials: Credentials, limit: int | None = None) -> str:
    """What the token endpoint said, fit to quote in an error: the secret masked in every
    spelling (before cutting, so that no part of it is left), one line, no control character
    or lone surrogate, at most ``limit`` characters. The server may echo anything it was sent."""
    forms = secret_forms(credentials.client_secret.get_secret_value(), credentials.client_id)
    return visible(scrub(text, *forms), one_line=True)[:limit]


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
    return (str(error) if error else ""), str(description)[:10_000]


def _status_text(response: httpx.Response) -> str:
    return f"{response.status_code} {response.reason_phrase}".strip()


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
