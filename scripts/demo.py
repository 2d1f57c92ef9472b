"""make demo: start the sandbox, run the quickstart notebook in a real kernel, write build/.

The kernel gets the sandbox's UE_* settings in its environment, exactly as a user's shell would
give them; nothing is written into the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from ue_magic.sandbox import start

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
BUILD = ROOT / "build"


def main() -> int:
    BUILD.mkdir(exist_ok=True)
    with start() as sandbox:
        print(f"Sandbox running at {sandbox.base_url}")
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(BUILD)}},
        )
        client.execute(env={**os.environ, **sandbox.env()})
    executed = BUILD / "quickstart.ipynb"
    nbformat.write(notebook, executed)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    (BUILD / "quickstart.html").write_text(html, encoding="utf-8")
    print(f"Executed notebook: {executed}")
    print(f"HTML export:       {BUILD / 'quickstart.html'}")
    print("Open it in JupyterLab with `make lab` (starts the sandbox and JupyterLab on loopback).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
