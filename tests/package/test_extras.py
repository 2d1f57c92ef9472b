"""Install hints that work where the user is: from an index, a checkout, a wheel file, or a source
tree that was never installed; and console scripts that name a missing extra in one sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from ue_magic import _extras
from ue_magic._extras import install_command

ROOT = Path(__file__).resolve().parents[2]


class _Dist:
    """A stand-in for the installed distribution, with pip's direct_url.json or none."""

    def __init__(self, direct_url: dict[str, Any] | None) -> None:
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        return None if self.direct_url is None else json.dumps(self.direct_url)


def _installed_as(monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | None) -> None:
    monkeypatch.setattr(_extras.metadata, "distribution", lambda name: _Dist(direct_url))


def test_from_an_index_the_hint_is_the_package_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed_as(monkeypatch, None)
    assert install_command("sandbox") == "pip install 'ue-magic[sandbox]'"


def test_from_an_editable_checkout_the_hint_is_that_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkout = tmp_path / "my clone"
    checkout.mkdir()
    _installed_as(monkeypatch, {"url": checkout.as_uri(), "dir_info": {"editable": True}})
    assert install_command("sandbox") == f"pip install -e '{checkout}[sandbox]'"


def test_from_a_wheel_file_the_hint_is_that_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wheel = tmp_path / "ue_magic-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    _installed_as(monkeypatch, {"url": wheel.as_uri(), "archive_info": {}})
    assert install_command("openapi") == f"pip install '{wheel}[openapi]'"
    wheel.unlink()  # gone since: the index is all that is left to name
    assert install_command("openapi") == "pip install 'ue-magic[openapi]'"


def test_not_installed_at_all_both_forms_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_extras.metadata, "distribution", missing)
    hint = install_command("sandbox")
    assert hint.startswith("pip install 'ue-magic[sandbox]'")
    assert "pip install -e '.[sandbox]'" in hint


def test_this_checkout_names_itself() -> None:
    """The test environment is `pip install -e .` of this checkout (make venv)."""
    assert install_command("sandbox") == f"pip install -e '{ROOT}[sandbox]'"


def test_ue_sandbox_without_the_extra_is_one_sentence() -> None:
    blocked = "import sys; sys.modules['starlette'] = None; from ue_magic._cli import sandbox; "
    done = subprocess.run(
        [sys.executable, "-c", blocked + "sys.exit(sandbox())"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        "ue-sandbox needs the 'sandbox' extra (starlette is missing): "
        f"run {install_command('sandbox')}.\n"
    )


def test_importing_the_sandbox_without_the_extra_names_it() -> None:
    blocked = "import sys; sys.modules['jwt'] = None\ntry:\n    import ue_magic.sandbox\n"
    done = subprocess.run(
        [sys.executable, "-c", blocked + "except ModuleNotFoundError as e:\n    print(e.name, e)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == (
        "jwt The sandbox needs the 'sandbox' extra (PyJWT is missing): "
        f"run {install_command('sandbox')}.\n"
    )
