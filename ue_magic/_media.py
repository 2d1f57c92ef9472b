"""Media types: the one place that says what counts as JSON (request bodies and answers alike),
and which character set a Content-Type declares."""

from __future__ import annotations

import codecs


def media_type(content_type: str) -> str:
    """'application/json; charset=utf-8' -> 'application/json'."""
    return content_type.partition(";")[0].strip().lower()


def is_json(media: str) -> bool:
    """application/json, and the +json family (problem+json, ...)."""
    return media.endswith("/json") or media.endswith("+json")


def charset(content_type: str) -> str | None:
    """'text/plain; charset="ISO-8859-1"' -> 'iso-8859-1'; None when none is declared."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip().lower() or None
    return None


def codec(declared: str | None) -> str | None:
    """Python's codec for a declared charset ('latin1' -> 'iso8859-1'), None when unknown."""
    if not declared:
        return None
    try:
        return codecs.lookup(declared).name
    except LookupError:
        return None
