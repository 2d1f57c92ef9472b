"""The httpx/httpcore internals ue-magic reaches into (all in ``core/_httpx_private.py``),
checked by name so an httpx upgrade that renames one fails here, naming it, rather than
silently dropping the deadline per read, the bound on decoded bytes, the quick cookie jar, the
masked body, the API's reason in ``raise_for_status`` or the check for bytes after an answer."""

from __future__ import annotations

import gzip
import inspect
from pathlib import Path

import h11
import httpcore
import httpx

import ue_magic
from ue_magic.core import _httpx_private
from ue_magic.core._http import http_client, reads_seen
from ue_magic.core._response import ApiResponse, explained
from ue_magic.sandbox import Sandbox


def gone(owner: str, name: str) -> str:
    return (
        f"httpx {httpx.__version__} / httpcore {httpcore.__version__} has no {owner}.{name}, "
        "which ue-magic relies on; update ue_magic/core/_httpx_private.py and pin httpx "
        "until then."
    )


def test_the_pools_and_their_network_backends_are_reachable() -> None:
    client = http_client(["http://127.0.0.1:1/"])
    try:
        assert hasattr(client, "_transport"), gone("Client", "_transport")
        assert hasattr(client, "_mounts"), gone("Client", "_mounts")
        found = list(_httpx_private.pool_backends(client))
        assert found, gone("HTTPTransport", "_pool._network_backend")
        for _pool, backend in found:  # ours sits under httpcore's own backend
            assert type(backend).__name__ == "_DeadlineBackend"
            assert isinstance(backend, httpcore.NetworkBackend)
        # every transport's pool is found: the deadline stream sees every read (no trace needed)
        assert len(_httpx_private.pools(client)) == len(found)
        assert reads_seen(client)
    finally:
        client.close()


def test_the_decoder_seam_bounds_a_compressed_answer() -> None:
    body = gzip.compress(b"x" * 1000)
    response = httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=body)
    assert hasattr(response, "_get_content_decoder"), gone("Response", "_get_content_decoder")
    seen: list[int] = []

    class Counting:
        def __init__(self, decoder: object) -> None:
            self.decoder = decoder

        def decode(self, data: bytes) -> bytes:
            out: bytes = self.decoder.decode(data)  # type: ignore[attr-defined]
            seen.append(len(out))
            return out

        def flush(self) -> bytes:
            out: bytes = self.decoder.flush()  # type: ignore[attr-defined]
            seen.append(len(out))
            return out

    fresh = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(body))
    assert _httpx_private.bound_decoder(fresh, Counting)
    fresh.read()
    assert sum(seen) == 1000, gone("Response", "_decoder (the cached decoder)")


def test_the_cookie_jar_can_be_replaced() -> None:
    client = httpx.Client()
    try:
        jar = httpx.Cookies()
        _httpx_private.replace_jar(client, jar)
        assert client.cookies is jar, gone("Client", "_cookies")
    finally:
        client.close()


def test_a_read_body_can_be_replaced_for_every_reader() -> None:
    response = httpx.Response(200, json={"token": "secret"})
    assert response.text  # caches _text
    _httpx_private.replace_body(response, b'{"token": "***"}')
    assert response.content == b'{"token": "***"}', gone("Response", "_content")
    assert response.text == '{"token": "***"}', gone("Response", "_text")
    assert response.json() == {"token": "***"}


def test_a_response_can_become_an_api_response() -> None:
    request = httpx.Request("GET", "https://example.test/x")
    response = explained(httpx.Response(404, json={"message": "no such meter"}, request=request))
    assert type(response) is ApiResponse
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as error:
        assert "no such meter" in str(error)
    else:
        raise AssertionError("a 404 must raise")


def test_the_h11_connection_under_an_answer_is_reachable(sandbox: Sandbox) -> None:
    # a real socket: the streams httpx and httpcore put between an answer and its connection
    with httpx.Client() as client, client.stream("GET", sandbox.jwks_url) as response:
        state = _httpx_private.h11_state(response.stream)
        assert isinstance(state, h11.Connection), gone("HTTP11Connection", "_h11_state")
        assert isinstance(state.trailing_data, tuple)  # h11's own API from here on
        response.read()


def test_no_other_module_reaches_into_httpx_privately() -> None:
    """Named in one place: no ``._transport``, ``._content``, ``__class__ =`` elsewhere."""
    root = Path(ue_magic.__file__).parent
    names = ("._transport", "._mounts", "._pool", "_network_backend", "._cookies", "._content")
    names += ("__class__ =", "_get_content_decoder", '["_decoder"]')
    names += ('"_connection"', '"_httpcore_stream"', '"_h11_state"')
    for path in root.rglob("*.py"):
        if path.name == "_httpx_private.py" or "sandbox" in path.parts:
            continue
        text = path.read_text()
        for name in names:
            assert name not in text, f"{path.relative_to(root)} uses {name}"
    assert all(
        f in inspect.getsource(_httpx_private) for f in ("_transport", "_content", "__class__")
    )
