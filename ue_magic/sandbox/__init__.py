"""A local Usage Engine emulator: OAuth token endpoint, JWKS and the usage metering API.

    from ue_magic.sandbox import start
    with start(token_ttl=60) as sb:
        print(sb.env_lines())      # UE_* settings that point ue-magic at it

`start()` begins serving at once on a free loopback port and returns the running `Sandbox`;
use it in a `with` block, or call `stop()`. The CLI is `ue-sandbox` (see `__main__.py`).
What the sandbox had to guess about the real service is listed in `app.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from .app import build_app
from .faults import Fault
from .server import ServerThread, base_url_of, bind_socket
from .state import JWKS_PATH, SandboxState

__all__ = ["Sandbox", "start"]

_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_\-.:/@+=~%,]*")


class Sandbox:
    """A running sandbox: where it is, its client, and the hooks tests use to steer it."""

    def __init__(self, state: SandboxState, server: ServerThread) -> None:
        self._state = state
        self._server = server

    def __repr__(self) -> str:  # no secret here: reprs end up in logs and notebooks
        status = "running" if self._server.running else "stopped"
        return f"<Sandbox {self.base_url} client_id={self.client_id!r} {status}>"

    # where it is and who may use it

    @property
    def base_url(self) -> str:
        return self._state.base_url

    @property
    def api_url(self) -> str:
        return self._state.base_url

    @property
    def token_url(self) -> str:
        return self._state.token_url

    @property
    def jwks_url(self) -> str:
        return self.base_url + JWKS_PATH.lstrip("/")

    @property
    def client_id(self) -> str:
        return self._state.default_client.client_id

    @property
    def client_secret(self) -> str:
        return self._state.default_client.client_secret

    @property
    def account_id(self) -> str:
        return self._state.account_id

    @property
    def scopes(self) -> tuple[str, ...]:
        return self._state.default_client.scopes

    def env(self) -> dict[str, str]:
        return self._state.env()

    def env_lines(self) -> str:
        """The same settings as `.env` text (values quoted only when they need it)."""
        return "".join(f"{key}={_dotenv_value(value)}\n" for key, value in self.env().items())

    # test hooks

    def counters(self) -> dict[str, Any]:
        return self._state.counters.snapshot()

    @property
    def issued_tokens(self) -> list[str]:
        return self._state.counters.issued_tokens()

    def reset(self, data: bool = False) -> None:
        """Zero the counters, clear faults, restore the configured latency; `data` empties the
        store too. Clients and the issued-token log are kept."""
        self._state.reset(data=data)

    def inject(
        self,
        target: str = "api",
        status: int | None = 503,
        count: int = 1,
        retry_after: float | str | None = None,
        delay: float = 0.0,
        drop: bool = False,
        body: Any = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next `count` requests to `target` ("api" or "token") whose path starts with
        `path_prefix` wait `delay` seconds, then get `status` with `body` (JSON; a str is sent as
        text) and Retry-After, or with `drop` a connection cut mid-answer. `status=None` with a
        delay only slows the request down."""
        fault = Fault(target, status, count, retry_after, delay, drop, body, path_prefix)
        self._state.faults.inject(fault)

    def set_latency(self, seconds: float) -> None:
        self._state.faults.set_latency(seconds)

    def add_client(self, client_id: str, client_secret: str, scopes: str | Iterable[str]) -> None:
        self._state.clients.add(client_id, client_secret, scopes)

    def seed_meters(self, n: int, meter_type_id: str | None = None) -> str:
        return self._state.store.seed_meters(n, meter_type_id)

    # lifetime

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    token_ttl: int = 3600,
    client_id: str | None = None,
    client_secret: str | None = None,
    scopes: str | Iterable[str] | None = None,
    page_size: int | None = None,
    latency: float = 0.0,
) -> Sandbox:
    """Serve a new sandbox in a background thread and return it, running."""
    sock = bind_socket(host, port)
    try:
        state = SandboxState.create(
            base_url_of(sock),
            token_ttl=token_ttl,
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            page_size=page_size,
            latency=latency,
        )
    except BaseException:
        sock.close()
        raise
    server = ServerThread(build_app(state), sock)
    server.start()
    return Sandbox(state, server)


def _dotenv_value(value: str) -> str:
    if _PLAIN_VALUE.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
