"""ue-magic's benchmarks: every figure a ratio to its baseline, measured in one run, same server.

    python benchmarks/bench.py [--check] [--rounds N] [--samples N] [--quick]
                               [--only calls|bulk|cold|limits] [--readme [PAGE]]

The sandbox runs in its own process (so server work does not share our GIL), and each timed figure
interleaves baseline and candidate rounds (A B A B ...) and compares medians. ``--check`` exits
non-zero when a target is missed; ``--readme`` writes the table between the markers of the docs'
benchmarks page (docs/guide/benchmarks.md), or of the page named.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ue_magic import Credentials

ROOT = Path(__file__).resolve().parent.parent
# Where the table is published: the docs site's benchmarks page, between its markers.
BENCH_PAGE = ROOT / "docs" / "guide" / "benchmarks.md"
MARKERS = ("<!-- bench -->", "<!-- /bench -->")
SMALL = "usage-metering/v1/meter-types?name=bench-none"
CALLS = 1000
PAIRED_CALLS = 200  # pairs of calls (one of each) per round of a paired figure: ``paired``
BIG_METERS = 31_000  # about 20 MB: the sandbox's meters are ~650 bytes each


@dataclass
class Row:
    what: str
    baseline: str
    measured: str
    target: str
    passed: bool | None  # None: shown for the reader, no target


# -- the sandbox in a process of its own ---------------------------------------------------------


@dataclass
class Server:
    env: dict[str, str]
    process: subprocess.Popen[str]

    @property
    def base(self) -> str:
        return self.env["UE_API_URL"]

    def hook(self, name: str, payload: dict | None = None) -> dict:
        url = self.base + "_sandbox/" + name
        response = httpx.post(url, json=payload) if payload is not None else httpx.get(url)
        response.raise_for_status()
        return response.json() if response.content else {}


@contextmanager
def sandbox_process(*args: str) -> Iterator[Server]:
    # --token-rate 0: the reference rows ask for a token per call (curl), faster than the
    # sandbox's default per-client limit (10/s, burst 5) allows; --quiet: no access log line per
    # request on stderr (work on the server's side that would only add noise)
    quiet = [] if "--quiet" in args else ["--quiet"]
    command = [
        sys.executable, "-m", "ue_magic.sandbox", "--port", "0", "--token-rate", "0", *quiet, *args
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    env: dict[str, str] = {}
    assert process.stdout is not None
    try:
        while len(env) < 5:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the sandbox exited before printing its settings")
            match = re.match(r"^(UE_[A-Z_]+)=(.*)$", line.strip())
            if match:
                env[match.group(1)] = match.group(2).strip("\"'")
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield Server(env, process)
    finally:
        process.terminate()
        process.wait(10)


def credentials(env: dict[str, str]) -> Credentials:
    """Straight from the sandbox's settings: no environment or .env of the developer's."""
    from ue_magic import Credentials

    return Credentials(
        client_id=env["UE_CLIENT_ID"],
        client_secret=env["UE_CLIENT_SECRET"],
        region="eu",
        audience=env["UE_AUDIENCE"],
        api_url=env["UE_API_URL"],
        token_url=env["UE_TOKEN_URL"],
    )


def raw_token(server: Server) -> str:
    answer = httpx.post(
        server.env["UE_TOKEN_URL"],
        data={
            "grant_type": "client_credentials",
            "client_id": server.env["UE_CLIENT_ID"],
            "client_secret": server.env["UE_CLIENT_SECRET"],
            "audience": server.env["UE_AUDIENCE"],
        },
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


# -- timing ---------------------------------------------------------------------------------------


def interleaved(a: Callable[[], None], b: Callable[[], None], rounds: int) -> tuple[float, float]:
    """Median seconds of ``a`` and of ``b``, run A B B A A B ... so drift hits both alike."""
    times: dict[str, list[float]] = {"a": [], "b": []}
    for n in range(rounds):
        order = (("a", a), ("b", b)) if n % 2 == 0 else (("b", b), ("a", a))
        for name, run in order:
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return statistics.median(times["a"]), statistics.median(times["b"])


@dataclass
class Pairs:
    """Paired rounds of a baseline (``base``) and a candidate (``ours``): seconds per call, of
    wall-clock time and of this process's CPU time, one entry per round."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]

    def ratios(self, kind: str) -> list[float]:
        clock = self.wall if kind == "wall" else self.cpu
        return [ours / base for base, ours in zip(clock["base"], clock["ours"], strict=True)]

    def ratio(self, kind: str) -> float:
        """The median of the rounds' ratios: the figure that decides PASS or MISS."""
        return statistics.median(self.ratios(kind))

    def middle_half(self, kind: str) -> str:
        """Where the middle half of the rounds' ratios lie: how much the machine's load moved
        them (a wide span says the figure is near the noise)."""
        low, _, high = statistics.quantiles(self.ratios(kind), n=4)
        return f"{low:.3f}-{high:.3f}"

    def seconds(self, name: str, kind: str = "wall") -> float:
        """Median seconds per call of ``name`` ("base" or "ours")."""
        return statistics.median((self.wall if kind == "wall" else self.cpu)[name])


