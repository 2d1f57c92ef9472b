"""The first answer in a new kernel: each first cell of the quickstart against its warm twin.

    python benchmarks/bench_cold.py [--check] [--samples N]

Each sample is a new Python process with an IPython shell that runs the quickstart's cells back
to back, as Run All does (no pause between them): ``%load_ext ue_magic``, ``%ue_login
--sandbox``, a GET, a POST whose body is checked against the API description, and a ``--each``
of 300 POSTs; then the same cells again in the same process (the warm twins). A row's figure
is the median, over the samples, of each process's first time minus its warm twin's.

The first ``--each`` is measured twice: after the first POST (the quickstart's order), and as
the first checked request of the process (its items are the first bodies checked), in samples
of their own. The processes write and read bytecode in a folder of their own (one run first
primes it, and is not counted), as an installed package has it, whatever
``PYTHONDONTWRITEBYTECODE`` says. Whether ``rfc3987-syntax`` is installed (JupyterLab brings
it; it made ``import jsonschema`` take over a second) is said in the rows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from bench import Row, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ITEMS = 300
CHECKED_POST_MS = 200.0  # the most a first checked POST may take over a warm one
EACH_MS = 300.0  # the same for the first --each

CELLS = {
    "load": "%load_ext ue_magic",
    "login": "%ue_login --sandbox",
    "get": "%ue_call GET /usage-metering/v1/meter-types -q",
    # the quickstart's body; {{type_name}} makes every run a new type, checked every time
    "post": """%%ue_call POST /usage-metering/v1/meter-types -q -o api_calls
{
  "name": "{{type_name}}",
  "description": "API calls per user",
  "unit": "calls",
  "category": "DEFAULT",
  "aggregation": {"type": "sum"},
  "resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"},
  "timezone": "Etc/UTC",
  "capacity": 10000,
  "thresholds": [{"name": "90 percent", "capacityPercentage": 90, "customFields": {}}]
}""",
    "each": """%%ue_call --each users --concurrency 8 -q POST /usage-metering/v1/meters
{"userId": "{{item}}", "meterKey": "api-calls", "meterTypeId": "{{type_id}}"}""",
}
# The cells of one sample process, in order, cold then warm; "each-first": --each before any POST
ORDERS = {
    "quickstart": ["load", "login", "get", "post", "each"],
    "each-first": ["load", "login", "get", "each"],
}

Sample = dict[str, dict[str, list[float]]]  # "wall"/"cpu" -> cell -> [cold ms, warm ms]


def probe(order: str) -> Sample:
    """Run in a new process: ms of each cell of ``order`` cold, then of its warm twin, of
    wall-clock time ("wall") and of this process's CPU time ("cpu": every thread's, the
    sandbox's too)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    names = ORDERS[order]
    times: dict[str, list[float]] = {name: [] for name in names}  # wall ms, cold then warm
    cpu: dict[str, list[float]] = {name: [] for name in names}  # this process's CPU ms
    runs = {"type": 0, "users": 0}

    def run(name: str) -> None:
        if name == "post":
            runs["type"] += 1
            shell.user_ns["type_name"] = f"cold-{runs['type']}"
        if name == "each":
            runs["users"] += 1
            shell.user_ns["users"] = [f"user-{runs['users']}-{n}" for n in range(ITEMS)]
        cell = "%unload_ext ue_magic" if name == "unload" else CELLS[name]
        started, cpu_started = time.perf_counter(), time.process_time()
        result = shell.run_cell(cell, store_history=False)
        took, used = time.perf_counter() - started, time.process_time() - cpu_started
        if not result.success:
            raise RuntimeError(f"the cell {name!r} failed: {result.error_in_exec!r}")
        if name in times:
            times[name].append(took * 1e3)
            cpu[name].append(used * 1e3)

    with capture_output():
        for name in names:  # the cold cells, back to back
            run(name)
            if name == "login" and "post" not in names:
                _type_for_each(shell)
            if name == "post":
                shell.user_ns["type_id"] = shell.user_ns["api_calls"]["id"]
        for name in names[2:]:  # their warm twins in the same login
            run(name)
        run("unload")
        run("load")
        run("login")
    return {"wall": times, "cpu": cpu}


