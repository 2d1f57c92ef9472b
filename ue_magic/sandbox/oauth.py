"""The token endpoint (OAuth 2.0 client credentials, Auth0 style) and the JWKS."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clients import ClientRecord
from .errors import OAuthError
from .httputil import json_response, read_body
from .rates import retry_after
from .state import JWKS_PATH, TOKEN_PATH, SandboxState

_REQUIRED = ("grant_type", "client_id", "client_secret")  # audience: the API's default
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _invalid(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


def parse_token_body(content_type: str, body: bytes) -> dict[str, str]:
    """Form or JSON fields of a token request; anything else is 400 invalid_request."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return _json_fields(body)
    if media == "application/x-www-form-urlencoded":
        return _form_fields(body)
    if media == "" and body.lstrip().startswith(b"{"):
        return _json_fields(body)
    if media == "":
        return _form_fields(body)
    raise _invalid("Content-Type must be application/x-www-form-urlencoded or application/json")


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _invalid("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _invalid("The request body must be a JSON object")
    fields: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise _invalid(f"Parameter {key} must be a string")
        fields[key] = value
    return fields


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        if body.strip():
            raise _invalid("The request body is not a valid form") from None
        pairs = []
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:  # RFC 6749 3.2: parameters must not be repeated
            raise _invalid(f"Parameter {key} is repeated")
        fields[key] = value
    return fields


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 2.3.1), which Auth0 accepts too."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid("Malformed Basic authorization header") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid("Malformed Basic authorization header")
    return unquote(client_id), unquote(secret)


class TokenEndpoint:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(JWKS_PATH, self.jwks, methods=["GET"]),
        ]

    async def jwks(self, request: Request) -> Response:
        return json_response(self.state.signer.jwks())

    async def token(self, request: Request) -> Response:
        body = await read_body(request)
        fields = parse_token_body(request.headers.get("content-type", ""), body)
        basic = _basic_credentials(request.headers.get("authorization", ""))
        if basic is not None:
            if {"client_id", "client_secret"} & fields.keys() and (
                fields.get("client_id"),
                fields.get("client_secret"),
            ) != basic:
                raise _invalid("Client credentials given twice, and they differ")
            fields["client_id"], fields["client_secret"] = basic
        self._limit(fields.get("client_id") or (request.client.host if request.client else ""))
        for name in _REQUIRED:
            if not fields.get(name):
                raise _invalid(f"Missing required parameter: {name}")
        if fields["grant_type"] != "client_credentials":
            raise OAuthError(
                400, "unsupported_grant_type", f"Unsupported grant type: {fields['grant_type']}"
            )
        client = self.state.clients.authenticate(fields["client_id"], fields["client_secret"])
        if client is None:
            raise OAuthError(401, "access_denied", "Unauthorized")
        # DigitalRoute's own request sample sends no audience: Auth0 then uses the API's default,
        # which for the sandbox is its own base URL.
        fields.setdefault("audience", self.state.base_url)
        if fields["audience"] != self.state.base_url:
            raise OAuthError(403, "access_denied", f"Service not found: {fields['audience']}")
        scopes = self._granted(client, fields.get("scope"))
        token = self.state.signer.issue(
            client_id=client.client_id,
            scopes=scopes,
            account_id=self.state.account_id,
            ttl=self.state.token_ttl,
        )
        self.state.counters.token_issued(token)
        answer = {
            "access_token": token,
            "scope": " ".join(scopes),
            "expires_in": self.state.token_ttl,
            "token_type": "Bearer",
        }
        return json_response(answer, headers=_NO_STORE)

    def _limit(self, client_id: str) -> None:
        """Auth0's per-client limit on the token endpoint: 429 too_many_requests."""
        wait = self.state.token_limiter.take(client_id)
        if wait > 0:
            error = OAuthError(429, "too_many_requests", "Global limit has been reached")
            error.headers["Retry-After"] = retry_after(wait)
            raise error

    @staticmethod
    def _granted(client: ClientRecord, requested: str | None) -> tuple[str, ...]:
        """All the client's scopes, or the asked-for subset; asking for more is 403, as Auth0."""
        if not requested:
            return client.scopes
        wanted = tuple(dict.fromkeys(requested.split()))
        missing = [s for s in wanted if s not in client.scopes]
        if missing:
            raise OAuthError(
                403, "access_denied", f"Client has not been granted scopes: {','.join(missing)}"
            )
        return wanted
