"""Malformed requests never crash the sandbox: every answer is well-formed HTTP with a JSON body
and a status below 500, and the server still answers afterwards."""

from __future__ import annotations

import json
import random
import socket
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from ue_magic.sandbox import Sandbox, start
from ue_magic.sandbox.server import MAX_HEADER_BYTES

SEED = 20240726
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data",
    "application/json; charset=latin-1",
    "",
    "*/*",
    "application/vnd.x+json",
]
TYPES = "/usage-metering/v1/meter-types"
METERS = "/usage-metering/v1/meters"
TOKEN = "/authentication/v1/oauth/token"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "BREW"]
KEYS = [
    "name", "unit", "aggregation", "type", "thresholds", "capacity", "capacityPercentage",
    "absoluteValue", "resetSchedule", "day", "hour", "minute", "month", "weekday", "timezone",
    "externalRef", "activeFrom", "activeTo", "customFields", "userId", "meterKey", "meterTypeId",
    "deleteOnReset", "grant_type", "client_id", "client_secret", "audience", "scope",
]  # fmt: skip


@pytest.fixture(scope="module")
def target() -> Iterator[Sandbox]:
    """Its own sandbox: the fuzz must not litter the shared one."""
    with start() as sb:
        yield sb


def random_text(rng: random.Random, size: int) -> str:
    alphabet = string.printable + "éß€漢\u200b\ud7ff\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(size))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice(
            [None, True, False, 0, -1, 10**30, 1.5, -0.0, 1e308, "", "sum", "*", "0", "32",
             "Etc/UTC", "Mars/Base", "2024-01-01T00:00:00Z", "x" * rng.choice([1, 81, 201, 5000]),
             random_text(rng, 10), str(rng.random())]
        )  # fmt: skip
    if roll < 0.55:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = rng.sample(KEYS, rng.randint(0, 8))
    return {key: random_json(rng, depth + 1) for key in keys}


VALID_TYPE: dict[str, Any] = {
    "name": "n", "unit": "u", "aggregation": {"type": "sum"}, "capacity": 10,
    "resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"},
    "thresholds": [{"name": "t", "capacityPercentage": 50}, {"name": "a", "absoluteValue": 5}],
}  # fmt: skip


