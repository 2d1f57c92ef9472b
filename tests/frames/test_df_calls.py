"""``--df`` on one call, in a real InteractiveShell against the sandbox on loopback: the value
(returned and in -o) is a DataFrame of the answer's list, and what cannot be one is refused."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.frames.conftest import METERS, TYPES, USERS, api_requests, call, login, make_meters
from ue_magic.sandbox import Sandbox

OF_TYPE = f"GET {METERS}?meterTypeId={{{{type_id}}}}"


def test_the_value_and_o_are_a_frame_of_the_list(shell: Any, sandbox: Sandbox) -> None:
    frame = call(shell, f"{OF_TYPE} --df -o meters")
    assert isinstance(frame, pd.DataFrame) and shell.user_ns["meters"] is frame
    assert frame["userId"].tolist() == USERS
    answer = shell.user_ns["_ue"].json()["meters"]  # _ue is still the response
    assert frame["id"].tolist() == [m["id"] for m in answer]
    assert frame["aggregation.type"].tolist() == ["sum"] * 5  # nested: a dotted column
    assert "aggregation" not in frame.columns
    assert frame["thresholds"].tolist() == [m["thresholds"] for m in answer]  # lists kept
    for column in ("createdAt", "periodStart"):  # RFC 3339 values: UTC datetimes
        assert isinstance(frame[column].dtype, pd.DatetimeTZDtype)
        assert frame[column].tolist() == [pd.Timestamp(m[column]) for m in answer]
    assert api_requests(sandbox) == 1


def test_all_pages_joins_every_page_into_one_frame(shell: Any, sandbox: Sandbox) -> None:
    frame = call(shell, f"{OF_TYPE}&limit=2 --all-pages --df")
    assert frame["userId"].tolist() == USERS and frame.index.tolist() == list(range(5))
    assert sandbox.counters()["by_route"][f"GET {METERS}"] == 3


def test_one_page_of_several_says_so(shell: Any) -> None:
    with capture_output() as captured:
        shell.run_line_magic("ue_call", f"{OF_TYPE}&limit=2 --df -o two")
    assert len(shell.user_ns["two"]) == 2
    assert "More pages exist: add --all-pages to get them all." in captured.stdout


def test_columns_picks_the_columns_in_order(shell: Any) -> None:
    frame = call(shell, f"{OF_TYPE} --df --columns userId,aggregation,value")
    assert list(frame.columns) == ["userId", "aggregation.type", "value"]
    with capture_output() as captured:
        frame = shell.run_line_magic("ue_call", f"{OF_TYPE} --df --columns userId,vlaue")
    assert list(frame.columns) == ["userId", "vlaue"] and frame["vlaue"].isna().all()
    assert "No row has vlaue: an empty column." in captured.stdout


def test_the_description_makes_a_column_of_nulls_datetimes(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The type has no reset schedule: every periodEnd is null, and only the API description
    can say that the column is one of date-times."""
    login(ip)
    make_meters(ip)
    without = call(ip, f"{OF_TYPE} --df")
    assert without["periodEnd"].isna().all()
    assert not isinstance(without["periodEnd"].dtype, pd.DatetimeTZDtype)
    monkeypatch.delenv("UE_OPENAPI")  # the sandbox serves its own description
    login(ip)
    described = call(ip, f"{OF_TYPE} --df")
    assert isinstance(described["periodEnd"].dtype, pd.DatetimeTZDtype)
    assert described["periodEnd"].isna().all()
    empty = call(ip, f"GET {METERS}?userId=nobody --df --columns userId,periodEnd")
    assert len(empty) == 0 and list(empty.columns) == ["userId", "periodEnd"]
    assert isinstance(empty["periodEnd"].dtype, pd.DatetimeTZDtype)


def test_the_cell_form_shows_pandas_own_reprs(shell: Any) -> None:
    with capture_output() as captured:
        shell.run_cell_magic("ue_call", "--df -o meters", f"{OF_TYPE}\n")
    (shown,) = captured.outputs
    assert shown.data["text/plain"] == repr(shell.user_ns["meters"])
    assert 'class="dataframe"' in shown.data["text/html"]
    assert "ue-view" not in shown.data["text/html"]  # not the JSON tree's view


def test_minus_q_shows_nothing(shell: Any) -> None:
    with capture_output() as captured:
        shell.run_cell_magic("ue_call", "--df -q -o meters", f"{OF_TYPE}\n")
    assert captured.outputs == [] and captured.stdout == ""
    assert len(shell.user_ns["meters"]) == 5


