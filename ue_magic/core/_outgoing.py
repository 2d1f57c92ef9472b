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
from ._forms import holds_bytes, scrub, secret_forms
from ._log_mask import live_holders

__all__ = ["refuse_secrets", "scrub_live"]


class _Login(Protocol):
    def _sent_secrets(self) -> tuple[tuple[str, str], tuple[str, ...]]: ...


@functools.lru_cache(maxsize=64)
def _forms(value: str, client_id: str = "") -> tuple[str, ...]:
    return secret_forms(value, client_id)


def _live(own: _Login | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The forms of every live login's client secret, and of their tokens."""
    secrets: set[tuple[str, str]] = set()
    tokens: set[str] = set()
    for login in _logins(own):
        secret, live = login._sent_secrets()
        if secret[0]:
            secrets.add(secret)
        tokens.update(t for t in live if t)
    secret_texts = tuple(
        f for value, client_id in sorted(secrets) for f in _forms(value, client_id)
    )
    return secret_texts, tuple(f for token in sorted(tokens) for f in _forms(token))


def scrub_live(text: str) -> str:
    """``text`` with the client secret and the tokens of every live login masked as ``***``
    (a value of the user's that holds one, shown in a report of what was not sent)."""
    secret_texts, token_texts = _live(None)
    return scrub(text, *secret_texts, *token_texts) if secret_texts or token_texts else text


def refuse_secrets(request: httpx.Request, own: _Login | None = None) -> None:
    """Raise ``SecretInRequestError`` if ``request`` holds the client secret of a live login
    (anywhere, the Authorization header included) or one of their tokens outside the
    Authorization header; return None otherwise. ``own``: the sending login, looked at even if
    it is not registered for the log filter."""
    secret_texts, token_texts = _live(own)
    if not secret_texts and not token_texts:
        return
    every = secret_texts + token_texts
    headers = [(name.lower(), value) for name, value in request.headers.raw]
    parts = [
        ("URL", str(request.url).encode("utf-8", "replace"), every),
        ("headers", b"\n".join(v for n, v in headers if n != b"authorization"), every),
        (
            "Authorization header",
            b"\n".join(v for n, v in headers if n == b"authorization"),
            secret_texts,
        ),
        ("body", _body(request), every),
    ]
    for where, data, forms in parts:
        if data and holds_bytes(data, *forms):
            what = "the client secret" if holds_bytes(data, *secret_texts) else "an access token"
            raise SecretInRequestError(
                f"The request would carry {what} (in its {where}); not sent. A placeholder or "
                "a value reached it: send the value you meant instead."
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
