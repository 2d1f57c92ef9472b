"""A server that echoes the token outside the body and the headers: in the status line's reason
phrase, in a redirect's Location, in a cookie. Kept responses, the errors they raise and the
client's cookie jar hold no token afterwards, and no later request carries it back."""

from __future__ import annotations

import base64
import logging
import pickle
import socket

import httpx
import pytest

from tests.security.reach import find, secret_forms
from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import UsageEngineClient
from ue_magic.core.token import _Token

TOKEN = "tok-" + "e" * 40


def echoing(seen: Seen, conn: socket.socket) -> None:
    """Each path echoes the bearer token in one more place of its answer."""
    token = seen.headers.get("authorization", "").rpartition(" ")[2]
    path = seen.target.split("?")[0]
    if seen.target == TOKEN_PATH:
        token_answer(conn, TOKEN)
    elif path == "/reason":
        conn.sendall(f"HTTP/1.1 403 rejected {token}\r\nContent-Length: 2\r\n\r\n{{}}".encode())
    elif path == "/moved":
        answer(conn, 307, b"", (("Location", f"/new?seen={token}"),))
    elif path == "/spelled":
        answer(conn, 200, spelled(token, seen.headers.get("authorization", "")))
    elif path == "/cookie":
        answer(conn, 200, {"ok": True}, (("Set-Cookie", f"seen={token}; Path=/"),))
    else:
        answer(conn, 200, {"cookie": seen.headers.get("cookie", "")})


def spelled(token: str, authorization: str) -> dict[str, str]:
    """The token in base64 (alone, and inside the header's base64, at another alignment; both
    alphabets), in hex, upper-cased."""
    return {
        "b64tok": base64.b64encode(token.encode()).decode(),
        "b64auth": base64.b64encode(authorization.encode()).decode(),
        "b64url": base64.urlsafe_b64encode(b"at " + token.encode()).decode(),
        "hex": token.encode().hex(),
        "upper": token.upper(),
    }


def places(roots: dict[str, object]) -> list[str]:
    found, _ = find(roots, {"token": secret_forms(TOKEN)}, (_Token,))
    return found


def test_echoed_token_in_other_spellings_in_a_kept_body_is_masked() -> None:
    with serving(echoing) as server, UsageEngineClient(creds_for(server)) as ue:
        response = ue.get("spelled")
    shown = [repr(response), response.text, repr(response.json()), pickle.dumps(response)]
    assert set(response.json()) == {"b64tok", "b64auth", "b64url", "hex", "upper"}
    assert [f for f in secret_forms(TOKEN) for text in shown if f in _bytes(text)] == []
    assert places({"response": response}) == []


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def test_echoed_token_in_the_reason_phrase_is_masked() -> None:
    with serving(echoing) as server, UsageEngineClient(creds_for(server)) as ue:
        response = ue.get("reason")
        with pytest.raises(httpx.HTTPStatusError) as raised:
            response.raise_for_status()
    assert response.status_code == 403 and response.reason_phrase == "rejected ***"
    assert TOKEN not in repr(response) and TOKEN not in str(raised.value)
    assert places({"response": response, "error": raised.value}) == []


def test_echoed_token_in_a_redirect_location_is_masked() -> None:
    with serving(echoing) as server, UsageEngineClient(creds_for(server)) as ue:
        response = ue.get("moved")
    assert response.status_code == 307 and response.next_request is not None
    assert response.next_request.url.params["seen"] == "***"
    assert TOKEN.encode() not in pickle.dumps(response)
    assert places({"response": response}) == []


def test_echoed_token_in_a_cookie_is_not_kept_nor_sent_back() -> None:
    with serving(echoing) as server, UsageEngineClient(creds_for(server)) as ue:
        first = ue.get("cookie")
        later = ue.get("other")
        assert TOKEN not in str(dict(ue._http.cookies))
        assert places({"client": ue, "first": first, "later": later}) == []
    assert later.json() == {"cookie": ""}  # the jar did not send the token back
    assert TOKEN not in later.request.headers.get("cookie", "")
    assert first.cookies.get("seen") == "***"


def test_echoed_tokens_and_the_secret_are_masked_in_httpx_and_httpcore_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A user who turns logging on sees httpx's reason phrases (INFO) and httpcore's headers
    (DEBUG), logged before ue-magic gets the answer: the echoed token is masked there too."""
    with serving(echoing) as server:
        creds = creds_for(server)
        secret = creds.client_secret.get_secret_value()
        with caplog.at_level(logging.DEBUG), UsageEngineClient(creds) as ue:
            ue.get("reason")
            ue.get("cookie")
            ue.get("moved")
            logging.getLogger("httpx").info("echo of the secret: %s", secret)
    logged = caplog.text + "".join(str(r.msg) + repr(r.args) for r in caplog.records)
    assert "rejected ***" in logged and "HTTP Request" in logged  # the records are there
    assert "seen=***" in logged  # httpcore's headers, masked
    assert TOKEN not in logged and secret not in logged
