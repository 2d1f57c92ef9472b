"""No request leaves with a secret it must not carry.

A value can reach a login's client secret or a live token by a path nobody planned (a
placeholder through ``os.environ``, a variable the user copied it into, a header written by
hand). Before a request is built for sending or shown as a preview, its URL, headers and body
are searched for the client secret of every live login (in every spelling ``_forms`` knows) and
for their tokens outside the ``Authorization`` header; a request that holds one is refused with
``SecretInRequestError`` and its text is not shown. The token request, which must carry the
secret, is built by ``_oauth`` and never comes here.

Cheap on purpose: the forms are computed once per secret, and a few substring tests rule a
request out before any pattern runs (``_forms.holds_bytes``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Protocol

import httpx

from ..errors import SecretInRequestError
from ._forms import Needles, scrub, secret_forms
from ._log_mask import live_holders

__all__ = ["holds_live_secret", "refuse_secrets", "scrub_live"]


class _Login(Protocol):
    def _sent_secrets(self) -> tuple[tuple[str, str], tuple[str, ...]]: ...


@functools.lru_cache(maxsize=64)
def _forms(value: str, client_id: str = "") -> tuple[str, ...]:
    return secret_forms(value, client_id)


Key = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]


def _key(own: _Login | None) -> Key:
    """Every live login's (client secret, client id), and their tokens."""
    secrets: set[tuple[str, str]] = set()
    tokens: set[str] = set()
    for login in _logins(own):
        secret, live = login._sent_secrets()
        if secret[0]:
            secrets.add(secret)
        tokens.update(t for t in live if t)
    return tuple(sorted(secrets)), tuple(sorted(tokens))


@functools.lru_cache(maxsize=16)
def _needles(key: Key) -> tuple[Needles, Needles]:
    """The client secrets' forms, and those with the tokens' forms: computed once per key."""
    secrets, tokens = key
    secret_texts = tuple(f for value, client_id in secrets for f in _forms(value, client_id))
    token_texts = tuple(f for token in tokens for f in _forms(token))
    return Needles(secret_texts), Needles(secret_texts + token_texts)


def scrub_live(text: str) -> str:
    """``text`` with the client secret and the tokens of every live login masked as ``***``
    (a value of the user's that holds one, shown in a report of what was not sent)."""
    secrets, tokens = _key(None)
    forms = [f for value, client_id in secrets for f in _forms(value, client_id)]
    forms += [f for token in tokens for f in _forms(token)]
    return scrub(text, *forms) if forms else text


def holds_live_secret(value: str | bytes | bytearray) -> bool:
    """Whether ``value`` holds the client secret or a token of a live login, in any spelling
    (a text a placeholder must not take characters or slices of: each part alone would not be
    recognised when sent)."""
    key = _key(None)
    if not key[0] and not key[1]:
        return False
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
    return _needles(key)[1].in_bytes(data)


_CHECKED = "ue_magic.checked"  # a request extension: what was checked (httpcore ignores it)


def _fingerprint(request: httpx.Request) -> tuple[object, ...]:
    return str(request.url), tuple(request.headers.raw), request.stream


def refuse_secrets(request: httpx.Request, own: _Login | None = None) -> None:
    """Raise ``SecretInRequestError`` if ``request`` holds the client secret of a live login
    (anywhere, the Authorization header included) or one of their tokens outside the
    Authorization header; return None otherwise. ``own``: the sending login, looked at even if
    it is not registered for the log filter."""
    checked = request.extensions.get(_CHECKED)
    if checked is not None and checked == _fingerprint(request):
        return  # built by the client and checked then, unchanged since: sent at once
    key = _key(own)
    if not key[0] and not key[1]:
        return
    secret, every = _needles(key)
    raw = request.headers.raw
    url = str(request.url).encode("utf-8", "replace")
    # joined by NUL, which no header value holds: not a line break (a break makes the search
    # look again with the breaks taken out) and no secret across two values; the URL apart, as
    # it changes from request to request and the headers mostly do not (``Needles`` remembers)
    headers = b"\0".join(v for n, v in raw if n.lower() != b"authorization")
    authorization = b"\0".join(v for n, v in raw if n.lower() == b"authorization")
    body = _body(request)
    if every.in_bytes(url):
        where, data = "URL", url
    elif every.in_bytes(headers):
        where, data = "headers", headers
    elif authorization and secret.in_bytes(authorization):
        where, data = "Authorization header", authorization
    elif body and every.in_bytes(body):
        where, data = "body", body
    else:
        request.extensions[_CHECKED] = _fingerprint(request)
        return
    what = "the client secret" if secret.in_bytes(data) else "an access token"
    raise SecretInRequestError(
        f"The request would carry {what} (in its {where}); not sent. A placeholder or a value "
        "reached it: send the value you meant instead."
    )


def _logins(own: _Login | None) -> Iterable[_Login]:
    holders: list[_Login] = list(live_holders())
    if own is not None and own not in holders:
        holders.append(own)
    return holders


def _body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:  # a stream given through the Python API: not read here
        return b""
