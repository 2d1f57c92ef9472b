"""Text front ends through a pseudo-terminal (pexpect), as a user types: ``jupyter console``
(a kernel whose front end cannot show widgets) and ``ipython --simple-prompt`` (no kernel).

Each logs in by typing the id and secret at the prompts, shows a JSON answer as text and runs a
bulk call with the text progress bar; the secret never shows on the screen.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ue_magic.sandbox import Sandbox

pexpect = pytest.importorskip("pexpect")

BIN = Path(sys.executable).parent
PROMPT_TIMEOUT = 90  # the first kernel start is slow on a busy machine

pytestmark = [pytest.mark.timeout(240)]


def terminal_env(tmp_path: Path, sandbox: Sandbox) -> dict[str, str]:
    """Where the sandbox is, but no client id or secret: those are typed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UE_", "JUPYTER", "IPYTHON"))}
    env.update(
        IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        TERM="dumb",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.update({k: v for k, v in sandbox.env().items() if k.endswith(("_URL", "_AUDIENCE"))})
    return env


@pytest.fixture(params=["jupyter console", "ipython --simple-prompt"])
def terminal(request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path: Path) -> Iterator[Any]:
    program, *args = request.param.split()
    if program == "jupyter":
        args += ["--kernel", "python3"]
    child = pexpect.spawn(
        str(BIN / program),
        args,
        env=terminal_env(tmp_path, sandbox),
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=PROMPT_TIMEOUT,
        dimensions=(50, 200),
    )
    log = (tmp_path / "screen.txt").open("w")
    child.logfile_read = log
    try:
        yield child
    finally:
        if child.isalive():
            child.sendline("exit")
            try:
                child.expect(pexpect.EOF, timeout=30)
            except pexpect.TIMEOUT:
                child.terminate(force=True)
        log.close()
        print(f"screen: {tmp_path / 'screen.txt'}")


def run(child: Any, line: str, number: int) -> str:
    """Type ``line`` at prompt ``number`` and return what was shown until the next prompt."""
    child.sendline(line)
    child.expect(rf"In \[{number + 1}\]")
    return str(child.before)


def test_prompt_login_tree_and_text_progress(
    terminal: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    terminal.expect(r"In \[1\]")
    run(terminal, "%load_ext ue_magic", 1)
    terminal.sendline("%ue_login")
    terminal.expect(r"UE_CLIENT_ID and UE_CLIENT_SECRET are not set \(looked in")
    terminal.expect("Ctrl\\+C")
    terminal.expect("Client id: ")
    terminal.sendline(sandbox.client_id)
    terminal.expect(r"Client secret \(hidden\): ")
    terminal.sendline(sandbox.client_secret)
    terminal.expect(f"Logged in to {sandbox.api_url}")
    terminal.expect(r"In \[3\]")
    tree = run(terminal, "%ue_call GET /usage-metering/v1/meter-types", 3)
    assert "200 OK" in tree and '"meterTypes"' in tree
    run(terminal, "users = [f'user-{n}' for n in range(30)]", 4)
    bulk = run(terminal, "%ue_call --each users GET /usage-metering/v1/meters?userId={{item}}", 5)
    assert "30/30 done" in bulk and "[####" in bulk
    assert "HBox(" not in bulk and "IntProgress" not in bulk
    terminal.sendline("exit")
    terminal.expect(pexpect.EOF)
    terminal.logfile_read.flush()
    screen = (tmp_path / "screen.txt").read_text()
    assert "Logged in" in screen
    assert "VBox(" not in screen  # no widget repr instead of a form
    assert sandbox.client_secret not in screen
    assert all(token not in screen for token in sandbox.issued_tokens)


def test_empty_id_and_ctrl_c_send_nothing(terminal: Any, sandbox: Sandbox) -> None:
    terminal.expect(r"In \[1\]")
    run(terminal, "%load_ext ue_magic", 1)
    terminal.sendline("%ue_login")
    terminal.expect("Client id: ")
    terminal.sendline("")
    terminal.expect(r"No client id given \(UE_CLIENT_ID\), so the secret was not asked for")
    terminal.expect(r"In \[3\]")
    terminal.sendline("%ue_login")
    terminal.expect("Client id: ")
    terminal.sendline(sandbox.client_id)
    terminal.expect(r"Client secret \(hidden\): ")
    terminal.sendintr()
    terminal.expect("Login cancelled; nothing was sent")
    terminal.expect(r"In \[4\]")
    assert sandbox.counters()["token_requests"] == 0
