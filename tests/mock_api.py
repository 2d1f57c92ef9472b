"""A token endpoint and an API in one httpx.MockTransport handler, and a client on it (fixtures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from ue_magic.core._client import UsageEngineClient
from ue_magic.core.credentials import Credentials, Secret
from ue_magic.core.token import TokenManager

SECRET = "client-Secret-77"


API = "https://api.example/"


TOKEN_URL = "https://auth.example/oauth/token"


Answer = httpx.Response | Exception


def make_creds(api_url: str = API) -> Credentials:
    return Credentials("cid", Secret(SECRET), "eu", api_url, api_url, TOKEN_URL)


class Backend:
    """Token endpoint and API in one MockTransport handler; queued API answers, then 200."""

    def __init__(self) -> None:
        self.api: list[httpx.Request] = []
        self.bearers: list[str] = []  # as sent: the client masks the request objects afterwards
        self.token_calls = 0
        self.queue: list[Answer] = []
        self.default: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(
            200, json={"ok": True}
        )

    def token(self, number: int) -> str:
        return f"tok-{number}"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_calls += 1
            return httpx.Response(
                200, json={"access_token": self.token(self.token_calls), "expires_in": 3600}
            )
        self.api.append(request)
        self.bearers.append(request.headers.get("authorization", ""))
        if self.queue:
            answer = self.queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return self.default(request)


class Clock:
    """A monotonic clock the test moves (the wall clock stays real)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(backend: Backend, sleeps: list[float], clock: Clock) -> Iterator[UsageEngineClient]:
    manager = TokenManager(
        make_creds(), transport=httpx.MockTransport(backend), clock=clock, sleep=sleeps.append
    )
    with UsageEngineClient(
        make_creds(),
        transport=httpx.MockTransport(backend),
        sleep=sleeps.append,
        token_manager=manager,
    ) as ue:
        yield ue
    manager.close()


def status(code: int, **headers: str) -> httpx.Response:
    return httpx.Response(code, headers=headers, json={"status": code})
