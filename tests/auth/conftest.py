"""Fixtures of the token tests: clocks, a token endpoint, a TokenManager on both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.tokens import (
    Clocks,
    TokenServer,
    manager_for,
)
from tests.mock_api import backend, client, clock, sleeps  # noqa: F401  (fixtures of test_client)
from ue_magic.core.token import (
    TokenManager,
)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def server(clocks: Clocks) -> TokenServer:
    return TokenServer(clocks)


@pytest.fixture
def manager(server: TokenServer, clocks: Clocks) -> Iterator[TokenManager]:
    tm = manager_for(server, clocks)
    yield tm
    tm.close()
