"""The wire format of timestamps: `2023-07-26T09:00:15.690+00:00` (UTC, milliseconds)."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def format_ts(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def parse_ts(text: str) -> datetime:
    """Parses an ISO 8601 timestamp; a naive one is taken as UTC. Raises ValueError."""
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not know "Z"
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
