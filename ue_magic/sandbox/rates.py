"""Rate limits per client: a token bucket of `burst` requests refilled at `per_second`.

The token endpoint's documented figure is 10 requests a second with a burst of 5, per client;
the API's limits are not public, so its limit is off unless asked for. A refused request gets a
429 whose `Retry-After` is the whole seconds until a request would pass (at least 1).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_RATE_DEFAULT = "10/5"
_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+)\s*)?")
_MAX_CLIENTS = 10_000  # forget idle buckets past this many, so random client ids cannot grow memory


@dataclass(frozen=True)
class Rate:
    """`per_second` requests a second on average, at most `burst` at once."""

    per_second: float
    burst: int

    def __str__(self) -> str:
        number = int(self.per_second) if self.per_second.is_integer() else self.per_second
        return f"{number}/{self.burst}"


def parse_rate(spec: str | float | Rate | None) -> Rate | None:
    """`"N/B"` (N a second, burst B), `"N"` (burst N), a number, a Rate; `0`/`"0"`/None is off.

    Raises ValueError naming the expected form."""
    if spec is None or isinstance(spec, Rate):
        return spec
    if isinstance(spec, bool):
        raise ValueError("a rate is N/B (requests a second / burst), or 0 for none")
    if isinstance(spec, (int, float)):
        text = str(spec)
    elif isinstance(spec, str):
        text = spec
    else:
        raise ValueError("a rate is N/B (requests a second / burst), or 0 for none")
    match = _RATE.fullmatch(text)
    if match is None:
        raise ValueError(f"rate {text[:40]!r} is not N/B (requests a second / burst), or 0")
    per_second = float(match.group(1))
    if per_second == 0:
        return None
    burst = int(match.group(2)) if match.group(2) else max(1, math.ceil(per_second))
    if burst < 1 or not math.isfinite(per_second) or per_second > 1e6 or burst > 1_000_000:
        raise ValueError("a rate N/B needs a burst B of at least 1, and N at most 1000000")
    return Rate(per_second, burst)


class RateLimiter:
    """Token buckets by key (the client id). `clock` is monotonic seconds (injectable)."""

    def __init__(self, rate: Rate | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self.rate = rate

    def set_rate(self, rate: Rate | None) -> None:
        with self._lock:
            self.rate = rate
            self._buckets.clear()

    def take(self, key: str) -> float:
        """0 if a request by `key` may pass now (and counts it), else the seconds to wait."""
        with self._lock:
            rate = self.rate
            if rate is None:
                return 0.0
            now = self._clock()
            tokens, at = self._buckets.get(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - at) * rate.per_second)
            if tokens >= 1 - 1e-9:  # float dust must not refuse a request that is due
                if len(self._buckets) >= _MAX_CLIENTS and key not in self._buckets:
                    self._buckets.clear()
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate.per_second


def retry_after(wait: float) -> str:
    """Whole seconds, at least 1 (the form every client understands)."""
    return str(max(1, math.ceil(wait)))
