"""The sandbox's API refuses what it should: no token, a bad token, a token without the scope."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ue_magic.sandbox import Sandbox, start
from ue_magic.sandbox.auth import ISSUER, process_key

from .api_helpers import (
    EXAMPLE_TYPE,
    METERS,
    TYPES,
    client_for,
    get_token,
)


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox, get_token(sandbox)) as client:
        yield client


# authentication and scopes


ROUTES = [
    ("POST", TYPES, "create:meter_types"),
    ("GET", TYPES, "read:meter_types"),
    ("GET", f"{TYPES}/x", "read:meter_types"),
    ("PUT", f"{TYPES}/x", "update:meter_types"),
    ("PATCH", f"{TYPES}/x", "update:meter_types"),
    ("DELETE", f"{TYPES}/x", "delete:meter_types"),
    ("POST", METERS, "create:meters"),
    ("GET", METERS, "read:meters"),
    ("GET", f"{METERS}/x", "read:meters"),
    ("DELETE", f"{METERS}/x", "delete:meters"),
    ("PUT", f"{METERS}/x", "update:meters"),
    ("PATCH", f"{METERS}/x", "update:meters"),
]


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_route_needs_a_token(sandbox: Sandbox, method: str, path: str, scope: str) -> None:
    with client_for(sandbox, None) as anonymous:
        response = anonymous.request(method, path, json={})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_route_needs_its_scope(sandbox: Sandbox, method: str, path: str, scope: str) -> None:
    others = " ".join(s for s in sandbox.scopes if s != scope)
    sandbox.add_client(f"without-{scope}", "secret", others)
    with client_for(sandbox, get_token(sandbox, f"without-{scope}", "secret")) as client:
        response = client.request(method, path, json={})
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert f'scope="{scope}"' in response.headers["www-authenticate"]
    assert scope in response.json()["message"]


def test_client_with_fewer_scopes_can_still_do_what_it_may(sandbox: Sandbox) -> None:
    sandbox.add_client("reader-only", "reader-secret", "read:meter_types")
    with client_for(sandbox, get_token(sandbox, "reader-only", "reader-secret")) as reader:
        assert reader.get(TYPES).status_code == 200
        assert reader.post(TYPES, json=EXAMPLE_TYPE).status_code == 403
        assert reader.get(METERS).status_code == 403


def test_restricted_scopes_at_start() -> None:
    with start(scopes="read:meters") as sb:
        with client_for(sb, get_token(sb)) as client:
            assert client.get(METERS).status_code == 200
            assert client.get(TYPES).status_code == 403
        assert sb.scopes == ("read:meters",)


def forge(sb: Sandbox, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": f"{sb.client_id}@clients",
        "aud": sb.base_url,
        "iat": now,
        "exp": now + 3600,
        "scope": " ".join(sb.scopes),
        "gty": "client-credentials",
        "azp": sb.client_id,
        "accountId": sb.account_id,
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key or process_key(), algorithm="RS256")


@pytest.fixture(scope="module")
def stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_forged_token_with_the_right_key_is_accepted(sandbox: Sandbox) -> None:
    """The control for the refusals below: only the one thing they change makes them fail."""
    with client_for(sandbox, forge(sandbox)) as client:
        assert client.get(TYPES).status_code == 200


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        # exp and iat as seconds from the moment the test runs (not from collection: a long
        # suite would turn "600 s ahead" into the past)
        ({"exp": -10, "iat": -3610}, "expired"),
        ({"exp": 0}, "expired"),
        ({"aud": "https://api.digitalroute.io/"}, "audience"),
        ({"iss": "https://evil.example/"}, "issuer"),
        ({"exp": None}, "exp claim"),
        ({"iat": 600}, "malformed or"),
    ],
)
def test_bad_tokens_are_401(sandbox: Sandbox, claims: dict[str, Any], reason: str) -> None:
    now = int(time.time())
    claims = {
        k: now + v if k in ("exp", "iat") and isinstance(v, int) else v for k, v in claims.items()
    }
    with client_for(sandbox, forge(sandbox, **claims)) as client:
        response = client.get(TYPES)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert reason in response.json()["message"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_token_signed_by_another_key_is_401(
    sandbox: Sandbox, stranger_key: rsa.RSAPrivateKey
) -> None:
    with client_for(sandbox, forge(sandbox, key=stranger_key)) as client:
        assert client.get(TYPES).status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer not.a.jwt",
        "Bearer " + "a" * 5000,
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",  # alg none
    ],
)
def test_malformed_authorization_is_401(sandbox: Sandbox, authorization: str) -> None:
    with client_for(sandbox, None) as client:
        response = client.get(TYPES, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="usage-engine"')


def test_token_of_another_sandbox_is_refused(sandbox: Sandbox) -> None:
    with start() as other:
        foreign = get_token(other)  # same signing key, other audience
    with client_for(sandbox, foreign) as client:
        response = client.get(TYPES)
    assert response.status_code == 401
    assert "audience" in response.json()["message"]


def test_token_expires_after_its_ttl() -> None:
    # iat is whole seconds (floored), so a 1 s token may live only a few milliseconds: 3 s
    # leaves the first request time on a loaded machine; the sleep reads exp either way.
    with start(token_ttl=3) as sb, client_for(sb, get_token(sb)) as client:
        assert client.get(TYPES).status_code == 200
        exp = jwt.decode(get_token(sb), options={"verify_signature": False})["exp"]
        time.sleep(max(0.0, exp - time.time()) + 0.05)
        response = client.get(TYPES)
    assert response.status_code == 401
    assert "expired" in response.json()["message"]
