"""One bulk run (``--each`` as the magic runs it) against the neutral server in a process of its
own: what the pacing's benchmark and the real-socket tests share."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Measured:
    items: int
    elapsed: float
    failures: int
    not_sent: int
    requests: int
    refused: int
    stored: int
    duplicates: int
    rate: float

    @property
    def share(self) -> float:
        return self.items / self.elapsed / self.rate

    @property
    def refused_share(self) -> float:
        return self.refused / max(1, self.requests)

    def __str__(self) -> str:
        return (
            f"{self.items / self.elapsed:.1f}/s ({self.share:.1%} of the limit), "
            f"{self.failures} failures, {self.duplicates} duplicates, "
            f"429s {self.refused_share:.1%} of {self.requests} requests"
        )


@contextlib.contextmanager
def neutral_server(
    kind: str, rate: float, burst: int, retry_after: str = "whole", headers: str = "none"
) -> Iterator[str]:
    """The server's base URL while it runs."""
    command = [sys.executable, "-m", "tests.limits.server", "--kind", kind, "--rate",
               str(rate), "--burst", str(burst), "--retry-after", retry_after,
               "--headers", headers]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("URL="):
            raise RuntimeError("the neutral limiter server did not start")
        yield line[4:]
    finally:
        process.terminate()
        process.wait(10)


class _Quiet:
    def update(self, done: int, failed: int, force: bool = False) -> None:
        pass

    def finish(self, done: int, failed: int, interrupted: bool) -> None:
        pass


def bulk_run(base: str, items: int, concurrency: int, rate: float) -> Measured:
    """POST ``items`` items with ``--each --concurrency`` against the server at ``base``."""
    from ue_magic import Credentials, UsageEngineClient
    from ue_magic.cells.bulk import run_bulk
    from ue_magic.cells.call import CallOptions
    from ue_magic.cells.request import compile_request

    credentials = Credentials(
        client_id="neutral", client_secret="neutral-secret", region="eu", audience="neutral",
        api_url=base, token_url=base + "oauth/token", openapi="off",
    )  # fmt: skip
    template = compile_request('{"id": "{{item}}"}', "POST", "/items")
    options = CallOptions(concurrency=concurrency, quiet=True)
    with UsageEngineClient(credentials) as ue:
        ue.token_manager.get_token()
        result: Any = run_bulk(ue, template, {}, list(range(items)), options, _Quiet())
    stats = httpx.get(base + "stats").json()
    return Measured(
        items, result.elapsed, len(result.failures), len(result.not_sent), stats["requests"],
        stats["refused"], stats["stored"], stats["duplicates"], rate,
    )  # fmt: skip
