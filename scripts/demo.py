"""make demo: run notebooks/quickstart.ipynb in a real kernel and show what it printed.

The notebook needs no setup: it logs in with ``%ue_login --sandbox``, which starts the sandbox
inside the kernel, so the sandbox stops when the kernel does. The kernel talks to this script
over IPC (unix sockets) rather than TCP, so nothing listens on the network and the kernel has no
unencrypted-TCP warning to print. Needs only the ``demo`` extra; the HTML export is written when
nbconvert is installed too.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
EXPLORE = ROOT / "notebooks" / "explore-usage.ipynb"
BUILD = ROOT / "build"
SHOWN_LINES = 3


def transcript(notebook: Any) -> str:
    """Each code cell's first line and the start of its plain-text outputs."""
    lines: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        lines.append(f"In [{cell.execution_count}]: {cell.source.splitlines()[0]}")
        for output in cell.outputs:
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            shown = str(text).rstrip().splitlines()
            more = f" … ({len(shown) - SHOWN_LINES} more lines)" if len(shown) > SHOWN_LINES else ""
            lines.extend(f"    {line[:160]}" for line in shown[:SHOWN_LINES])
            if more:
                lines.append(f"   {more}")
    return "\n".join(lines)


def write_html(notebook: Any, path: Path) -> bool:
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        return False
    html, _ = HTMLExporter().from_notebook_node(notebook)
    path.write_text(html, encoding="utf-8")
    return True


def main() -> int:
    BUILD.mkdir(exist_ok=True)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with tempfile.TemporaryDirectory(prefix="ue-demo-") as runtime:
        manager = KernelManager(
            kernel_name="python3", transport="ipc", connection_file=f"{runtime}/kernel.json"
        )
        manager.ip = f"{runtime}/kernel"  # the IPC sockets' path prefix
        client = NotebookClient(
            notebook, km=manager, timeout=300, resources={"metadata": {"path": str(BUILD)}}
        )
        try:
            client.execute()
        finally:  # nbclient leaves a kernel it did not start running
            if manager.has_kernel:
                manager.shutdown_kernel()
    print(transcript(notebook))
    executed = BUILD / "quickstart.ipynb"
    nbformat.write(notebook, executed)
    print(f"\nExecuted notebook: {executed}")
    html = BUILD / "quickstart.html"
    if write_html(notebook, html):
        print(f"HTML export:       {html}")
    print("The sandbox ran inside the notebook's kernel and stopped with it.")
    print("Open the notebook in JupyterLab with `make lab` (it makes the development venv).")
    print(f"\nNext, explore the demo data with pandas and matplotlib: {EXPLORE}")
    print("Open it with `make lab` too (its venv has the explore extra it needs).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
