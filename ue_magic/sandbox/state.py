"""Everything one running sandbox holds, built from its settings (shared by start() and the CLI)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from .auth import DEFAULT_SCOPES, Signer
from .clients import ClientRecord, Clients, random_client_id, random_client_secret
from .counters import Counters
from .faults import Faults
from .paging import MAX_LIMIT
from .rates import TOKEN_RATE_DEFAULT, Rate, RateLimiter, parse_rate
from .store import Store
from .timefmt import utcnow

TOKEN_PATH = "/authentication/v1/oauth/token"
JWKS_PATH = "/.well-known/jwks.json"
API_PREFIX = "/usage-metering/v1"
HOOKS_PREFIX = "/_sandbox"


@dataclass
class SandboxState:
    base_url: str  # with the trailing slash; also the audience
    account_id: str
    token_ttl: int
    page_size: int | None
    latency: float  # the configured latency, restored by reset()
    default_client: ClientRecord
    clients: Clients
    signer: Signer
    store: Store
    faults: Faults
    counters: Counters
    token_rate: Rate | None  # the configured limits, restored by reset()
    api_rate: Rate | None
    token_limiter: RateLimiter
    api_limiter: RateLimiter
    clock: Callable[[], datetime]  # the configured clock, restored by reset()

    @classmethod
    def create(
        cls,
        base_url: str,
        *,
        token_ttl: int = 3600,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: str | Iterable[str] | None = None,
        page_size: int | None = None,
        latency: float = 0.0,
        token_rate: str | float | Rate | None = TOKEN_RATE_DEFAULT,
        api_rate: str | float | Rate | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> SandboxState:
        if isinstance(token_ttl, bool) or not isinstance(token_ttl, int) or token_ttl < 1:
            raise ValueError("token_ttl must be a positive number of seconds")
        if page_size is not None and not 1 <= page_size <= MAX_LIMIT:
            raise ValueError(f"page_size must be from 1 to {MAX_LIMIT}")
        token_limit, api_limit = parse_rate(token_rate), parse_rate(api_rate)
        account_id = str(uuid.uuid4())
        clients = Clients()
        default_client = clients.add(
            client_id or random_client_id(),
            client_secret or random_client_secret(),
            DEFAULT_SCOPES if scopes is None else scopes,
        )
        return cls(
            base_url=base_url,
            account_id=account_id,
            token_ttl=token_ttl,
            page_size=page_size,
            latency=latency,
            default_client=default_client,
            clients=clients,
            signer=Signer(base_url),
            store=Store(account_id, clock=clock),
            faults=Faults(latency),
            counters=Counters(),
            token_rate=token_limit,
            api_rate=api_limit,
            token_limiter=RateLimiter(token_limit),
            api_limiter=RateLimiter(api_limit),
            clock=clock,
        )

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH.lstrip("/")

    def env(self) -> dict[str, str]:
        """The UE_* settings that point ue-magic at this sandbox."""
        return {
            "UE_CLIENT_ID": self.default_client.client_id,
            "UE_CLIENT_SECRET": self.default_client.client_secret,
            "UE_AUDIENCE": self.base_url,
            "UE_TOKEN_URL": self.token_url,
            "UE_API_URL": self.base_url,
        }

    def reset(self, data: bool = False) -> None:
        self.counters.reset()
        self.faults.clear(self.latency)
        self.token_limiter.set_rate(self.token_rate)
        self.api_limiter.set_rate(self.api_rate)
        self.store.set_clock(self.clock)
        if data:
            self.store.clear()
