"""The httpx.Client under both the API client and the token manager: proxies and answer limits.

Two promises hold for every request ue-magic sends, so they live in the one place that makes
the HTTP clients:

- **Loopback is never proxied.** A ``HTTP_PROXY`` set for the company network must not receive
  the secret and the tokens in clear text on their way to the sandbox or an SSH tunnel on
  127.0.0.1. A SOCKS proxy in the environment without ``socksio`` installed only matters when
  it would carry one of our URLs: then one sentence says what to install.
- **Every answer is bounded.** A ``Budget`` is a deadline for the whole answer (connecting,
  headers and body, however slowly a server drips them) and a maximum size. httpx's timeouts
  are per read, so a server that sends a byte a second never trips them: while a request runs
  (``Budget.running``), every socket read and write of this client is cut to what is left
  before the deadline (``_DeadlineStream``, installed as httpcore's network backend), the
  request's ``timeout`` extension (the pool wait, the connect) is cut the same way, and the body
  is read through ``BoundedStream``, which stops at the deadline or past the size. The size
  counts the bytes that arrive and, for a compressed answer, the bytes they decode to, a
  bounded piece at a time (``_decoding``): a gzip bomb of one megabyte would otherwise become a
  gigabyte, and a stack of gzip layers far more.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from .._constants import DEFAULT_MAX_BYTES, TOKEN_MAX_BYTES
from ..errors import AnswerTooLargeError, ConfigurationError
from ._decoding import BoundedDecoder, codings, offered_codings, stacked_error
from ._httpx_private import (
    bound_decoder,
    h11_state,
    pool_backends,
    pools,
    replace_jar,
    set_pool_backend,
)
from .credentials import is_loopback_host

__all__ = [
    "DEFAULT_MAX_BYTES",
    "TOKEN_MAX_BYTES",
    "BoundedStream",
    "Budget",
    "bound_answer",
    "http_client",
    "reads_seen",
    "size_text",
]

_LOOPBACK_MOUNTS = ("all://localhost", "all://127.0.0.1", "all://[::1]")
_SHORTEST = 0.001  # seconds: what is left once the deadline has passed (0 would never time out)


class Budget(dict):  # type: ignore[type-arg,unused-ignore]
    """The ``timeout`` extension of one request: httpx's timeouts, cut to a deadline.

    ``seconds``: the whole answer's time, from ``start()``; ``max_bytes``: the most bytes of
    body read (None: no limit). ``expired()`` says whether the deadline has passed.
    """

    def __init__(
        self,
        timeouts: Mapping[str, float | None],
        seconds: float | None,
        max_bytes: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(timeouts)
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._clock = clock
        self.deadline = None if seconds is None else clock() + seconds
        # the answer began to be read, so the whole request was written (httpcore reads only
        # then): set by ``_DeadlineStream``, under a client whose reads it sees (``reads_seen``)
        self.answering = False

    @classmethod
    def start(
        cls,
        request: httpx.Request,
        max_bytes: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Budget:
        """Put a budget on ``request`` from now: its longest httpx timeout is the deadline."""
        timeouts = request.extensions.get("timeout") or {}
        if isinstance(timeouts, Budget):
            timeouts = dict(timeouts)
        limits = [value for value in timeouts.values() if value is not None]
        budget = cls(timeouts, max(limits) if limits else None, max_bytes, clock)
        request.extensions["timeout"] = budget
        return budget

    def left(self) -> float | None:
        """Seconds left before the deadline (at least a millisecond), None without one."""
        if self.deadline is None:
            return None
        return max(self.deadline - self._clock(), _SHORTEST)

    def expired(self) -> bool:
        return self.deadline is not None and self._clock() >= self.deadline

    def running(self) -> Budget:
        """``with budget.running():`` while the request is sent and read in this thread, socket
        reads obey the deadline (the budget is its own context manager: no generator, as
        ``contextlib`` would make, on every request)."""
        return self

    def __enter__(self) -> Budget:
        self._running = _RUNNING.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _RUNNING.reset(self._running)

    def get(self, key: str, default: Any = None) -> Any:
        """What httpcore asks before each operation: the timeout, less if the deadline is near."""
        value = super().get(key, default)
        left = self.left()
        if left is None:
            return value
        return left if value is None else min(value, left)


# the budget of the request this thread (or task) is sending, read by ``_DeadlineStream``
_RUNNING: ContextVar[Budget | None] = ContextVar("ue_magic_budget", default=None)


def _cut(timeout: float | None, reading: bool = False) -> float | None:
    """``timeout`` cut to what the running request's budget has left; past it, ReadTimeout.
    ``reading``: for a read (the budget notes that the answer is being read).

    Called for every socket read and write: one clock reading, as ``expired`` and ``left``
    would be two.
    """
    budget = _RUNNING.get()
    if budget is None:
        return timeout
    if reading:
        budget.answering = True
    if budget.deadline is None:
        return timeout
    left = budget.deadline - budget._clock()
    if left <= 0:
        raise httpcore.ReadTimeout("the whole answer took too long")
    left = max(left, _SHORTEST)
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits no longer than the budget allows."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _cut(timeout, reading=True))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _cut(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _cut(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with ``_DeadlineStream`` around each connection."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, _cut(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._backend.connect_unix_socket(path, _cut(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, which skips reading an answer that sets no cookie.

    httpx hands every answer to ``http.cookiejar``, which wraps it in ``urllib`` and ``email``
    objects first (profiled: about 28 µs a call, the biggest cost of a small answer after the
    socket); an answer without ``Set-Cookie`` (or ``Set-Cookie2``) headers cannot change the jar.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        for name, _ in response.headers.raw:
            if name.lower() in _SETS_COOKIES:
                super().extract_cookies(response)
                return


_SETS_COOKIES = (b"set-cookie", b"set-cookie2")


def _bound_reads(client: httpx.Client) -> None:
    """Put ``_DeadlineBackend`` under the client's connection pools.

    httpx offers no seam for this (``_httpx_private.pool_backends``); when the pools are not
    there (another transport, another version), the deadline still holds between body chunks
    (``BoundedStream``) and for the connect and the pool wait.
    """
    for pool, backend in pool_backends(client):
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(
            backend, _DeadlineBackend
        ):
            set_pool_backend(pool, _DeadlineBackend(backend))


def reads_seen(client: httpx.Client) -> bool:
    """Whether every transport of ``client`` reads through ``_DeadlineBackend`` (so a
    request's ``Budget.answering`` says whether its answer began to be read)."""
    backends = [backend for _, backend in pool_backends(client)]
    every = len(backends) == len(pools(client))  # a transport without a pool: not seen
    return every and all(isinstance(backend, _DeadlineBackend) for backend in backends)


class BoundedStream(httpx.SyncByteStream):
    """An answer's body, read until the budget's deadline or size is passed."""

    def __init__(
        self, stream: httpx.SyncByteStream, request: httpx.Request, budget: Budget
    ) -> None:
        self._stream = stream
        self._request = request
        self._budget = budget

    def __iter__(self) -> Iterator[bytes]:
        budget, read = self._budget, 0
        for chunk in self._stream:
            read += len(chunk)
            if budget.max_bytes is not None and read > budget.max_bytes:
                raise _too_large(self._request, budget.max_bytes)
            if budget.expired():
                raise httpx.ReadTimeout("the whole answer took too long", request=self._request)
            yield chunk

    def close(self) -> None:
        _drop_if_unread(self._stream)
        self._stream.close()


def _drop_if_unread(stream: object) -> None:
    """An answer must belong to the request that was sent: when the server sent more than the
    answer it is done with (a 204 followed by bytes, a Content-Length shorter than the body),
    the rest would be read as the next request's answer, so the connection is not reused.

    Bytes that arrive later are caught by httpcore itself (an idle connection that is readable
    is dropped); those already read into h11's buffer are seen here, through httpcore's private
    attributes (``_httpx_private.h11_state``); without them (another version), nothing is done.
    """
    state = h11_state(stream)
    trailing = getattr(state, "trailing_data", None)
    if isinstance(trailing, tuple) and trailing[0] and state is not None:
        # our side marked failed: httpcore closes the connection instead of pooling it
        state.send_failed()


def _bound_decoding(response: httpx.Response, budget: Budget) -> None:
    """Count the decoded bytes of a compressed answer too, against the size and the deadline,
    and check that it is whole (``_decoding.BoundedDecoder``); refuse a stack of codings.

    httpx has no public seam for the decoder (``_httpx_private.bound_decoder``). Without it
    (another httpx version), an encoded answer is refused rather than decoded without a bound.
    """
    names = codings(response)
    if not names:
        return
    if len(names) > 1:
        response.close()
        raise stacked_error(response, names)
    request, limit, decoded = response.request, budget.max_bytes, [0]

    def count(size: int) -> None:
        decoded[0] += size
        if limit is not None and decoded[0] > limit:
            raise _too_large(request, limit)
        if budget.expired():
            raise httpx.ReadTimeout("the whole answer took too long", request=request)

    if bound_decoder(response, lambda d: BoundedDecoder(names[0], d, request, count)):
        return
    if limit is not None:
        response.close()
        raise _too_large(request, limit)


def bound_answer(response: httpx.Response) -> None:
    """A response hook: read the body within the request's budget (if it has one)."""
    budget = response.request.extensions.get("timeout")
    if not isinstance(budget, Budget):
        return
    length = response.headers.get("content-length", "")
    if budget.max_bytes is not None and length.isdigit() and int(length) > budget.max_bytes:
        response.close()  # nothing is downloaded
        raise _too_large(response.request, budget.max_bytes, response.status_code)
    stream = response.stream
    assert isinstance(stream, httpx.SyncByteStream)
    response.stream = BoundedStream(stream, response.request, budget)
    _bound_decoding(response, budget)


def _too_large(
    request: httpx.Request, limit: int, status: int | None = None
) -> AnswerTooLargeError:
    where = f"{request.method} {request.url.copy_with(query=None)}"
    done = ""
    safe = request.method in ("GET", "HEAD", "OPTIONS")
    if not safe and status is not None and 200 <= status < 300:  # said before its body
        done = f" It answered {status}: the server has processed it; do not send it again."
    return AnswerTooLargeError(
        f"{where} answered more than {size_text(limit)}, the most ue-magic reads; ask for less "
        "(a filter or a smaller page), or raise the limit with --max-bytes N or "
        "%config UsageEngineMagics.max_bytes = N (max_bytes= in Python). It was not retried." + done
    )


def size_text(size: int) -> str:
    """'100 MB', '1.5 kB', '12 bytes' (decimal units, as a file browser shows them)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def http_client(urls: Iterable[str], **options: Any) -> httpx.Client:
    """An httpx.Client (``options`` as httpx takes them) that never proxies loopback.

    ``urls``: where it will send (the API URL, the token URL): loopback hosts among them are
    added to the hosts that go direct. Raises ``ConfigurationError`` when a SOCKS proxy in the
    environment would carry one of them and ``socksio`` is not installed.
    """
    urls = list(urls)
    hosts = {httpx.URL(url).host for url in urls}
    mounts: dict[str, httpx.BaseTransport | None] = dict.fromkeys(_LOOPBACK_MOUNTS)
    for host in sorted(h for h in hosts if is_loopback_host(h)):
        mounts[f"all://[{host}]" if ":" in host else f"all://{host}"] = None  # None: no proxy
    hooks = dict(options.pop("event_hooks", None) or {})
    hooks["response"] = [*hooks.get("response", []), bound_answer]
    missing = ""
    try:
        client = httpx.Client(mounts=mounts, trust_env=True, event_hooks=hooks, **options)
    except ImportError as error:  # httpx builds every environment proxy at once, SOCKS too
        missing = str(error)
    else:
        _bound_reads(client)
        _quick_cookies(client)
        _offer_bounded_codings(client)
        return client
    proxied = [url for url in urls if _proxied(httpx.URL(url))]
    if proxied or "socksio" not in missing:
        raise ConfigurationError(
            f"The proxy in the environment (ALL_PROXY, HTTPS_PROXY or HTTP_PROXY) for "
            f"{proxied[0] if proxied else 'these URLs'} is a SOCKS proxy, which needs the socksio "
            "package: pip install 'httpx[socks]', or add the host to NO_PROXY."
        )
    # none of our URLs goes through a proxy: leave the environment's proxies out
    client = httpx.Client(
        mounts=mounts,
        trust_env=False,
        verify=options.pop("verify", None) or httpx.create_ssl_context(trust_env=True),
        event_hooks=hooks,
        **options,
    )
    _bound_reads(client)
    _quick_cookies(client)
    _offer_bounded_codings(client)
    return client


def _offer_bounded_codings(client: httpx.Client) -> None:
    """Offer servers only the codings that are decoded within the size limit."""
    offered = client.headers.get("accept-encoding")
    if offered is not None:
        client.headers["Accept-Encoding"] = offered_codings(offered)


def _quick_cookies(client: httpx.Client) -> None:
    """The client's jar as a ``_Cookies`` (httpx's setter would make a plain one again)."""
    replace_jar(client, _Cookies(client.cookies))


def _proxied(url: httpx.URL) -> bool:
    """Whether the environment's proxy settings would send ``url`` through a proxy."""
    if is_loopback_host(url.host):
        return False
    proxies = urllib.request.getproxies()  # the environment's *_proxy variables, any case
    if not (proxies.get(url.scheme) or proxies.get("all")):
        return False
    host = url.host.lower()
    for entry in proxies.get("no", "").replace(" ", ",").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry.startswith("*."):
            entry = entry[2:]
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return False
    return True
