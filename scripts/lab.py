"""make lab: the sandbox plus JupyterLab on loopback, the kernel pointed at the sandbox.

Stop both with Ctrl-C. To use a real account instead, run `jupyter lab` yourself with UE_CLIENT_ID
and UE_CLIENT_SECRET in a .env file or the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ue_magic.sandbox import start

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with start(port=int(os.environ.get("UE_SANDBOX_PORT", "8787"))) as sandbox:
        print(
            f"Sandbox running at {sandbox.base_url}; its settings are in JupyterLab's environment."
        )
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--ip=127.0.0.1",
            "--no-browser",
            f"--notebook-dir={ROOT / 'notebooks'}",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        try:
            return subprocess.call(command, env={**os.environ, **sandbox.env()})
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
