"""Interop: ue-magic against a real OAuth 2.0 server, panva's oidc-provider (npm), run by node.

The sandbox is our own reading of the protocol; these tests check that reading against a
certified third-party server. oidc-provider issues RS256 JWT access tokens for the
client_credentials grant (``tests/interop/oidc-server.mjs``), and a small resource server here
trusts nothing but the provider's published JWKS: signature, issuer, audience and expiry.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from ue_magic import Credentials, UsageEngineClient
from ue_magic.core.credentials import Secret
from ue_magic.errors import InvalidClientError, TokenError

pytestmark = pytest.mark.interop

INTEROP_DIR = Path(__file__).parent
SERVER_SCRIPT = INTEROP_DIR / "oidc-server.mjs"
METERS_PATH = "/usage-metering/v1/meters"
SCOPE = "read:meters read:meter_types"
SHORT_TTL = 3  # seconds; whole seconds, as oidc-provider's exp is
START_TIMEOUT = 20.0


# -- the resource server: a Usage Engine stand-in that only trusts the provider's JWKS ---------


@dataclass
class Use:
    """One API request the resource server saw."""

    at: float  # time.monotonic()
    jti: str | None  # None when the token was refused
    status: int


@dataclass
class ResourceServer:
    """``GET /usage-metering/v1/meters`` behind bearer tokens verified with PyJWT."""

    url: str = ""
    issuer: str = ""
    jwks: jwt.PyJWKClient | None = None
    uses: list[Use] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def trust(self, issuer: str, jwks_uri: str) -> None:
        self.issuer = issuer
        self.jwks = jwt.PyJWKClient(jwks_uri, cache_keys=True)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of ``token``, or a jwt.InvalidTokenError (or PyJWKClientError)."""
        assert self.jwks is not None, "the resource server does not know the issuer yet"
        key = self.jwks.get_signing_key_from_jwt(token).key
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=self.url,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "aud", "iss"]},
        )

    def record(self, jti: str | None, status: int) -> None:
        with self.lock:
            self.uses.append(Use(time.monotonic(), jti, status))

    def snapshot(self) -> list[Use]:
        with self.lock:
            return list(self.uses)