def test_an_answer_without_a_list_is_an_error_and_changes_nothing(shell: Any) -> None:
    """One meter type is one record, not a list (its thresholds are not the answer's list)."""
    shell.user_ns["kept"] = "before"
    with capture_output():
        shell.run_cell("kept = %ue_call GET /usage-metering/v1/meter-types/{{type_id}} --df")
    answer = shell.user_ns["_ue"].json()
    assert answer["id"] == shell.user_ns["type_id"]  # the answer, as it came, in _ue
    assert shell.user_ns["kept"] == "before"
    with pytest.raises(UsageError), capture_output():
        shell.run_line_magic("ue_call", f"GET {TYPES}/{{{{type_id}}}} --df -o kept")
    assert shell.user_ns["kept"] == "before"  # -o too
    with pytest.raises(UsageError) as raised, capture_output():
        shell.run_line_magic("ue_call", f"GET {TYPES}/{{{{type_id}}}} --df")
    said = str(raised.value)
    assert said.startswith("--df needs a list of objects")
    assert "this answer is an object with the keys id, accountId, name" in said
    assert said.endswith(": nothing was converted, and the answer is in _ue.")


def test_an_error_answer_stays_the_error_body(shell: Any) -> None:
    """A 404 is shown and raises as ever; with --no-raise, -o gets the error body, unchanged."""
    with pytest.raises(UsageError, match="404"), capture_output():
        shell.run_line_magic("ue_call", f"GET {METERS}/nope --df")
    shown = call(shell, f"GET {METERS}/nope --df --no-raise -o missing")
    assert shell.user_ns["missing"] == shell.user_ns["_ue"].json() == shown
    assert shown._repr_mimebundle_()["text/plain"].startswith("404 Not Found")  # the view


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("--raw", "Choose --df or --raw"),
        ("--table", "Choose --df or --table"),
        ("--dry-run", "--df needs an answer, and --dry-run sends nothing."),
        ("--curl", "--df needs an answer, and --curl sends nothing."),
        ("--python", "--df needs an answer, and --python sends nothing."),
    ],
)
def test_df_with_another_view_is_refused_before_sending(
    shell: Any, sandbox: Sandbox, words: str, said: str
) -> None:
    with pytest.raises(UsageError, match=said), capture_output():
        shell.run_line_magic("ue_call", f"{OF_TYPE} --df {words}")
    assert api_requests(sandbox) == 0


def test_the_setting_makes_list_answers_frames(shell: Any) -> None:
    shell.run_line_magic("config", "UsageEngineMagics.dataframe = True")
    assert isinstance(call(shell, OF_TYPE), pd.DataFrame)
    one = call(shell, f"GET {TYPES}/{{{{type_id}}}}")  # not a list: as it is, no error
    assert one["id"] == shell.user_ns["type_id"] and not isinstance(one, pd.DataFrame)
    for view in ("--raw", "--table"):  # the line asks for another view: the body as ever
        assert isinstance(call(shell, f"{OF_TYPE} {view}"), dict)
    shell.run_line_magic("config", "UsageEngineMagics.dataframe = False")
    assert isinstance(call(shell, OF_TYPE), dict)


def test_a_frame_column_in_the_path_says_it_is_not_one_value(shell: Any, sandbox: Sandbox) -> None:
    """With the setting, ``tt`` is a DataFrame and ``tt.id`` a Series: the error says so (not
    that its many-line text has a line break), and what to write instead; nothing is sent."""
    shell.run_line_magic("config", "UsageEngineMagics.dataframe = True")
    shell.user_ns["tt"] = call(shell, OF_TYPE)
    before = api_requests(sandbox)
    with pytest.raises(UsageError) as raised, capture_output():
        shell.run_line_magic("ue_call", f"GET {METERS}/{{{{tt.userId}}}}")
    said = str(raised.value)
    assert "pandas Series" in said and "not one value" in said and "{{tt.userId[0]}}" in said
    assert "--each" in said and "line break" not in said
    assert api_requests(sandbox) == before
    with capture_output() as shown:  # what the error suggests works
        shell.run_line_magic("ue_call", f"GET {METERS}/{{{{tt.userId[0]}}}} --dry-run")
    assert f"{METERS}/{USERS[0]}" in shown.stdout + "".join(str(o.data) for o in shown.outputs)


def test_the_help_shows_df_and_the_setting(ip: Any) -> None:
    """What %ue_call? prints: the option, and the setting, in the magic's docstring."""
    help_text = ip.find_line_magic("ue_call").__doc__
    assert "--df " in help_text and "The value is a pandas DataFrame of the list" in help_text
    assert "UsageEngineMagics.dataframe = True" in help_text and "explore" in help_text


def test_ctrl_c_during_all_pages_keeps_the_pages_so_far_as_a_frame(
    shell: Any, sandbox: Sandbox
) -> None:
    import os
    import signal
    import threading

    shell.user_ns["type_id"] = sandbox.seed_meters(250)
    sandbox.set_latency(0.4)  # each page takes a while: Ctrl-C lands during the second or third
    timer = threading.Timer(0.6, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with capture_output():
            result = shell.run_cell(
                f"{OF_TYPE.replace('GET', '%ue_call GET')}&limit=100 --all-pages --df -o so_far"
            )
    finally:
        timer.cancel()
        sandbox.set_latency(0)
    assert "the list is partial" in str(result.error_in_exec)
    kept, pages = shell.user_ns["so_far"], shell.user_ns["_ue"]
    assert isinstance(kept, pd.DataFrame) and 0 < len(kept) < 250
    assert kept["id"].tolist() == [m["id"] for m in pages.body["meters"]]
