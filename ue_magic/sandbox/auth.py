"""Signing keys and access tokens: Auth0-style RS256 JWTs, and the JWKS that verifies them."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://auth.digitalroute.io/"
DEFAULT_SCOPES = (
    "create:meter_types",
    "read:meter_types",
    "update:meter_types",
    "delete:meter_types",
    "create:meters",
    "read:meters",
    "update:meters",  # a guess: the name of the meter update scope is not public
    "delete:meters",
)
ALL_SCOPES = DEFAULT_SCOPES


class InvalidToken(Exception):
    """The reason a bearer token was refused (safe to show: it never contains the token)."""


@functools.lru_cache(maxsize=1)
def process_key() -> rsa.RSAPrivateKey:
    """One RSA key per process: 2048-bit generation is slow enough to matter across many tests."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64url_uint(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Signer:
    """Issues and verifies the sandbox's access tokens for one audience."""

    def __init__(self, audience: str, key: rsa.RSAPrivateKey | None = None) -> None:
        self.audience = audience
        self._key = key or process_key()
        numbers = self._key.public_key().public_numbers()
        self._jwk = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
        canonical = json.dumps(self._jwk, separators=(",", ":"), sort_keys=True).encode()
        # RFC 7638 thumbprint: stable for the key, so a cached JWKS stays valid across sandboxes
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self._jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def issue(
        self,
        *,
        client_id: str,
        scopes: Iterable[str],
        account_id: str,
        ttl: int,
        now: float | None = None,
    ) -> str:
        issued_at = int(time.time() if now is None else now)
        claims = {
            "iss": ISSUER,
            "sub": f"{client_id}@clients",
            "aud": self.audience,
            "iat": issued_at,
            "exp": issued_at + ttl,
            "scope": " ".join(scopes),
            "gty": "client-credentials",
            "azp": client_id,
            "accountId": account_id,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; InvalidToken otherwise (signature, expiry, audience)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=self.audience,
                issuer=ISSUER,
                leeway=0,
                options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the access token has expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the access token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the access token has the wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the access token lacks the {exc.claim} claim") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidToken(
                "the access token is malformed or its signature is invalid"
            ) from None
        return claims


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    return frozenset(scope.split()) if isinstance(scope, str) else frozenset()