def _handler(server: ResourceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != METERS_PATH:
                self._answer(404, {"error": "not found"})
                return
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            try:
                if scheme.lower() != "bearer" or not token:
                    raise jwt.InvalidTokenError("no bearer token")
                claims = server.verify(token)
            except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
                server.record(None, 401)
                self._answer(401, {"error": "invalid_token", "detail": type(exc).__name__})
                return
            server.record(str(claims.get("jti")), 200)
            self._answer(200, {"meters": [{"id": "m-1", "meterKey": "api-calls", "value": 7}]})

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


def _serve_resource(server: ResourceServer) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/"  # trailing slash, like UE's
    threading.Thread(target=httpd.serve_forever, name="interop-api", daemon=True).start()
    return httpd


# -- oidc-provider in node ----------------------------------------------------------------------


@dataclass
class OidcServer:
    """The node process and what its discovery document says."""

    process: subprocess.Popen[str]
    log: Path
    issuer: str
    token_endpoint: str
    jwks_uri: str
    client_id: str
    client_secret: str
    account_id: str

    def events(self, kind: str) -> int:
        """How many ``kind`` events ("token", "token_error") the server logged so far."""
        count = 0
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and json.loads(line).get("event") == kind:
                count += 1
        return count


@dataclass
class Stack:
    oidc: OidcServer
    api: ResourceServer

    def credentials(
        self, *, secret: str | None = None, audience: str | None = None, scope: str | None = SCOPE
    ) -> Credentials:
        return Credentials(
            client_id=self.oidc.client_id,
            client_secret=Secret(self.oidc.client_secret if secret is None else secret),
            region="eu",
            audience=self.api.url if audience is None else audience,
            api_url=self.api.url,
            token_url=self.oidc.token_endpoint,
            scope=scope,
        )


def _require_node() -> str:
    """The node binary, or a failure (CI) / skip (elsewhere) that says to run `make node`."""
    node = shutil.which("node")
    installed = (INTEROP_DIR / "node_modules" / "oidc-provider" / "package.json").is_file()
    if node and installed:
        return node
    what = "node is not on PATH" if not node else "oidc-provider is not installed"
    message = f"{what}: run `make node` (cd tests/interop && npm ci) for the interop tests"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _read_first_line(process: subprocess.Popen[str], log: Path) -> str:
    """The server's JSON line, or a failure that shows what node wrote to stderr."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        pytest.fail(f"oidc-provider did not start:\n{log.read_text(errors='replace')[-2000:]}")
    return line


def _start_oidc(node: str, resource: str, ttl: int, log: Path) -> OidcServer:
    client_id, secret, account = "interop-client", uuid.uuid4().hex, str(uuid.uuid4())
    env = {
        **os.environ,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": secret,
        "OIDC_RESOURCE": resource,
        "OIDC_ACCESS_TOKEN_TTL": str(ttl),
        "OIDC_ACCOUNT_ID": account,
    }
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [node, str(SERVER_SCRIPT), "0"],
            cwd=INTEROP_DIR,
            env=env,
            stdin=subprocess.PIPE,  # closing it stops the server, even if we die
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        started = json.loads(_read_first_line(process, log))
        # a real client would read the discovery document; so do we
        discovery = httpx.get(
            f"{started['issuer']}/.well-known/openid-configuration", trust_env=False
        ).json()
        assert "client_credentials" in discovery["grant_types_supported"]
        assert "client_secret_post" in discovery["token_endpoint_auth_methods_supported"]
    except BaseException:
        _stop_oidc(process)
        raise
    return OidcServer(
        process=process,
        log=log,
        issuer=discovery["issuer"],
        token_endpoint=discovery["token_endpoint"],
        jwks_uri=discovery["jwks_uri"],
        client_id=client_id,
        client_secret=secret,
        account_id=account,
    )


def _stop_oidc(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _stack(ttl: int, log: Path) -> Iterator[Stack]:
    node = _require_node()
    api = ResourceServer()
    httpd = _serve_resource(api)  # first: the provider must know the audience it serves
    try:
        oidc = _start_oidc(node, api.url, ttl, log)
        try:
            api.trust(oidc.issuer, oidc.jwks_uri)
            yield Stack(oidc, api)
        finally:
            _stop_oidc(oidc.process)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """oidc-provider with hour-long tokens, and the resource server for its audience."""
    yield from _stack(3600, tmp_path_factory.mktemp("oidc") / "server.log")


@pytest.fixture(scope="module")
def short_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same with tokens that live SHORT_TTL seconds."""
    yield from _stack(SHORT_TTL, tmp_path_factory.mktemp("oidc-short") / "server.log")


# -- tests ---------------------------------------------------------------------------------------


def test_login_and_call(stack: Stack) -> None:
    issued = stack.oidc.events("token")
    with UsageEngineClient(stack.credentials()) as ue:
        response = ue.get(METERS_PATH.lstrip("/"))
        assert response.status_code == 200, response.text
        assert response.json()["meters"][0]["meterKey"] == "api-calls"
        assert response.request.headers["Authorization"] == "Bearer ***"

        token = ue.token_manager.get_token()
        claims = stack.api.verify(token)  # signature, issuer, audience, expiry
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        assert claims["aud"] == stack.api.url  # the audience, trailing slash and all
        assert claims["client_id"] == stack.oidc.client_id
        assert claims["scope"] == SCOPE
        assert claims["accountId"] == stack.oidc.account_id

        info = ue.token_manager.info
        assert info is not None
        assert info.scopes == tuple(SCOPE.split())
        assert info.account_id == stack.oidc.account_id
        assert info.client_id == stack.oidc.client_id
        assert abs(info.expires_at.timestamp() - claims["exp"]) <= 2
        assert 3500 < info.lifetime <= 3600
        assert ue.stats.token_requests == 1
    assert stack.oidc.events("token") == issued + 1


def test_without_scope_the_audience_still_gets_a_token(stack: Stack) -> None:
    with UsageEngineClient(stack.credentials(scope=None)) as ue:
        assert ue.get(METERS_PATH.lstrip("/")).status_code == 200
        claims = stack.api.verify(ue.token_manager.get_token())
        assert claims["aud"] == stack.api.url
        assert "scope" not in claims
        assert ue.token_manager.info is not None
        assert ue.token_manager.info.scopes == ()


def test_wrong_secret_is_a_clear_error_without_the_secret(stack: Stack) -> None:
    wrong = "wrong-" + uuid.uuid4().hex
    refused = stack.oidc.events("token_error")
    calls = len(stack.api.snapshot())
    with UsageEngineClient(stack.credentials(secret=wrong)) as ue:
        with pytest.raises(InvalidClientError) as caught:
            ue.get(METERS_PATH.lstrip("/"))
        assert ue.stats.token_requests == 1  # refused credentials are not retried
    message = str(caught.value)
    assert stack.oidc.client_id in message
    assert "UE_CLIENT_SECRET" in message
    for secret in (wrong, stack.oidc.client_secret):
        assert secret not in message
        assert secret not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert stack.oidc.events("token_error") == refused + 1
    assert len(stack.api.snapshot()) == calls  # nothing reached the API


def test_unknown_audience_is_refused_by_the_server(stack: Stack) -> None:
    # oidc-provider knows the audience with its trailing slash only; ue-magic sends it as given
    audience = stack.api.url.rstrip("/")
    with (
        UsageEngineClient(stack.credentials(audience=audience)) as ue,
        pytest.raises(TokenError) as caught,
    ):
        ue.get(METERS_PATH.lstrip("/"))
    assert "invalid_target" in str(caught.value)
    assert "UE_AUDIENCE" in str(caught.value)
    assert stack.oidc.client_secret not in str(caught.value)


def test_short_tokens_are_renewed_once_per_lifetime(short_stack: Stack) -> None:
    """Four threads call for three lifetimes: one token request per lifetime, no 401 anywhere."""
    duration, pause, threads = 3 * SHORT_TTL, 0.1, 4
    issued = short_stack.oidc.events("token")
    start = len(short_stack.api.snapshot())
    statuses: list[int] = []

    with UsageEngineClient(short_stack.credentials()) as ue:

        def call_for_a_while() -> list[int]:
            seen = []
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                seen.append(ue.get(METERS_PATH.lstrip("/")).status_code)
                time.sleep(pause)
            return seen

        with ThreadPoolExecutor(threads) as pool:
            for seen in pool.map(lambda _: call_for_a_while(), range(threads)):
                statuses.extend(seen)
        requests = ue.stats.token_requests
        assert ue.token_manager.info is not None
        assert ue.token_manager.info.lifetime <= SHORT_TTL + 0.1

    uses = short_stack.api.snapshot()[start:]
    assert set(statuses) == {200}  # no 401 reached the caller...
    assert all(use.status == 200 for use in uses)  # ...nor the API: renewed before expiry
    assert len(uses) == len(statuses) > 100

    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for use in uses:
        assert use.jti is not None
        first.setdefault(use.jti, use.at)
        last[use.jti] = use.at
    # every token requested was used, and the server issued exactly those
    assert requests == len(first) == short_stack.oidc.events("token") - issued
    # a renewal per lifetime: at least one per lifetime passed, never more than the shortest
    # lifetime the client can see (exp is whole seconds, renewal comes a little early) allows
    assert duration / SHORT_TTL <= requests <= duration / (SHORT_TTL - 1.5) + 1
    # tokens were not thrown away early: each but the last was used for most of its life
    for jti in list(first)[:-1]:
        assert last[jti] - first[jti] >= SHORT_TTL - 1.8, (jti, last[jti] - first[jti])


def test_magics_log_in_and_call(stack: Stack, ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """%ue_login with the UE_* settings pointing at oidc-provider, then %ue_call."""
    from IPython.utils.capture import capture_output

    creds = stack.credentials()
    for name, value in {
        "UE_CLIENT_ID": creds.client_id,
        "UE_CLIENT_SECRET": stack.oidc.client_secret,
        "UE_AUDIENCE": creds.audience,
        "UE_API_URL": creds.api_url,
        "UE_TOKEN_URL": creds.token_url,
        "UE_SCOPE": SCOPE,
    }.items():
        monkeypatch.setenv(name, value)
    with capture_output() as captured:
        ip.run_line_magic("ue_login", "")
        result = ip.run_cell(f"r = %ue_call GET {METERS_PATH} -q")
    assert result.success, result.error_in_exec
    assert stack.oidc.client_id in captured.stdout
    assert stack.oidc.account_id in captured.stdout
    assert "2 scopes" in captured.stdout  # the login line counts them; %ue_status names them
    with capture_output() as status:
        ip.run_line_magic("ue_status", "")
    assert "read:meters" in status.stdout + "".join(str(o.data) for o in status.outputs)
    assert stack.oidc.client_secret not in captured.stdout + captured.stderr
    assert ip.user_ns["r"]["meters"][0]["meterKey"] == "api-calls"
