"""Shared pieces of the token tests: clocks that move when told, a token endpoint, leak checks."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import TracebackType
from urllib.parse import parse_qs

import httpx

from ue_magic.core.credentials import Credentials, Secret
from ue_magic.core.token import (
    TokenManager,
)

SECRET = "the-Secret-42"


TOKEN_URL = "https://auth.example/oauth/token"


def make_creds(scope: str | None = None, audience: str = "https://api.example/") -> Credentials:
    return Credentials(
        client_id="cid",
        client_secret=Secret(SECRET),
        region="eu",
        audience=audience,
        api_url="https://api.example/",
        token_url=TOKEN_URL,
        scope=scope,
    )


def make_jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


class Clocks:
    """A monotonic and a wall clock that move only when told."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = 1_700_000_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float, *, mono: bool = True, wall: bool = True) -> None:
        self.mono += seconds if mono else 0
        self.wall += seconds if wall else 0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class TokenServer:
    """A token endpoint for MockTransport: queued odd answers first, then fresh tokens."""

    def __init__(self, clocks: Clocks, *, lifetime: int = 3600, jwt: bool = True) -> None:
        self.clocks = clocks
        self.lifetime = lifetime
        self.jwt = jwt
        self.queue: list[Answer] = []
        self.forms: list[dict[str, list[str]]] = []
        self.issued: list[str] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.forms.append(parse_qs(request.content.decode()))
        self.headers.append(request.headers)
        if self.queue:
            answer = self.queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer if isinstance(answer, httpx.Response) else answer(request)
        number = len(self.issued) + 1
        if self.jwt:
            now = int(self.clocks.wall)
            token = make_jwt(
                {
                    "iat": now,
                    "exp": now + self.lifetime,
                    "scope": "read:meters create:meters",
                    "accountId": "acct-1",
                    "n": number,
                }
            )
        else:
            token = f"opaque-token-{number}"
        self.issued.append(token)
        body = {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}
        if not self.jwt:
            body["scope"] = "a:b c:d"
        return httpx.Response(200, json=body)


def manager_for(server: TokenServer, clocks: Clocks, **kw: object) -> TokenManager:
    return TokenManager(
        kw.pop("credentials", None) or make_creds(),  # type: ignore[arg-type]
        transport=httpx.MockTransport(server),
        clock=clocks.monotonic,
        wall_clock=clocks.time,
        sleep=clocks.sleep,
        **kw,  # type: ignore[arg-type]
    )


def leaks(text: str, server: TokenServer) -> list[str]:
    return [s for s in [SECRET, *server.issued] if s in text]


def frame_locals_leaks(tb: TracebackType | None, server: TokenServer) -> list[str]:
    """Secrets or tokens shown by the locals of our frames, as %xmode Verbose would print them."""
    found = []
    while tb is not None:
        frame = tb.tb_frame
        if "ue_magic" in frame.f_code.co_filename:
            for name, value in frame.f_locals.items():
                found += [f"{frame.f_code.co_name}.{name}" for _ in leaks(repr(value), server)]
        tb = tb.tb_next
    return found


def api_request(**kw: object) -> httpx.Request:
    return httpx.Request("GET", "https://api.example/usage-metering/v1/meters", **kw)  # type: ignore[arg-type]


def oauth(status: int, error: str, description: str, **headers: str) -> httpx.Response:
    body = {"error": error, "error_description": description}
    return httpx.Response(status, json=body, headers=headers)


def many(answer: Callable[[], Answer], count: int = 4) -> list[Answer]:
    return [answer() for _ in range(count)]


def every_frame_leaks(tb: TracebackType | None, secrets: list[str]) -> list[str]:
    """Secrets in the repr of any local of any frame below the test (ours, httpx's, ...)."""
    found = []
    tb = tb and tb.tb_next  # the first frame is the test's own
    while tb is not None:
        frame = tb.tb_frame
        for name, value in frame.f_locals.items():
            text = repr(value)
            found += [f"{frame.f_code.co_name}.{name}" for s in secrets if s in text]
        tb = tb.tb_next
    return found


def raw_answer(content: str) -> httpx.Response:
    """A 200 with a body written by hand (httpx's json= refuses Infinity and NaN)."""
    return httpx.Response(
        200, content=content.encode(), headers={"content-type": "application/json"}
    )
