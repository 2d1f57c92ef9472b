"""Benchmark rows for the reader beside the main ones (``bench.py`` runs them): the same small
GET made other ways (curl, requests, Authlib), and ``%load_ext`` timed in a Python as
``pip install ue-magic`` leaves it.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from bench import ROOT, SMALL, Row, Server


def per_call(call: Callable[[], object], runs: int = 200) -> float:
    """Seconds per call, over ``runs`` calls."""
    started = time.perf_counter()
    for _ in range(runs):
        call()
    return (time.perf_counter() - started) / runs


def reference_rows(server: Server, token: str, raw: httpx.Client) -> list[Row]:
    """Per-call costs of other ways, for the reader (no target)."""
    raw_call = per_call(lambda: raw.get(SMALL))
    costs: dict[str, float] = {}
    curl = shutil.which("curl")
    if curl:
        form = (
            f"grant_type=client_credentials&client_id={server.env['UE_CLIENT_ID']}"
            f"&audience={server.env['UE_AUDIENCE']}"
        )
        token_command = [curl, "-sf", "-X", "POST", server.env["UE_TOKEN_URL"], "-d", form,
                         "--data-urlencode", "client_secret@-"]  # fmt: skip
        call_command = [curl, "-sf", server.base + SMALL, "-H", "Authorization: Bearer " + token]

        def curl_twice() -> None:
            secret = server.env["UE_CLIENT_SECRET"]
            subprocess.run(token_command, input=secret, capture_output=True, text=True, check=True)
            subprocess.run(call_command, capture_output=True, check=True)

        costs["curl for a token, then curl for the call (a process each)"] = per_call(
            curl_twice, runs=20
        )
    try:
        import requests
    except ImportError:
        pass
    else:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        costs["requests with a fixed header"] = per_call(lambda: session.get(server.base + SMALL))
    try:
        from authlib.integrations.httpx_client import OAuth2Client
    except ImportError:
        pass
    else:
        oauth = OAuth2Client(
            server.env["UE_CLIENT_ID"],
            server.env["UE_CLIENT_SECRET"],
            token_endpoint=server.env["UE_TOKEN_URL"],
            grant_type="client_credentials",
            token_endpoint_auth_method="client_secret_post",
        )
        oauth.fetch_token(audience=server.env["UE_AUDIENCE"])
        costs["Authlib's `OAuth2Client` (httpx)"] = per_call(lambda: oauth.get(server.base + SMALL))
        oauth.close()
    return [
        Row(
            what,
            "raw `httpx.Client`",
            f"{cost / raw_call:.2f}x ({cost * 1e3:.2f} ms/call)",
            "shown",
            None,
        )
        for what, cost in costs.items()
    ]


LOAD_PROBE = """
import time, sys
t0 = time.perf_counter()
import IPython
t1 = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
c = Config(); c.HistoryManager.enabled = False
shell = InteractiveShell.instance(config=c)
t2 = time.perf_counter()
shell.run_line_magic("load_ext", "ue_magic")
t3 = time.perf_counter()
print(t1 - t0, t3 - t2)
"""


@contextmanager
def user_python() -> Iterator[tuple[str, str]]:
    """A Python as ``pip install ue-magic`` leaves it: a new virtual environment with this
    checkout and its runtime dependencies only, and what it is, for the row.

    The development venv is not what a user has: import-linter and twine bring ``rich`` and
    ``click``, and with them installed ``import httpx`` imports its command line too (about
    180 ms). Falls back to this interpreter when the venv cannot be made (no network to PyPI).
    """
    with tempfile.TemporaryDirectory() as folder:
        python = str(Path(folder) / "bin" / "python")
        try:
            subprocess.run([sys.executable, "-m", "venv", folder], check=True, capture_output=True)
            subprocess.run(
                [python, "-m", "pip", "install", "--quiet", str(ROOT)],
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError:
            yield sys.executable, "this venv (a user-like one could not be made)"
            return
        yield python, "a new venv with only the runtime dependencies"


def load_time(rounds: int) -> Row:
    imports, loads = [], []
    with user_python() as (python, where), tempfile.TemporaryDirectory() as folder:
        for _ in range(max(rounds, 5)):
            out = subprocess.run(  # from an empty folder: the installed package, not this tree
                [python, "-c", LOAD_PROBE], capture_output=True, text=True, check=True, cwd=folder
            ).stdout.split()
            imports.append(float(out[0]))
            loads.append(float(out[1]))
    base, extra = statistics.median(imports), statistics.median(loads)
    return Row(
        f"`%load_ext ue_magic`, in {where}",
        f"bare `import IPython`: {base * 1e3:.0f} ms",
        f"+{extra * 1e3:.0f} ms",
        "<= 150 ms more",
        extra <= 0.150,
    )
