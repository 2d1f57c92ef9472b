"""Whether a request was written before its answer broke is known under any transport: under
ue-magic's own connection pools its deadline stream sees the answer being read, under a
transport of the caller's httpx's ``trace`` extension says so (installed only then: a trace
costs every request ten calls)."""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import httpx
import pytest

from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import UsageEngineClient
from ue_magic.errors import ApiConnectionError

CUT = b'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 50\r\n\r\n{"err'


class Passing(httpx.BaseTransport):
    """A transport of the caller's: httpx's own, behind a wrapper ue-magic cannot see into."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def respond(seen: Seen, conn: socket.socket) -> None:
    if seen.target == TOKEN_PATH:
        token_answer(conn, "tok-" + "t" * 40)
    elif seen.target == "/broken":
        conn.sendall(CUT)
        conn.shutdown(socket.SHUT_RDWR)
    else:
        answer(conn, 200, {"ok": True})


@pytest.mark.parametrize("own", [True, False], ids=["own-pools", "callers-transport"])
def test_a_broken_answer_says_the_request_was_sent(own: bool) -> None:
    traces: list[Any] = []
    with serving(respond) as server:
        transport = None if own else Passing()
        with UsageEngineClient(creds_for(server), transport=transport) as ue:
            ue._http.event_hooks["request"].append(
                lambda request: traces.append(request.extensions.get("trace"))
            )
            assert ue.get("fine").json() == {"ok": True}
            with pytest.raises(ApiConnectionError) as info:
                ue.post("broken", json={"a": 1})
    message = str(info.value)
    assert "POST" in message and "was sent, but its answer was broken" in message
    assert "the server may have processed it" in message
    assert "Could not reach" not in message
    # a trace only where the deadline stream cannot see the reads
    assert len(traces) == 2
    assert all(trace is None for trace in traces) if own else all(traces)


@pytest.mark.parametrize("own", [True, False], ids=["own-pools", "callers-transport"])
def test_an_api_that_is_not_there_was_not_reached(own: bool) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    gone = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    closed.close()
    with serving(respond) as server:
        creds = dataclasses.replace(creds_for(server), api_url=gone)
        with (
            UsageEngineClient(creds, transport=None if own else Passing()) as ue,
            pytest.raises(ApiConnectionError) as info,
        ):
            ue.post("x", json={"a": 1})
        assert [seen.target for seen in server.seen] == [TOKEN_PATH]  # the token came
    assert "Could not reach" in str(info.value)
    assert "was sent" not in str(info.value)
