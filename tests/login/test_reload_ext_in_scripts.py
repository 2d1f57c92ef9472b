"""%reload_ext keeps the logins wherever a cell runs it: in ``ipython script.ipy`` (the whole
file is one silent cell, without IPython's ``pre_run_cell``/``post_run_cell`` events) and in the
same cell that loaded the extension; an unload outside any cell still closes them at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import ue_magic

SCRIPT = """\
%load_ext ue_magic
%ue_login --sandbox
%reload_ext ue_magic
%ue_status
types = %ue_call GET /usage-metering/v1/meter-types -q
print("the sandbox answered:", isinstance(types, dict))
"""


def test_reload_ext_in_an_ipython_script_keeps_the_login(tmp_path: Path) -> None:
    script = tmp_path / "reload.ipy"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UE_", "IPYTHON"))}
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--quick", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "Reloaded ue_magic; kept 1 login." in out
    assert "Not logged in" not in out
    assert "the sandbox answered: True" in out


@pytest.mark.parametrize("silent", [False, True])
def test_reload_ext_in_the_cell_that_loaded_the_extension_keeps_the_login(
    ip: Any, silent: bool
) -> None:
    ip.run_line_magic("unload_ext", "ue_magic")
    with capture_output() as captured:
        result = ip.run_cell("%load_ext ue_magic\n%ue_login\n%reload_ext ue_magic", silent=silent)
    assert result.success, result.error_in_exec
    assert "kept 1 login" in captured.stdout
    client = ue_magic.client()
    assert not client._http.is_closed
    assert ip.run_line_magic("ue_call", "GET /usage-metering/v1/meter-types -q") is not None


def test_unload_ext_in_a_silent_cell_closes_the_logins_when_it_ends(ip: Any) -> None:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    client = ue_magic.client()
    assert ip.run_cell("%unload_ext ue_magic", silent=True).success
    assert client._http.is_closed
    with pytest.raises(UsageError, match="load_ext ue_magic"):
        ue_magic.client()
    ip.run_line_magic("load_ext", "ue_magic")  # the fixture unloads it again


@pytest.mark.notebook
def test_reload_ext_keeps_the_login_in_a_kernel_and_unload_ext_ends_it(tmp_path: Path) -> None:
    from nbformat.v4 import new_code_cell, new_notebook

    from tests.notebooks.test_notebooks import KERNELSPEC, execute, kernel_env, outputs_of

    cells = [
        "%load_ext ue_magic\n%ue_login --sandbox\n%reload_ext ue_magic",  # the loading cell
        "%reload_ext ue_magic",
        "import ue_magic\nprint('open:', not ue_magic.client()._http.is_closed)",
        "%unload_ext ue_magic",
        "try:\n    ue_magic.client()\nexcept Exception as error:\n    print('then:', error)",
    ]
    notebook = new_notebook(
        cells=[new_code_cell(c) for c in cells], metadata={"kernelspec": KERNELSPEC}
    )
    execute(notebook, tmp_path, kernel_env(tmp_path, {}))
    shown = "".join(o.get("text", "") for o in outputs_of(notebook))
    assert shown.count("Reloaded ue_magic; kept 1 login.") == 2, shown
    assert "open: True" in shown
    assert "then: Run %load_ext ue_magic and %ue_login first." in shown