def paired(
    base: Callable[[], object], ours: Callable[[], object], rounds: int, calls: int
) -> Pairs:
    """``rounds`` rounds of ``calls`` pairs of calls, one of each (A B, A B ... then B A ...).

    The two alternate call by call and each call is timed, so a load that comes and goes on a
    shared machine, in bursts of milliseconds to seconds, hits both alike; each round's ratio
    is of its two sums, and the median of the rounds' ratios is not moved by a few rounds that
    were unlucky. CPU time is this process's (``time.process_time``): with the server in a
    process of its own, it is the work the client did per call, which waiting for a busy core
    does not add to.
    """
    wall: dict[str, list[float]] = {"base": [], "ours": []}
    cpu: dict[str, list[float]] = {"base": [], "ours": []}
    clock, used = time.perf_counter, time.process_time
    for n in range(rounds):
        first, second = (base, ours) if n % 2 == 0 else (ours, base)
        spent = [0.0, 0.0, 0.0, 0.0]  # wall and CPU of first, then of second
        for _ in range(calls):
            started, cpu_started = clock(), used()
            first()
            middle, cpu_middle = clock(), used()
            second()
            ended, cpu_ended = clock(), used()
            spent[0] += middle - started
            spent[1] += cpu_middle - cpu_started
            spent[2] += ended - middle
            spent[3] += cpu_ended - cpu_middle
        a, b = (spent[:2], spent[2:]) if n % 2 == 0 else (spent[2:], spent[:2])
        for name, (w, c) in (("base", a), ("ours", b)):
            wall[name].append(w / calls)
            cpu[name].append(c / calls)
    return Pairs(wall, cpu)


def paired_row(what: str, baseline_name: str, pairs: Pairs, limit: float) -> Row:
    """A row decided by the median of the paired rounds' wall-clock ratios."""
    ratio = pairs.ratio("wall")
    extra_cpu = (pairs.seconds("ours", "cpu") - pairs.seconds("base", "cpu")) * 1e6
    return Row(
        what,
        f"{baseline_name}: {pairs.seconds('base') * 1e6:.0f} µs/call",
        f"{ratio:.3f}x ({pairs.seconds('ours') * 1e6:.0f} µs/call; middle half of "
        f"{len(pairs.wall['base'])} paired rounds {pairs.middle_half('wall')}; "
        f"CPU {extra_cpu:+.0f} µs/call)",
        f"<= {limit}x",
        ratio <= limit,
    )


# -- the figures ----------------------------------------------------------------------------------


