"""Constants shared by several modules, each defined once so that a change happens in one place."""

from __future__ import annotations

__all__ = [
    "BEARER_MASK",
    "CLOSED_CLIENT",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "MAX_CONCURRENCY",
    "MAX_RETRIES",
    "MAX_RETRY_WAIT",
    "MAX_TIMEOUT",
    "MAX_URL_LENGTH",
    "METHODS",
    "TOKEN_MAX_BYTES",
    "refusing_origin",
]

# every method the cell language accepts, in the order error messages list them
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# methods retried without an Idempotency-Key: sending them twice does what sending once does
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_RETRIES = 10  # more retries of one request would only hide an outage
DEFAULT_MAX_BYTES = 100 * 1024 * 1024  # the most bytes of one answer: one a kernel survives
TOKEN_MAX_BYTES = 1024 * 1024  # a token answer is a few kB; more is a broken server
MAX_RETRY_WAIT = 30.0  # seconds; a longer Retry-After is not waited for (nor a longer backoff)
DEFAULT_TIMEOUT = 30.0  # seconds to wait for one answer, unless told otherwise
MAX_TIMEOUT = 3600.0  # seconds; a longer wait for one answer is a mistake, not a plan
MAX_CONCURRENCY = 64  # requests in flight with --each; more only trips rate limits
MAX_HTTP_FILE_BYTES = 25 * 1024 * 1024  # a .http file for --file: requests and their bodies
# httpx refuses a longer URL (httpx._urlparse.MAX_URL_LENGTH); the cell language checks before
MAX_URL_LENGTH = 65_536
# what an Authorization header shows once ue-magic is done with it (dry runs, kept responses)
BEARER_MASK = "Bearer ***"
CLOSED_CLIENT = (
    "This client was closed (logged out, or logged in again): get a new one with "
    "ue_magic.client() or UsageEngineClient(...)."
)


def refusing_origin(target: str, reason: str, fix: str) -> str:
    """The one wording of an origin refusal: 'Refusing to send the token to TARGET: REASON; FIX.'

    ``target`` is ``scheme://host[:port]``; ``reason`` says why (another origin, plain http);
    ``fix`` says what to do.
    """
    return f"Refusing to send the token to {target}: {reason}; {fix}."


class UseClientDefault:
    """The type of ``USE_CLIENT_DEFAULT``: "the client's own setting", apart from None ("no
    limit"), as httpx's ``USE_CLIENT_DEFAULT`` (``max_bytes=USE_CLIENT_DEFAULT``)."""

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT = UseClientDefault()
