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
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

from .._extras import extra_missing, running_module

try:
    from .app import build_app
    from .demo import load_demo_data
    from .faults import Fault
    from .metering import parse_usage
    from .openapi import OPENAPI_PATH
    from .rates import TOKEN_RATE_DEFAULT, Rate, parse_rate
    from .server import ServerThread, base_url_of, bind_socket
    from .state import JWKS_PATH, SandboxState
    from .timefmt import format_ts, utcnow
except ImportError as _error:  # starlette, uvicorn or PyJWT: one sentence naming the extra
    _missing = extra_missing("sandbox", "The sandbox", _error)
    if _missing is None:
        raise
    if running_module(__name__):  # python -m ue_magic.sandbox: the sentence, not a traceback
        print(extra_missing("sandbox", f"python -m {__name__}", _error), file=sys.stderr)
        raise SystemExit(1) from None
    raise _missing from None

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
    def openapi_url(self) -> str:
        """`{base}openapi.json`: the OpenAPI 3.1 description of everything the sandbox serves."""
        return self.base_url + OPENAPI_PATH.lstrip("/")

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
        """Zero the counters, clear faults, restore the configured latency, rate limits and
        clock; `data` empties the store too. Clients and the issued-token log are kept."""
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

    def set_rates(
        self,
        token: str | float | Rate | None = TOKEN_RATE_DEFAULT,
        api: str | float | Rate | None = None,
    ) -> None:
        """Rate limits per client until the next `reset()`: `"N/B"` is N requests a second with
        a burst of B; `0` or None turns a limit off. `set_rates(token=0)` lifts the token limit
        (and the API limit, unless given). Raises ValueError for a malformed rate."""
        token_rate, api_rate = parse_rate(token), parse_rate(api)
        self._state.token_limiter.set_rate(token_rate)
        self._state.api_limiter.set_rate(api_rate)

    def record_usage(
        self,
        records: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None = None,
        *,
        user_id: str | None = None,
        meter_key: str | None = None,
        meter_id: str | None = None,
        value: float | None = None,
        timestamp: str | float | datetime | None = None,
        category: str | None = None,
    ) -> dict[str, Any]:
        """Applies usage records as the service's Meter processor would (see `metering.py`).

        Either `records` (dicts as `POST /_sandbox/usage` takes them: `userId` and `meterKey`,
        or `meterId`; `value`; optional `timestamp`, ISO 8601 text or epoch milliseconds; optional
        `meterTypeId` or `category` to reach only meters of that type or category) or the
        keywords for one record. Returns `{"applied": int, "skipped":
        int, "meters": [meter, ...]}` (the changed meters, as stored now). Raises
        `ue_magic.sandbox.errors.ValidationError` for a malformed record (nothing is applied)."""
        if records is None:
            one: dict[str, Any] = {
                "userId": user_id,
                "meterKey": meter_key,
                "meterId": meter_id,
                "value": value,
                "timestamp": format_ts(timestamp) if isinstance(timestamp, datetime) else timestamp,
                "category": category,
            }
            body: object = {k: v for k, v in one.items() if v is not None}
        elif isinstance(records, Mapping):
            body = dict(records)
        else:
            body = [dict(record) for record in records]
        return self._state.store.record_usage(parse_usage(body))

    def set_clock(self, clock: Callable[[], datetime] | None) -> None:
        """Where the sandbox's "now" comes from (meters reset when it passes their periodEnd)
        until the next `reset()`; None goes back to the clock given to `start()`."""
        self._state.store.set_clock(clock or self._state.clock)

    def load_demo_data(self) -> dict[str, int]:
        """Adds the demo meter types, meters and usage (what `start(demo_data=True)` does)."""
        return load_demo_data(self._state.store)

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
    token_rate: str | float | Rate | None = TOKEN_RATE_DEFAULT,
    api_rate: str | float | Rate | None = None,
    clock: Callable[[], datetime] | None = None,
    demo_data: bool = False,
) -> Sandbox:
    """Serve a new sandbox in a background thread and return it, running.

    `token_rate` and `api_rate` are per-client limits, `"N/B"` (N requests a second, burst B),
    `0` or None for none: the token endpoint's is on by default (10/5, the documented figure),
    the API's off. After a comma, other services' limits to try a client against: `fixed` or
    `sliding` one-second windows, `retry-after=fraction|none`, `headers=x|ietf` (each answer
    states the limit): `api_rate="100,fixed,headers=ietf"`. `clock` (returning an aware
    datetime) is the time meters reset by; `demo_data` seeds meter types, meters and usage.
    Raises ValueError for a bad setting."""
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
            token_rate=token_rate,
            api_rate=api_rate,
            clock=clock or utcnow,
        )
        if demo_data:
            load_demo_data(state.store)
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
