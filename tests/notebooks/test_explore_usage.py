"""notebooks/explore-usage.ipynb with no setup, through papermill and ``jupyter nbconvert
--execute``: its DataFrame holds the demo meters, the plot is a PNG, the threshold tables are the
demo data's, the usage it sends reaches the thresholds it names, and no secret is saved.

A check cell appended to the notebook reports the kernel's variables as JSON, and writes the
embedded sandbox's secret and token to a file outside the notebook, so that the saved notebook can
be searched for them. The truth comes from a second sandbox with the same (seeded) demo data."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from tests.clients.test_headless import fresh_env, fresh_folder, nbconvert, outputs, papermill
from tests.leaks import leaks
from tests.notebooks.test_notebooks import execute, kernel_env
from ue_magic import UsageEngineClient
from ue_magic import sandbox as sandbox_module
from ue_magic.ipython.embedded import credentials_for
from ue_magic.sandbox import Sandbox
from ue_magic.sandbox.demo import DEMO_TYPES, USERS_PER_TYPE

ROOT = Path(__file__).resolve().parents[2]
EXPLORE = ROOT / "notebooks" / "explore-usage.ipynb"

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(300)]

CHECK = """
import json

import matplotlib.colors

def pairs(table, *columns):
    return sorted(map(list, table[list(columns)].itertuples(index=False)))

with open({side!r}, "w") as file:  # outside the notebook's folder
    json.dump({{
        "secret": ue_magic.client().credentials.client_secret.get_secret_value(),
        "token": ue_magic.client().token_manager.get_token(),
        "token_requests": ue_magic.client().token_manager.token_requests,
    }}, file)
print(json.dumps({{
    "meters": pairs(meters, "meterTypeName", "userId"),
    "closest_used": closest["used"].tolist(),
    "top_used": float(capped["used"].max()),
    "reached": pairs(reached, "meterTypeName", "userId", "threshold"),
    "next_up": pairs(next_up, "meterTypeName", "userId", "threshold"),
    "since": pairs(since, "meterTypeName", "userId", "threshold"),
    "since_after_reached": bool((since["reachedAt"] > reached["reachedAt"].max()).all()),
    "is_frame": isinstance(meters, pd.DataFrame) and isinstance(listed, pd.DataFrame),
    "period_dtype": str(meters["periodStart"].dtype),
    "panels": [
        {{
            "kind": ax.get_title().split(":")[0],
            "labels": [label.get_text() for label in ax.get_xticklabels()],
            "red": [
                label.get_text()
                for label, bar in zip(ax.get_xticklabels(), ax.patches, strict=True)
                if bar.get_facecolor() == matplotlib.colors.to_rgba("tab:red")
            ],
        }}
        for ax in fig.axes
    ],
}}))
"""


def meters_and_reached(running: Sandbox) -> dict[str, Any]:
    """The sandbox's meters and the thresholds they reached, as [type, user(, threshold)]."""
    with UsageEngineClient(credentials_for(running)) as ue:
        listed = ue.get("usage-metering/v1/meters", params={"limit": 1000}).json()["meters"]
    capped = [m for m in listed if m.get("capacity")]
    return {
        "meters": sorted([m["meterTypeName"], m["userId"]] for m in listed),
        "capped": {(m["meterTypeName"], m["userId"]): m["value"] for m in capped},
        "over": sorted(
            [m["meterTypeName"], m["userId"]] for m in capped if m["value"] >= m["capacity"]
        ),
        "reached": sorted(
            [m["meterTypeName"], m["userId"], t["name"]]
            for m in listed
            for t in m["thresholds"]
            if t.get("reachedAt")
        ),
    }


def demo_truth() -> dict[str, Any]:
    """What a fresh sandbox's (seeded) demo data holds."""
    with sandbox_module.start(demo_data=True) as demo:
        return meters_and_reached(demo)


def with_check(side: Path) -> Any:
    notebook = nbformat.read(EXPLORE, as_version=4)
    notebook.cells.append(new_code_cell(CHECK.format(side=str(side))))
    return notebook


