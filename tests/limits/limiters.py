"""Rate limiters as services use them, for the pacing's tests and benchmarks (not the sandbox's).

Each ``admit(at)`` answers (status, headers) for a request arriving at ``at`` seconds: 200, or
429 with a ``Retry-After`` that is whole seconds (at least 1), the exact fraction, or absent; with
``headers`` "x" or "ietf", every answer also states the limit (``X-RateLimit-*``, or the IETF
draft's ``RateLimit-Policy`` and ``RateLimit``). Remaining and reset: requests left now, and
seconds until one more would pass.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

RETRY_AFTER = ("whole", "fraction", "none")
HEADERS = ("none", "x", "ietf")


@dataclass
class Limiter:
    rate: float  # requests a second, over the long run
    retry_after: str = "whole"
    headers: str = "none"

    def admit(self, at: float) -> tuple[int, dict[str, str]]:
        wait = self._take(at)
        out: dict[str, str] = {}
        if self.headers != "none":
            out.update(self._stated(at))
        if wait <= 0:
            return 200, out
        if self.retry_after == "whole":
            out["Retry-After"] = str(max(1, math.ceil(wait)))
        elif self.retry_after == "fraction":
            out["Retry-After"] = f"{wait:.3f}"
        return 429, out

    def _stated(self, at: float) -> dict[str, str]:
        quota, window = self._policy()
        remaining, reset = self._left(at)
        if self.headers == "x":
            return {  # the limit a second, as most services that send these state it
                "X-RateLimit-Limit": f"{self.rate:g}",
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": f"{reset:.3f}",
            }
        window_text = f"{window:g}"
        return {
            "RateLimit-Policy": f'"default";q={quota};w={window_text}',
            "RateLimit": f'"default";r={remaining};t={math.ceil(reset)}',
        }

    def _take(self, at: float) -> float:
        """0 if a request at ``at`` passes (and counts it), else seconds until one would."""
        raise NotImplementedError

    def _policy(self) -> tuple[int, float]:
        raise NotImplementedError

    def _left(self, at: float) -> tuple[int, float]:
        raise NotImplementedError


@dataclass
class TokenBucket(Limiter):
    burst: int = 1
    tokens: float = field(init=False)
    last: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def _refill(self, at: float) -> None:
        self.tokens = min(self.burst, self.tokens + max(0.0, at - self.last) * self.rate)
        self.last = max(self.last, at)

    def _take(self, at: float) -> float:
        self._refill(at)
        if self.tokens >= 1 - 1e-9:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def _policy(self) -> tuple[int, float]:
        # N in a second: the draft's window is an Integer of seconds (draft-ietf-httpapi-
        # ratelimit-headers-08, 3.1), so a burst refilled in a fraction of one is not stated
        return max(1, int(self.rate)), 1.0

    def _left(self, at: float) -> tuple[int, float]:
        left = int(self.tokens + 1e-9)
        return left, 0.0 if left else (1 - self.tokens) / self.rate

    def __str__(self) -> str:
        return f"token bucket {self.rate:g}/{self.burst}"


@dataclass
class FixedWindow(Limiter):
    """At most ``rate`` requests in each whole second (a counter reset at its start)."""

    current: int = -1
    count: int = 0

    def _take(self, at: float) -> float:
        window = math.floor(at)
        if window != self.current:
            self.current, self.count = window, 0
        if self.count < self.rate:
            self.count += 1
            return 0.0
        return window + 1 - at

    def _policy(self) -> tuple[int, float]:
        return int(self.rate), 1.0

    def _left(self, at: float) -> tuple[int, float]:
        left = int(self.rate) - self.count
        return left, 0.0 if left else math.floor(at) + 1 - at

    def __str__(self) -> str:
        return f"fixed windows of {self.rate:g} a second"


@dataclass
class SlidingLog(Limiter):
    """At most ``rate`` requests in any one second."""

    log: deque[float] = field(default_factory=deque)

    def _take(self, at: float) -> float:
        while self.log and self.log[0] <= at - 1.0:
            self.log.popleft()
        if len(self.log) < self.rate:
            self.log.append(at)
            return 0.0
        return self.log[0] + 1.0 - at

    def _policy(self) -> tuple[int, float]:
        return int(self.rate), 1.0

    def _left(self, at: float) -> tuple[int, float]:
        left = int(self.rate) - len(self.log)
        return left, 0.0 if left else max(0.0, self.log[0] + 1.0 - at)

    def __str__(self) -> str:
        return f"sliding log of {self.rate:g} a second"


def limiter(kind: str, rate: float, burst: int, retry_after: str, headers: str) -> Limiter:
    """One of the kinds by name: "bucket" (with ``burst``), "fixed" or "sliding"."""
    if kind == "bucket":
        return TokenBucket(rate, retry_after, headers, burst=burst)
    if kind == "fixed":
        return FixedWindow(rate, retry_after, headers)
    if kind == "sliding":
        return SlidingLog(rate, retry_after, headers)
    raise ValueError(f"no limiter kind {kind!r}")
