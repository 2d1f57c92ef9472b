"""What a login looks like to its user: the one-line login message and the %ue_status table.

Only facts that are safe to show go in here (URLs, client id, account, scopes, times, counts):
the summary is built from the client's public state, never from the token or the secret.
"""

from __future__ import annotations

import html
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..cells._terminal import fit_width
from ..core._visible import visible
from ..core.credentials import without_password

if TYPE_CHECKING:
    from ..core._client import UsageEngineClient


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
            api_url=visible(without_password(client.credentials.api_url), one_line=True),
            client_id=visible(client.credentials.client_id, one_line=True),
            # the account and scopes come from the token endpoint's answer: shown, never acted on
            account_id=visible(info.account_id, one_line=True)
            if info and info.account_id
            else None,
            scopes=tuple(visible(s, one_line=True) for s in info.scopes) if info else (),
            expires_at=info.expires_at if info else None,
            requests=stats.requests,
            token_requests=stats.token_requests,
            retries=stats.retries,
        )

    def login_line(self, width: int | None = None, note: str = "") -> str:
        """What %ue_login prints, wrapped at spaces to ``width`` (default: the terminal's);
        the scopes are a count here (%ue_status lists them). URLs and ids are never split.
        ``note`` goes first and is wrapped with the rest (the sandbox's "not a real account")."""
        who = f" (profile {self.profile})" if self.profile else ""
        account = f"account {self.account_id}" if self.account_id else "unknown account"
        parts = [
            f"Logged in{who} to {self.api_url}",
            f"as client {self.client_id!r};",
            f"{account},",
            f"{_scope_count(self.scopes)},",
            f"token valid until {format_expiry(self.expires_at)}.",
        ]
        return _join_wrapped([note, *parts] if note else parts, fit_width(width))


def _join_wrapped(parts: list[str], width: int, indent: str = "") -> str:
    """Parts joined by spaces, a new indented line where the next part would pass ``width``:
    each part (a URL, an id, a date with its time) stays whole on one line."""
    lines = [indent + parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] += " " + part
        else:
            lines.append(indent + "  " + part)
    return "\n".join(lines)


def _wrap(text: str, width: int, indent: str = "") -> str:
    """Wrapped at spaces only: a URL, an id or a date is never broken."""
    return "\n".join(
        textwrap.wrap(
            text,
            width,
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    )


def _count(number: str, one: str, many: str = "") -> str:
    return f"{number} {one if number == '1' else many or one + 's'}"


def _scope_count(scopes: tuple[str, ...]) -> str:
    return f"{len(scopes)} scope{'' if len(scopes) == 1 else 's'}" if scopes else "no scopes"


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
    """%ue_status: every login as a table (HTML in notebooks, text in terminals).

    Scopes are a count in the table (the HTML cell lists them on hover). In a terminal, the
    table is used when it fits the width; otherwise each login is a few short lines, with its
    scopes on a line of their own.
    """

    def __init__(
        self, summaries: list[LoginSummary], now: float | None = None, width: int | None = None
    ) -> None:
        self.summaries = summaries
        self.width = width
        self.rows = [
            (
                s.profile or "(default)",
                s.api_url,
                s.client_id,
                s.account_id or "",
                str(len(s.scopes)),
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
        width = fit_width(self.width)
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) for i, c in enumerate(_COLUMNS)]
        lines = [_aligned(_COLUMNS, widths)] + [_aligned(row, widths) for row in self.rows]
        table = [line.rstrip() for line in lines]
        if max(map(len, table)) <= width:
            return "\n".join(table)
        return "\n".join(self._record(row, summary, width) for row, summary in self._pairs())

    def _pairs(self) -> list[tuple[tuple[str, ...], LoginSummary]]:
        return list(zip(self.rows, self.summaries, strict=True))

    @staticmethod
    def _record(row: tuple[str, ...], summary: LoginSummary, width: int) -> str:
        profile, api_url, client_id, account, _n, token, requests, tokens, retries = row
        account = f"account {account}" if account else "unknown account"
        scopes = " ".join(summary.scopes)
        lines = [
            f"{profile}: {api_url}",
            _join_wrapped([f"client {client_id!r},", account], width, "  "),
            _join_wrapped(
                [
                    f"token {token};",
                    _count(requests, "request") + ",",
                    _count(tokens, "token request") + ",",
                    _count(retries, "retry", "retries"),
                ],
                width,
                "  ",
            ),
            _wrap(f"scopes: {scopes}" if scopes else "no scopes", width, "  "),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>Not logged in. Run <code>%ue_login</code>.</p>"
        from ..cells.render import html_cell  # here, not at import: %load_ext stays quick

        head = "".join(f"<th style='white-space:nowrap'>{html.escape(c)}</th>" for c in _COLUMNS)
        body = "".join(
            "<tr>"
            + "".join(_scopes_cell(summary) if i == 4 else html_cell(v) for i, v in enumerate(row))
            + "</tr>"
            for row, summary in self._pairs()
        )
        return (
            f"<table class='ue-status'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _scopes_cell(summary: LoginSummary) -> str:
    """The count, with the scopes themselves as the cell's tooltip."""
    names = html.escape(" ".join(summary.scopes))
    return f"<td title=\"{names}\" style='white-space:nowrap'>{len(summary.scopes)}</td>"


def _aligned(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))


def logout_line(
    profile: str | None, was_in: bool, had_form: bool, had_sandbox: bool, sandbox_runs: bool
) -> str:
    """What %ue_logout says: whether there was a login, and what became of its form or sandbox."""
    if not was_in:
        where = f" with profile {profile}" if profile else ""
        closed = " The login form that was waiting is closed." if had_form else ""
        return f"Not logged in{where}.{closed}"
    stopped = ""
    if had_sandbox:
        stopped = (
            " The sandbox keeps running for the other logins that use it."
            if sandbox_runs
            else " The sandbox it used is stopped."
        )
    of = f" of profile {profile}." if profile else "."
    return f"Logged out{of}{stopped}"
