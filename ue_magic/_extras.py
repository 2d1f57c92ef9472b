"""Which extra a feature needs, and the pip command that adds it to *this* install.

The command must work where the user is: ``pip install 'ue-magic[sandbox]'`` from a package index;
from a checkout (an editable or directory install, as pip's ``direct_url.json`` records it) the
path of that checkout; from a wheel file, that file. When the package is not installed at all (run
from a source tree on ``sys.path``) both forms are named.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = [
    "EXTRAS",
    "coding_missing",
    "extra_missing",
    "install_command",
    "missing_extra",
    "running_module",
]

DIST = "ue-magic"

#: extra -> {import name: package name} of what it brings, to tell which extra a missing module
#: belongs to and to name the package as pip knows it
EXTRAS: dict[str, dict[str, str]] = {
    "sandbox": {
        "starlette": "starlette",
        "uvicorn": "uvicorn",
        "jwt": "PyJWT",
        "cryptography": "cryptography",
    },
    "openapi": {"jsonschema": "jsonschema", "referencing": "referencing"},
    "explore": {"pandas": "pandas", "matplotlib": "matplotlib"},
    "demo": {"ipykernel": "ipykernel", "nbclient": "nbclient", "nbformat": "nbformat"},
}


#: content-codings httpx decodes only when a package is installed: (the modules httpx imports
#: for it, what to install; brotli 1.2 decodes within a size limit)
CODINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "br": (("brotli", "brotlicffi"), "brotli>=1.2"),
    "zstd": (("zstandard",), "zstandard"),
}


def coding_missing(coding: str) -> str | None:
    """One sentence when an answer's content-coding (``br``, ``zstd``) needs a package that is
    not installed, so the body is as it came, still compressed; None otherwise."""
    needed = CODINGS.get(coding)
    if needed is None or any(importlib.util.find_spec(name) for name in needed[0]):
        return None
    return (
        f"The answer is compressed (Content-Encoding: {coding}) and shown as it came: decoding "
        f"it needs {needed[1].partition('>')[0]}; run pip install {shlex.quote(needed[1])}."
    )


def install_command(extra: str) -> str:
    """The shell command that installs ``extra`` for the running copy of ue-magic."""
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        return (
            f"pip install '{DIST}[{extra}]' (from a checkout of its repository: "
            f"pip install -e '.[{extra}]')"
        )
    source = _installed_from(dist)
    if source is None:
        return f"pip install '{DIST}[{extra}]'"
    path, editable = source
    return "pip install " + ("-e " if editable else "") + shlex.quote(f"{path}[{extra}]")


def missing_extra(extra: str, feature: str, missing: str | None = None) -> str:
    """One sentence: ``feature`` needs ``extra`` (``missing`` names the module not found)."""
    what = f" ({missing} is missing)" if missing else ""
    return f"{feature} needs the '{extra}' extra{what}: run {install_command(extra)}."


def extra_missing(extra: str, feature: str, error: ImportError) -> ModuleNotFoundError | None:
    """The error to raise instead of ``error`` when it is a module of ``extra`` that is missing:
    its message is ``missing_extra``'s sentence, its ``name`` the module's. None otherwise."""
    name = (getattr(error, "name", None) or "").partition(".")[0]
    package = EXTRAS[extra].get(name)
    if package is None:
        return None
    return ModuleNotFoundError(missing_extra(extra, feature, package), name=name)


def running_module(name: str) -> bool:
    """True when this process is ``python -m name`` (its package is being imported for it)."""
    argv = list(getattr(sys, "orig_argv", []))
    return any(argv[i] == "-m" and argv[i + 1] == name for i in range(len(argv) - 1))


def _installed_from(dist: metadata.Distribution) -> tuple[str, bool] | None:
    """(local path, editable) when pip installed it from a folder or a file that is still there;
    None for an index install (or when that cannot be told)."""
    try:
        recorded = json.loads(dist.read_text("direct_url.json") or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict):
        return None
    url = urlparse(str(recorded.get("url", "")))
    if url.scheme != "file":
        return None
    path = Path(unquote(url.path))
    if not path.exists():
        return None
    dir_info = recorded.get("dir_info")
    editable = isinstance(dir_info, dict) and bool(dir_info.get("editable"))
    return str(path), editable