@pytest.mark.parametrize(
    ("runner", "top"), [("papermill", 5), ("nbconvert", 10)], ids=["papermill", "nbconvert"]
)
def test_explore_usage_runs_with_no_setup(tmp_path: Path, runner: str, top: int) -> None:
    side = tmp_path / "secrets.json"
    work = fresh_folder(tmp_path, with_check(side))
    env = fresh_env(tmp_path)
    if runner == "papermill":
        done = papermill(work, env, "-p", "top", str(top))
    else:
        done = nbconvert(work, env)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = work / "out.ipynb"
    shown = [output for _, output in outputs(saved)]
    assert not [o for o in shown if o["output_type"] == "error"]
    assert shown[0]["text"].startswith("Sandbox (a local emulator in this kernel")
    facts = json.loads(shown[-1]["text"])
    truth = demo_truth()

    # the DataFrame has every demo meter, once
    names = sorted(t["name"] for t in DEMO_TYPES)
    users = [f"customer-{n:03d}" for n in range(1, USERS_PER_TYPE + 1)]
    assert facts["meters"] == sorted([name, user] for name in names for user in users)
    assert facts["meters"] == truth["meters"]

    # the closest to capacity: `top` of them (the parameter reached the kernel), fullest first
    used = facts["closest_used"]
    assert len(used) == top and used == sorted(used, reverse=True)
    assert used[0] == facts["top_used"] > 100  # the demo data has a customer over capacity

    # the answers are DataFrames (--df), with the timestamps as UTC datetimes
    assert (
        facts["is_frame"]
        and facts["period_dtype"].startswith("datetime64")
        and "UTC" in facts["period_dtype"]
    )

    # one plot, a real PNG, whose bars are named by customer on their axis, largest first,
    # and the red ones are the customers at or over capacity
    images = [o["data"]["image/png"] for o in shown if "image/png" in o.get("data", {})]
    assert len(images) == 1
    assert base64.b64decode(images[0]).startswith(b"\x89PNG\r\n\x1a\n")
    for panel in facts["panels"]:
        values = [truth["capped"][panel["kind"], user] for user in panel["labels"]]
        assert values == sorted(values, reverse=True)
    named = sorted([panel["kind"], user] for panel in facts["panels"] for user in panel["labels"])
    assert named == sorted(map(list, truth["capped"]))
    red = sorted([panel["kind"], user] for panel in facts["panels"] for user in panel["red"])
    assert red and red == truth["over"]

    # which thresholds were reached: those of the demo data; then those the usage reached
    assert facts["reached"] and facts["reached"] == truth["reached"]
    assert len(facts["next_up"]) == top
    assert facts["since"] == facts["next_up"]
    assert not set(map(tuple, facts["since"])) & set(map(tuple, truth["reached"]))
    assert facts["since_after_reached"]

    # nothing secret in the saved notebook (the one token the kernel had, and the secret)
    secrets = json.loads(side.read_text(encoding="utf-8"))
    assert secrets["token_requests"] == 1 and secrets["secret"] and secrets["token"]
    assert leaks([saved], [secrets["secret"], secrets["token"]]) == []


@pytest.fixture
def account(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session's sandbox as an account with no meters (emptied again afterwards)."""
    sandbox.reset(data=True)
    yield sandbox
    sandbox.reset(data=True)


def test_a_real_account_is_only_read(account: Sandbox, tmp_path: Path) -> None:
    """`-p use_sandbox False`: the account in the environment; no usage is sent to it."""
    sandbox = account
    sandbox.load_demo_data()
    side = tmp_path / "secrets.json"
    work = fresh_folder(tmp_path, with_check(side))
    done = papermill(work, fresh_env(tmp_path, sandbox.env()), "-p", "use_sandbox", "False")
    assert done.returncode == 0, done.stderr[-3000:]
    saved = work / "out.ipynb"
    shown = [output for _, output in outputs(saved)]
    assert shown[0]["text"].startswith(f"Logged in to {sandbox.api_url}")
    facts = json.loads(shown[-1]["text"])
    truth = demo_truth()
    assert facts["meters"] == truth["meters"] and facts["reached"] == truth["reached"]
    assert facts["next_up"] and facts["since"] == []  # nothing was sent to the account
    assert meters_and_reached(sandbox) == truth  # the account is as it was
    assert leaks([saved], [sandbox.client_secret, *sandbox.issued_tokens]) == []


def test_an_account_with_no_meters_says_so(account: Sandbox, tmp_path: Path) -> None:
    notebook = nbformat.read(EXPLORE, as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source = "use_sandbox = False\ntop = 10"
    execute(notebook, tmp_path, kernel_env(tmp_path, account.env()))
    shown = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in shown if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in shown)
    assert "0 meters" in text and "No meter has a capacity: nothing to plot." in text
    assert not [o for o in shown if "image/png" in o.get("data", {})]
