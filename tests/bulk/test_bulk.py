"""--each: bulk calls against the sandbox, through a real shell and through the module."""

from __future__ import annotations

import io
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.bulk.conftest import METERS, TEMPLATE, run_each
from tests.bulk.helpers import assert_counts
from tests.conftest import shown_widget
from ue_magic.cells.bulk import BulkResult
from ue_magic.cells.progress import TextProgress
from ue_magic.sandbox import Sandbox


def test_500_items_in_order_with_one_token(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["users"] = [f"user-{n}" for n in range(500)]
    captured = run_each(shell, f"--each users --concurrency 8 -o out POST {METERS}")
    out = shell.user_ns["out"]
    assert [m["userId"] for m in out] == shell.user_ns["users"]
    assert len({m["id"] for m in out}) == 500
    counters = sandbox.counters()
    assert counters["by_route"][f"POST {METERS}"] == 500
    assert counters["token_requests"] == 0  # the login's token served all 500
    result = shell.user_ns["_ue"]
    assert isinstance(result, BulkResult)
    assert len(result.ok) == 500 and result.failed == [] and result.not_sent == []
    assert result.responses == {}  # ok answers are not kept: their bodies are in -o
    assert_counts(result)
    assert "500 items: 500 sent, 500 ok" in captured.stdout + str(captured.outputs[-1].data)


def test_failures_are_tabled_and_others_succeed(shell: Any, sandbox: Sandbox) -> None:
    users = [f"user-{n}" for n in range(40)]
    users[7] = ""  # the sandbox refuses an empty userId
    users[30] = ""
    shell.user_ns["users"] = users
    sandbox.inject("api", status=500, count=2, path_prefix=METERS)
    with capture_output() as captured, pytest.raises(UsageError, match="4 of 40"):
        shell.run_cell_magic(
            "ue_call", f"--each users --concurrency 4 -o out POST {METERS}", TEMPLATE
        )
    result = shell.user_ns["_ue"]
    statuses = {f.index: f.status for f in result.failed}
    assert statuses[7] == 400 and statuses[30] == 400
    assert sorted(statuses.values()).count(500) == 2
    assert len(result.ok) == 36
    out = result.results  # the run raised: -o kept its value
    assert len(out) == 40
    assert all(out[i]["userId"] == users[i] for i in result.ok)
    assert all(isinstance(out[f.index], Exception) for f in result.failed)
    assert out[7].response.status_code == 400 and out[7].response is result.responses[7]
    assert [f.item for f in result.failed if f.status == 400] == ["", ""]
    html = captured.outputs[-1].data["text/html"]
    assert "<table" in html
    assert "<td>400</td><td>2</td>" in html and "<td>500</td><td>2</td>" in html
    assert html.count("from POST") == 0  # the status and the message once, not per row
    assert sandbox.counters()["by_route"][f"POST {METERS}"] == 40
    assert_counts(result)


def test_no_raise_keeps_going(shell: Any) -> None:
    shell.user_ns["users"] = ["a", ""]
    run_each(shell, f"--each users --no-raise -q POST {METERS}")
    assert len(shell.user_ns["_ue"].failed) == 1


def test_bad_item_is_caught_before_sending(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["rows"] = [{"user": "a"}, {"nobody": "b"}]
    cell = '{"userId": "{{item.user}}", "meterKey": "k", "meterTypeId": "{{type_id}}"}'
    with pytest.raises(UsageError, match="Item 1"):
        run_each(shell, f"--each rows POST {METERS}", cell)
    assert sandbox.counters()["api_requests"] == 0


def test_unknown_each_variable(shell: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match="nothing_here"):
        run_each(shell, f"--each nothing_here POST {METERS}")
    assert sandbox.counters()["api_requests"] == 0


def test_dataframe_rows_and_generators(shell: Any, sandbox: Sandbox) -> None:
    pandas = pytest.importorskip("pandas")
    shell.user_ns["frame"] = pandas.DataFrame({"user": ["x", "y"], "key": ["k1", "k2"]})
    cell = (
        '{"userId": "{{item.user}}", "meterKey": "{{item["key"]}}", "meterTypeId": "{{type_id}}"}'
    )
    run_each(shell, f"--each frame -o out -q POST {METERS}", cell)
    assert [(m["userId"], m["meterKey"]) for m in shell.user_ns["out"]] == [
        ("x", "k1"),
        ("y", "k2"),
    ]
    shell.run_cell("gen = (f'g{n}' for n in range(3))")
    run_each(shell, f"--each gen -o out -q POST {METERS}")
    assert [m["userId"] for m in shell.user_ns["out"]] == ["g0", "g1", "g2"]


def test_interrupt_reports_what_was_sent(
    shell: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = TextProgress.update
    raised: list[int] = []

    def interrupt_after_50(self: TextProgress, done: int, failed: int, force: bool = False) -> None:
        original(self, done, failed, force)
        if done >= 50 and not raised:
            raised.append(done)
            raise KeyboardInterrupt

    monkeypatch.setattr(TextProgress, "update", interrupt_after_50)
    shell.user_ns["users"] = [f"u{n}" for n in range(300)]
    with pytest.raises(UsageError, match="Interrupted"):
        run_each(shell, f"--each users --concurrency 4 -o out POST {METERS}")
    result = shell.user_ns["_ue"]
    assert result.interrupted
    sent = result.sent
    assert 50 <= sent < 300
    assert_counts(result)
    assert sent + len(result.not_sent) == 300 and result.failed == []
    last_sent = max(result.ok)
    assert result.not_sent[-(300 - last_sent - 1) :] == list(range(last_sent + 1, 300))
    assert sandbox.counters()["by_route"][f"POST {METERS}"] == sent  # sent means written
    assert "out" not in shell.user_ns  # the run raised: -o is as it was, _ue_bulk has the results
    out = result.results
    assert all((out[i] is None) == (i in set(result.not_sent)) for i in range(300))
    assert result.pending == [shell.user_ns["users"][i] for i in result.not_sent]


def test_text_progress_draws_a_bar() -> None:
    stream = io.StringIO()
    ticks = iter(range(100))
    progress = TextProgress(10, stream=stream, interval=0, clock=lambda: float(next(ticks)))
    progress.update(5, 1)
    progress.finish(10, 1, interrupted=False)
    text = stream.getvalue()
    assert "5/10 done, 1 failed" in text and "10/10 done" in text and "#" * 30 in text


def test_widget_progress_in_a_notebook(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    shell.user_ns["users"] = [f"w{n}" for n in range(20)]
    quiet = run_each(shell, f"--each users -q POST {METERS}")
    assert quiet.outputs == [] and quiet.stdout == ""  # -q: no bar either
    shell.user_ns["users"] = [f"v{n}" for n in range(20)]
    captured = run_each(shell, f"--each users POST {METERS}")
    views = [o for o in captured.outputs if "application/vnd.jupyter.widget-view+json" in o.data]
    shown = [o for o in views if not o.update]
    assert len(shown) == 1
    final = [o for o in views if o.update]  # the final state as text, for static exports
    assert [o.transient for o in final] == [shown[0].transient]
    assert final[0].data["text/plain"].startswith("20/20 done, 0 failed")
    box = shown_widget(shown[0])
    bar = box.children[0]
    assert bar.value == 20 and bar.max == 20 and bar.bar_style == "success"


def test_all_pages(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_id"] = sandbox.seed_meters(250)
    with capture_output():
        shell.run_line_magic(
            "ue_call", f"GET {METERS}?meterTypeId={{{{type_id}}}}&limit=100 --all-pages -o all -q"
        )
    assert len(shell.user_ns["all"]["meters"]) == 250
    assert len({m["id"] for m in shell.user_ns["all"]["meters"]}) == 250
    assert sandbox.counters()["by_route"][f"GET {METERS}"] == 3


def test_an_unexpected_error_is_one_failure_not_a_lost_report(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ue_magic import UsageEngineClient

    real_send = UsageEngineClient.send

    def flaky(self: Any, request: Any, **kwargs: Any) -> Any:
        if b'"u3"' in request.content:
            raise RuntimeError("boom")
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(UsageEngineClient, "send", flaky)
    shell.user_ns["users"] = [f"u{n}" for n in range(6)]
    with pytest.raises(UsageError, match="1 of 6"):
        run_each(shell, f"--each users -o out POST {METERS}")
    result = shell.user_ns["_ue"]
    assert [f.index for f in result.failed] == [3] and "boom" in result.failed[0].message
    assert result.results[3].__traceback__ is None
    assert len(result.ok) == 5
    assert_counts(result)


@pytest.mark.parametrize("quiet", ["", "-q "])
@pytest.mark.parametrize(
    ("make", "said"),
    [
        ("(u for u in ['a', 'b'])", "the iterator gave no items (an iterator or generator can be"),
        ("[]", "--each users: users is empty; nothing was sent."),
    ],
    ids=["read generator", "empty list"],
)
def test_an_each_over_nothing_says_so(
    shell: Any, sandbox: Sandbox, make: str, said: str, quiet: str
) -> None:
    shell.run_cell(f"users = {make}\n_ = list(users)")  # a generator read once already
    captured = run_each(shell, f"--each users {quiet}-o out POST {METERS}")
    assert said in " ".join(captured.stdout.split())
    assert (
        shell.user_ns["out"] == [] and sandbox.counters()["by_route"].get(f"POST {METERS}", 0) == 0
    )
