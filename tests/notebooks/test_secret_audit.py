"""The secret audit: one kernel session uses every feature, then everything written is searched.

PLACES lists where ue-magic's users could find a secret afterwards. Adding a feature that writes
somewhere new means adding that place here.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.leaks import files_under, leaks
from tests.notebooks.test_notebooks import KERNELSPEC, execute, kernel_env, outputs_of
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.notebook

#: Where a secret could be left behind, relative to the test's temporary folder.
PLACES = {
    "saved notebook (outputs and widget state)": "work/audit.ipynb",
    "IPython history database": "history.sqlite",
    "IPYTHONDIR (profiles, logs)": "ipython",
    "ue_magic and httpx logs at DEBUG": "work/debug.log",
    "any file under the working folder": "work",
}

FORM_LOGIN = """
import os, ipywidgets as widgets
form = [w for w in widgets.Widget.widgets.values()
        if isinstance(w, widgets.VBox) and "ue-login-form" in w._dom_classes][-1]
fields = {type(w).__name__: w for w in form.children}
fields["Text"].value = os.environ["AUDIT_CLIENT_ID"]
fields["Password"].value = os.environ["AUDIT_SECRET"]
fields["Button"].click()
print(form.children[0].value)
"""

CELLS = [
    "import logging\nlogging.basicConfig(filename='debug.log', level=logging.DEBUG, force=True)",
    "%load_ext ue_magic",
    # 1. from the .env file in the working folder
    "%ue_login",
    # 2. from the environment, as a profile
    "%ue_login --profile envp",
    # 3. from the form
    "%ue_login --widget --profile form",
    FORM_LOGIN,
    "%ue_call GET /usage-metering/v1/meter-types",
    '%%ue_call POST /usage-metering/v1/meter-types -o t\n{"name": "audit", "unit": "u", '
    '"aggregation": {"type": "sum"}}',
    "%%ue_call --profile envp --table\nGET /usage-metering/v1/meter-types",
    '%%ue_call POST /usage-metering/v1/meter-types --no-raise --no-validate\n{"name": ""}',
    "%ue_call GET /usage-metering/v1/meter-types/missing",
    '%%ue_call POST /usage-metering/v1/meter-types --dry-run --no-validate\n{"name": "dry"}',
    "%ue_call DELETE /usage-metering/v1/meter-types/{{t.id}} --curl",
    "users = [f'u{n}' for n in range(30)]",
    "%%ue_call --each users --concurrency 4 -o made POST /usage-metering/v1/meters\n"
    '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "{{t.id}}"}',
    "%ue_status",
    "import ue_magic\nue = ue_magic.client()\nue, ue.token_manager, ue.credentials, _ue",
    "%ue_call GET /usage-metering/v1/meters?limit=5 --all-pages -q -o every",
    "%ue_login --client-secret {}",  # typed by mistake: refused, and scrubbed from history
    '%ue_login --client-secret "{}"',
    "%xmode Verbose",
    "ue_magic.client().get('https://elsewhere.example.com/x')",
    "ue_magic.client().get('/usage-metering/v1/meters', timeout=1e-9)",
    # os.getenv, not os.environ[...]: IPython 8's Verbose traceback prints os.environ (which holds
    # the test's secrets) when the failing line names it; that is the harness, not ue-magic
    "from ue_magic import Credentials, UsageEngineClient\n"
    "UsageEngineClient(Credentials.from_env(client_secret='wrong-' + os.getenv('AUDIT_SECRET')))"
    ".token_manager.get_token()",
    "Credentials(client_id='x', client_secret=os.getenv('AUDIT_SECRET'), region='eu',"
    " audience='https://a.example/', api_url='http://example.com/',"
    " token_url='https://a.example/t')",
    "%ue_logout --profile form",
]


def test_nothing_secret_is_left_anywhere(sandbox: Sandbox, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = sandbox.env()
    (work / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    profile_env = {f"UE_ENVP_{k.removeprefix('UE_')}": v for k, v in env.items()}
    form_env = {
        f"UE_FORM_{k.removeprefix('UE_')}": v
        for k, v in env.items()
        if k not in ("UE_CLIENT_ID", "UE_CLIENT_SECRET")
    }
    mistakes = [n for n, source in enumerate(CELLS) if "--client-secret" in source]
    cells = [
        source.format(sandbox.client_secret) if n in mistakes else source
        for n, source in enumerate(CELLS)
    ]
    notebook = new_notebook(
        cells=[new_code_cell(source) for source in cells], metadata={"kernelspec": KERNELSPEC}
    )
    kernel = kernel_env(
        tmp_path,
        {
            **profile_env,
            **form_env,
            "AUDIT_CLIENT_ID": sandbox.client_id,
            "AUDIT_SECRET": sandbox.client_secret,
        },
    )
    execute(notebook, work, kernel, history=tmp_path / "history.sqlite", allow_errors=True)

    text = json.dumps([o for o in outputs_of(notebook)])
    assert text.count("Logged in") >= 3, "a login did not succeed"
    assert "30 of 30 sent" in text
    assert "Bearer ***" in text and "$UE_TOKEN" in text
    assert "elsewhere.example.com" in text and "Traceback" in text  # the Verbose tracebacks ran
    assert len(sandbox.issued_tokens) >= 3

    # The cell sources that held the secret were typed by the user: it is theirs to delete. What
    # ue-magic controls is everything else, so the audit blanks that one source before saving.
    for n in mistakes:
        notebook.cells[n].source = "%ue_login --client-secret <typed by mistake>"
    nbformat.write(notebook, work / "audit.ipynb")
    places = [tmp_path / place for place in PLACES.values()]
    assert all(p.exists() for p in places), [str(p) for p in places if not p.exists()]
    assert (work / "debug.log").stat().st_size > 0
    written = [p for p in files_under(*places) if p != work / ".env"]  # .env is the user's input
    assert work / "audit.ipynb" in written
    found = leaks(written, [sandbox.client_secret, *sandbox.issued_tokens])
    assert found == []
