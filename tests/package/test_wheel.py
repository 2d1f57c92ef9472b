"""What a user gets from the published files: the wheel installed bare (no extra) into a fresh
venv, and what the wheel and the sdist hold.

The files are the ones `make dist` built when UE_DIST names their folder; otherwise this module
builds them itself (python -m build --no-isolation). The bare venv logs in to the test session's
sandbox, which runs in this venv: the bare one has no sandbox of its own to start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

import ue_magic
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = {"sandbox", "openapi", "explore", "demo"}
RUNTIME = {"ipython", "ipywidgets", "httpx", "python-dotenv"}

# Run by the bare venv's Python: a real InteractiveShell, as a notebook's kernel has one.
SESSION = r"""
import contextlib, io, json, sys
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.error import UsageError

shell = InteractiveShell.instance()
said = {}

def run(name, *args):
    out, err = io.StringIO(), io.StringIO()
    error = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            (shell.run_cell_magic if len(args) == 2 else shell.run_line_magic)(name, *args)
        except UsageError as caught:
            error = str(caught)
    return {"out": out.getvalue(), "err": err.getvalue(), "error": error}

said["load"] = run("load_ext", "ue_magic")
said["login"] = run("ue_login", "")
body = '{"name": "bare-wheel", "unit": "calls", "aggregation": {"type": "sum"}}'
said["first"] = run("ue_call", "POST /usage-metering/v1/meter-types -q", body)
again = body.replace("bare", "b2")
said["second"] = run("ue_call", "POST /usage-metering/v1/meter-types -q", again)
said["sandbox"] = run("ue_login", "--sandbox --profile local")
print(json.dumps(said))
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"wheel": ..., "sdist": ...}: $UE_DIST's files, or a fresh build."""
    given = os.environ.get("UE_DIST")
    folder = Path(given).resolve() if given else tmp_path_factory.mktemp("dist")
    if not given:
        built = subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(folder), str(ROOT)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    version = ue_magic.__version__
    found = {
        "wheel": folder / f"ue_magic-{version}-py3-none-any.whl",
        "sdist": folder / f"ue_magic-{version}.tar.gz",
    }
    for path in found.values():
        assert path.is_file(), f"{path} is missing: run make dist"
    return found


@pytest.fixture(scope="module")
def bare(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed and no extra; its bin folder."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    done = subprocess.run([*pip, str(dist["wheel"])], capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"


def _metadata(wheel: Path) -> Any:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(name).decode("utf-8"))


def test_the_bare_wheel_has_only_the_runtime_dependencies(bare: Path) -> None:
    listed = subprocess.run(
        [str(bare / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert {"ue-magic", *RUNTIME} <= names
    assert not names & {"starlette", "uvicorn", "pyjwt", "jsonschema", "referencing", "pandas"}


def test_a_user_without_extras_loads_logs_in_and_is_told_what_is_missing(
    bare: Path, dist: dict[str, Path], sandbox: Sandbox, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UE_", "PYTHON"))}
    env.update(sandbox.env())  # the sandbox serves its own API description
    done = subprocess.run(
        [str(bare / "python"), "-c", SESSION],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    said = json.loads(done.stdout.splitlines()[-1])
    assert said["load"]["error"] is None and said["load"]["err"] == ""
    assert said["login"]["error"] is None
    assert said["login"]["out"].startswith("Logged in to " + sandbox.api_url)

    wheel_hint = f"pip install '{dist['wheel']}[openapi]'"
    unchecked = "JSON bodies go out unchecked (checking them against the API description needs"
    assert said["first"]["error"] is None and said["first"]["err"].count(unchecked) == 1
    assert f"'openapi' extra): run {wheel_hint}." in said["first"]["err"]
    assert said["second"]["error"] is None and unchecked not in said["second"]["err"]
    assert sandbox.counters()["by_route"]["POST /usage-metering/v1/meter-types"] == 2

    refused = said["sandbox"]["error"]
    assert refused == (
        "The sandbox needs the 'sandbox' extra (starlette is missing): "
        f"run pip install '{dist['wheel']}[sandbox]' and restart the kernel."
    )


def test_the_sandbox_commands_name_the_missing_extra_in_one_sentence(
    bare: Path, dist: dict[str, Path]
) -> None:
    sentence = "the 'sandbox' extra (starlette is missing): run pip install '{}[sandbox]'."
    script = subprocess.run([str(bare / "ue-sandbox")], capture_output=True, text=True, timeout=60)
    assert script.returncode == 1 and script.stdout == ""
    assert script.stderr == "ue-sandbox needs " + sentence.format(dist["wheel"]) + "\n"
    module = subprocess.run(
        [str(bare / "python"), "-m", "ue_magic.sandbox"], capture_output=True, text=True, timeout=60
    )
    assert module.returncode == 1 and "Traceback" not in module.stderr
    assert module.stderr == (
        "python -m ue_magic.sandbox needs " + sentence.format(dist["wheel"]) + "\n"
    )


def test_the_wheel_holds_the_package_and_its_metadata_only(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as archive:
        names = archive.namelist()
    info = f"ue_magic-{ue_magic.__version__}.dist-info/"
    assert all(n.startswith(("ue_magic/", info)) for n in names), names
    assert {"ue_magic/__init__.py", "ue_magic/py.typed", "ue_magic/sandbox/__main__.py"} <= set(
        names
    )
    assert f"{info}licenses/LICENSE" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    meta = _metadata(dist["wheel"])
    assert meta["Version"] == ue_magic.__version__ and meta["License-Expression"] == "MIT"
    assert set(meta.get_all("Provides-Extra")) == EXTRAS  # no dev tools published
    plain = {r.split(">=")[0] for r in meta.get_all("Requires-Dist") if "extra ==" not in r}
    assert plain == RUNTIME
    classifiers = set(meta.get_all("Classifier"))
    assert {"Framework :: IPython", "Framework :: Jupyter"} <= classifiers
    claimed = {c.rsplit(" ", 1)[1] for c in classifiers if c.startswith("Programming Language")}
    assert {"3.10", "3.11", "3.12", "3.13"} <= claimed
    assert meta["Requires-Python"] == ">=3.10"
    assert meta.get_all("Project-URL") and meta["Keywords"]
    # The index page shows the README: its links must not be relative to the repository.
    description = meta.get_payload()
    assert "](docs/" not in description and "_images/screenshot.png)" in description


def test_the_sdist_holds_the_sources_tests_and_docs_but_no_build_output(
    dist: dict[str, Path],
) -> None:
    with tarfile.open(dist["sdist"]) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO"} <= names
    assert {"ue_magic/__init__.py", "tests/conftest.py", "docs/conf.py"} <= names
    assert {"notebooks/quickstart.ipynb", "docs/screenshot.png"} <= names
    unwanted = ("build/", "dist/", ".venv", "node_modules/", ".git/", "__pycache__")
    assert not [n for n in names if n.startswith(unwanted) or "/__pycache__/" in n]
