"""Request counters and the log of issued tokens, read by tests through the hooks."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token_requests = 0
        self._tokens_issued = 0
        self._api_requests = 0
        self._description_requests = 0
        self._by_route: Counter[str] = Counter()
        self._issued: list[str] = []

    def token_request(self) -> None:
        with self._lock:
            self._token_requests += 1

    def token_issued(self, token: str) -> None:
        with self._lock:
            self._tokens_issued += 1
            self._issued.append(token)

    def description_request(self) -> None:
        with self._lock:
            self._description_requests += 1

    def api_request(self, method: str, path: str) -> None:
        with self._lock:
            self._api_requests += 1
            self._by_route[f"{method} {path}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "token_requests": self._token_requests,
                "tokens_issued": self._tokens_issued,
                "api_requests": self._api_requests,
                "description_requests": self._description_requests,
                "by_route": dict(self._by_route),
            }

    def issued_tokens(self) -> list[str]:
        """Every token issued since start: kept across reset(), so audits see them all."""
        with self._lock:
            return list(self._issued)

    def reset(self) -> None:
        with self._lock:
            self._token_requests = self._tokens_issued = self._api_requests = 0
            self._description_requests = 0
            self._by_route.clear()
