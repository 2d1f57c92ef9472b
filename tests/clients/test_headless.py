"""Headless clients, through their real command lines: ``papermill`` and ``jupyter nbconvert
--execute``, in a fresh folder with no .env, with and without credentials.

Where nobody can type, a missing secret fails at ``%ue_login`` itself; the quickstart needs no
credentials at all (it starts the sandbox in the kernel).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.leaks import leaks
from ue_magic.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"
BIN = Path(sys.executable).parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(300)]


def fresh_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """No UE_* of the developer's, a throw-away IPython and Jupyter home, this venv first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UE_", "JUPYTER", "IPYTHON"))}
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **(extra or {})}


def fresh_folder(tmp_path: Path, notebook: Path | Any) -> Path:
    work = tmp_path / "fresh"
    work.mkdir()
    if isinstance(notebook, Path):
        shutil.copy(notebook, work / "in.ipynb")
    else:
        nbformat.write(notebook, work / "in.ipynb")
    assert not any((folder / ".env").exists() for folder in (work, *work.parents))
    return work


def papermill(work: Path, env: dict[str, str], *params: str) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "papermill"), "in.ipynb", "out.ipynb", "--no-progress-bar", *params]
    return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=240)


def nbconvert(work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [
        str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "in.ipynb",
        "--output", "out.ipynb",
    ]  # fmt: skip
    return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=240)


def outputs(path: Path) -> list[tuple[int, dict[str, Any]]]:
    notebook = nbformat.read(path, as_version=4)
    return [
        (index, output)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.outputs
    ]


def text_of(output: dict[str, Any]) -> str:
    return str(output.get("text") or output.get("data", {}).get("text/plain", ""))


def login_notebook() -> Any:
    return new_notebook(
        cells=[
            new_code_cell("%load_ext ue_magic"),
            new_code_cell("%ue_login"),
            new_code_cell("%ue_call GET /usage-metering/v1/meter-types"),
        ],
        metadata={"kernelspec": KERNELSPEC},
    )


@pytest.mark.parametrize("runner", ["papermill", "nbconvert"])
def test_quickstart_runs_with_no_setup(tmp_path: Path, runner: str) -> None:
    work = fresh_folder(tmp_path, QUICKSTART)
    env = fresh_env(tmp_path)
    done = papermill(work, env) if runner == "papermill" else nbconvert(work, env)
    assert done.returncode == 0, done.stderr[-3000:]
    shown = outputs(work / "out.ipynb")
    assert not [o for _, o in shown if o["output_type"] == "error"]
    first = text_of(shown[0][1])
    assert first.startswith("Sandbox (a local emulator in this kernel, not a real account).")
    each = [text_of(o) for _, o in shown if "200/200 done" in text_of(o)]
    assert each, "the progress bar's output has no plain-text final state"


def test_papermill_switches_to_a_real_account(sandbox: Sandbox, tmp_path: Path) -> None:
    work = fresh_folder(tmp_path, QUICKSTART)
    done = papermill(work, fresh_env(tmp_path, sandbox.env()), "-p", "use_sandbox", "False")
    assert done.returncode == 0, done.stderr[-3000:]
    shown = outputs(work / "out.ipynb")
    assert text_of(shown[0][1]).startswith(f"Logged in to {sandbox.api_url}")
    assert sandbox.issued_tokens
    assert leaks([work / "out.ipynb"], [sandbox.client_secret, *sandbox.issued_tokens]) == []


def test_papermill_without_credentials_fails_at_login(tmp_path: Path) -> None:
    work = fresh_folder(tmp_path, QUICKSTART)
    done = papermill(work, fresh_env(tmp_path), "-p", "use_sandbox", "False")
    assert done.returncode != 0
    notebook = nbformat.read(work / "out.ipynb", as_version=4)
    login = next(
        i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and "%ue_login" in c.source
    )
    message = "".join(text_of(o) for o in notebook.cells[login].outputs)
    assert "UE_CLIENT_ID and UE_CLIENT_SECRET are not set" in message
    assert "none found from" in message and "nobody can type" in message
    later = [c for c in notebook.cells[login + 1 :] if c.cell_type == "code"]
    assert all(not c.outputs for c in later)  # stopped at the login, not one cell late


def test_nbconvert_without_credentials_fails_at_login(tmp_path: Path) -> None:
    work = fresh_folder(tmp_path, login_notebook())
    done = nbconvert(work, fresh_env(tmp_path))
    assert done.returncode != 0
    assert "UE_CLIENT_ID and UE_CLIENT_SECRET are not set" in done.stderr
    assert "%ue_login --sandbox" in done.stderr
    assert "Not logged in" not in done.stderr  # the error is at the login, not the next cell


def test_nbconvert_with_credentials(sandbox: Sandbox, tmp_path: Path) -> None:
    work = fresh_folder(tmp_path, login_notebook())
    (work / ".env").write_text(
        "".join(f"{k}={v}\n" for k, v in sandbox.env().items()), encoding="utf-8"
    )
    done = nbconvert(work, fresh_env(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    shown = outputs(work / "out.ipynb")
    assert text_of(shown[0][1]).startswith(f"Logged in to {sandbox.api_url}")
    assert any("200 OK" in text_of(o) for _, o in shown)
    assert leaks([work / "out.ipynb"], [sandbox.client_secret, *sandbox.issued_tokens]) == []
