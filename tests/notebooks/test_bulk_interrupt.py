"""A real kernel running --each gets SIGINT twice: one report, a correct _ue, a truthful count."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from tests.notebooks.test_notebooks import kernel_env
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.notebook
METERS = "/usage-metering/v1/meters"


def run(client: Any, code: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Execute ``code`` and gather its iopub messages until the kernel is idle again."""
    msg_id = client.execute(code)
    return gather(client, msg_id, timeout)


def gather(client: Any, msg_id: str, timeout: float) -> list[dict[str, Any]]:
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
    raise AssertionError("the kernel did not finish in time")


def until_progress(client: Any, msg_id: str, timeout: float) -> list[dict[str, Any]]:
    """The iopub messages of ``msg_id`` up to its first progress line (requests are going)."""
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "stream" and " done, " in msg["content"]["text"]:
            return messages
        assert msg["msg_type"] != "status" or msg["content"]["execution_state"] != "idle"
    raise AssertionError("no progress shown in time")


def text_of(messages: list[dict[str, Any]]) -> str:
    parts = []
    for msg in messages:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            parts.append(content["text"])
        elif msg["msg_type"] in ("display_data", "execute_result"):
            parts.append(content["data"].get("text/plain", ""))
        elif msg["msg_type"] == "error":
            parts.append(f"ERROR {content['ename']}: {content['evalue']}")
    return "\n".join(parts)


def test_sigint_twice_during_each(sandbox: Sandbox, tmp_path: Path) -> None:
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=kernel_env(tmp_path, sandbox.env()), cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        assert "ERROR" not in text_of(run(client, "%load_ext ue_magic\n%ue_login"))
        type_id = sandbox.seed_meters(0)
        sandbox.reset()
        sandbox.set_latency(0.2)
        run(client, f"users = [f'k{{n}}' for n in range(400)]\ntype_id = {type_id!r}")
        cell = (
            f"%%ue_call --each users --concurrency 4 POST {METERS}\n"
            '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "{{type_id}}"}'
        )
        msg_id = client.execute(cell)
        before = until_progress(client, msg_id, 60)  # a loaded machine may start it late
        time.sleep(0.5)
        manager.interrupt_kernel()
        time.sleep(0.05)
        manager.interrupt_kernel()
        shown = text_of(before + gather(client, msg_id, 60))
        assert "KeyboardInterrupt" not in shown
        assert shown.count("400 items:") == 1  # one report
        assert "Interrupted" in shown
        check = run(
            client,
            "print(type(_ue).__name__, _ue.interrupted, "
            "len(_ue.ok) + len(_ue.failed) + len(_ue.not_sent) == _ue.total, _ue.sent)",
        )
        words = text_of(check).split()
        assert words[:3] == ["BulkResult", "True", "True"]
        time.sleep(0.5)  # the abandoned requests land
        assert sandbox.counters()["by_route"][f"POST {METERS}"] == int(words[3])
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
