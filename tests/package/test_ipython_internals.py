"""The IPython internals that ue-magic reaches into, checked by name so an upgrade fails loudly.

``_history.py`` rewrites IPython's input history (memory, ``_i`` variables, the SQLite cache and
table) to take a secret back out; ``unload_ipython_extension`` takes the magics out of the
magics manager and asks whether a cell is running (IPython's display trap). None of that is
public API: when an IPython release renames one of them, these tests name the one that went,
rather than letting redaction or ``%reload_ext`` silently do the wrong thing.
"""

from __future__ import annotations

from typing import Any

import IPython
import pytest

from ue_magic.ipython._extension import in_a_cell
from ue_magic.ipython._history import REDACTED, redact_current_input

HISTORY_ATTRIBUTES = {
    "input_hist_raw": list,
    "input_hist_parsed": list,
    "db_input_cache": list,
    "session_number": int,
}


def gone(owner: str, name: str) -> str:
    return (
        f"IPython {IPython.__version__} has no {owner}.{name}, which ue-magic relies on; "
        "update ue_magic/ipython/_history.py or the extension unloading, and pin IPython until "
        "then."
    )


def test_history_manager_internals_exist(ip: Any) -> None:
    history = ip.history_manager
    for name, kind in HISTORY_ATTRIBUTES.items():
        assert isinstance(getattr(history, name, None), kind), gone("HistoryManager", name)
    for name in ("_i00", "_i", "_ii", "_iii"):
        assert hasattr(history, name), gone("HistoryManager", name)
    lock = getattr(history, "db_input_cache_lock", None)
    assert hasattr(lock, "__enter__"), gone("HistoryManager", "db_input_cache_lock")
    columns = {row[1] for row in history.db.execute("PRAGMA table_info(history)")}
    assert {"session", "line", "source", "source_raw"} <= columns, gone("history table", "columns")


def test_magics_manager_internals_exist(ip: Any) -> None:
    manager = ip.magics_manager
    assert "UsageEngineMagics" in getattr(manager, "registry", {}), gone(
        "MagicsManager", "registry"
    )
    assert {"line", "cell"} <= set(getattr(manager, "magics", {})), gone("MagicsManager", "magics")
    assert any(type(c).__name__ == "UsageEngineMagics" for c in ip.configurables), gone(
        "InteractiveShell", "configurables"
    )


def test_redaction_reaches_every_copy_ipython_keeps(ip: Any) -> None:
    marker = "redact-me-4711"
    ip.run_cell(f"%ue_status  # {marker}", store_history=True)
    history = ip.history_manager
    # as if the magic that is running now (the last input recorded) had found a secret
    ip.history_manager.store_inputs(len(history.input_hist_raw), f"%ue_login {marker}")
    redact_current_input(ip, "ue_login", marker)
    assert not any(marker in text for text in history.input_hist_raw)
    assert not any(marker in text for text in history.input_hist_parsed)
    assert not any(marker in str(v) for k, v in ip.user_ns.items() if k.startswith("_i"))
    assert all(marker not in src + raw for _, src, raw in history.db_input_cache)
    assert REDACTED in history.input_hist_raw


def test_unloading_takes_the_magics_away(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "ue_magic")
    try:
        assert "ue_call" not in ip.magics_manager.magics["cell"]
        assert "ue_login" not in ip.magics_manager.magics["line"]
        assert "UsageEngineMagics" not in ip.magics_manager.registry
    finally:
        ip.run_line_magic("load_ext", "ue_magic")


@pytest.mark.parametrize("silent", [False, True])
def test_in_a_cell_is_true_exactly_while_a_cell_runs(ip: Any, silent: bool) -> None:
    # %reload_ext keeps the logins only if an unload can tell a cell (the reload follows) from
    # code outside any cell: IPython's display trap, which ``in_a_cell`` reads
    ip.user_ns["in_a_cell"] = in_a_cell
    assert not in_a_cell(ip)
    nested = "get_ipython().run_cell('seen.append(in_a_cell(get_ipython()))', silent=True)"
    assert ip.run_cell(f"seen = [in_a_cell(get_ipython())]\n{nested}\n", silent=silent).success
    assert ip.run_cell("seen.append(in_a_cell(get_ipython()))", silent=silent).success
    assert ip.user_ns["seen"] == [True, True, True]
    assert not in_a_cell(ip)
