"""Which kind of front end runs the current cell, and so how to ask for credentials.

- ``terminal``: IPython without a kernel (``ipython``, ``ipython --simple-prompt``, a plain
  ``InteractiveShell``): ``input``/``getpass`` on the terminal.
- ``headless``: a kernel whose execute request does not allow stdin (nbconvert ``--execute``,
  papermill, Voila, nbclient): nobody can type, so a missing secret is an error at once.
- ``console``: a kernel that may read stdin but whose front end is not a notebook
  (``jupyter console``, qtconsole): password prompts through the kernel's stdin, text progress.
- ``notebook``: JupyterLab, Notebook 7, VS Code: the login form and widget progress bars.

Why the cell id: notebook front ends send the id of the running cell in the execute request's
metadata (``cellId``, JupyterLab and Notebook 7 since 3.x, VS Code, nbclient); consoles have no
cells and send none. It is the one difference a kernel can see between a console and a notebook.
"""

from __future__ import annotations

from typing import Any, Literal

Frontend = Literal["terminal", "headless", "console", "notebook"]

__all__ = ["Frontend", "detect", "shows_widgets"]


def detect(shell: Any) -> Frontend:
    """The kind of front end that sent the cell being run (see the module docstring)."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return "terminal"
    if not getattr(kernel, "_allow_stdin", False):
        return "headless"
    return "notebook" if _cell_id(shell, kernel) else "console"


def shows_widgets(shell: Any) -> bool:
    """True where a widget can show: notebooks, and headless runs that save widget state."""
    return detect(shell) in ("notebook", "headless")


def _cell_id(shell: Any, kernel: Any) -> str | None:
    parent = _parent_message(shell, kernel)
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    if not isinstance(metadata, dict):
        return None
    cell_id = metadata.get("cellId")
    return cell_id if isinstance(cell_id, str) and cell_id else None


def _parent_message(shell: Any, kernel: Any) -> Any:
    """The execute request being answered (ipykernel >= 6.20 keeps one per channel)."""
    get_parent = getattr(kernel, "get_parent", None)
    if callable(get_parent):
        try:
            parent = get_parent("shell")
        except TypeError:  # an older ipykernel without channels
            parent = get_parent()
        if parent:
            return parent
    return getattr(shell, "parent_header", None) or {}
