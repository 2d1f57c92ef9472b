"""No form of the client secret or the token in any log record of httpx, httpcore or ue-magic,
with logging at DEBUG and a server that echoes what it was sent in a header, a Set-Cookie and
its reason phrase, and the secret in every encoding the reachability audit knows."""

from __future__ import annotations

import base64
import html
import json
import logging
import socket
from urllib.parse import parse_qs, quote

import pytest

from tests.security.reach import secret_forms
from tests.security.servers import TOKEN_PATH, Seen, new_token, serving
from ue_magic import Credentials, TokenManager, UsageEngineClient
from ue_magic.core.credentials import Secret

SECRET = 's3cr3t/+=&"<>%ZZSECRETZZ'
TOKEN = new_token()


def _echo(conn: socket.socket, status: int, echoed: str, plain: str, body: dict) -> None:
    """``echoed`` (what came in) in the reason, a header and a cookie, and in base64 at the
    alignment it has; ``plain`` (the decoded value) in base64, both alphabets, JSON-escaped
    (as needed and every character), URL-encoded all in lower case and in part, HTML-escaped,
    in hex and upper-cased in other headers."""
    raw = plain.encode()
    data = json.dumps(body).encode()
    lower = quote(plain, safe="").lower()
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in plain)
    head = (
        f"HTTP/1.1 {status} echo {echoed} {lower}\r\n"
        f"X-Lower: {lower}\r\n"
        f"X-Partial: {quote(plain, safe='/+=&')}\r\n"
        f"X-Html: {html.escape(plain)}\r\n"
        f"X-Hex: {raw.hex()}\r\n"
        f"X-Upper: {plain.upper()}\r\n"
        f"X-Uesc: {escaped}\r\n"
        f"X-B64-Echoed: {base64.b64encode(echoed.encode()).decode()}\r\n"
        f"X-Echo: {echoed}\r\n"
        f"Set-Cookie: form={echoed}; Path=/\r\n"
        f"X-B64: {base64.b64encode(raw).decode()}\r\n"
        f"X-B64url: {base64.urlsafe_b64encode(raw).decode().rstrip('=')}\r\n"
        f"X-Json: {json.dumps(plain)[1:-1]}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    conn.sendall(head.encode("latin-1") + data)


def echoing(seen: Seen, conn: socket.socket) -> None:
    if seen.target.startswith(TOKEN_PATH):
        form = seen.body.decode()
        secret = parse_qs(form)["client_secret"][0]
        grant = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}
        _echo(conn, 200, form, secret, grant)
    else:
        authorization = seen.headers.get("authorization", "")
        _echo(conn, 200, authorization, authorization.removeprefix("Bearer "), {"ok": True})


def leaks(record: logging.LogRecord, forms: list[bytes]) -> list[str]:
    shown = logging.Formatter("%(name)s %(message)s").format(record)
    texts = [shown, repr(record.args), record.exc_text or "", record.stack_info or ""]
    return [f"{record.name}: {form!r}" for form in forms for t in texts if form.decode() in t]


def test_no_form_of_the_secret_or_the_token_in_any_log_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    forms = [*secret_forms(SECRET), *secret_forms(TOKEN)]
    with serving(echoing) as server:
        url = server.url
        creds = Credentials("my-client", Secret(SECRET), "eu", url, url, url + "oauth/token")
        with UsageEngineClient(creds) as ue:
            assert ue.get("echo").status_code == 200
    records = [r for r in caplog.records if r.name.split(".")[0] in ("httpx", "httpcore")]
    # the records that used to carry the echoes are there: headers (DEBUG) and the status (INFO)
    assert any("receive_response_headers.complete" in r.getMessage() for r in records)
    statuses = [m for r in records if r.name == "httpx" and "200 echo " in (m := r.getMessage())]
    assert len(statuses) == 2 and all("***" in status for status in statuses)
    assert [leak for record in caplog.records for leak in leaks(record, forms)] == []


def test_an_exception_logged_with_the_secret_in_its_text_is_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    manager = TokenManager(
        Credentials("my-client", Secret(SECRET), "eu", *["http://127.0.0.1:9/"] * 3),
        max_attempts=1,
    )
    encoded = base64.b64encode(SECRET.encode()).decode()
    try:
        raise ValueError(f"the server said {encoded}")
    except ValueError:
        logging.getLogger("ue_magic").exception("failed with %s", json.dumps(SECRET))
    record = caplog.records[-1]
    assert leaks(record, secret_forms(SECRET)) == []
    assert record.getMessage() == 'failed with "***"'
    assert "the server said ***" in (record.exc_text or "")
    manager.close()
