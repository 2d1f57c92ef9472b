"""The rate a service states in its answers' headers, so a bulk run need not find it by 429s.

Read: the IETF draft's ``RateLimit-Policy`` (``"default";q=100;w=60`` in draft 8 and later,
``100;w=60`` before; of several policies the tightest counts) and ``RateLimit``
(``"default";r=5;t=2``, or ``limit=100, remaining=5, reset=2`` in draft 7), the older
``RateLimit-Limit/-Remaining/-Reset``, and the common ``X-RateLimit-Limit/-Remaining/-Reset``. A
limit without a window (``w``) is taken as a second's; a reset over a billion seconds is an epoch
time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Quota", "read_quota"]

_PARAM = re.compile(r"(?:^|;)\s*([a-z]+)\s*=\s*\"?([0-9.]+)\"?", re.IGNORECASE)
_NUMBER = re.compile(r"\s*\"?([0-9]+(?:\.[0-9]+)?)\"?\s*")
_EPOCH = 1e9  # a reset larger than this is a time since the epoch, not seconds from now


@dataclass(frozen=True)
class Quota:
    """What the headers state: ``rate`` (requests a second, the tightest policy), ``remaining``
    (requests left now) and ``reset`` (seconds until more are allowed); each None if unsaid.
    ``window``: the tightest policy's window in seconds (a limit without one: a second)."""

    rate: float | None
    remaining: float | None
    reset: float | None
    window: float = 1.0


def _number(text: str) -> float | None:
    match = _NUMBER.fullmatch(text)
    return float(match.group(1)) if match else None


def _params(item: str) -> dict[str, float]:
    return {key.lower(): float(value) for key, value in _PARAM.findall(item)}


def _policies(value: str) -> tuple[float, float] | None:
    """The tightest policy of a list: (``q`` (or a bare number) over ``w``, ``w``)."""
    rates = []
    for item in value.split(","):
        head = item.split(";", 1)[0]
        params = _params(item)
        quota = params.get("q", _number(head) if head.strip() else None)
        window = params.get("w", 1.0)
        if quota is not None and quota > 0 and window > 0:
            rates.append((quota / window, window))
    return min(rates) if rates else None


def read_quota(headers: Iterable[tuple[bytes, bytes]], now: float | None = None) -> Quota | None:
    """The quota stated by an answer's raw headers, or None when it states none."""
    found: dict[str, str] = {}
    for key, value in headers:
        name = key.decode("latin-1").lower()
        if "ratelimit" in name:
            found[name] = value.decode("latin-1")
    if not found:
        return None
    rate = remaining = reset = None
    window = 1.0
    if "ratelimit-policy" in found and (policy := _policies(found["ratelimit-policy"])):
        rate, window = policy
    combined = found.get("ratelimit")
    if combined is not None:
        fields = _params(combined.replace(",", ";"))
        remaining = fields.get("r", fields.get("remaining"))
        reset = fields.get("t", fields.get("reset"))
        if rate is None and "limit" in fields:
            rate = fields["limit"]  # draft 7: the window is in RateLimit-Policy, if anywhere
    for prefix in ("ratelimit-", "x-ratelimit-"):
        if rate is None and prefix + "limit" in found:
            policy = _policies(found[prefix + "limit"])
            rate, window = policy if policy else (None, 1.0)
        if remaining is None and prefix + "remaining" in found:
            remaining = _number(found[prefix + "remaining"])
        if reset is None and prefix + "reset" in found:
            reset = _number(found[prefix + "reset"])
    if reset is not None and reset > _EPOCH:
        reset = max(0.0, reset - (time.time() if now is None else now))
    if rate is None and remaining is None:
        return None
    return Quota(rate, remaining, reset, window)
