"""What a response may hold once ue-magic hands it back: no token, anywhere inside it.

A response lands in ``_ue``, ``Out[n]``, ``-o`` results, ``BulkResult.responses`` and raised
errors, and users keep (and ``%store``) it. httpx leaves the live token in several places: the
request's Authorization header, the ``next_request`` of an unfollowed redirect, and httpcore's
own copy of the request inside the response's (finished) transport stream. An API that echoes
the header puts it in the body, a header, the status line's reason phrase, a redirect's
``Location`` (then in ``next_request``'s URL) or a cookie (then in the client's cookie jar, and in
the ``Cookie`` header of every later request). ``keep`` removes all of them, from the response
and from each one in its ``history``; ``forget_echoed_cookies`` empties the jar of them.

A body is masked as its readers decode it too (``_echo_decoded``: a UTF-16 body, a token's
letters written as JSON escapes).

httpx logs each answer's reason phrase (INFO) and httpcore its headers (DEBUG), before ``keep``
sees them: ``_log_mask`` masks them there.

What a kept answer shows at the prompt is terminal-safe too: its reason phrase (in
``repr(_ue)``; a server's ESC, BEL or C1 control is no valid reason phrase) is kept as
``visible`` shows it, and its request's repr shows a password in the URL as ``***``. The request's
``url`` itself stays the URL it went to: the next page's link is joined to it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from http.cookiejar import Cookie

import httpx

from .._constants import BEARER_MASK
from ._echo_decoded import mask_decoded
from ._forms import Needles, scrub, scrub_bytes, secret_forms
from ._httpx_private import become, replace_body
from ._media import settle_encoding
from ._visible import visible
from .credentials import without_password

__all__ = ["KeptRequest", "forget_echoed_cookies", "keep", "mask_request", "scrub_tokens"]

_KEPT_EXTENSIONS = ("http_version", "reason_phrase")


class KeptRequest(httpx.Request):
    """A kept request (``_ue.request``): its repr shows a password in the URL as ``***``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.method!r}, {without_password(self.url)!r})>"


def mask_request(request: httpx.Request) -> None:
    """Replace the bearer token on a request we are done with (one already masked is left as
    it is: a request is masked after each try and again when kept)."""
    value = request.headers.get("authorization")
    if value is not None and value != BEARER_MASK:
        request.headers["Authorization"] = BEARER_MASK


def keep(response: httpx.Response, tokens: Iterable[str]) -> httpx.Response:
    """``response`` (changed in place) without the token: masked requests, no transport objects.

    ``tokens``: the token values that may have been sent with it (each of 8 characters or more
    is masked as ``***`` wherever the answer echoes it, in the body or a header). The body must
    have been read or closed; a body never read is kept as empty.
    """
    # a token under 8 characters ("1", "true", "id") would be found in ordinary answers, and
    # masking it there would change their data: it is not looked for
    needles = tuple(form for token in tokens if len(token) >= 8 for form in secret_forms(token))
    for each in (*response.history, response):
        _keep_one(each, needles)
    return response


def forget_echoed_cookies(cookies: httpx.Cookies, tokens: Iterable[str]) -> None:
    """Drop the cookies that hold a token anywhere (a server set it from the header): name,
    value, path, domain, port, comment, comment URL or an attribute the jar does not know, so
    the jar neither keeps the token nor sends it back in the ``Cookie`` header."""
    texts = [token for token in tokens if token]
    for cookie in list(cookies.jar):
        parts = list(_cookie_texts(cookie))
        # as in ``scrub``: a text shorter than 8 characters only counts when whole
        if any(scrub(part, *texts) != part for part in parts):
            cookies.jar.clear(cookie.domain, cookie.path, cookie.name)


def _cookie_texts(cookie: Cookie) -> Iterator[str]:
    """Every text a cookie holds: its attributes, and the names and values of those the jar
    does not know (kept in ``_rest``)."""
    for key, value in vars(cookie).items():
        if isinstance(value, str):
            yield value
        elif key == "_rest" and isinstance(value, dict):
            for name, text in value.items():
                yield str(name)
                yield "" if text is None else str(text)


