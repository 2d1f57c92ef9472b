"""The reachability audit: after one session that uses every feature, no token and no form of
the secret is reachable from anything a user can reach, outside the holders that must keep them.

The holders (not gone into by the walk): ``Secret`` (the client secret of a live login),
``token._Token`` (the token cache's entry) and ``_oauth.Grant`` (a token on its way into the
cache). Everything else reachable from the user's namespace, ``Out``/``In``, ``sys.last_*``
(what ``%debug`` shows), the exceptions' chains and their frames is searched: kept responses,
their requests and history, ``BulkResult``s, raised errors, kept clients. The session ends with
every login logged out, so no ``Secret`` holding the secret may be reachable then either.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import run, slow_seen
from tests.security.reach import find, secret_forms
from tests.security.servers import Server
from ue_magic.core._oauth import Grant
from ue_magic.core.credentials import Secret
from ue_magic.core.token import _Token
from ue_magic.sandbox import Sandbox

HOLDERS = (Secret, _Token, Grant)
OTHER_SECRET = "other-Profile+secret/ONLY=in.env"

SESSION = [
    "%ue_login",
    "%ue_login --profile hostile",
    "import ue_magic\nue = ue_magic.client()\nue",
    "types = %ue_call GET /usage-metering/v1/meter-types",
    "%ue_call GET /usage-metering/v1/meter-types",
    '%%ue_call POST /usage-metering/v1/meter-types -o t\n{"name": "audit", "unit": "u", '
    '"aggregation": {"type": "sum"}}',
    "%ue_call GET /usage-metering/v1/meter-types/missing",  # an error: sys.last_value
    "%ue_call --profile hostile GET /moved --no-raise",  # 307, not followed
    "moved = _ue",
    "%ue_call --profile hostile GET /echo",  # the token echoed in an error answer
    "echoed = _ue",
    "%ue_call --profile hostile GET /echo-ok",
    "renewed = None",
    "SANDBOX.inject('api', status=401, count=1)\n"
    "renewed = %ue_call GET /usage-metering/v1/meter-types",  # renewed once, resent once
    "renewal = _ue",
    "users = [f'audit-{n}' for n in range(12)]",
    "%%ue_call --each users --concurrency 4 -o made POST /usage-metering/v1/meters\n"
    '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "{{t.id}}"}',
    "bulk = _ue",
    "%ue_call GET /usage-metering/v1/meters?limit=5 --all-pages -q -o every",
    '%%ue_call POST /usage-metering/v1/meter-types --dry-run\n{"name": "dry"}',
    "%ue_call DELETE /usage-metering/v1/meter-types/{{t.id}} --curl",
    "%ue_login --profile echo",  # the token endpoint echoes the form with the secret
    "%ue_login --profile bad --token-url http://auth.example.com/token",
    "%xmode Verbose",
    "ue_magic.client().get('https://elsewhere.example.com/x')",
]


def test_reachability_audit_finds_no_token_and_no_secret_outside_the_holders(
    ip: Any,
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    hostile_env: dict[str, str],
    hostile_server: Server,
    interrupt_when: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the log records are audited too
    # a .env with every login's settings and another profile's secret, which must stay in it
    env_file = "".join(f"{k}={v}\n" for k, v in sandbox_env.items())
    env_file += f"UE_BAD_CLIENT_ID=bad\nUE_BAD_CLIENT_SECRET={OTHER_SECRET}\n"
    (tmp_path / ".env").write_text(env_file, encoding="utf-8")
    issued_before = len(sandbox.issued_tokens)
    ip.user_ns["SANDBOX"] = sandbox
    failed = []
    for cell in SESSION:
        if not run(ip, cell).success:
            failed.append(cell.splitlines()[0])
    # Ctrl-C while an answer is awaited
    interrupt_when(slow_seen(hostile_server))
    interrupted = run(ip, "%ue_call --profile hostile GET /slow")
    # one line (issue 21): the interrupt is a UsageError that stops Run All
    assert "Interrupted (Ctrl-C)" in str(interrupted.error_in_exec)
    last = (sys.last_type, sys.last_value, sys.last_traceback)
    assert run(ip, "%ue_logout").success
    assert run(ip, "%ue_logout --profile hostile").success
    del ip.user_ns["SANDBOX"]

    # the session did what it says: the failing cells are exactly those meant to fail
    assert failed == [
        "%ue_call GET /usage-metering/v1/meter-types/missing",
        "%ue_call --profile hostile GET /echo",
        "%ue_login --profile echo",
        "%ue_login --profile bad --token-url http://auth.example.com/token",
        "ue_magic.client().get('https://elsewhere.example.com/x')",
    ]
    ns = ip.user_ns
    assert ns["moved"].status_code == 307 and ns["moved"].next_request is not None
    assert ns["echoed"].status_code == 400
    assert [r.status_code for r in ns["renewal"].history] == [401]
    assert len(ns["made"]) == 12 and ns["bulk"].sent == 12
    tokens = sandbox.issued_tokens[issued_before:]
    assert len(tokens) >= 3  # the first login, the hostile profile, the renewal

    roots: dict[str, object] = {
        f"user_ns[{name!r}]": value
        for name, value in ns.items()
        if name not in ip.user_ns_hidden or name in ("Out", "In", "_oh", "_ih")
    }
    roots.update({"sys.last_type": last[0], "sys.last_value": last[1], "sys.last_tb": last[2]})
    roots["the shell"] = ip
    needles = {
        "the client secret": secret_forms(sandbox.client_secret),
        "another profile's secret from .env": secret_forms(OTHER_SECRET),
        **{f"token {n}": [token.encode()] for n, token in enumerate(tokens)},
    }
    found, walked = find(roots, needles, HOLDERS)
    logged = [
        f"{record.name}: {what}"
        for record in caplog.records
        for text in (logging.Formatter().format(record), repr(record.args))
        for what, forms in needles.items()
        if any(form.decode() in text for form in forms)
    ]
    assert len(caplog.records) > 100 and logged == []
    # the walk went deep: kept responses and their requests, the interrupt's frames, the shell
    responses = walked["Response"] + walked["ApiResponse"]  # the client's answers are ApiResponses
    # (a bulk run keeps only its error answers, so the kept responses are few but real)
    requests = walked["Request"] + walked["KeptRequest"]  # a kept answer's request is KeptRequest
    assert responses >= 5 and requests >= 5 and walked["frame"] >= 5
    assert walked["BulkResult"] == 1 and walked["InteractiveShell"] == 1
    assert found == []
    # logged out everywhere: not even a holder with the secret is left
    holders, _ = find(roots, {"the client secret": [sandbox.client_secret.encode()]}, ())
    assert holders == []
