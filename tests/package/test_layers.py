"""The layers the folder tree shows are enforced: ``make lint`` runs lint-imports on the contracts
in pyproject.toml, and an import against them fails it (checked on a copy of the package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ue_magic

PACKAGE = Path(ue_magic.__file__).parent
PROJECT = PACKAGE.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(root / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=120,
    )


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "ue_magic", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n\ndef _late() -> None:\n    {line}\n")


def test_the_package_keeps_its_contracts(copy: Path) -> None:
    done = lint(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # the HTTP core reaching up into the cell language (a function-level import counts)
        ("core/_client.py", "from ..cells import render", "Layers: the IPython adapter"),
        # the cell language reaching up into IPython
        ("cells/call.py", "from ..ipython import magics", "Layers: the IPython adapter"),
        # the base reaching up into the core
        ("errors.py", "from .core import credentials", "Layers: the IPython adapter"),
        # within the cells: the parser reaching up into --each
        ("cells/request/_template.py", "from .. import bulk", "Within the cell language"),
        # the sandbox using the client
        ("sandbox/app.py", "from ..core import _client", "The sandbox stands alone"),
        # a cycle between siblings of one layer
        ("core/pages.py", "from . import _client", "No import cycles"),
    ],
)
def test_an_import_against_the_contracts_fails(
    copy: Path, module: str, line: str, contract: str
) -> None:
    add_line(copy / "ue_magic" / module, line)
    done = lint(copy)
    assert done.returncode != 0
    _, _, broken = done.stdout.partition("Broken contracts")
    assert contract in broken, done.stdout
