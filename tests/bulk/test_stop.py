"""Interrupts and logouts during --each: one report, a correct _ue, every item accounted for."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.bulk.conftest import METERS, TEMPLATE, created, run_each
from tests.bulk.helpers import assert_counts
from ue_magic.cells import bulk
from ue_magic.cells._pacing import Throttle
from ue_magic.cells.bulk import BulkResult
from ue_magic.cells.progress import TextProgress
from ue_magic.sandbox import Sandbox


def interrupt_at(
    monkeypatch: pytest.MonkeyPatch, *when: int, sent: Callable[[], int] | None = None
) -> None:
    """Raise KeyboardInterrupt in the waiting thread once per count of done items in ``when``.
    ``sent``: how many requests the server has received; the first interrupt then waits (up to
    5 s) until more were received than are done, so that some are in flight when it comes."""
    original = TextProgress.update
    left = sorted(when)

    def update(self: TextProgress, done: int, failed: int, force: bool = False) -> None:
        original(self, done, failed, force)
        if left and done >= left[0]:
            if sent is not None and len(left) == len(when):
                deadline = time.monotonic() + 5
                while sent() <= done and time.monotonic() < deadline:
                    time.sleep(0.005)
            left.pop(0)
            raise KeyboardInterrupt

    monkeypatch.setattr(TextProgress, "update", update)


def test_interrupts_in_a_row_end_in_one_report(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.set_latency(0.3)  # keep requests in flight when the second interrupt comes
    route = f"POST {METERS}"
    # the first interrupt once the server holds requests not yet answered
    interrupt_at(monkeypatch, 4, 4, 4, sent=lambda: sandbox.counters()["by_route"].get(route, 0))
    shell.user_ns["_ue"] = "stale"
    shell.user_ns["users"] = [f"i{n}" for n in range(60)]
    with capture_output() as captured, pytest.raises(UsageError, match="Interrupted"):
        shell.run_cell_magic("ue_call", f"--each users --concurrency 4 POST {METERS}", TEMPLATE)
    result = shell.user_ns["_ue"]
    assert isinstance(result, BulkResult) and result.interrupted
    assert_counts(result)
    reports = [o for o in captured.outputs if "items:" in o.data.get("text/plain", "")]
    assert len(reports) == 1
    assert result.failed and all(f.status is None for f in result.failed)  # in flight
    assert all("may have processed" in f.message for f in result.failed)
    time.sleep(0.6)  # let the abandoned requests land
    assert sandbox.counters()["by_route"].get(f"POST {METERS}", 0) == result.sent


def test_save_is_complete_after_an_interrupt(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    interrupt_at(monkeypatch, 30)
    shell.user_ns["users"] = [f"sv{n}" for n in range(200)]
    path = tmp_path / "run.jsonl"
    with pytest.raises(UsageError, match="Interrupted"):
        run_each(shell, f"--each users --concurrency 4 --save {path} POST {METERS}")
    result = shell.user_ns["_ue"]
    assert_counts(result)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(line["index"] for line in lines) == list(range(200))
    ok = sorted(line["item"] for line in lines if line["outcome"] == "ok")
    assert ok == sorted(created(shell))  # every answered item is in the file
    assert {line["outcome"] for line in lines} <= {"ok", "not sent"}


@pytest.mark.parametrize("magic", ["ue_logout", "ue_login"])
def test_a_logout_in_another_thread_lets_in_flight_items_finish(
    shell: Any, sandbox: Sandbox, magic: str
) -> None:
    sandbox.set_latency(0.05)
    users = [f"lo{n}" for n in range(400)]
    shell.user_ns["users"] = users

    def log_out_soon() -> None:
        time.sleep(0.5)
        with capture_output():
            shell.run_line_magic(magic, "")

    other = threading.Thread(target=log_out_soon)
    other.start()
    with pytest.raises(UsageError, match="Stopped"):
        run_each(shell, f"--each users --concurrency 4 POST {METERS}")
    other.join(10)
    result = shell.user_ns["_ue"]
    assert_counts(result)
    reason = "logged out" if magic == "ue_logout" else "logged in again"
    assert result.stopped == reason and result.failed == []
    assert 0 < len(result.ok) < 400 and set(result.not_sent_why) == {reason}
    assert not any("Could not reach" in why for why in result.not_sent_why)
    posts = sandbox.counters()["by_route"][f"POST {METERS}"]
    assert posts == result.sent == len(result.ok)  # what was sent finished, and was told so
    if magic == "ue_login":
        assert sorted(created(shell)) == sorted(users[i] for i in result.ok)


def test_a_real_sigint_right_after_a_hand_off_loses_no_item(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT between handing an item to a worker and noting it: the item is still counted as
    what it is (it was sent), not as "not sent" while the server creates it."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    sandbox.set_latency(0.05)
    submits = []

    class Pool(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            future = super().submit(fn, *args, **kwargs)
            submits.append(args)
            if len(submits) == 3:
                time.sleep(0.03)  # the worker writes the request meanwhile
                os.kill(os.getpid(), signal.SIGINT)
            return future

    monkeypatch.setattr(bulk, "ThreadPoolExecutor", Pool)
    users = [f"si{n}" for n in range(20)]
    shell.user_ns["users"] = users
    with pytest.raises(UsageError, match="Interrupted"):
        run_each(shell, f"--each users --concurrency 4 POST {METERS}")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back
    result = shell.user_ns["_ue"]
    assert isinstance(result, BulkResult) and result.interrupted
    assert_counts(result)
    assert 3 <= result.sent < 20 and not result.failed
    assert sorted(created(shell)) == sorted(users[i] for i in result.ok)
    assert sandbox.counters()["by_route"][f"POST {METERS}"] == result.sent


def test_a_logout_during_a_429_pause_reports_the_429s(
    shell: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Items answered 429 and stopped before their retry were answered: the table says 429,
    not "no answer", and --save keeps the status."""
    sandbox.inject(status=429, count=4, retry_after=3, path_prefix=METERS)
    users = [f"lp{n}" for n in range(20)]
    shell.user_ns["users"] = users
    path = tmp_path / "run.jsonl"

    def log_out_in_the_pause() -> None:
        time.sleep(0.7)
        with capture_output():
            shell.run_line_magic("ue_logout", "")

    other = threading.Thread(target=log_out_in_the_pause)
    other.start()
    with pytest.raises(UsageError, match="Stopped"):
        run_each(shell, f"--each users --concurrency 4 --save {path} POST {METERS}")
    other.join(10)
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert result.stopped == "logged out" and result.failed  # how many: how threads started
    assert {(f.status, f.message) for f in result.failed} == {
        (429, "answered 429, then logged out before its retry")
    }
    rows = [row for row, *_ in result.groups()]
    assert "429" in rows and "no answer" not in rows
    assert "429 " in captured_table(shell)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    statuses = [line.get("status") for line in lines if line["outcome"] == "failed"]
    assert statuses == [429] * len(result.failed)
    assert result.pending == [u for i, u in enumerate(users) if i not in result.ok]
    sandbox.reset()  # the 429s not yet used
    with capture_output():
        shell.run_line_magic("ue_login", "")
    assert sorted(created(shell)) == sorted(users[i] for i in result.ok)


