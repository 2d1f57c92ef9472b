"""Every place ue-magic reaches into httpx's or httpcore's private attributes, in one module.

httpx offers no public seam for these; each is kept for a reason worth the risk, and
``tests/package/test_httpx_internals.py`` pins each name so an httpx release that renames one
fails loudly (and by name) instead of silently dropping a safeguard:

- ``pool_backends`` / ``Client._transport``, ``_mounts``, ``HTTPTransport._pool``,
  ``ConnectionPool._network_backend``: a deadline on every socket read (``--timeout`` is a
  deadline for the whole answer; a server that drips a byte a second would outlast a per-read
  timeout). Without them the deadline still holds between body chunks.
- ``bound_decoder`` / ``Response._get_content_decoder`` and its cached ``_decoder``: the size
  limit counts decoded bytes of a compressed answer (a gzip bomb). Without them an encoded
  answer is refused rather than decoded without a bound.
- ``replace_jar`` / ``Client._cookies``: a jar that skips answers which set no cookie
  (profiled: about 28 µs an answer, the biggest cost of a small answer after the socket).
- ``replace_body`` / ``Response._content`` and ``_text``: a kept response's body with echoed
  tokens masked, for every reader (``.content``, ``.text``, ``.json()``).
- ``h11_state`` / the streams' ``_stream``, ``_httpcore_stream``, ``_connection`` and
  ``HTTP11Connection._h11_state``: bytes a server sent past the end of an answer, already in
  h11's buffer, so the connection is not reused and they are never read as the next request's
  answer. Without them nothing is done (httpcore still drops an idle connection that turns
  readable).
- ``become`` / ``Response.__class__`` and ``Request.__class__``: the responses the client returns
  are ``ApiResponse``, whose ``raise_for_status()`` message carries the API's reason, and a kept
  answer's requests are ``KeptRequest``, whose repr hides a URL's password; each object stays
  httpx's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx

_Http = TypeVar("_Http", httpx.Request, httpx.Response)

__all__ = [
    "become",
    "bound_decoder",
    "h11_state",
    "pool_backends",
    "pools",
    "replace_body",
    "replace_jar",
    "set_pool_backend",
]


def pools(client: httpx.Client) -> list[Any]:
    """The connection pool of each of the client's transports (None for one without)."""
    transports = [client._transport, *client._mounts.values()]
    return [getattr(transport, "_pool", None) for transport in transports if transport]


def pool_backends(client: httpx.Client) -> Iterator[tuple[Any, Any]]:
    """(connection pool, its network backend) of each of the client's transports that has one."""
    for pool in pools(client):
        backend = getattr(pool, "_network_backend", None)
        if backend is not None:
            yield pool, backend


def set_pool_backend(pool: Any, backend: Any) -> None:
    pool._network_backend = backend


def bound_decoder(response: httpx.Response, wrap: Callable[[Any], Any]) -> bool:
    """Make ``wrap(httpx's decoder)`` the decoder ``response`` uses; False when httpx has no
    such seam (the caller then refuses the encoded answer)."""
    get_decoder = getattr(response, "_get_content_decoder", None)
    if get_decoder is None:
        return False
    vars(response)["_decoder"] = wrap(get_decoder())
    return True


def h11_state(stream: Any) -> Any:
    """The h11 connection under an answer's body stream (httpx's stream -> httpcore's pool
    stream -> the HTTP/1.1 connection), or None (HTTP/2, another transport or version)."""
    connection = None
    for _ in range(4):
        connection = getattr(stream, "_connection", None)
        if connection is not None:
            break
        stream = getattr(stream, "_httpcore_stream", None) or getattr(stream, "_stream", None)
    return getattr(connection, "_h11_state", None)


def replace_jar(client: httpx.Client, jar: httpx.Cookies) -> None:
    """Make ``jar`` the client's (httpx's ``cookies`` setter would copy it into a plain one)."""
    if hasattr(client, "_cookies"):
        client._cookies = jar


def replace_body(response: httpx.Response, content: bytes) -> None:
    """The read body every reader sees (``.content``, ``.text``, ``.json()``)."""
    response._content = content
    response.__dict__.pop("_text", None)


def become(instance: _Http, cls: type[_Http]) -> _Http:
    """``instance`` (a response or a request) as an instance of ``cls``, a subclass that adds
    or changes methods only."""
    instance.__class__ = cls
    return instance
