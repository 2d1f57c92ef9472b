"""Rate limits per client: a token bucket of `burst` requests refilled at `per_second`, or (for
trying a client against other services' limiters) fixed one-second windows or a sliding log.

The token endpoint's documented figure is 10 requests a second with a burst of 5, per client;
the API's limits are not public, so its limit is off unless asked for. A refused request gets a
429 whose `Retry-After` is the whole seconds until a request would pass (at least 1), or the exact
fraction, or none; every answer can also state the limit (`X-RateLimit-*`, or the IETF draft's
`RateLimit-Policy` and `RateLimit`). The spec: `N/B` then any of `,fixed` `,sliding`
`,retry-after=fraction|none` `,headers=x|ietf`: `"100/20,headers=ietf"`, `"100,fixed"`.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TOKEN_RATE_DEFAULT = "10/5"
_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+)\s*)?")
RATE_HEADERS = "ue_magic.rate_headers"  # the scope key of headers an API answer adds
KINDS = ("bucket", "fixed", "sliding")
RETRY_AFTER = ("whole", "fraction", "none")
HEADERS = ("none", "x", "ietf")
_FORM = "N/B (requests a second / burst), or 0 for none"
_MAX_CLIENTS = 10_000  # forget idle buckets past this many, so random client ids cannot grow memory


@dataclass(frozen=True)
class Rate:
    """`per_second` requests a second on average, at most `burst` at once (a token bucket), or
    `per_second` in each second (`kind` "fixed") or in any second ("sliding"); how a 429 says
    when to come back (`retry_after`) and whether answers state the limit (`headers`)."""

    per_second: float
    burst: int
    kind: str = "bucket"
    retry_after: str = "whole"
    headers: str = "none"

    def __str__(self) -> str:
        number = int(self.per_second) if float(self.per_second).is_integer() else self.per_second
        text = f"{number}/{self.burst}" if self.kind == "bucket" else f"{number},{self.kind}"
        if self.retry_after != "whole":
            text += f",retry-after={self.retry_after}"
        if self.headers != "none":
            text += f",headers={self.headers}"
        return text


def parse_rate(spec: str | float | Rate | None) -> Rate | None:
    """`"N/B"` (N a second, burst B), `"N"` (burst N), a number, a Rate; `0`/`"0"`/None is off.
    After a comma: `fixed` or `sliding` (the limiter), `retry-after=fraction|none`,
    `headers=x|ietf`.

    Raises ValueError naming the expected form."""
    if spec is None or isinstance(spec, Rate):
        return spec
    if isinstance(spec, bool):
        raise ValueError(f"a rate is {_FORM}")
    if isinstance(spec, (int, float)):
        text = str(spec)
    elif isinstance(spec, str):
        text = spec
    else:
        raise ValueError(f"a rate is {_FORM}")
    head, *options = text.split(",")
    match = _RATE.fullmatch(head)
    if match is None:
        raise ValueError(f"rate {text[:40]!r} is not {_FORM}")
    per_second = float(match.group(1))
    if per_second == 0:
        return None
    burst = int(match.group(2)) if match.group(2) else max(1, math.ceil(per_second))
    if burst < 1 or not math.isfinite(per_second) or per_second > 1e6 or burst > 1_000_000:
        raise ValueError("a rate N/B needs a burst B of at least 1, and N at most 1000000")
    settings = {"kind": "bucket", "retry_after": "whole", "headers": "none"}
    for option in options:
        word = option.strip().lower()
        key, _, value = word.partition("=")
        if not value and word in KINDS:
            settings["kind"] = word
        elif key == "retry-after" and value in RETRY_AFTER:
            settings["retry_after"] = value
        elif key == "headers" and value in HEADERS:
            settings["headers"] = value
        else:
            raise ValueError(
                f"rate option {option.strip()[:30]!r} is not one of fixed, sliding, "
                "retry-after=whole|fraction|none, headers=none|x|ietf"
            )
    if match.group(2) and settings["kind"] != "bucket":
        raise ValueError(
            f"a burst (/{match.group(2)}) is a token bucket's; {settings['kind']} limits take N "
            f"a second only: write {match.group(1)},{settings['kind']}"
        )
    return Rate(per_second, burst, **settings)


@dataclass(frozen=True)
class Admission:
    """A limiter's answer: `wait` 0 (passes) or the seconds until one would; `headers` to send
    (the limit stated, and Retry-After on a refusal)."""

    wait: float
    headers: dict[str, str]


class RateLimiter:
    """Limits by key (the client id). `clock` is monotonic seconds (injectable)."""

    def __init__(self, rate: Rate | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._state: dict[str, Any] = {}  # key -> the limiter's state for it
        self.rate = rate

    def set_rate(self, rate: Rate | None) -> None:
        with self._lock:
            self.rate = rate
            self._state.clear()

    def take(self, key: str) -> float:
        """0 if a request by `key` may pass now (and counts it), else the seconds to wait."""
        return self.admit(key).wait

    def admit(self, key: str) -> Admission:
        """Whether a request by `key` may pass now (counted if it does), with the headers."""
        with self._lock:
            rate = self.rate
            if rate is None:
                return Admission(0.0, {})
            now = self._clock()
            if len(self._state) >= _MAX_CLIENTS and key not in self._state:
                self._state.clear()
            if rate.kind == "fixed":
                wait, left = self._fixed(key, rate, now)
            elif rate.kind == "sliding":
                wait, left = self._sliding(key, rate, now)
            else:
                wait, left = self._bucket(key, rate, now)
            return Admission(wait, _headers(rate, wait, left))

    def _bucket(self, key: str, rate: Rate, now: float) -> tuple[float, tuple[int, float]]:
        tokens, at = self._state.get(key, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - at) * rate.per_second)
        wait = 0.0
        if tokens >= 1 - 1e-9:  # float dust must not refuse a request that is due
            tokens -= 1
        else:
            wait = (1 - tokens) / rate.per_second
        self._state[key] = (tokens, now)
        left = int(tokens + 1e-9)
        return wait, (left, 0.0 if left else (1 - tokens) / rate.per_second)

    def _fixed(self, key: str, rate: Rate, now: float) -> tuple[float, tuple[int, float]]:
        window, count = self._state.get(key, (math.floor(now), 0))
        if math.floor(now) != window:
            window, count = math.floor(now), 0
        quota = int(rate.per_second)
        wait = 0.0
        if count < quota:
            count += 1
        else:
            wait = window + 1 - now
        self._state[key] = (window, count)
        return wait, (quota - count, 0.0 if count < quota else window + 1 - now)

    def _sliding(self, key: str, rate: Rate, now: float) -> tuple[float, tuple[int, float]]:
        log: deque[float] = self._state.setdefault(key, deque())
        while log and log[0] <= now - 1.0:
            log.popleft()
        quota = int(rate.per_second)
        wait = 0.0
        if len(log) < quota:
            log.append(now)
        else:
            wait = log[0] + 1.0 - now
        left = quota - len(log)
        return wait, (left, 0.0 if left else log[0] + 1.0 - now)


def _headers(rate: Rate, wait: float, left: tuple[int, float]) -> dict[str, str]:
    """What an answer says: Retry-After on a refusal (as the rate asks), and the limit stated."""
    out: dict[str, str] = {}
    if wait > 0 and rate.retry_after == "whole":
        out["Retry-After"] = retry_after(wait)
    elif wait > 0 and rate.retry_after == "fraction":
        out["Retry-After"] = f"{wait:.3f}"
    remaining, reset = left
    if rate.headers == "x":  # the limit a second, as most services that send these state it
        number = f"{rate.per_second:g}"
        if remaining == 0:  # none left: the reset is not now, however close
            reset = max(reset, 0.001)
        out.update({"X-RateLimit-Limit": number, "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Reset": f"{reset:.3f}"})  # fmt: skip
    elif rate.headers == "ietf":
        quota, window = policy(rate)
        out["RateLimit-Policy"] = f'"default";q={quota};w={window}'
        out["RateLimit"] = f'"default";r={remaining};t={math.ceil(reset)}'
    return out


def policy(rate: Rate) -> tuple[int, int]:
    """The quota and its window in whole seconds, as the IETF draft's ``RateLimit-Policy`` has
    them (``w`` is an Integer: draft-ietf-httpapi-ratelimit-headers-08, section 3.1): ``N`` a
    second, or 1 in every ``1/N`` seconds for a rate under 1. A bucket's burst is not stated."""
    if rate.per_second >= 1:
        return int(rate.per_second), 1
    return 1, round(1 / rate.per_second)


def retry_after(wait: float) -> str:
    """Whole seconds, at least 1 (the form every client understands)."""
    return str(max(1, math.ceil(wait)))