def _type_for_each(shell: object) -> None:
    """The meter type of the --each-first order, made with the client (no body checked), before
    the GET that loads the description: the --each is the first checked request."""
    import ue_magic

    created = ue_magic.client().post(
        "usage-metering/v1/meter-types",
        json={"name": "each-first", "unit": "u", "aggregation": {"type": "sum"}},
    )
    created.raise_for_status()
    shell.user_ns["type_id"] = created.json()["id"]  # type: ignore[attr-defined]


def _samples(order: str, count: int, env: dict[str, str]) -> list[Sample]:
    found = []
    for _ in range(count):
        out = subprocess.run(
            [sys.executable, __file__, "--probe", order],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
        ).stdout
        found.append(json.loads(out.strip().splitlines()[-1]))
    return found


LABELS = {
    "load": ("`%load_ext ue_magic`", "`%unload_ext`, then again"),
    "login": ("`%ue_login --sandbox`", "a second `%ue_login --sandbox`"),
    "get": ("first `%ue_call GET` (fetches the API description)", "the same cell again"),
    "post": ("first checked `%%ue_call POST` (the quickstart's body)", "the same cell again"),
    "each": (f"first `--each` of {ITEMS} POSTs, concurrency 8, after the first POST", "again"),
    "each-first": (f"first `--each` of {ITEMS} POSTs as the first checked request", "again"),
}
TARGETS = {"post": CHECKED_POST_MS, "each": EACH_MS, "each-first": EACH_MS}


def _row(key: str, samples: list[Sample]) -> Row:
    """A cell's row: the median of the processes' extra wall-clock time (first run minus its
    warm twin), decided against the target; the extra CPU time is shown beside it."""
    cell = "each" if key == "each-first" else key
    cold = [s["wall"][cell][0] for s in samples]
    warm = [s["wall"][cell][1] for s in samples]
    extras = sorted(c - w for c, w in zip(cold, warm, strict=True))
    extra = statistics.median(extras)
    cpu = statistics.median(s["cpu"][cell][0] - s["cpu"][cell][1] for s in samples)
    what, twin = LABELS[key]
    limit = TARGETS.get(key)
    return Row(
        f"{what}, in a new process",
        f"{twin}: {statistics.median(warm):.0f} ms",
        f"{extra:+.0f} ms ({statistics.median(cold):.0f} ms; median of {len(extras)} processes, "
        f"extra {extras[0]:.0f} to {extras[-1]:.0f} ms; CPU {cpu:+.0f} ms)",
        "shown" if limit is None else f"<= {limit:.0f} ms more",
        None if limit is None else extra <= limit,
    )


def rows(samples: int) -> list[Row]:
    """The cold rows of bench.py's table: ``samples`` new processes per order, after one that
    primes the bytecode folder."""
    syntax = importlib.util.find_spec("rfc3987_syntax") is not None
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = folder
        _samples("quickstart", 1, env)  # primes the bytecode, not counted
        quick = _samples("quickstart", samples, env)
        first = _samples("each-first", samples, env)
    found = [_row(key, quick) for key in ("load", "login", "get", "post", "each")]
    found.append(_row("each-first", first))
    note = "installed" if syntax else "NOT installed: the slow import is not measured"
    for row in found:
        if row.target != "shown":  # the rows of checked bodies
            row.what += f" (rfc3987-syntax {note})"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--samples", type=int, default=7, help="new processes per order")
    parser.add_argument("--probe", choices=sorted(ORDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    found = rows(args.samples)
    print(table(found))
    missed = [row.what for row in found if row.passed is False]
    for what in missed:
        print(f"MISS: {what}", file=sys.stderr)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