def _keep_one(response: httpx.Response, needles: tuple[str, ...]) -> None:
    mask_request(response.request)
    _shown_safely(response.request)
    if response.next_request is not None:
        mask_request(response.next_request)
        _shown_safely(response.next_request)
        location = str(response.next_request.url).encode("ascii", "replace")
        masked_location = scrub_tokens(location, needles)
        if masked_location is not location:
            response.next_request.url = httpx.URL(masked_location.decode("ascii"))
    response.extensions = {
        key: response.extensions[key] for key in _KEPT_EXTENSIONS if key in response.extensions
    }
    reason = response.extensions.get("reason_phrase")
    if isinstance(reason, bytes):
        reason = scrub_tokens(reason, needles)
        # ESC, BEL and C1 controls as escapes (httpx's reason_phrase drops bytes over 0x7f)
        shown = visible(reason.decode("latin-1"), one_line=True)
        response.extensions["reason_phrase"] = shown.encode("latin-1")
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = b""
    if content:
        settle_encoding(response)  # a charset .text cannot read (base64, idna): UTF-8
    masked = mask_decoded(response, scrub_tokens(content, needles), needles)
    if masked is not content:
        # httpx keeps the read body in ``_content`` (and the decoded text in ``_text``): the
        # masked body must be the one every reader sees, .json() and .text included
        replace_body(response, masked)
    response.stream = httpx.ByteStream(masked)  # drops httpcore's stream and its request copy
    items = response.headers.multi_items()
    finder = _finder(needles)
    if finder is not None and not finder.in_bytes(_joined(items)):
        return  # most answers: one search of the names and values, none holds a token
    kept = _masked_across([(scrub(n, *needles), scrub(v, *needles)) for n, v in items], needles)
    if kept != items:
        response.headers = httpx.Headers(kept)


def _masked_across(items: list[tuple[str, str]], needles: tuple[str, ...]) -> list[tuple[str, str]]:
    """``items`` with every header that holds part of a token split across headers (``x-a:
    tok.ZZTO``, ``x-b: KENZZ...``) shown as ``***``."""
    lines = [value for _, value in items]  # the values alone: a token split between them
    joined = "\n".join(lines)
    masked = scrub(joined, *needles)
    if masked == joined:
        return items
    start = next(n for n, (a, b) in enumerate(zip(joined, masked, strict=False)) if a != b)
    tail = next(
        n for n, (a, b) in enumerate(zip(joined[::-1], masked[::-1], strict=False)) if a != b
    )
    end, at, kept = len(joined) - tail, 0, []
    for line, item in zip(lines, items, strict=True):
        touched = at < end and start < at + len(line)
        kept.append((item[0], "***") if touched else item)
        at += len(line) + 1
    return kept


def _shown_safely(request: httpx.Request) -> None:
    """The request as a ``KeptRequest`` (the same object and fields; only its repr differs)."""
    if type(request) is httpx.Request:
        become(request, KeptRequest)


def _joined(items: list[tuple[str, str]]) -> bytes:
    """The headers' values, then their names, as one text (a token may be in a name, or split
    across two values)."""
    values = "\n".join(value for _, value in items)
    names = "\n".join(name for name, _ in items)
    return f"{values}\n{names}".encode("latin-1", "replace")


@functools.lru_cache(maxsize=64)
def _finder(needles: tuple[str, ...]) -> Needles | None:
    """The tokens' spellings made ready to be looked for (``Needles``), once per token; None
    when one is shorter than 8 characters (``scrub`` masks those as whole words only)."""
    if any(len(needle) < 8 for needle in needles):
        return None
    return Needles(needles)


def scrub_tokens(data: bytes, needles: Iterable[str]) -> bytes:
    """``data`` with every needle (``secret_forms`` of a token) masked as ``***``, escaped or
    not (``_forms.scrub``); the same object when none is in it."""
    needles = tuple(needles)
    if not needles:
        return data
    finder = _finder(needles)
    if finder is not None and not finder.in_bytes(data):
        return data
    return scrub_bytes(data, needles)
