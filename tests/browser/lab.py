"""JupyterLab on loopback in a throw-away home: its own config, data, runtime, IPython and
settings folders, a random token and a free port, so nothing of the developer's leaks in or out."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

#: User settings of JupyterLab's plugins. saveState makes the widget manager write widget state
#: into the saved notebook (off by default, and a secret search without it proves nothing about
#: the form); news and update checks would pop up over the page and dial out.
LAB_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens, its token, and its files."""

    base_url: str  # "http://127.0.0.1:PORT/"
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        """An address on the server with the token in the query, as a browser opens it."""
        joiner = "&" if "?" in path else "?"
        return f"{self.base_url}{path.lstrip('/')}{joiner}token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_notebook(path: Path, cells: int) -> None:
    """An nbformat 4 notebook of empty code cells, with kernelspec metadata so JupyterLab starts
    the python3 kernel without asking."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": [],
            }
            for i in range(cells)
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1) + "\n")


def lab_environment(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The process environment for JupyterLab and so its kernels: the developer's own UE_* and
    Jupyter settings stripped, throw-away folders set, then ``extra`` on top."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UE_", "JUPYTER", "IPYTHON"))
    }
    folders = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "IPYTHONDIR": home / "ipython",
        "JUPYTERLAB_SETTINGS_DIR": home / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.update(extra)
    return env


def write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def wait_until_up(server: LabServer, timeout: float) -> None:
    """Poll /api/status until the server answers, failing early if it died."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.url("api/status"), timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"JupyterLab did not answer in {timeout} s:\n{server.log_tail()}")
        time.sleep(0.25)


def stop(server: LabServer) -> None:
    """Ask the server to shut down (it stops its kernels), then insist."""
    process = server.process
    if process.poll() is None:
        request = urllib.request.Request(server.url("api/shutdown"), method="POST", data=b"")
        with suppress(urllib.error.URLError, OSError):
            urllib.request.urlopen(request, timeout=5).close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@contextmanager
def run_jupyterlab(
    root: Path,
    home: Path,
    env: Mapping[str, str],
    startup_timeout: float = 60.0,
    app: str = "lab",
) -> Iterator[LabServer]:
    """JupyterLab (or, with ``app="notebook"``, Notebook 7) serving ``root`` on 127.0.0.1, up
    and answering before this yields; stopped, with its kernels, on the way out even when the
    body fails."""
    token = secrets.token_hex(24)
    port = free_port()
    full_env = lab_environment(home, env)
    write_lab_settings(Path(full_env["JUPYTERLAB_SETTINGS_DIR"]))
    log = home / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", app,
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
    ]  # fmt: skip
    if app == "lab":
        command.append("--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
        command.append(
            "--LabApp.expose_app_in_browser=True"
        )  # window.jupyterapp: save as autosave does
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LabServer(f"http://127.0.0.1:{port}/", token, root, log, process)
    try:
        wait_until_up(server, startup_timeout)
        yield server
    finally:
        stop(server)
