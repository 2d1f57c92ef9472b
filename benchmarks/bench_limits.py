"""The limiter matrix of bench.py: ``--each`` POSTs against a neutral rate-limited server
(``tests/limits/server.py``, not the sandbox), for each kind of limiter services use: token
buckets (bursts 5 to 100), fixed one-second windows, sliding logs; ``Retry-After`` in whole
seconds, a fraction, or none; and answers that state the limit (``X-RateLimit-*``, the IETF
draft's ``RateLimit-Policy``/``RateLimit``). One row per limiter: its runs of 1,000 and 3,000
items at concurrency 8 and 32, each against a new server.

    python benchmarks/bench_limits.py [--quick]

The whole matrix takes about an hour (a run lasts as long as the limit makes it: 3,000 items at
20 a second are 150 s); ``--quick`` (1,000 items at concurrency 32, eight limiters) about 3
minutes. ``--simulated`` runs the whole matrix on a simulated clock instead
(``tests/limits/simulation.py``: the same throttle, no sockets), in about 15 s: for trying a change
to the pacing, not for the figures the docs quote as measured. ``--contention 0.001`` makes
requests arrive late and out of order as real runs do (see ``tests/limits/simulation.py``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import Row  # noqa: E402

from tests.limits.limiters import limiter  # noqa: E402
from tests.limits.run import Measured, bulk_run, neutral_server  # noqa: E402
from tests.limits.simulation import simulate  # noqa: E402

RUNS = [(1000, 8), (1000, 32), (3000, 8), (3000, 32)]
QUICK_RUNS = [(1000, 32)]


@dataclass(frozen=True)
class Limit:
    kind: str
    rate: int
    burst: int = 0
    retry_after: str = "whole"
    headers: str = "none"

    def __str__(self) -> str:
        kind = {
            "bucket": f"token bucket {self.rate}/{self.burst}",
            "fixed": f"fixed one-second windows of {self.rate}",
            "sliding": f"sliding log, {self.rate} a second",
        }[self.kind]
        retry = {"whole": "`Retry-After` whole seconds", "fraction": "fractional `Retry-After`",
                 "none": "no `Retry-After`"}[self.retry_after]  # fmt: skip
        stated = {"none": "", "x": ", `X-RateLimit-*` headers",
                  "ietf": ", `RateLimit-Policy`/`RateLimit` headers"}[self.headers]  # fmt: skip
        return f"{kind}, {retry}{stated}"


def matrix(quick: bool) -> list[Limit]:
    if quick:
        return [
            Limit("bucket", 100, 20),
            Limit("bucket", 100, 20, "fraction"),
            Limit("bucket", 20, 5),
            Limit("fixed", 100),
            Limit("sliding", 100),
            Limit("bucket", 100, 20, headers="x"),
            Limit("bucket", 100, 20, headers="ietf"),
            Limit("fixed", 100, headers="ietf"),
        ]
    limits = [
        Limit(kind, rate, burst, retry)
        for kind, rate, burst in [("bucket", 100, 20), ("bucket", 100, 100), ("bucket", 20, 5),
                                  ("bucket", 100, 5), ("fixed", 100, 0), ("sliding", 100, 0)]
        for retry in ("whole", "fraction", "none")
    ]  # fmt: skip
    limits += [
        Limit(kind, 100, burst, "whole", headers)
        for kind, burst in [("bucket", 20), ("fixed", 0), ("sliding", 0)]
        for headers in ("x", "ietf")
    ]
    return limits


def _passed(run: Measured, target: float) -> bool:
    return (
        run.failures == 0
        and run.not_sent == 0
        and run.duplicates == 0
        and run.stored == run.items
        and run.share >= target
        and run.refused_share <= 0.01
    )


def limit_row(limit: Limit, runs: list[tuple[int, int]]) -> Row:
    target = 0.98 if limit.headers != "none" else 0.95
    parts, passed = [], True
    for items, concurrency in runs:
        with neutral_server(
            limit.kind, limit.rate, max(1, limit.burst), limit.retry_after, limit.headers
        ) as base:
            run = bulk_run(base, items, concurrency, limit.rate)
        passed = passed and _passed(run, target)
        problems = ""
        if run.failures or run.not_sent or run.duplicates or run.stored != run.items:
            problems = (
                f", {run.failures} failed, {run.not_sent} not sent, "
                f"{run.duplicates} duplicates, {run.stored} stored"
            )
        parts.append(
            f"{items:,} c{concurrency}: {run.share:.1%}, 429s {run.refused_share:.1%}{problems}"
        )
    return Row(
        str(limit),
        f"the limit: {limit.rate}/s",
        "; ".join(parts),
        f">= {target:.0%} of the limit, 429s <= 1%, 0 failures, 0 duplicates",
        passed,
    )


def simulated_row(limit: Limit, contention: float = 0.0) -> Row:
    """The row on a simulated clock: twice the workers, as a bulk run has (no failures or
    duplicates to count there); ``contention``: see ``simulate``."""
    target = 0.98 if limit.headers != "none" else 0.95
    parts, passed = [], True
    for items, concurrency in RUNS:
        service = limiter(limit.kind, limit.rate, max(1, limit.burst), limit.retry_after,
                          limit.headers)  # fmt: skip
        run = simulate(service, items, concurrency, spare=True, contention=contention)
        passed = passed and run.share >= target and run.refused_share <= 0.01
        parts.append(f"{items:,} c{concurrency}: {run.share:.1%}, 429s {run.refused_share:.1%}")
    return Row(str(limit), f"the limit: {limit.rate}/s", "; ".join(parts),
               f">= {target:.0%} of the limit, 429s <= 1% (simulated)", passed)  # fmt: skip


def rows(
    quick: bool = False, progress: bool = True, simulated: bool = False, contention: float = 0.0
) -> list[Row]:
    """The matrix's rows (``quick``: the subset)."""
    out = []
    for limit in matrix(quick):
        if simulated:
            out.append(simulated_row(limit, contention))
        else:
            out.append(limit_row(limit, QUICK_RUNS if quick else RUNS))
        if progress:
            row = out[-1]
            verdict = "PASS" if row.passed else "MISS"
            print(f"{verdict} {row.what}: {row.measured}", file=sys.stderr, flush=True)
    return out


def main() -> int:
    from bench import table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 items, c32, 8 limiters")
    parser.add_argument(
        "--simulated", action="store_true", help="the whole matrix on a simulated clock (15 s)"
    )
    parser.add_argument(
        "--contention",
        type=float,
        default=0.0,
        help="simulated: seconds a request arrives later per request in flight (real: 0.001)",
    )
    args = parser.parse_args()
    quick = args.quick and not args.simulated
    print(table(rows(quick, simulated=args.simulated, contention=args.contention)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
