"""The bulk rows of bench.py: --each against a rate-limited sandbox, against a raw asyncio loop,
and over 100,000 items (memory and time per item). Each sandbox runs in a process of its own."""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
from bench import Row, Server, credentials, raw_token, sandbox_process

METERS = "usage-metering/v1/meters"
TYPES = "usage-metering/v1/meter-types"
RATE_LIMIT, BURST, RATE_ITEMS = 100, 20, 3000


class _Quiet:
    """A progress that shows nothing (the benchmark prints its own table)."""

    def update(self, done: int, failed: int, force: bool = False) -> None:
        pass

    def finish(self, done: int, failed: int, interrupted: bool) -> None:
        pass


def _meter_type(server: Server, token: str, name: str) -> str:
    answer = httpx.post(
        server.base + TYPES,
        json={"name": name, "unit": "u", "aggregation": {"type": "sum"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def _created(server: Server, token: str, type_id: str) -> list[str]:
    users: list[str] = []
    params: dict[str, str] = {"meterTypeId": type_id, "limit": "1000"}
    while True:
        page = httpx.get(
            server.base + METERS, params=params, headers={"Authorization": f"Bearer {token}"}
        ).json()
        users += [m["userId"] for m in page["meters"]]
        if not page.get("nextPageToken"):
            return users
        params["pageToken"] = page["nextPageToken"]


def _each(ue: Any, template: Any, items: list[str], concurrency: int, throttle: Any = None) -> Any:
    from ue_magic.cells.bulk import run_bulk
    from ue_magic.cells.call import CallOptions

    options = CallOptions(concurrency=concurrency, quiet=True)
    return run_bulk(ue, template, {}, items, options, _Quiet(), throttle=throttle)


def _post_template(type_id: str) -> Any:
    from ue_magic.cells.request import compile_request

    return compile_request(
        '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "' + type_id + '"}',
        "POST",
        "/" + METERS,
    )


def rate_limited() -> list[Row]:
    """3,000 POSTs at concurrency 32 against --api-rate 100/20: adaptive vs fixed, no pause."""
    from ue_magic import UsageEngineClient
    from ue_magic.cells._pacing import Throttle

    rows = []
    for adaptive in (True, False):
        with sandbox_process("--quiet", "--api-rate", f"{RATE_LIMIT}/{BURST}") as server:
            token = raw_token(server)
            type_id = _meter_type(server, token, "bench-rate")
            items = [f"r{n}" for n in range(RATE_ITEMS)]
            with UsageEngineClient(credentials(server.env)) as ue:
                throttle = Throttle(32, adaptive=adaptive, shared_pause=adaptive)
                result = _each(ue, _post_template(type_id), items, 32, throttle)
            posts = server.hook("counters")["by_route"][f"POST /{METERS}"]
            made = _created(server, token, type_id)
        duplicates = len(made) - len(set(made))
        throughput = RATE_ITEMS / result.elapsed
        refused = (posts - RATE_ITEMS) / posts
        measured = (
            f"{throughput:.1f}/s ({throughput / RATE_LIMIT:.0%} of the limit), "
            f"{len(result.failures)} failures, {len(result.not_sent)} not sent, "
            f"{duplicates} duplicates, "
            f"{len(made)} created, 429s {refused:.1%} of {posts} requests"
        )
        if adaptive:
            ok = (
                not result.failures
                and not result.not_sent
                and duplicates == 0
                and len(made) == RATE_ITEMS
                and throughput >= 0.9 * RATE_LIMIT
                and refused <= 0.10
            )
            rows.append(
                Row(
                    f"{RATE_ITEMS:,} POSTs, `--each --concurrency 32`, sandbox `--api-rate "
                    f"{RATE_LIMIT}/{BURST}`",
                    f"the limit: {RATE_LIMIT}/s",
                    measured,
                    "0 failures, 0 duplicates, >= 90% of the limit, 429s <= 10%",
                    ok,
                )
            )
        else:
            rows.append(
                Row(
                    "the same with a fixed concurrency of 32 and no shared pause",
                    f"the limit: {RATE_LIMIT}/s",
                    measured,
                    "shown",
                    None,
                )
            )
    return rows


async def _raw_loop(base: str, token: str, type_id: str, items: list[str], limit: int) -> None:
    semaphore = asyncio.Semaphore(limit)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=httpx.Limits(max_connections=100)
    ) as client:

        async def one(item: str) -> None:
            async with semaphore:
                body = {"userId": item, "meterKey": "k", "meterTypeId": type_id}
                answer = await client.post(METERS, content=json.dumps(body))
                answer.raise_for_status()

        await asyncio.gather(*(one(item) for item in items))


def against_asyncio(rounds: int) -> list[Row]:
    """--each vs asyncio + httpx.AsyncClient + a semaphore, 20 ms added per request."""
    from ue_magic import UsageEngineClient

    rows = []
    with sandbox_process("--quiet") as server:
        token = raw_token(server)
        type_id = _meter_type(server, token, "bench-async")
        template = _post_template(type_id)
        server.hook("latency", {"seconds": 0.02})
        with UsageEngineClient(credentials(server.env)) as ue:
            for concurrency in (8, 32):
                n = 50 * concurrency
                runs = {"raw": [], "each": []}  # type: ignore[var-annotated]
                for r in range(max(3, rounds // 2)):
                    order = ("raw", "each") if r % 2 == 0 else ("each", "raw")
                    for name in order:
                        items = [f"{name}{concurrency}-{r}-{i}" for i in range(n)]
                        started = time.perf_counter()
                        if name == "raw":
                            asyncio.run(_raw_loop(server.base, token, type_id, items, concurrency))
                        else:
                            result = _each(ue, template, items, concurrency)
                            assert not result.failures, result.failures[:3]
                        runs[name].append(n / (time.perf_counter() - started))
                raw, each = statistics.median(runs["raw"]), statistics.median(runs["each"])
                ratio = each / raw
                rows.append(
                    Row(
                        f"{n:,} POSTs with `--each --concurrency {concurrency}`, 20 ms added",
                        f"asyncio + `httpx.AsyncClient`, semaphore {concurrency}: {raw:.0f}/s",
                        f"{ratio:.2f}x ({each:.0f}/s)",
                        ">= 0.9x throughput",
                        ratio >= 0.9,
                    )
                )
    return rows


BIG_PROBE = """
import json, resource, statistics, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
from bench import credentials
from bench_bulk import BIG_PROBE
from ue_magic import UsageEngineClient
from ue_magic.cells.bulk import check_items, run_bulk
from ue_magic.cells.call import CallOptions
from ue_magic.cells.request import compile_request
here, env, n, type_id = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
SLICES, REFERENCE, RUNS, WARM_UP = 10, 1_000, 3, 100
template = compile_request("", "GET", "/usage-metering/v1/meter-types/" + type_id + "?n={{item}}")
options = CallOptions(concurrency=8, quiet=True)


class Quiet:
    def update(self, done, failed, force=False):
        pass

    def finish(self, done, failed, interrupted):
        pass


class References:
    # The 1,000-item runs, in a process of their own (started once, so no start-up is timed):
    # asked for RUNS runs at a time, each batch after a short run that opens its connections
    # again (idle ones are closed by the server meanwhile); answers the seconds per item of each.
    def __init__(self):
        command = [sys.executable, "-c", BIG_PROBE, here, sys.argv[2], str(REFERENCE), type_id]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def batch(self):
        self.process.stdin.write("runs\\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


def status(field):  # KiB, from /proc/self/status (Linux)
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))


def reset_peak():
    # the peak RSS from now on, without the peak of the imports: Linux's clear_refs 5 resets it
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return status("VmRSS"), lambda: status("VmHWM"), "VmHWM from VmRSS before the items"
    except OSError:
        peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak(), peak, "ru_maxrss from before the items, a floor"


class Slices(Quiet):
    # Every n/SLICES items the long run waits here (its requests in flight finish) while a batch
    # of 1,000-item runs is timed: each slice is compared with the batches either side of it, so
    # a change of the machine's load during the long run hits both alike.
    def __init__(self, n, references):
        self.every, self.next, self.references = n // SLICES, n // SLICES, references
        self.slices, self.batches = [], [references.batch()]
        self.start, self.start_done, self.paused = None, 0, 0.0

    def update(self, done, failed, force=False):
        now = time.perf_counter()
        if self.start is None:  # the first update after a pause: the items done in it are not timed
            self.start, self.start_done = now, done
        if done >= self.next:
            self.slices.append((now - self.start) / (done - self.start_done))
            self.next += self.every
            self.batches.append(self.references.batch())
            self.start = None
            self.paused += time.perf_counter() - now


with UsageEngineClient(credentials(env)) as ue:
    ue.token_manager.get_token()

    def each(items, progress=Quiet()):
        check_items(template, {}, items)
        result = run_bulk(ue, template, {}, items, options, progress)
        assert len(result.ok) == len(items), result.summary()

    def timed(items):
        started = time.perf_counter()
        each(items)
        return (time.perf_counter() - started) / len(items)

    if n == REFERENCE:  # every run's items are new: a path seen before skips its parse
        # (the client's cache of 1,024 URLs), as no item of the long run does
        for batch, _request in enumerate(sys.stdin):
            each([f"warm-{batch}-{i}" for i in range(WARM_UP)])
            tags = [f"{batch:03d}{run}" for run in range(RUNS)]
            print(json.dumps([timed([f"{tag}-{i:06d}" for i in range(n)]) for tag in tags]))
            sys.stdout.flush()
        sys.exit()
    references = References()
    slices = Slices(n, references)
    before, peak, memory = reset_peak()
    items = [f"item-{i:06d}" for i in range(n)]  # as long as the 1,000-item runs' items
    started = time.perf_counter()
    slices.start = started  # the first slice holds the check of all n items
    each(items, slices)
    whole = (time.perf_counter() - started - slices.paused) / n
    growth = peak() - before
    references.close()
batches = slices.batches
pairs = zip(slices.slices, batches, batches[1:])
ratios = [s / statistics.median(earlier + later) for s, earlier, later in pairs]
every = [seconds for batch in batches for seconds in batch]
print(json.dumps({
    "kib": growth, "memory": memory, "per_item": whole, "slices": slices.slices,
    "references": every, "ratios": ratios, "whole_ratio": whole / statistics.median(every),
}))
"""


def big_input() -> Row:
    """100,000 items (cheap GETs) vs 1,000: the peak RSS growth from before the items exist,
    and the time per item in 10 slices of the long run, each against the 1,000-item runs timed
    just before and after it (the long run waits meanwhile); the median of those ratios."""
    here = os.path.dirname(os.path.abspath(__file__))
    n = 100_000
    with sandbox_process("--quiet") as server:
        type_id = _meter_type(server, raw_token(server), "bench-big")
        out = subprocess.run(
            [sys.executable, "-c", BIG_PROBE, here, json.dumps(server.env), str(n), type_id],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    big = json.loads(out.strip().splitlines()[-1])
    growth = big["kib"] / 1024
    ratio = statistics.median(big["ratios"])
    # "no worse": a sign test, as one 1,000-item run varies by +-20% on a shared machine. With
    # equal costs each slice is slower than its reference half the time, and 8 or more of 10
    # are slower 5.5% of the time; a cost that grows with the items makes them all slower
    slower = sum(r > 1.0 for r in big["ratios"])
    worse = slower >= math.ceil(0.8 * len(big["ratios"]))
    references = [s * 1e6 for s in big["references"]]
    return Row(
        f"{n:,} items with `--each` (GETs, concurrency 8)",
        f"1,000 items (warm process): median {statistics.median(references):.0f} µs/item, "
        f"{len(references)} runs {min(references):.0f}-{max(references):.0f}",
        f"peak memory +{growth:.0f} MB ({big['memory']}), {ratio:.2f}x time per item "
        f"(median of {len(big['ratios'])} slices of {n // len(big['ratios']):,}, each against "
        f"the 1,000-item runs just before and after it: {min(big['ratios']):.2f}x-"
        f"{max(big['ratios']):.2f}x; whole run {big['whole_ratio']:.2f}x, "
        f"{big['per_item'] * 1e6:.0f} µs/item); {slower} of {len(big['ratios'])} slices slower",
        "<= 300 MB; time per item no worse (fewer than 8 of 10 slices slower: a sign test)",
        growth <= 300 and not worse,
    )
