"""Media types: the one place that says what counts as JSON (request bodies and answers alike)."""

from __future__ import annotations


def media_type(content_type: str) -> str:
    """'application/json; charset=utf-8' -> 'application/json'."""
    return content_type.partition(";")[0].strip().lower()


def is_json(media: str) -> bool:
    """application/json, and the +json family (problem+json, ...)."""
    return media.endswith("/json") or media.endswith("+json")
