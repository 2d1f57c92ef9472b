"""API-aware cells: completion latency, and what a loaded description costs each %ue_call.

    python benchmarks/bench_openapi.py [--check] [--rounds N]

Completion is timed through IPython's own completer (the path a kernel's complete_request
takes), with the sandbox's description and with a 5 MB one; IPython completing a Python name in
the same shell is shown as the baseline. The cost of a description is the ratio of the client's
CPU time per ``%ue_call GET ... -q`` with one loaded to the same call with ``UE_OPENAPI=off``, in
paired rounds (see ``call_cost_row``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from bench import SMALL, Row, Server, paired, sandbox_process, table  # noqa: E402

from tests.openapi.big import big_description  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0
CALLS_PER_ROUND = 200  # pairs of calls per paired round: rounds x 5 of them


def shell_for(server: Server, profiles: dict[str, str]) -> Any:
    """An IPython shell with ue_magic, logged in once per profile with that description."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    for name in [n for n in os.environ if n.startswith("UE_")]:
        del os.environ[name]
    for profile, description in profiles.items():
        prefix = "UE_" if profile == "default" else f"UE_{profile.upper()}_"
        for key, value in server.env.items():
            os.environ[prefix + key.removeprefix("UE_")] = value
        os.environ[prefix + "OPENAPI"] = description
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "ue_magic")
    with capture_output():
        for profile in profiles:
            shell.run_line_magic("ue_login", "" if profile == "default" else f"--profile {profile}")
    return shell


def completion_ms(shell: Any, text: str, runs: int = 30) -> float:
    from IPython.core.completer import provisionalcompleter

    def once() -> list[Any]:
        with provisionalcompleter():
            return list(shell.Completer.completions(text, len(text)))

    assert once(), f"no completions for {text!r}"  # also loads the description, once
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        once()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


COMPLETIONS = {
    "path segment": "%ue_call GET /usage-metering/v1/me",
    "query name": "%%ue_call\nGET /usage-metering/v1/meters\n?meterT",
    "option": "%ue_call --ta",
}
BIG_COMPLETIONS = {
    "path segment": "%ue_call GET /service-7/v1/things-14",
    "query name": "%ue_call GET /service-7/v1/things-140?fil",
    "first segment": "%ue_call GET /serv",
}


def completion_rows(server: Server, big_file: Path) -> list[Row]:
    shell = shell_for(server, {"default": server.base + "openapi.json", "big": str(big_file)})
    shell.user_ns["meter_types"] = []
    baseline = completion_ms(shell, "meter_ty")
    rows = []
    for label, cases in (
        ("sandbox's description", COMPLETIONS),
        ("5 MB description", BIG_COMPLETIONS),
    ):
        for kind, text in cases.items():
            if label.startswith("5 MB"):
                text = text.replace("%ue_call ", "%ue_call --profile big ", 1)
            ms = completion_ms(shell, text)
            rows.append(
                Row(
                    f"Tab: {kind}, {label}",
                    f"IPython completing a name: {baseline:.1f} ms",
                    f"{ms:.1f} ms",
                    f"<= {TARGET_MS:.0f} ms",
                    ms <= TARGET_MS,
                )
            )
    shell.run_line_magic("unload_ext", "ue_magic")
    return rows


def call_cost_row(server: Server, rounds: int) -> Row:
    """What a loaded description adds to each ``%ue_call GET ... -q``: client CPU per call.

    A description can only add work in this process (the checks before sending; it is fetched
    once, at the warm-up, and the row checks that no request was added), so the figure is this
    process's CPU time per call with it over without it, the two alternating call by call in
    ``rounds`` x 5 rounds (``bench.paired``): the median of the rounds' ratios. Wall-clock time,
    mostly the round trip to the sandbox's process, is shown beside it.
    """
    shell = shell_for(server, {"default": server.base + "openapi.json", "plain": "off"})
    with_description = f"GET {SMALL} -q"
    without = f"GET {SMALL} -q --profile plain"

    def calls(line: str) -> Callable[[], None]:
        return lambda: shell.run_line_magic("ue_call", line)

    for _ in range(CALLS_PER_ROUND):  # warm up both: the description loads once
        calls(with_description)()
        calls(without)()
    before = server.hook("counters")
    pairs = paired(calls(without), calls(with_description), rounds * 5, CALLS_PER_ROUND)
    after = server.hook("counters")
    sent = after["api_requests"] - before["api_requests"]
    expected = 2 * rounds * 5 * CALLS_PER_ROUND
    extra = sent - expected + after["description_requests"] - before["description_requests"]
    ratio = pairs.ratio("cpu")
    shell.run_line_magic("unload_ext", "ue_magic")
    return Row(
        "`%ue_call GET ... -q` with a description loaded: client CPU per call",
        f"same call, UE_OPENAPI=off: {pairs.seconds('base', 'cpu') * 1e6:.0f} µs CPU/call",
        f"{ratio:.3f}x ({pairs.seconds('ours', 'cpu') * 1e6:.0f} µs CPU/call; middle half of "
        f"{rounds * 5} paired rounds {pairs.middle_half('cpu')}; wall {pairs.ratio('wall'):.3f}x; "
        f"{extra} requests more)",
        "<= 1.03x, no request more",
        ratio <= 1.03 and extra == 0,
    )


def rows(rounds: int) -> list[Row]:
    """Every figure of this file, for bench.py's table."""
    with tempfile.TemporaryDirectory() as folder:
        big_file = Path(folder) / "big-openapi.json"
        big_file.write_bytes(big_description(5_000_000))
        with sandbox_process() as server:
            found = completion_rows(server, big_file)
            found.append(call_cost_row(server, rounds))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per figure")
    args = parser.parse_args()
    found = rows(args.rounds)
    print(table(found))
    missed = [row.what for row in found if row.passed is False]
    for what in missed:
        print(f"MISS: {what}", file=sys.stderr)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
