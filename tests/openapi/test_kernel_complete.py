"""Completion through a real kernel's complete_request (what JupyterLab, Notebook 7, VS Code
and the console send), for every kind of candidate, against both test descriptions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.openapi.conftest import HAND_30
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def kernel(
    _session_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Sandbox]]:
    from jupyter_client.manager import start_new_kernel

    from tests.openapi.conftest import sandbox_description

    sandbox = _session_sandbox
    folder = tmp_path_factory.mktemp("kernel")
    env = {k: v for k, v in os.environ.items() if not k.startswith("UE_")}
    env["IPYTHONDIR"] = str(folder / "ipython")
    env.update(sandbox.env())
    env.update({k.replace("UE_", "UE_STAGING_", 1): v for k, v in sandbox.env().items()})
    env["UE_OPENAPI"] = sandbox_description(sandbox)
    env["UE_STAGING_OPENAPI"] = str(HAND_30)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(folder))
    setup = (
        "%load_ext ue_magic\n%ue_login\n%ue_login --profile staging\n"
        "meter_type = {'id': 't-1', 'name': 'calls'}\n"
        "rows = [{'user': 'u1', 'key': 'k1'}]\n"
        "class Settings:\n    def __init__(self):\n        self.region = 'eu'\n"
        "settings = Settings()\n"
        "_ = %ue_api\n_ = %ue_api --profile staging\n"  # both loaded before any Tab
    )
    reply = client.execute_interactive(setup, timeout=60)
    assert reply["content"]["status"] == "ok"
    yield client, sandbox
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def complete(client: Any, code: str) -> tuple[list[str], str]:
    """The matches, and the text they replace (code[cursor_start:cursor_end])."""
    msg_id = client.complete(code, len(code))
    reply = client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    content = reply["content"]
    assert content["status"] == "ok"
    return content["matches"], code[content["cursor_start"] : content["cursor_end"]]


CASES = [
    # (code, expected matches, replaced text)
    ("%ue_call --ta", ["--table"], "--ta"),
    ("%ue_login --pro", ["--profile", "--prompt"], "--pro"),
    ("%ue_call --profile st", ["staging"], "st"),
    ("%ue_call --each r", ["rows"], "r"),
    ("%ue_call DEL", ["DELETE"], "DEL"),
    ("%ue_call GET /usage-me", ["usage-metering"], "usage-me"),
    ("r = %ue_call GET /usage-metering/v1/me", ["meter-types", "meters"], "me"),
    ("%ue_call DELETE /usage-metering/v1/meters/", ["{id}"], ""),
    ("%ue_call GET /usage-metering/v1/meters?meter", ["meterTypeId", "meterKey"], "meter"),
    ("%%ue_call\nGET /usage-metering/v1/me", ["meter-types", "meters"], "me"),
    ("%%ue_call\nGET /usage-metering/v1/meters\n&li", ["limit"], "li"),
    ("%%ue_call\nPOST /usage-metering/v1/meters\nIdem", ["Idempotency-Key"], "Idem"),
    ("%ue_call GET /usage-metering/v1/meters/{{meter_t", ["meter_type"], "meter_t"),
    (
        '%%ue_call POST /usage-metering/v1/meters\n{"meterTypeId": "{{meter_type.',
        ["id", "name"],
        "",
    ),
    ("%ue_call GET /x?region={{settings.re", ["region"], "re"),
    ('%%ue_call --each rows POST /usage-metering/v1/meters\n{"userId": "{{item.u', ["user"], "u"),
    # the hand-written OpenAPI 3.0 description, through --profile staging
    ("%ue_call --profile staging PUT /usage-metering/v1/meters/", ["{meterId}"], ""),
    ("%%ue_call --profile staging\nGET /usage-metering/v1/meter-types\nX-", ["X-Request-Id"], "X-"),
    ("%ue_api --profile staging GET /usage-metering/v1/meters?meterK", ["meterKey"], "meterK"),
]


@pytest.mark.parametrize(("code", "expected", "replaced"), CASES, ids=[c[0] for c in CASES])
def test_complete_request(
    kernel: tuple[Any, Sandbox], code: str, expected: list[str], replaced: str
) -> None:
    client, sandbox = kernel
    before = sandbox.counters()["api_requests"]
    matches, fragment = complete(client, code)
    assert sorted(matches) == sorted(expected)
    assert fragment == replaced
    assert sandbox.counters()["api_requests"] == before  # completion sends nothing


def test_answer_types_reach_the_front_end(kernel: tuple[Any, Sandbox]) -> None:
    client, _ = kernel
    msg_id = client.complete("%ue_call GET /usage-metering/v1/me", 33)
    reply = client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    kinds = reply["content"]["metadata"]["_jupyter_types_experimental"]
    assert {k["text"]: k["type"] for k in kinds} == {"meter-types": "path", "meters": "path"}


def test_nothing_of_ours_outside_the_magics(kernel: tuple[Any, Sandbox]) -> None:
    client, _ = kernel
    matches, _ = complete(client, "meter_t")
    assert matches == ["meter_type"]  # IPython's own completion still works


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("%ue_lo", ["%ue_login", "%ue_logout"]),
        ("%ue_st", ["%ue_status"]),
        ("%%ue_c", ["%%ue_call"]),
        ("x = %ue_ca", ["%ue_call"]),
    ],
)
def test_magic_names_complete_with_the_extension_loaded(
    kernel: tuple[Any, Sandbox], code: str, expected: list[str]
) -> None:
    client, _ = kernel
    matches, fragment = complete(client, code)
    assert set(expected) <= set(matches)
    assert fragment == code.split()[-1]