def small_gets(server: Server, rounds: int) -> list[Row]:
    """Small GETs one after another: ``UsageEngineClient`` against a raw ``httpx.Client``;
    ``%ue_call -q`` and ``%%ue_call`` (rendered) against the raw client called through a line
    or cell magic of its own (so IPython's magic dispatch is in both), and against the raw
    client alone (shown). Each in ``rounds`` x 5 paired rounds of ``PAIRED_CALLS`` calls (see
    ``paired``)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    from ue_magic import UsageEngineClient

    token = raw_token(server)
    raw = httpx.Client(
        base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    ue = UsageEngineClient(credentials(server.env))
    before = server.hook("counters")["token_requests"]
    pairs = rounds * 5
    client_calls = 0

    def with_raw() -> None:
        raw.get(SMALL).raise_for_status()

    def with_client() -> None:
        nonlocal client_calls
        client_calls += 1
        ue.get(SMALL).raise_for_status()

    for _ in range(CALLS):
        with_raw()
        with_client()
    rows = [
        paired_row(
            "sequential small GETs via `UsageEngineClient`",
            "raw `httpx.Client`",
            paired(with_raw, with_client, pairs, PAIRED_CALLS),
            1.05,
        )
    ]
    token_requests = server.hook("counters")["token_requests"] - before
    rows.append(
        Row(
            f"token requests for {client_calls:,} calls",
            "one",
            str(token_requests),
            "exactly 1",
            token_requests == 1,
        )
    )

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    with tempfile.TemporaryDirectory() as folder, capture_output():
        env_file = Path(folder) / "sandbox.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in server.env.items()))
        shell.run_line_magic("load_ext", "ue_magic")
        shell.run_line_magic("ue_login", f"--env-file {env_file}")

    def with_line_magic() -> None:
        shell.run_line_magic("ue_call", f"GET /{SMALL} -q")

    def with_cell_magic() -> None:  # run inside capture_output: its publisher keeps displays
        shell.run_cell_magic("ue_call", "", f"GET /{SMALL}\n")
        shell.display_pub.outputs.clear()  # let go of it, as a front end would: no growing list

    # The same raw call through IPython's own magic dispatch (about 40-130 us a call, ours or
    # not): the baseline of what ue-magic adds. The cell one shows ``.json()`` as IPython shows
    # a value, as a user without ue-magic would see the answer.
    def raw_line(line: str) -> None:
        raw.get(SMALL).raise_for_status()

    def raw_cell(line: str, cell: str) -> None:
        display(raw.get(SMALL).json())

    shell.magics_manager.register_function(raw_line, "line", "bench_raw_get")
    shell.magics_manager.register_function(raw_cell, "cell", "bench_raw_get")

    def with_raw_line_magic() -> None:
        shell.run_line_magic("bench_raw_get", f"GET /{SMALL} -q")

    def with_raw_cell_magic() -> None:
        shell.run_cell_magic("bench_raw_get", "", f"GET /{SMALL}\n")
        shell.display_pub.outputs.clear()

    with capture_output():  # what the cells display, for all the rounds
        for _ in range(CALLS):
            with_line_magic()
            with_cell_magic()
            with_raw_line_magic()
            with_raw_cell_magic()
        line_pairs = paired(with_raw_line_magic, with_line_magic, pairs, PAIRED_CALLS)
        cell_pairs = paired(with_raw_cell_magic, with_cell_magic, pairs, PAIRED_CALLS)
        line_total = paired(with_raw, with_line_magic, pairs, PAIRED_CALLS)
        cell_total = paired(with_raw, with_cell_magic, pairs, PAIRED_CALLS)
    rows.append(
        paired_row(
            "the same via `%ue_call -q` in an `InteractiveShell`",
            "raw `httpx.Client` in a line magic",
            line_pairs,
            1.05,
        )
    )
    rows.append(
        paired_row(
            "the same via `%%ue_call` with rendering (display captured)",
            "raw `httpx.Client` in a cell magic showing `.json()`",
            cell_pairs,
            1.10,
        )
    )
    for what, pairs_of in (("`%ue_call -q`", line_total), ("`%%ue_call` rendered", cell_total)):
        row = paired_row(f"{what}, IPython's dispatch included", "raw `httpx.Client`", pairs_of, 0)
        rows.append(dataclasses.replace(row, target="shown", passed=None))
    from bench_others import reference_rows  # the same call made other ways, for the reader

    rows += reference_rows(server, token, raw)
    shell.run_line_magic("unload_ext", "ue_magic")
    raw.close()
    ue.close()
    return rows


def threads_across_expiries() -> Row:
    """64 threads, calls spanning 5 token lifetimes: one token request per lifetime.

    The workers stop themselves 1 s into the fifth lifetime (4 to 5 s long, as the JWT's exp is
    whole seconds, renewed 0.5 s early), by the time they see, not by a sleep of the main
    thread: on a loaded machine 64 busy threads can starve it for seconds, and a late stop let
    calls run into the sixth lifetime.
    """
    from ue_magic import UsageEngineClient

    with sandbox_process("--token-ttl", "5") as server:
        ue = UsageEngineClient(credentials(server.env))
        manager = ue.token_manager
        failures: list[str] = []
        fifth: list[float] = []  # when a worker first saw the fifth token request

        def worker() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if manager.token_requests >= 5:
                    if not fifth:
                        fifth.append(time.monotonic())
                    if time.monotonic() - fifth[0] >= 1.0:
                        return
                status = ue.get(SMALL).status_code
                if status != 200:
                    failures.append(str(status))

        threads = [threading.Thread(target=worker) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        count = server.hook("counters")["token_requests"]
        ue.close()
    ok = count == 5 and not failures
    return Row(
        "64 threads calling across 5 token expiries",
        "one token request per expiry",
        f"{count} token requests" + (f", {len(failures)} failed calls" if failures else ""),
        "exactly 5",
        ok,
    )


def big_answer(rounds: int) -> list[Row]:
    """A ~20 MB list of meters: render vs json.loads, and the size of what is shown."""
    from IPython.display import JSON

    from ue_magic import UsageEngineClient
    from ue_magic.cells.render import ResponseView
    from ue_magic.core._media import decode_body
    from ue_magic.sandbox import start

    with start() as sandbox:
        type_id = sandbox.seed_meters(BIG_METERS)
        with UsageEngineClient(credentials(sandbox.env())) as ue:
            response = ue.get("usage-metering/v1/meters", params={"meterTypeId": type_id})
    content = response.content
    sizes: list[int] = []

    def baseline() -> None:
        json.loads(content)

    def ours() -> None:
        body = decode_body(response)
        bundle = ResponseView(response, body=body)._repr_mimebundle_()
        sizes.append(sum(len(v) for v in bundle.values()))

    base_s, ours_s = interleaved(baseline, ours, rounds)
    ratio = ours_s / base_s
    size = max(sizes)
    theirs = len(json.dumps(JSON(json.loads(content))._repr_json_()[0]))
    return [
        Row(
            f"rendering a {len(content) / 1e6:.1f} MB answer ({BIG_METERS:,} meters)",
            f"`json.loads`: {base_s * 1e3:.0f} ms",
            f"{ratio:.2f}x, output {size / 1e3:.0f} kB",
            "<= 2x time, output <= 300 kB",
            ratio <= 2 and size <= 300_000,
        ),
        Row(
            "the same answer via `IPython.display.JSON`",
            "(its output size)",
            f"output {theirs / 1e6:.1f} MB",
            "shown",
            None,
        ),
    ]


def bulk_throughput() -> Row:
    """1,000 POSTs with --each at concurrency 8 vs 1, the sandbox adding 20 ms per request."""
    from ue_magic import UsageEngineClient
    from ue_magic.cells.bulk import run_bulk
    from ue_magic.cells.call import CallOptions
    from ue_magic.cells.progress import TextProgress
    from ue_magic.cells.request import compile_request

    with sandbox_process() as server:
        ue = UsageEngineClient(credentials(server.env))
        created = ue.post(
            "usage-metering/v1/meter-types",
            json={"name": "bench", "unit": "u", "aggregation": {"type": "sum"}},
        )
        type_id = created.json()["id"]
        template = compile_request(
            '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "' + type_id + '"}',
            "POST",
            "/usage-metering/v1/meters",
        )
        server.hook("latency", {"seconds": 0.02})
        rates = {}
        for concurrency in (1, 8):
            items = [f"c{concurrency}-{n}" for n in range(1000)]
            options = CallOptions(concurrency=concurrency, quiet=True)
            with open(os.devnull, "w") as sink:
                progress = TextProgress(len(items), stream=sink)
                result = run_bulk(ue, template, {}, items, options, progress)
            assert not result.failures, result.failures[:3]
            rates[concurrency] = len(items) / result.elapsed
        ue.close()
    ratio = rates[8] / rates[1]
    return Row(
        "1,000 POSTs with `--each`, concurrency 8, 20 ms added per request",
        f"concurrency 1: {rates[1]:.0f}/s",
        f"{ratio:.1f}x ({rates[8]:.0f}/s)",
        ">= 5x throughput",
        ratio >= 5,
    )


# -- the report -----------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()} with {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, by `python benchmarks/bench.py --check`.",
        "",
        "| what | baseline | measured | target | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        verdict = "" if row.passed is None else ("PASS" if row.passed else "MISS")
        lines.append(f"| {row.what} | {row.baseline} | {row.measured} | {row.target} | {verdict} |")
    return "\n".join(lines)


def check_page(path: Path) -> None:
    """Raise SystemExit unless ``path`` has the table's start marker (checked before a long run)."""
    if MARKERS[0] not in path.read_text(encoding="utf-8"):
        raise SystemExit(f"{path} has no {MARKERS[0]} marker: the table lives in {BENCH_PAGE}.")


