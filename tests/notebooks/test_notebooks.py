"""Notebooks executed in a real kernel with nbclient against the sandbox."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.leaks import files_under, leaks
from ue_magic.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
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


def test_sigint_to_the_kernel_stops_a_bulk_call_cleanly(sandbox: Sandbox, tmp_path: Path) -> None:
    """A real interrupt (SIGINT to the kernel) mid-run: in-flight requests finish, the rest are
    not sent, and the report says which."""
    import time

    from jupyter_client.manager import start_new_kernel

    sandbox.set_latency(0.05)
    manager, client = start_new_kernel(
        kernel_name="python3",
        # no description: this test times a bulk call's sends, not the checks before them
        env=kernel_env(tmp_path, {**sandbox.env(), "UE_OPENAPI": "off"}),
        cwd=str(tmp_path),
    )
    try:
        setup = (
            "%load_ext ue_magic\n%ue_login\n"
            "import ue_magic\n"
            "type_id = ue_magic.client().post("
            "'usage-metering/v1/meter-types', json={'name': 'sigint', 'unit': 'u', "
            "'aggregation': {'type': 'sum'}}).json()['id']\n"
            "users = [f'user-{n}' for n in range(400)]"
        )
        assert client.execute_interactive(setup, timeout=60)["content"]["status"] == "ok"
        before = sandbox.counters()["by_route"].get("POST /usage-metering/v1/meters", 0)
        cell = (
            "%%ue_call --each users --concurrency 2 -o out POST /usage-metering/v1/meters\n"
            '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "{{type_id}}"}'
        )
        # stop_on_error=False: the check below must not be aborted as queued behind the error
        msg_id = client.execute(cell, stop_on_error=False)
        # Interrupt once the bulk call is under way, not after a fixed time: on a loaded machine
        # the cell's imports alone can take longer than any fixed wait.
        deadline = time.monotonic() + 60
        while sandbox.counters()["by_route"].get("POST /usage-metering/v1/meters", 0) < before + 4:
            assert time.monotonic() < deadline, "the bulk call did not start"
            time.sleep(0.05)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=60)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error"  # Run All stops here
        check = (
            # -o out is left as it was (the run raised); _ue_bulk holds this run's results
            "import json\nprint(json.dumps([_ue.interrupted, _ue.sent, len(_ue.not_sent), "
            "sum(o is not None for o in _ue_bulk.results), 'out' in dir()]))"
        )
        printed: list[str] = []
        client.execute_interactive(
            check,
            timeout=60,
            output_hook=lambda m: printed.append(m["content"].get("text", "")),
        )
        interrupted, sent, not_sent, answered, out_set = json.loads("".join(printed))
        assert interrupted is True and out_set is False
        assert 0 < sent < 400 and sent + not_sent == 400 and answered == sent
        posted = sandbox.counters()["by_route"]["POST /usage-metering/v1/meters"] - before
        assert posted == sent
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
