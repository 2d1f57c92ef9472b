"""``--each ... --df`` and ``BulkResult.to_frame()``: one row per item, in input order, with
the item, the outcome, the status and the body's fields."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.frames.conftest import METERS
from ue_magic.cells.progress import TextProgress
from ue_magic.sandbox import Sandbox

BODY = '{"userId": "{{item}}", "meterKey": "each", "meterTypeId": "{{type_id}}"}'


def test_one_row_per_item_ok_failed_and_not_sent(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = TextProgress.update

    def interrupt_after_3(self: TextProgress, done: int, failed: int, force: bool = False) -> None:
        original(self, done, failed, force)
        if done >= 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(TextProgress, "update", interrupt_after_3)
    items = ["a", "a", "b", "c", "d", "e"]  # the second "a" exists by then: 409
    shell.user_ns["people"] = items
    with pytest.raises(UsageError, match="Interrupted"), capture_output():
        shell.run_cell_magic(
            "ue_call", f"--each people --concurrency 1 --df -o made POST {METERS}", BODY
        )
    result = shell.user_ns["_ue_bulk"]
    assert "made" not in shell.user_ns  # a run that raises leaves -o as it was (unset here)
    frame = result.to_frame()  # what --df would have bound
    assert isinstance(frame, pd.DataFrame) and frame.index.tolist() == list(range(6))
    assert frame["item"].tolist() == items
    assert frame["outcome"].tolist()[:3] == ["ok", "failed", "ok"]
    assert set(frame["outcome"][3:]) <= {"ok", "not sent"} and "not sent" in set(frame["outcome"])
    unsent = frame[frame["outcome"] == "not sent"]
    assert unsent.index.tolist() == result.not_sent
    assert unsent["status"].isna().all() and set(unsent["why"]) == {"interrupted"}
    ok = frame[frame["outcome"] == "ok"]
    assert ok["status"].tolist() == [201] * len(ok) and ok["why"].isna().all()
    assert ok["userId"].tolist() == ok["item"].tolist()  # the created meter's fields
    assert isinstance(frame["createdAt"].dtype, pd.DatetimeTZDtype)
    made = sandbox.counters()["by_route"][f"POST {METERS}"]
    assert made == result.sent == len(ok) + 1
    failed = frame.loc[1]
    assert failed["status"] == 409 and failed["error"] == "conflict" and failed["why"] is None
    assert failed["message"] == result.failed[0].message
    pd.testing.assert_frame_equal(result.to_frame(), frame)  # the same from the result


def test_template_fields_of_dict_items_are_the_item_columns(shell: Any) -> None:
    shell.user_ns["rows"] = pd.DataFrame({"user": ["x1", "x2"], "note": ["n1", "n2"]})
    body = '{"userId": "{{item.user}}", "meterKey": "each", "meterTypeId": "{{type_id}}"}'
    with capture_output():
        shell.run_cell_magic("ue_call", f"--each rows --df -q -o made POST {METERS}", body)
    made = shell.user_ns["made"]
    assert list(made.columns[:4]) == ["item.user", "outcome", "status", "why"]
    assert made["item.user"].tolist() == ["x1", "x2"] == made["userId"].tolist()
    assert made["outcome"].tolist() == ["ok", "ok"]


def test_the_line_form_returns_the_frame(shell: Any) -> None:
    with capture_output():
        ids = shell.run_line_magic("ue_call", f"GET {METERS}?meterTypeId={{{{type_id}}}} -q")
    shell.user_ns["ids"] = [m["id"] for m in ids["meters"]]
    with capture_output():
        frame = shell.run_line_magic("ue_call", f"--each ids --df GET {METERS}/{{{{item}}}}")
    assert frame["item"].tolist() == frame["id"].tolist() == shell.user_ns["ids"]
    assert frame["outcome"].tolist() == ["ok"] * 5


def test_without_df_the_result_still_gives_a_frame(shell: Any) -> None:
    """Bodies are kept only with -o or --df (100,000 items stay small): without them the
    frame has the outcomes, and the error bodies of failures."""
    shell.user_ns["people"] = ["p", "p"]
    with capture_output():
        shell.run_cell_magic(
            "ue_call", f"--each people --concurrency 1 --no-raise POST {METERS}", BODY
        )
    frame = shell.user_ns["_ue_bulk"].to_frame()
    assert frame["outcome"].tolist() == ["ok", "failed"]
    assert frame["status"].tolist() == [201, 409]
    assert "id" not in frame.columns and frame["error"].tolist()[1] == "conflict"


def test_the_setting_makes_each_results_a_frame(shell: Any) -> None:
    shell.run_line_magic("config", "UsageEngineMagics.dataframe = True")
    shell.user_ns["people"] = ["s1", "s2"]
    with capture_output():
        shell.run_cell_magic("ue_call", f"--each people -q -o made POST {METERS}", BODY)
    made = shell.user_ns["made"]
    assert isinstance(made, pd.DataFrame) and made["userId"].tolist() == ["s1", "s2"]
