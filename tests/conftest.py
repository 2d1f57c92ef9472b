"""Shared fixtures: one sandbox on loopback for the whole session, reset after each test."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ue_magic.sandbox import Sandbox, start


@pytest.fixture(scope="session")
def _session_sandbox() -> Iterator[Sandbox]:
    with start() as sb:
        yield sb


@pytest.fixture
def sandbox(_session_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session's sandbox, with counters, faults and latency cleared around each test."""
    _session_sandbox.reset()
    yield _session_sandbox
    _session_sandbox.reset()


@pytest.fixture
def sandbox_env(sandbox: Sandbox) -> dict[str, str]:
    """UE_* settings that point ue-magic at the sandbox, without an API description
    (UE_OPENAPI=off), so that tests counting requests see only their own; tests/openapi
    names one."""
    return {**sandbox.env(), "UE_OPENAPI": "off"}


def shown_widget(output: Any) -> Any:
    """The live widget behind a captured display output (a widget view mimebundle).

    Found among the live objects by its model id: ipywidgets has no public registry that works
    from 8.0 (``Widget.widgets``) to 8.1+ (the private ``_instances``; ``widgets`` deprecated).
    """
    import gc

    from ipywidgets import Widget

    model_id = output.data["application/vnd.jupyter.widget-view+json"]["model_id"]
    for candidate in gc.get_objects():
        live = isinstance(candidate, Widget) and getattr(candidate, "comm", None) is not None
        if live and candidate.model_id == model_id:
            return candidate
    raise LookupError(f"no live widget has model id {model_id}")


@pytest.fixture
def ip(
    sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[Any]:
    """A real InteractiveShell (history in memory) with ue_magic loaded and the sandbox's settings
    in the environment; the working folder is empty, so no stray .env is found."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    for name in list(os.environ):
        if name.startswith("UE_"):
            monkeypatch.delenv(name)
    for name, value in sandbox_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "ue_magic")
    yield shell
    shell.run_line_magic("unload_ext", "ue_magic")
    shell.config.pop("UsageEngineMagics", None)  # %config in one test must not leak into the next
    shell.reset(new_session=False)


def interrupt_after(seconds: float) -> threading.Timer:
    """A real SIGINT to this process, as Ctrl-C sends, after ``seconds`` (cancel it after)."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.fixture(autouse=True)
def _tab_waits_for_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Tab in tests waits for the description's load (a user's waits 50 ms, then offers
    nothing until it is loaded): tests Tab once, at once, on a loaded machine;
    tests/openapi/test_hostile_descriptions.py tests the short wait."""
    from ue_magic.cells.openapi import LoginDescription

    monkeypatch.setattr(LoginDescription, "tab_wait", 60.0)
