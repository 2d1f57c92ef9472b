"""The token goes only where it should: a proxy from the environment never carries loopback
traffic (the secret and tokens in clear text), still carries the rest, and a SOCKS proxy without
``socksio`` is one sentence, or nothing at all when it would not carry our URLs."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.security.conftest import run
from tests.security.servers import Seen, Server, answer, serving
from ue_magic import Credentials, UsageEngineClient
from ue_magic.core.credentials import Secret
from ue_magic.errors import ApiConnectionError, ConfigurationError, TokenError
from ue_magic.sandbox import Sandbox

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
REMOTE = "https://api.example.test/"


def refuse(seen: Seen, conn: socket.socket) -> None:
    answer(conn, 502, b"the test proxy forwards nothing")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A proxy of the tests' own that records what it was sent, in every proxy variable."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with serving(refuse) as server:
        for name in PROXY_VARIABLES[:3]:
            monkeypatch.setenv(name, server.url)
        yield server


def remote_creds() -> Credentials:
    return Credentials("cid", Secret("s" * 20), "eu", REMOTE, REMOTE, REMOTE + "oauth/token")


def test_proxies_never_carry_loopback_traffic(ip: Any, proxy: Server, sandbox: Sandbox) -> None:
    assert run(ip, "%ue_login").success
    assert run(ip, "%ue_call GET /usage-metering/v1/meter-types -q").success
    assert proxy.seen == []  # neither the secret's form nor a bearer token went there


def test_proxies_never_carry_localhost(proxy: Server, sandbox_env: dict[str, str]) -> None:
    env = {
        k: v.replace("127.0.0.1", "localhost") if k in ("UE_API_URL", "UE_TOKEN_URL") else v
        for k, v in sandbox_env.items()
    }
    with UsageEngineClient(Credentials.from_env(environ=env)) as ue:
        assert ue.get("usage-metering/v1/meter-types").status_code == 200
    assert proxy.seen == []


def test_proxies_still_carry_other_hosts(proxy: Server) -> None:
    with UsageEngineClient(remote_creds()) as ue, pytest.raises((ApiConnectionError, TokenError)):
        ue.get("x")
    assert proxy.seen and proxy.seen[0].method == "CONNECT"
    assert proxy.seen[0].target == "api.example.test:443"


@pytest.fixture
def socks_without_socksio(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setitem(sys.modules, "socksio", None)  # import socksio fails, as when missing
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1")


@pytest.mark.usefixtures("socks_without_socksio")
def test_proxies_socks_without_socksio_does_not_stop_a_loopback_login(
    ip: Any, sandbox: Sandbox
) -> None:
    assert run(ip, "%ue_login").success
    assert run(ip, "%ue_call GET /usage-metering/v1/meter-types -q").success


@pytest.mark.usefixtures("socks_without_socksio")
def test_proxies_socks_without_socksio_is_fine_when_no_proxy_covers_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "localhost,.example.test")
    with UsageEngineClient(remote_creds()) as ue:
        assert ue.base_url.host == "api.example.test"


@pytest.mark.usefixtures("socks_without_socksio")
def test_proxies_socks_without_socksio_says_what_to_install(ip: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        UsageEngineClient(remote_creds())
    message = str(info.value)
    assert "pip install 'httpx[socks]'" in message and "NO_PROXY" in message
    line = f"%ue_login --api-url {REMOTE} --audience {REMOTE} --token-url {REMOTE}t"
    result = run(ip, line)
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert "pip install 'httpx[socks]'" in str(result.error_in_exec)
