"""BearerAuth stepped by hand: the header, one renewal and one resend after a 401, the origin."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.tokens import (
    Clocks,
    TokenServer,
    api_request,
    oauth,
)
from ue_magic.core.token import (
    TokenManager,
)
from ue_magic.errors import (
    InvalidClientError,
    OriginError,
)


def test_auth_flow_puts_the_bearer_token_on(manager: TokenManager, server: TokenServer) -> None:
    flow = manager.auth.auth_flow(api_request())
    sent = next(flow)
    assert sent.headers["Authorization"] == f"Bearer {server.issued[0]}"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    assert manager.token_requests == 1


def test_401_renews_once_and_resends_once(
    manager: TokenManager, server: TokenServer, clocks: Clocks
) -> None:
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    resent = flow.send(httpx.Response(401))
    assert resent.headers["Authorization"] == f"Bearer {server.issued[1]}"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))  # a second 401 is the answer: no loop
    assert manager.token_requests == 2


def test_401_on_a_token_already_replaced_resends_without_renewing(
    manager: TokenManager, server: TokenServer, clocks: Clocks
) -> None:
    one, two = manager.auth.auth_flow(api_request()), manager.auth.auth_flow(api_request())
    next(one), next(two)  # both carry token 1
    clocks.advance(60)
    assert one.send(httpx.Response(401)).headers["Authorization"] == f"Bearer {server.issued[1]}"
    assert two.send(httpx.Response(401)).headers["Authorization"] == f"Bearer {server.issued[1]}"
    assert manager.token_requests == 2


@pytest.mark.parametrize("status", [200, 403, 404, 500])
def test_other_statuses_do_not_renew(status: int, manager: TokenManager) -> None:
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(status))
    assert manager.token_requests == 1


def test_a_streamed_body_is_not_resent(manager: TokenManager) -> None:
    flow = manager.auth.auth_flow(api_request(content=iter([b"x"])))
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))
    assert manager.token_requests == 1


def test_a_bytes_body_is_resent(manager: TokenManager, clocks: Clocks) -> None:
    flow = manager.auth.auth_flow(api_request(content=b'{"a": 1}'))
    next(flow)
    clocks.advance(60)
    assert flow.send(httpx.Response(401)).content == b'{"a": 1}'


def test_the_auth_flow_raises_the_token_error(server: TokenServer, manager: TokenManager) -> None:
    server.queue.append(oauth(401, "access_denied", "Unauthorized"))
    with pytest.raises(InvalidClientError):
        next(manager.auth.auth_flow(api_request()))


def test_the_auth_refuses_another_origin(manager: TokenManager) -> None:
    """Plugged into someone else's httpx client, the auth still keeps the token at home."""
    with httpx.Client(
        auth=manager.auth, transport=httpx.MockTransport(lambda r: httpx.Response(200))
    ) as other:
        with pytest.raises(OriginError, match=r"evil\.example"):
            other.get("https://evil.example/x")
        assert other.get("https://api.example:443/x").status_code == 200
    assert manager.token_requests == 1


@pytest.mark.parametrize("age", [0.0, 0.5, 4.9, 60.0, 3000.0])
def test_renewal_contract_a_401_renews_once_also_for_a_young_token(
    age: float, manager: TokenManager, server: TokenServer, clocks: Clocks
) -> None:
    """Revoked seconds after it was issued (or signing keys rotated): renew once, resend once."""
    manager.get_token()
    clocks.advance(age)
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    resent = flow.send(httpx.Response(401))
    assert resent.headers["Authorization"] == f"Bearer {server.issued[1]}"
    assert manager.token_requests == 2


@pytest.mark.parametrize("age", [0.0, 5.0, 59.0, 3000.0])
def test_renewal_contract_a_token_fetched_after_a_401_and_refused_is_not_renewed(
    age: float, manager: TokenManager, clocks: Clocks
) -> None:
    manager.get_token()
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    flow.send(httpx.Response(401))  # token 2 is fetched because of this 401 ...
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))  # ... and refused too: that 401 is the answer
    clocks.advance(age)
    later = manager.auth.auth_flow(api_request())
    next(later)
    with pytest.raises(StopIteration):
        later.send(httpx.Response(401))  # still never accepted: not renewed again
    assert manager.token_requests == 2


def test_renewal_contract_a_token_fetched_after_a_401_renews_once_accepted(
    manager: TokenManager, server: TokenServer
) -> None:
    manager.get_token()
    flow = manager.auth.auth_flow(api_request())
    next(flow)
    flow.send(httpx.Response(401))
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))  # the API accepted token 2
    later = manager.auth.auth_flow(api_request())
    next(later)
    resent = later.send(httpx.Response(401))  # revoked later: renewed as any token is
    assert resent.headers["Authorization"] == f"Bearer {server.issued[2]}"
    assert manager.token_requests == 3


def test_a_persistent_401_costs_one_renewal_not_one_per_call(
    manager: TokenManager, clocks: Clocks
) -> None:
    manager.get_token()
    clocks.advance(60)
    for _ in range(20):
        flow = manager.auth.auth_flow(api_request())
        next(flow)
        try:
            flow.send(httpx.Response(401))
            flow.send(httpx.Response(401))
        except StopIteration:
            pass
    assert manager.token_requests == 2
