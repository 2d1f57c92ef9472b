"""Registered OAuth clients: id, secret and the scopes each may be granted."""

from __future__ import annotations

import hmac
import secrets
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class ClientRecord:
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]


def random_client_id() -> str:
    """32 letters and digits, the shape of an Auth0 client id."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))


def random_client_secret() -> str:
    return secrets.token_urlsafe(48)


def parse_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """A space separated string or an iterable of scope names -> unique names, in order."""
    names = scopes.split() if isinstance(scopes, str) else [str(s) for s in scopes]
    return tuple(dict.fromkeys(names))


class Clients:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, ClientRecord] = {}

    def add(self, client_id: str, client_secret: str, scopes: str | Iterable[str]) -> ClientRecord:
        if not client_id or not client_secret:
            raise ValueError("client id and secret must not be empty")
        record = ClientRecord(client_id, client_secret, parse_scopes(scopes))
        with self._lock:
            self._clients[client_id] = record
        return record

    def authenticate(self, client_id: str, client_secret: str) -> ClientRecord | None:
        """The client if id and secret match. The secret is compared in constant time, and an
        unknown id costs the same comparison, so timing tells nothing about either."""
        with self._lock:
            record = self._clients.get(client_id)
        expected = record.client_secret if record else "\0" * len(client_secret)
        same = hmac.compare_digest(_utf8(expected), _utf8(client_secret))
        return record if record is not None and same else None


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # JSON may carry lone surrogates
