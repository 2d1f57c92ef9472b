"""The sandbox's token endpoint and JWKS, through real HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from ue_magic.sandbox import Sandbox, start
from ue_magic.sandbox.auth import DEFAULT_SCOPES, ISSUER


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    # verify=False: plain http on loopback, so skip loading CA certificates (25 ms a client)
    with httpx.Client(base_url=sandbox.base_url, timeout=10, verify=False) as client:
        yield client


def good_fields(sb: Sandbox) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "audience": sb.base_url,
    }


def post_token(
    http: httpx.Client, sb: Sandbox, encoding: str, fields: dict[str, Any]
) -> httpx.Response:
    if encoding == "form":
        return http.post(sb.token_url, data=fields)
    return http.post(sb.token_url, json=fields)


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_token_success_answers_like_the_real_service(
    http: httpx.Client, sandbox: Sandbox, encoding: str
) -> None:
    response = post_token(http, sandbox, encoding, good_fields(sandbox))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "scope", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"].split() == list(DEFAULT_SCOPES)
    assert response.headers["cache-control"] == "no-store"
    assert body["access_token"] in sandbox.issued_tokens


def test_jwt_claims_verify_against_the_jwks_fetched_over_http(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    token = post_token(http, sandbox, "form", good_fields(sandbox)).json()["access_token"]
    jwks = http.get(sandbox.jwks_url).json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=sandbox.base_url,
        issuer="https://auth.digitalroute.io/",
    )
    assert claims["iss"] == ISSUER == "https://auth.digitalroute.io/"
    assert claims["sub"] == f"{sandbox.client_id}@clients"
    assert claims["aud"] == sandbox.base_url and sandbox.base_url.endswith("/")
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["scope"] == " ".join(DEFAULT_SCOPES)
    assert claims["gty"] == "client-credentials"
    assert claims["azp"] == sandbox.client_id
    assert claims["accountId"] == sandbox.account_id


def test_token_ttl_setting_sets_expires_in_and_exp() -> None:
    with start(token_ttl=120) as sb, httpx.Client(verify=False) as http:
        body = http.post(sb.token_url, data=good_fields(sb)).json()
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert body["expires_in"] == 120
        assert claims["exp"] - claims["iat"] == 120


def test_basic_client_authentication_is_accepted(http: httpx.Client, sandbox: Sandbox) -> None:
    fields = good_fields(sandbox)
    auth = (fields.pop("client_id"), fields.pop("client_secret"))
    response = http.post(sandbox.token_url, data=fields, auth=auth)
    assert response.status_code == 200, response.text


MISSING = ["grant_type", "client_id", "client_secret"]


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize("field", MISSING)
def test_missing_field_is_400_invalid_request(
    http: httpx.Client, sandbox: Sandbox, encoding: str, field: str
) -> None:
    fields = good_fields(sandbox)
    del fields[field]
    response = post_token(http, sandbox, encoding, fields)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"Missing required parameter: {field}",
    }


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        ({"client_secret": "wrong"}, 401, "access_denied"),
        ({"client_id": "nobody"}, 401, "access_denied"),
        ({"audience": "https://api.digitalroute.io/"}, 403, "access_denied"),
        ({"scope": "read:meters delete:everything"}, 403, "access_denied"),
        ({"client_secret": ""}, 400, "invalid_request"),
    ],
)
def test_token_errors_have_auth0_shapes(
    http: httpx.Client,
    sandbox: Sandbox,
    encoding: str,
    change: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = post_token(http, sandbox, encoding, {**good_fields(sandbox), **change})
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert sandbox.client_secret not in response.text


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_digitalroutes_own_sample_without_audience_gets_a_token_for_the_sandbox(
    http: httpx.Client, sandbox: Sandbox, encoding: str
) -> None:
    """The API reference's request sample sends no audience; Auth0 then uses the API's own."""
    fields = good_fields(sandbox)
    del fields["audience"]
    response = post_token(http, sandbox, encoding, fields)
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["aud"] == sandbox.base_url
    api = http.get(
        "usage-metering/v1/meter-types",
        headers={"Authorization": f"Bearer {response.json()['access_token']}"},
    )
    assert api.status_code == 200


def test_wrong_secret_says_unauthorized(http: httpx.Client, sandbox: Sandbox) -> None:
    response = http.post(sandbox.token_url, data={**good_fields(sandbox), "client_secret": "x"})
    assert response.json() == {"error": "access_denied", "error_description": "Unauthorized"}


def test_audience_must_keep_its_trailing_slash(http: httpx.Client, sandbox: Sandbox) -> None:
    fields = {**good_fields(sandbox), "audience": sandbox.base_url.rstrip("/")}
    response = http.post(sandbox.token_url, data=fields)
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"


def test_scope_field_narrows_the_token(http: httpx.Client, sandbox: Sandbox) -> None:
    fields = {**good_fields(sandbox), "scope": "read:meters"}
    body = http.post(sandbox.token_url, data=fields).json()
    assert body["scope"] == "read:meters"
    assert jwt.decode(body["access_token"], options={"verify_signature": False})["scope"] == (
        "read:meters"
    )


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b"grant_type=client_credentials"),
        ("application/xml", b"<grant_type>client_credentials</grant_type>"),
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("application/json", b'{"grant_type": 5}'),
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00"),
        ("application/x-www-form-urlencoded", b"grant_type=a&grant_type=b"),
        ("application/x-www-form-urlencoded", b"no-equals-sign"),
        ("", b"\x00\x01 garbage"),
        ("", b""),
    ],
)
def test_bodies_that_are_neither_form_nor_json_are_400_invalid_request(
    http: httpx.Client, sandbox: Sandbox, content_type: str, content: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(sandbox.token_url, content=content, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_json_body_without_content_type_is_understood(http: httpx.Client, sandbox: Sandbox) -> None:
    content = json.dumps(good_fields(sandbox)).encode()
    request = http.build_request("POST", sandbox.token_url, content=content)
    assert "content-type" not in request.headers
    assert http.send(request).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "fields_too"),
    [
        ("Basic !!!not-base64", False),
        ("Basic " + base64.b64encode(b"no-colon").decode(), False),
        ("Basic " + base64.b64encode(b"other:creds").decode(), True),
    ],
)
def test_bad_basic_credentials_are_400(
    http: httpx.Client, sandbox: Sandbox, authorization: str, fields_too: bool
) -> None:
    fields = good_fields(sandbox) if fields_too else {"grant_type": "client_credentials"}
    response = http.post(sandbox.token_url, data=fields, headers={"Authorization": authorization})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_the_token_endpoint_are_405(
    http: httpx.Client, sandbox: Sandbox, method: str
) -> None:
    response = http.request(method, sandbox.token_url)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


def test_huge_token_body_is_413(http: httpx.Client, sandbox: Sandbox) -> None:
    response = http.post(sandbox.token_url, content=b"a=" + b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413


def test_token_counters_count_failures_but_only_issue_on_success(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    http.post(sandbox.token_url, data=good_fields(sandbox))
    http.post(sandbox.token_url, data={**good_fields(sandbox), "client_secret": "wrong"})
    http.get(sandbox.token_url)
    counters = sandbox.counters()
    assert counters["token_requests"] == 3
    assert counters["tokens_issued"] == 1
    assert counters["api_requests"] == 0


def test_added_client_gets_only_its_scopes(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_client("reader", "reader-secret", "read:meters read:meter_types")
    fields = {**good_fields(sandbox), "client_id": "reader", "client_secret": "reader-secret"}
    body = http.post(sandbox.token_url, data=fields).json()
    assert body["scope"] == "read:meters read:meter_types"
    wrong = {**fields, "client_secret": sandbox.client_secret}
    assert http.post(sandbox.token_url, data=wrong).status_code == 401


def test_jwks_is_the_same_key_for_every_sandbox_of_a_process(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    with start() as other:
        first = http.get(sandbox.jwks_url).json()
        second = http.get(other.jwks_url).json()
    assert first == second
    assert len(first["keys"]) == 1
