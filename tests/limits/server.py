"""A neutral rate-limited service for the pacing's tests and benchmarks (not the sandbox): one of
``limiters`` in front of ``POST /items`` (a JSON body with an ``id``), a token endpoint that grants
any client a token, and ``GET /stats`` (requests, 429s, items stored, duplicates).

    python -m tests.limits.server --kind bucket --rate 100 --burst 20 \\
        --retry-after whole --headers none [--port 0]

prints ``URL=http://127.0.0.1:PORT/`` once it listens. Plain uvicorn and ASGI, one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from collections import Counter
from typing import Any

import uvicorn

from .limiters import HEADERS, RETRY_AFTER, Limiter, limiter

Send = Any


class Service:
    def __init__(self, limit: Limiter) -> None:
        self.limit, self.began = limit, time.monotonic()
        self.requests = self.refused = 0
        self.items: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if path == "/oauth/token":
            token = {"access_token": "neutral", "token_type": "Bearer", "expires_in": 86400}
            await _answer(send, 200, token)
        elif path == "/stats":
            duplicates = sum(n - 1 for n in self.items.values() if n > 1)
            stats = {"requests": self.requests, "refused": self.refused,
                     "stored": len(self.items), "duplicates": duplicates}  # fmt: skip
            await _answer(send, 200, stats)
        elif path == "/items" and method == "POST":
            self.requests += 1
            status, headers = self.limit.admit(time.monotonic() - self.began)
            if status == 429:
                self.refused += 1
                await _answer(send, 429, {"error": "too many requests"}, headers)
                return
            self.items[str(json.loads(body).get("id"))] += 1
            await _answer(send, 201, {"ok": True}, headers)
        else:
            await _answer(send, 404, {"error": "not found"})


async def _answer(send: Send, status: int, body: dict[str, Any], headers: Any = None) -> None:
    content = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["bucket", "fixed", "sliding"], default="bucket")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--retry-after", choices=RETRY_AFTER, default="whole")
    parser.add_argument("--headers", choices=HEADERS, default="none")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    print(f"URL=http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
    service = Service(limiter(args.kind, args.rate, args.burst, args.retry_after, args.headers))
    config = uvicorn.Config(
        service, lifespan="off", http="h11", ws="none", log_level="warning",
        access_log=False, timeout_keep_alive=65,
    )  # fmt: skip
    server = uvicorn.Server(config)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
