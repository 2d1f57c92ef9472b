"""Token endpoint answers said plainly: an echoed form scrubbed in every encoding and not misread
as an audience problem, an error answered with 200, a token that is not Bearer, the token's end;
and .env files with a byte order mark."""

from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path

import pytest

from tests.security.reach import secret_forms
from tests.security.servers import Seen, answer, serving, token_answer
from ue_magic import Credentials, TokenManager
from ue_magic.core.credentials import Secret
from ue_magic.errors import InvalidClientError, TokenError

SECRET = "Abc+def/ghi=jkl~mno&pqr secret"


def creds_for(url: str, secret: str = SECRET) -> Credentials:
    return Credentials("my-client", Secret(secret), "eu", url, url, url + "oauth/token")


def echo_form(seen: Seen, conn: socket.socket) -> None:
    """Auth0-like words that quote the request back, secret and 'audience' field included."""
    basic = base64.b64encode(f"my-client:{SECRET}".encode()).decode()
    answer(
        conn,
        400,
        {
            "error": "invalid_request",
            "error_description": f"cannot parse {seen.body.decode()} (basic {basic}, "
            f"json {json.dumps(SECRET)}, b64 {base64.b64encode(SECRET.encode()).decode()})",
        },
    )


def test_token_endpoint_echo_is_scrubbed_in_every_form_and_not_an_audience_problem() -> None:
    with serving(echo_form) as server:
        manager = TokenManager(creds_for(server.url))
        with pytest.raises(TokenError) as info:
            manager.get_token()
        manager.close()
    message = str(info.value)
    assert "client_secret=***" in message
    assert not [form for form in secret_forms(SECRET) if form.decode() in message]
    assert "does not accept the audience" not in message  # "audience=" is our own field
    assert "refused the request (400 invalid_request" in message


@pytest.mark.parametrize(
    "description",
    ["Service not found: https://x/", "Unknown audience", "audience is not valid"],
)
def test_token_endpoint_audience_words_still_read_as_audience(description: str) -> None:
    def refuse(seen: Seen, conn: socket.socket) -> None:
        answer(conn, 403, {"error": "access_denied", "error_description": description})

    with serving(refuse) as server:
        manager = TokenManager(creds_for(server.url))
        with pytest.raises(InvalidClientError, match="does not accept the audience"):
            manager.get_token()
        manager.close()


def test_token_endpoint_200_with_an_error_field_shows_the_servers_words() -> None:
    def refuse_with_200(seen: Seen, conn: socket.socket) -> None:
        answer(
            conn,
            200,
            {"error": "invalid_client", "error_description": "Client authentication failed"},
        )

    with serving(refuse_with_200) as server:
        manager = TokenManager(creds_for(server.url))
        with pytest.raises(InvalidClientError) as info:
            manager.get_token()
        manager.close()
    message = str(info.value)
    assert "invalid_client: Client authentication failed" in message
    assert "UE_CLIENT_SECRET" in message and "without an access_token" not in message


@pytest.mark.parametrize("kind", ["DPoP", "mac", "N_A"])
def test_token_type_other_than_bearer_is_refused(kind: str) -> None:
    token = "tok-" + "z" * 40

    def give(seen: Seen, conn: socket.socket) -> None:
        token_answer(conn, token, token_type=kind)

    with serving(give) as server:
        manager = TokenManager(creds_for(server.url))
        with pytest.raises(TokenError) as info:
            manager.get_token()
        manager.close()
    message = str(info.value)
    assert kind in message and "only Bearer tokens" in message
    assert token not in message and ". " not in message  # one sentence


@pytest.mark.parametrize("kind", ["Bearer", "bearer", None])
def test_token_type_bearer_or_absent_is_taken(kind: str | None) -> None:
    def give(seen: Seen, conn: socket.socket) -> None:
        extra = {} if kind is None else {"token_type": kind}
        answer(conn, 200, {"access_token": "tok-" + "y" * 40, "expires_in": 60, **extra})

    with serving(give) as server:
        manager = TokenManager(creds_for(server.url))
        assert manager.get_token() == "tok-" + "y" * 40
        manager.close()


def jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


@pytest.mark.parametrize(("expires_in", "exp_in", "at_most"), [(3600, 100, 100), (50, 3600, 50)])
def test_renewal_contract_the_token_ends_at_the_earlier_of_expires_in_and_exp(
    expires_in: int, exp_in: int, at_most: float
) -> None:
    token = jwt({"exp": int(time.time()) + exp_in, "scope": "read"})

    def give(seen: Seen, conn: socket.socket) -> None:
        token_answer(conn, token, expires_in=expires_in)

    with serving(give) as server:
        manager = TokenManager(creds_for(server.url))
        manager.get_token()
        left = manager.seconds_left()
        manager.close()
    assert left is not None and at_most - 5 < left <= at_most


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_env_file_with_a_byte_order_mark_is_read_right(tmp_path: Path, newline: str) -> None:
    path = tmp_path / ".env"
    lines = ["UE_CLIENT_ID=bom-client", "UE_CLIENT_SECRET=bom-secret-value", "UE_REGION=us"]
    path.write_bytes(b"\xef\xbb\xbf" + newline.join(lines).encode() + newline.encode())
    creds = Credentials.from_env(env_file=path, environ={})
    assert creds.client_id == "bom-client"
    assert creds.client_secret.get_secret_value() == "bom-secret-value"
    assert creds.region == "us"
