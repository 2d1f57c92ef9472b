"""A token endpoint that echoes the form (secret included) outside its JSON error: in the status
line's reason phrase, in a redirect's Location, in a cookie. The error shows none of it in any
encoding, and no object the token manager keeps holds it."""

from __future__ import annotations

import base64
import html
import json
import socket
from collections.abc import Callable
from urllib.parse import parse_qs, quote

import pytest

from tests.security.reach import find, secret_forms
from tests.security.servers import Seen, answer, serving, token_answer
from tests.security.test_token_answers import SECRET, creds_for
from ue_magic import TokenManager
from ue_magic.core.credentials import Secret
from ue_magic.errors import TokenError


def in_reason(seen: Seen, conn: socket.socket) -> None:
    reason = f"bad {seen.body.decode()}"
    conn.sendall(f"HTTP/1.1 401 {reason}\r\nContent-Length: 2\r\n\r\n{{}}".encode())


def in_location(seen: Seen, conn: socket.socket) -> None:
    answer(conn, 307, b"", (("Location", f"/elsewhere?{seen.body.decode()}"),))


def in_cookie_refused(seen: Seen, conn: socket.socket) -> None:
    cookie = ("Set-Cookie", f"form={seen.body.decode()}; Path=/")
    answer(conn, 401, {"error": "invalid_client"}, (cookie,))


def in_cookie_granted(seen: Seen, conn: socket.socket) -> None:
    answer(
        conn,
        200,
        {"access_token": "tok-" + "c" * 40, "token_type": "Bearer", "expires_in": 3600},
        (("Set-Cookie", f"form={seen.body.decode()}; Path=/"),),
    )


def spelled_otherwise(seen: Seen, conn: socket.socket) -> None:
    """The secret as a server may spell it: URL-encoded in lower case or in part, HTML-escaped,
    in hex, every character JSON-escaped, upper-cased; the whole form in base64. In the JSON
    error (shown to the user), in headers and in the reason phrase."""
    secret = parse_qs(seen.body.decode())["client_secret"][0]
    spellings = {
        "lower": quote(secret, safe="").lower(),
        "partial": quote(secret, safe="/+=&"),
        "html": html.escape(secret),
        "hex": secret.encode().hex(),
        "uesc": "".join(f"\\u{ord(ch):04x}" for ch in secret),
        "upper": secret.upper(),
        "b64form": base64.b64encode(seen.body).decode(),
    }
    description = " ".join(f"{name}={value}" for name, value in spellings.items())
    body = {"error": "access_denied", "error_description": description}
    headers = tuple((f"X-{name}", value) for name, value in spellings.items())
    answer(conn, 401, body, headers)


def _secret_of(seen: Seen) -> str:
    return parse_qs(seen.body.decode())["client_secret"][0]


def granted_with_the_secret_as_token_type(seen: Seen, conn: socket.socket) -> None:
    token = {"access_token": "tok-" + "t" * 40, "expires_in": 3600}
    answer(conn, 200, {**token, "token_type": _secret_of(seen)})


def granted_with_the_secret_in_a_token_type_list(seen: Seen, conn: socket.socket) -> None:
    token = {"access_token": "tok-" + "t" * 40, "expires_in": 3600}
    answer(conn, 200, {**token, "token_type": ["Bearer", _secret_of(seen)]})


def granted_text_with_the_secret_in_its_content_type(seen: Seen, conn: socket.socket) -> None:
    body = b"not json"
    head = f"text/plain; echo={_secret_of(seen)}"
    conn.sendall(
        f"HTTP/1.1 200 OK\r\nContent-Type: {head}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def held(roots: dict[str, object]) -> list[str]:
    found, _ = find(roots, {"secret": secret_forms(SECRET)}, (Secret,))
    return found


@pytest.mark.parametrize(
    "respond",
    [
        in_reason,
        in_location,
        in_cookie_refused,
        spelled_otherwise,
        granted_with_the_secret_as_token_type,  # a 200: its words were quoted unscrubbed
        granted_with_the_secret_in_a_token_type_list,
        granted_text_with_the_secret_in_its_content_type,
    ],
    ids=[
        "reason-phrase",
        "location",
        "cookie",
        "spelled-otherwise",
        "200-token-type",
        "200-token-type-list",
        "200-content-type",
    ],
)
def test_token_endpoint_echoes_outside_the_body_are_scrubbed(
    respond: Callable[[Seen, socket.socket], None],
) -> None:
    with serving(respond) as server:
        manager = TokenManager(creds_for(server.url), max_attempts=1)
        with pytest.raises(TokenError) as info:
            manager.get_token()
        message = str(info.value)
        assert not [form for form in secret_forms(SECRET) if form.decode() in message], message
        assert held({"manager": manager, "error": info.value}) == []
        manager.close()


def test_token_endpoint_cookie_with_the_secret_is_not_kept_after_a_grant() -> None:
    with serving(in_cookie_granted) as server:
        manager = TokenManager(creds_for(server.url), max_attempts=1)
        assert manager.get_token() == "tok-" + "c" * 40
        assert held({"manager": manager}) == []
        manager.close()


def test_token_endpoint_without_echoes_still_grants() -> None:
    with serving(lambda seen, conn: token_answer(conn, "tok-" + "g" * 40)) as server:
        manager = TokenManager(creds_for(server.url), max_attempts=1)
        assert manager.get_token() == "tok-" + "g" * 40
        manager.close()


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


ECHOES = {  # a good 200 whose shown fields (scopes, account) echo the secret or the token
    "scope": lambda secret: ({"scope": f"read {secret} write"}, {}),
    "scope-list": lambda secret: ({"scope": ["read", secret]}, {}),
    "scope-base64": lambda secret: ({"scope": base64.b64encode(secret.encode()).decode()}, {}),
    "scope-url": lambda secret: ({"scope": quote(secret, safe="")}, {}),
    "jwt-scope": lambda secret: ({}, {"scope": f"read {secret}"}),
    "jwt-account": lambda secret: ({}, {"accountId": secret}),
}


@pytest.mark.parametrize("where", ECHOES)
def test_the_shown_fields_of_a_grant_hold_no_secret(where: str) -> None:
    def respond(seen: Seen, conn: socket.socket) -> None:
        fields, claims = ECHOES[where](_secret_of(seen))
        token = _jwt({"sub": "x", **claims}) if claims else "tok-" + "s" * 40
        answer(
            conn, 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, **fields}
        )

    with serving(respond) as server:
        manager = TokenManager(creds_for(server.url), max_attempts=1)
        manager.get_token()
        info = manager.info
        assert info is not None
        shown = " ".join((*info.scopes, info.account_id or ""))
        assert not [form for form in secret_forms(SECRET) if form.decode() in shown], shown
        assert "***" in shown
        manager.close()


def test_a_grant_that_echoes_its_own_token_in_the_scope_shows_it_masked() -> None:
    token = "tok-" + "e" * 40

    def respond(seen: Seen, conn: socket.socket) -> None:
        answer(conn, 200, {"access_token": token, "token_type": "Bearer", "scope": f"read {token}"})

    with serving(respond) as server:
        manager = TokenManager(creds_for(server.url), max_attempts=1)
        assert manager.get_token() == token
        assert manager.info is not None and manager.info.scopes == ("read", "***")
        manager.close()
