"""Constants used by more than one module, defined once."""

from __future__ import annotations

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
