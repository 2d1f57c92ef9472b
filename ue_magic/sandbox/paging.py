"""Pagination of list answers (a guess: the real scheme is not public).

`limit` (1..1000) sets the page size, `pageToken` continues where the previous page stopped; the
answer carries `nextPageToken` while items remain. The token is an opaque offset into the list in
creation order, so items created or deleted between pages may shift what a later page holds.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import TypeVar

from .errors import ValidationError

MAX_LIMIT = 1000
_PREFIX = "o:"
T = TypeVar("T")


def paginate(
    items: Sequence[T], params: Mapping[str, str], default_size: int | None
) -> tuple[Sequence[T], str | None]:
    """The page of `items` that `params` ask for, and the token of the next page (or None)."""
    size = _limit(params.get("limit"), default_size)
    offset = _offset(params.get("pageToken"))
    if size is None:
        return items[offset:], None
    end = offset + size
    return items[offset:end], (encode_token(end) if end < len(items) else None)


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode().rstrip("=")


def _limit(text: str | None, default: int | None) -> int | None:
    if text is None:
        return default
    if (
        not (text.isascii() and text.isdigit() and len(text) <= 7)
        or not 1 <= int(text) <= MAX_LIMIT
    ):
        raise ValidationError("limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(text)


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, ValueError):
        text = ""
    number = text[len(_PREFIX) :]
    if not text.startswith(_PREFIX) or not (
        number.isascii() and number.isdigit() and len(number) <= 12
    ):
        raise ValidationError("pageToken", "pageToken is not a token this server gave out")
    return int(number)