def write_readme(path: Path, text: str) -> None:
    """Put ``text`` between the ``<!-- bench -->`` markers of ``path`` (a Markdown page).

    Raises SystemExit when the page has no marker, saying which page holds the table.
    """
    check_page(path)
    readme = path.read_text(encoding="utf-8")
    start, end = MARKERS
    if end not in readme:
        readme = readme.replace(start, f"{start}\n{end}")
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per figure")
    parser.add_argument(
        "--readme",
        type=Path,
        nargs="?",
        const=BENCH_PAGE,
        help="write the table into the docs' benchmarks page (or this Markdown page)",
    )
    parser.add_argument(
        "--only",
        choices=["calls", "bulk", "cold", "limits"],
        help="run only these rows (the table is partial)",
    )
    parser.add_argument(
        "--samples", type=int, default=7, help="new processes per order of the cold rows"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the limiter matrix's subset (3 minutes, not an hour): see bench_limits.py",
    )
    args = parser.parse_args()
    if args.readme:
        check_page(args.readme)
    from bench_bulk import against_asyncio, big_input, rate_limited

    rows: list[Row] = []
    if args.only in (None, "calls"):
        with sandbox_process() as server:
            rows += small_gets(server, args.rounds)
        rows.append(threads_across_expiries())
        rows += big_answer(args.rounds)
        from bench_openapi import rows as openapi_rows  # API-aware cells: completion, checks

        rows += openapi_rows(args.rounds)
    if args.only in (None, "limits"):
        from bench_limits import rows as limit_rows  # a neutral server's limiters

        rows += limit_rows(args.quick)
    if args.only in (None, "bulk"):
        for figure in (bulk_throughput, rate_limited, lambda: against_asyncio(args.rounds)):
            got = figure()
            rows += got if isinstance(got, list) else [got]
            print(table(rows), file=sys.stderr, flush=True)  # so far, in case a later one fails
        rows.append(big_input())
    if args.only in (None, "calls"):
        from bench_others import load_time

        rows.append(load_time(args.rounds))
    if args.only in (None, "cold"):
        from bench_cold import rows as cold_rows  # the first answer in a new process

        rows += cold_rows(args.samples)
    text = table(rows)
    print(text)
    if args.readme:
        write_readme(args.readme, text)
    missed = [row.what for row in rows if row.passed is False]
    for what in missed:
        print(f"MISS: {what}", file=sys.stderr)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
