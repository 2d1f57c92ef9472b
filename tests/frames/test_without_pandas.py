"""pandas is the ``explore`` extra: without it, ``--df`` is one sentence naming the extra, and
nothing is sent; and pandas is imported only when a DataFrame is asked for."""

from __future__ import annotations

import importlib.abc
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.frames.conftest import METERS, api_requests
from ue_magic._extras import install_command
from ue_magic.sandbox import Sandbox


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@pytest.fixture
def no_pandas(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """pandas cannot be imported (the modules already loaded are put back afterwards)."""
    for name in [n for n in sys.modules if n.split(".")[0] == "pandas"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPandas(), *sys.meta_path])
    with pytest.raises(ImportError):
        import pandas  # noqa: F401
    yield


def test_df_without_pandas_names_the_extra_and_sends_nothing(
    shell: Any, sandbox: Sandbox, no_pandas: None
) -> None:
    with pytest.raises(UsageError) as raised, capture_output():
        shell.run_line_magic("ue_call", f"GET {METERS} --df")
    said = str(raised.value)
    command = install_command("explore")  # where this copy is installed from
    assert said == f"--df needs the 'explore' extra (pandas is missing): run {command}."
    with pytest.raises(UsageError, match=r"^--df needs the 'explore' extra"), capture_output():
        shell.run_cell_magic("ue_call", f"--each users --df GET {METERS}/{{{{item}}}}", "\n")
    assert api_requests(sandbox) == 0
    shell.run_line_magic("config", "UsageEngineMagics.dataframe = True")
    with pytest.raises(UsageError, match=r"^UsageEngineMagics.dataframe = True needs the 'explo"):
        shell.run_line_magic("ue_call", f"GET {METERS}")
    assert api_requests(sandbox) == 0
    shell.run_line_magic("config", "UsageEngineMagics.dataframe = False")
    with capture_output():
        assert isinstance(shell.run_line_magic("ue_call", f"GET {METERS}"), dict)


def test_to_frame_without_pandas_names_the_extra(no_pandas: None) -> None:
    from ue_magic.cells._bulk_report import BulkResult
    from ue_magic.errors import UsageEngineError

    with pytest.raises(UsageEngineError, match=r"^to_frame\(\) needs the 'explore' extra"):
        BulkResult(["a"]).to_frame()


LAZY = """
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "ue_magic")
shell.run_line_magic("config", "UsageEngineMagics.dataframe = False")
print(sorted(n for n in sys.modules if n.split(".")[0] == "pandas"))
"""


def test_load_ext_does_not_import_pandas(tmp_path: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAZY],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"IPYTHONDIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
