"""A lone surrogate in an answer, in a real kernel: its messages to the front end are UTF-8, so
the tree, the table and the error for a 4xx are shown (with ``\\ud800``), not lost to a
UnicodeEncodeError. Same answers as tests/security/test_lone_surrogates.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.notebooks.test_notebooks import KERNELSPEC, execute, kernel_env
from tests.security.servers import TOKEN_PATH, serving
from tests.security.test_lone_surrogates import lone

pytestmark = pytest.mark.notebook


def test_tree_table_and_4xx_are_shown(tmp_path: Path) -> None:
    lines = ["GET /tree", "GET /rows --table", "GET /bad --no-raise", "GET /bad"]
    notebook = new_notebook(
        cells=[
            new_code_cell("%load_ext ue_magic\n%ue_login"),
            *(new_code_cell(f"%ue_call {line}") for line in lines),
        ],
        metadata={"kernelspec": KERNELSPEC},
    )
    with serving(lone) as server:
        env = {
            "UE_CLIENT_ID": "cid",
            "UE_CLIENT_SECRET": "lone-surrogates-secret",
            "UE_API_URL": server.url,
            "UE_TOKEN_URL": server.url + TOKEN_PATH.lstrip("/"),
            "UE_AUDIENCE": server.url,
            "UE_OPENAPI": "off",
        }
        execute(notebook, tmp_path, kernel_env(tmp_path, env), allow_errors=True)
    *answers, error = notebook.cells[1:]
    for cell in answers:
        assert [o.output_type for o in cell.outputs] in (["execute_result"], ["display_data"])
        data = cell.outputs[0].data
        assert "\\ud800" in data["text/plain"] and "\\ud800" in data["text/html"]
    told = [o.text for o in error.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert told == ["UsageError: 400 X from GET /bad: bad \\ud800 thing (--no-raise to go on)\n"]
