"""Fixtures of the walk tests: a client on a MockTransport API (see tests/mock_api.py)."""

from tests.mock_api import backend, client, clock, sleeps  # noqa: F401  (fixtures)
