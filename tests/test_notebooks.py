"""Notebooks executed in a real kernel with nbclient against the sandbox."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.leaks import files_under, leaks
from ue_magic.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

pytestmark = pytest.mark.notebook


def kernel_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment without any UE_* of the developer's, with its own IPYTHONDIR."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UE_")}
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    return {**env, **extra}


def execute(
    notebook: Any,
    cwd: Path,
    env: dict[str, str],
    history: Path | None = None,
    allow_errors: bool = False,
) -> Any:
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
        ipython_hist_file=str(history) if history else ":memory:",
    )
    client.execute(env=env)
    return notebook


def outputs_of(notebook: Any) -> list[dict[str, Any]]:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_runs(path: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{path.name} is committed with outputs"
    )
    execute(notebook, tmp_path, kernel_env(tmp_path, sandbox.env()))
    errors = [o for o in outputs_of(notebook) if o.output_type == "error"]
    assert errors == []
    saved = tmp_path / path.name
    nbformat.write(notebook, saved)
    assert leaks([saved], [sandbox.client_secret, *sandbox.issued_tokens]) == []


def test_quickstart_progress_bar_finished(sandbox: Sandbox, tmp_path: Path) -> None:
    notebook = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    execute(notebook, tmp_path, kernel_env(tmp_path, sandbox.env()))
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    bars = [m["state"] for m in state.values() if m["model_name"] == "IntProgressModel"]
    assert bars, "no progress bar in the saved widget state"
    assert all(b["value"] == b["max"] and b["bar_style"] == "success" for b in bars)


def test_login_from_dotenv_leaves_no_secret(sandbox: Sandbox, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in sandbox.env().items()) + "\n", encoding="utf-8"
    )
    notebook = new_notebook(
        cells=[
            new_code_cell("%load_ext ue_magic"),
            new_code_cell("%ue_login"),
            new_code_cell("r = %ue_call GET /usage-metering/v1/meter-types\nr"),
            new_code_cell("%ue_status"),
            new_code_cell("import ue_magic\nue_magic.client().token_manager"),
            new_code_cell("%xmode Verbose"),
            new_code_cell("%ue_call GET /usage-metering/v1/meter-types/missing"),
        ],
        metadata={"kernelspec": KERNELSPEC},
    )
    history = tmp_path / "history.sqlite"
    execute(notebook, work, kernel_env(tmp_path, {}), history=history, allow_errors=True)
    text = "".join(str(o) for o in outputs_of(notebook))
    assert "Logged in" in text and sandbox.client_id in text
    saved = work / "saved.ipynb"
    nbformat.write(notebook, saved)
    assert history.exists()
    assert sandbox.issued_tokens
    places = [saved, history, *files_under(tmp_path / "ipython")]
    assert leaks(places, [sandbox.client_secret, *sandbox.issued_tokens]) == []


def test_an_error_answer_stops_run_all(sandbox: Sandbox, tmp_path: Path) -> None:
    from nbclient.exceptions import CellExecutionError

    notebook = new_notebook(
        cells=[
            new_code_cell("%load_ext ue_magic\n%ue_login"),
            new_code_cell("%ue_call GET /usage-metering/v1/meter-types/missing -o err"),
            new_code_cell("print('ran on')"),
        ],
        metadata={"kernelspec": KERNELSPEC},
    )
    with pytest.raises(CellExecutionError) as caught:
        execute(notebook, tmp_path, kernel_env(tmp_path, sandbox.env()))
    assert "404" in str(caught.value)
    assert notebook.cells[2].outputs == []  # Run All stopped at the failing cell
    shown = "".join(o.get("text", "") for o in notebook.cells[1].outputs)
    assert "Traceback" not in shown  # one short sentence, no traceback wall
