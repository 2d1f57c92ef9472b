"""What a login looks like to its user: the one-line login message and the %ue_status table.

Only facts that are safe to show go in here (URLs, client id, account, scopes, times, counts):
the summary is built from the client's public state, never from the token or the secret.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._client import UsageEngineClient


@dataclass(frozen=True)
class LoginSummary:
    """A snapshot of one login, fit for printing."""

    profile: str | None
    api_url: str
    client_id: str
    account_id: str | None
    scopes: tuple[str, ...]
    expires_at: datetime | None
    requests: int
    token_requests: int
    retries: int

    @classmethod
    def of(cls, profile: str | None, client: UsageEngineClient) -> LoginSummary:
        info = client.token_manager.info
        stats = client.stats
        return cls(
            profile=profile,
            api_url=str(client.credentials.api_url),
            client_id=client.credentials.client_id,
            account_id=info.account_id if info else None,
            scopes=tuple(info.scopes) if info else (),
            expires_at=info.expires_at if info else None,
            requests=stats.requests,
            token_requests=stats.token_requests,
            retries=stats.retries,
        )

    def login_line(self) -> str:
        """The one line %ue_login prints."""
        who = f" (profile {self.profile})" if self.profile else ""
        account = self.account_id or "unknown account"
        scopes = " ".join(self.scopes) or "no scopes"
        return (
            f"Logged in{who} to {self.api_url} as client {self.client_id!r}, account {account}, "
            f"scopes: {scopes}; token valid until {format_expiry(self.expires_at)}."
        )


def format_expiry(expires_at: datetime | None) -> str:
    """Local time and UTC, so nobody has to convert in their head."""
    if expires_at is None:
        return "unknown"
    utc = expires_at.astimezone(timezone.utc)
    local = utc.astimezone()
    if local.utcoffset() == utc.utcoffset():
        return f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    return f"{local:%Y-%m-%d %H:%M:%S %Z} ({utc:%H:%M:%S} UTC)"


def format_countdown(expires_at: datetime | None, now: float | None = None) -> str:
    """'expires in 59 min 12 s' or 'expired 3 s ago'."""
    if expires_at is None:
        return "no token yet"
    left = int(expires_at.timestamp() - (time.time() if now is None else now))
    minutes, seconds = divmod(abs(left), 60)
    span = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
    return f"expires in {span}" if left >= 0 else f"expired {span} ago"


_COLUMNS = (
    "profile",
    "API URL",
    "client id",
    "account",
    "scopes",
    "token",
    "requests",
    "token requests",
    "retries",
)


class StatusView:
    """%ue_status: every login as a table (HTML in notebooks, text in terminals)."""

    def __init__(self, summaries: list[LoginSummary], now: float | None = None) -> None:
        self.rows = [
            (
                s.profile or "(default)",
                s.api_url,
                s.client_id,
                s.account_id or "",
                " ".join(s.scopes),
                format_countdown(s.expires_at, now),
                str(s.requests),
                str(s.token_requests),
                str(s.retries),
            )
            for s in summaries
        ]

    def __repr__(self) -> str:
        if not self.rows:
            return "Not logged in. Run %ue_login."
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) for i, c in enumerate(_COLUMNS)]
        lines = [_aligned(_COLUMNS, widths)] + [_aligned(row, widths) for row in self.rows]
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>Not logged in. Run <code>%ue_login</code>.</p>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in _COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        return (
            f"<table class='ue-status'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _aligned(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