def mutated(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """A valid body with one spot, at some depth, replaced by something random."""
    if isinstance(value, dict) and value and depth < 3 and rng.random() < 0.8:
        key = rng.choice([*value, rng.choice(KEYS)])
        return {**value, key: mutated(rng, value.get(key), depth + 1)}
    if isinstance(value, list) and value and depth < 3 and rng.random() < 0.8:
        i = rng.randrange(len(value))
        return [*value[:i], mutated(rng, value[i], depth + 1), *value[i + 1 :]]
    return random_json(rng, depth)


def random_body(rng: random.Random, meter_type_id: str) -> bytes:
    choice = rng.randrange(14)
    if choice >= 10:
        meter = {"userId": "u", "meterKey": random_text(rng, 5), "meterTypeId": meter_type_id}
        return json.dumps(mutated(rng, rng.choice([VALID_TYPE, meter]))).encode()
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if choice == 1:
        text = json.dumps(random_json(rng))
        return text[: rng.randint(0, len(text))].encode()  # truncated JSON
    if choice == 2:
        depth = rng.choice([50, 1500, 100_000])
        return b"[" * depth + b"]" * rng.choice([0, depth])
    if choice == 3:
        return rng.choice([b"NaN", b'{"capacity": Infinity}', b'{"a": 1e99999}', b"9" * 5000])
    if choice == 4:
        fields = {k: random_text(rng, rng.randint(0, 12)) for k in rng.sample(KEYS[-5:], 3)}
        return "&".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8", "replace")
    if choice == 5:
        meter = {"userId": "u", "meterKey": "k", "meterTypeId": meter_type_id}
        return json.dumps({**meter, "customFields": random_json(rng)}).encode()
    if choice == 6:
        return b""
    return json.dumps(random_json(rng)).encode()


def random_path(rng: random.Random, known_id: str) -> str:
    base = rng.choice([TYPES, METERS, TOKEN, "/.well-known/jwks.json", "/", "/_sandbox/counters",
                       "/_sandbox/nothing", "/usage-metering", "/usage-metering/v1/"])  # fmt: skip
    roll = rng.random()
    if roll < 0.3:
        return base
    if roll < 0.5:
        return f"{rng.choice([TYPES, METERS])}/{known_id}"
    if roll < 0.7:
        segment = "".join(rng.choice(string.ascii_letters + "%.-_~!$&'()*+,;=:@") for _ in range(8))
        return f"{base.rstrip('/')}/{segment}"
    if roll < 0.8:
        return base + "/" + "a" * rng.choice([1, 100, 5000])
    if roll < 0.9:
        limit = rng.choice(["0", "-5", "x", "5", "%00", "9" * 50])
        return f"{base}?limit={limit}&pageToken={quote(random_text(rng, 6))}"
    return "/" + "/".join(rng.choice(["..", ".", "", "%2e%2e", "%2F", "é"]) for _ in range(4))


def random_headers(rng: random.Random, token: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    auth = rng.randrange(10)
    if auth < 7:
        headers["Authorization"] = f"Bearer {token}"
    elif auth == 3:
        headers["Authorization"] = rng.choice(
            [
                "Bearer",
                "Bearer x.y.z",
                "Basic Og==",
                "Basic !!",
                f"Bearer {token[:-3]}abc",
                f"bearer  {token}",
            ]
        )
    if rng.random() < 0.4:
        headers["Content-Type"] = rng.choice(CONTENT_TYPES)
    if rng.random() < 0.05:
        headers["X-Huge"] = "h" * rng.choice([10_000, 100_000])
    if rng.random() < 0.1:
        headers["Accept"] = "".join(rng.choice(string.ascii_letters + "/*;=,.-") for _ in range(20))
    return headers


ROUTES = [
    ("POST", TYPES), ("GET", TYPES), ("GET", TYPES + "/{id}"), ("PUT", TYPES + "/{id}"),
    ("PATCH", TYPES + "/{id}"), ("DELETE", TYPES + "/{id}"), ("POST", METERS), ("GET", METERS),
    ("GET", METERS + "/{id}"), ("DELETE", METERS + "/{id}"), ("POST", TOKEN),
]  # fmt: skip


def random_route(rng: random.Random, known_id: str) -> tuple[str, str]:
    """Mostly real routes (so bodies reach validation), sometimes anything at all."""
    if rng.random() < 0.7:
        method, path = rng.choice(ROUTES)
        path = path.format(id=rng.choice([known_id, known_id, "nope", random_text(rng, 4)]))
        if rng.random() < 0.3:
            path += (
                f"?limit={rng.choice(['0', '5', 'x', '9' * 50])}&name={quote(random_text(rng, 5))}"
            )
        return method, path
    return rng.choice(METHODS), random_path(rng, known_id)


def test_random_requests_get_json_answers_below_500(target: Sandbox) -> None:
    rng = random.Random(SEED)
    with httpx.Client(base_url=target.base_url.rstrip("/"), timeout=10, verify=False) as http:
        fields = {"grant_type": "client_credentials", "client_id": target.client_id,
                  "client_secret": target.client_secret, "audience": target.base_url}  # fmt: skip
        token = http.post(TOKEN, data=fields).json()["access_token"]
        type_body = {"name": "fuzz", "unit": "u", "aggregation": {"type": "sum"}}
        auth = {"Authorization": f"Bearer {token}"}
        known_id = http.post(TYPES, json=type_body, headers=auth).json()["id"]
        meter = {"userId": "u", "meterKey": "k", "meterTypeId": known_id}  # so it is never deleted
        assert http.post(METERS, json=meter, headers=auth).status_code == 201
        sent = 0
        for _ in range(400):
            method, path = random_route(rng, known_id)
            request = http.build_request(
                method,
                target.base_url.rstrip("/") + quote(path, safe="/?&=%:@!$'()*+,;~"),
                headers=random_headers(rng, token),
                content=random_body(rng, known_id) if rng.random() < 0.9 else None,
            )
            response = http.send(request)
            sent += 1
            where = f"{method} {request.url} -> {response.status_code} {response.text[:200]!r}"
            assert response.status_code < 500, where
            if method != "HEAD" and response.status_code not in (204, 304):
                assert response.headers["content-type"].startswith("application/json"), where
                json.loads(response.content)
        assert sent == 400
        # still alive, and still right
        assert http.post(TOKEN, data=fields).status_code == 200
        assert http.get(f"{TYPES}/{known_id}", headers=auth).status_code in (200, 404)
        assert http.get("/_sandbox/counters").json()["api_requests"] > 100


RAW_REQUESTS = [
    b"GARBAGE\r\n\r\n",
    b"\x00\xff\xfe\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    b"POST " + TYPES.encode() + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES + 10) + b"\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /\x01\x02 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
]


@pytest.mark.parametrize("raw", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_broken_http_gets_a_4xx_or_a_closed_connection(target: Sandbox, raw: bytes) -> None:
    host, port = target.base_url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may hang up on a huge header before reading it all
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    if answer:  # h11 answers what it cannot parse with its own plain-text 400
        status = int(answer.split(b" ", 2)[1])
        assert answer.startswith(b"HTTP/1.1 ") and 400 <= status < 500, answer[:200]
    with httpx.Client(verify=False) as http:
        assert http.get(target.base_url + "_sandbox/counters").status_code == 200