def captured_table(shell: Any) -> str:
    """The report of the last run as the notebook shows it."""
    return str(shell.display_formatter.format(shell.user_ns["_ue"])[0]["text/plain"])


@pytest.mark.parametrize("stage", ["items_of", "check_items"])
def test_a_real_sigint_while_the_items_are_checked_sends_nothing_and_sets_ue(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """Ctrl-C during the first pass over a big input: no raw KeyboardInterrupt, nothing sent,
    and ``_ue`` is not the previous cell's result (every item pending, when they are known)."""
    original = getattr(bulk, stage)

    def interrupted(*args: Any) -> Any:
        value = original(*args)
        os.kill(os.getpid(), signal.SIGINT)  # the default handler raises here
        time.sleep(1)  # not reached
        return value

    monkeypatch.setattr(bulk, stage, interrupted)
    users = [f"ck{n}" for n in range(30)]
    shell.user_ns["users"] = users
    shell.user_ns["_ue"] = "stale"
    with pytest.raises(UsageError, match=r"Interrupted while checking.*nothing was sent"):
        run_each(shell, f"--each users --concurrency 4 POST {METERS}")
    assert sandbox.counters()["by_route"].get(f"POST {METERS}", 0) == 0
    if stage == "items_of":
        assert "_ue" not in shell.user_ns
    else:
        result = shell.user_ns["_ue"]
        assert isinstance(result, BulkResult) and result.interrupted
        assert_counts(result)
        assert result.pending == users and result.sent == 0


def test_a_real_sigint_while_a_generator_is_read_says_it_is_used_up(
    shell: Any, sandbox: Sandbox
) -> None:
    """Ctrl-C while --each reads a generator: the generator cannot be read again, so 'nothing
    was sent' alone would lead to an empty or partial run next time: the message says so."""

    def users() -> Any:
        for n in range(100):
            if n == 10:
                os.kill(os.getpid(), signal.SIGINT)  # raised in this frame: the generator ends
            yield f"gen{n}"

    shell.user_ns["users"] = users()
    shell.user_ns["_ue"] = "stale"
    with pytest.raises(UsageError, match=r"nothing was sent, but users is a generator.*used up"):
        run_each(shell, f"--each users --concurrency 4 POST {METERS}")
    assert sandbox.counters()["by_route"].get(f"POST {METERS}", 0) == 0
    assert "_ue" not in shell.user_ns
    assert list(shell.user_ns["users"]) == []  # why the message says so


def test_unloading_mid_run_is_a_logout_in_flight_finish_the_rest_not_sent(
    shell: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.set_latency(0.2)
    shell.user_ns["users"] = [f"ul{n}" for n in range(40)]
    path = tmp_path / "run.jsonl"

    def unload_soon() -> None:
        time.sleep(0.5)
        with capture_output():
            shell.run_line_magic("unload_ext", "ue_magic")

    other = threading.Thread(target=unload_soon)
    other.start()
    with pytest.raises(UsageError, match="Stopped"):
        run_each(shell, f"--each users --concurrency 4 --save {path} POST {METERS}")
    other.join(10)
    result = shell.user_ns["_ue"]
    assert_counts(result)
    assert result.failed == [] and 0 < len(result.ok) < 40
    assert set(result.not_sent_why) == {result.stopped} and "unload_ext" in result.stopped
    posts = sandbox.counters()["by_route"][f"POST {METERS}"]
    assert posts == result.sent == len(result.ok)  # in flight finished; the rest never written
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    outcomes = {line["index"]: line["outcome"] for line in lines}
    assert sorted(outcomes) == list(range(40))
    assert sorted(i for i, o in outcomes.items() if o == "ok") == sorted(result.ok)
    assert set(outcomes.values()) == {"ok", "not sent"}


def test_after_a_ctrl_c_the_bar_and_the_summary_count_the_same(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers waiting for their turn at the pace when Ctrl-C comes are not sent: the bar's last
    state counts only what the summary counts as sent; and the summary's "starts paced at" is
    the pace a start went at, not one the answers after the last start moved it to."""
    went: list[float] = []
    turn = Throttle.turn

    def noted(self: Throttle, slot: float | None) -> tuple[float | None, float]:
        placed, wait = turn(self, slot)
        if placed is not None and wait == 0.0:
            went.append(self.stats.pace or 0.0)
        return placed, wait

    monkeypatch.setattr(Throttle, "turn", noted)
    sandbox.set_rates(api="5/1")
    shell.user_ns["users"] = [f"bs{n}" for n in range(40)]
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with capture_output() as captured, pytest.raises(UsageError, match="Interrupted"):
            shell.run_cell_magic("ue_call", f"--each users POST {METERS}", TEMPLATE)
    finally:
        timer.cancel()
    result = shell.user_ns["_ue"]
    assert result.interrupted and 0 < result.sent < 40
    last = captured.stdout.split("\r")[-1]
    assert last.split("] ")[1].startswith(
        f"{result.sent}/40 done, {len(result.failures)} failed"
    ), (last, result.summary())
    assert went and f"starts paced at {went[-1]:.1f}/s" in result.summary()
