"""IPython's ``{expr}`` and ``$name...`` forms that start with a notebook variable
(``{row['id']}``, ``{ids[0]}``, ``{obj.id}``, ``$row['id']``): IPython would evaluate them, so
``%ue_call`` refuses them before sending, with the ``{{...}}`` that holds the same expression where
the placeholder grammar takes it, else a variable to compute first. Text that only looks alike is
sent."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"
JSON_CELL = '{"userId": "u", "meterKey": "k", "meterTypeId": "%s"}'


@pytest.fixture
def variables(shell: Any) -> Any:
    shell.user_ns.update(
        row={"id": "mt-1"},
        ids=["mt-1"],
        obj=SimpleNamespace(id="mt-1"),
        m2={"id": "m-2"},
        price=5,
    )
    return shell


def refusal(shell: Any, line: str, cell: str | None = None) -> str:
    with pytest.raises(UsageError) as raised:
        if cell is None:
            shell.run_line_magic("ue_call", line)
        else:
            shell.run_cell_magic("ue_call", line, cell)
    return str(raised.value)


@pytest.mark.parametrize(
    ("line", "cell", "written", "instead"),
    [
        (f"GET {METERS}?meterTypeId={{row['id']}}", None, "{row['id']}", "{{row['id']}}"),
        (f"GET {METERS}?meterTypeId={{ids[0]}}", None, "{ids[0]}", "{{ids[0]}}"),
        (f"GET {METERS}?meterTypeId={{obj.id}}", None, "{obj.id}", "{{obj.id}}"),
        (f'DELETE {METERS}/{{m2["id"]}}', None, '{m2["id"]}', '{{m2["id"]}}'),
        (f"GET {METERS}/{{obj.id}}", None, "{obj.id}", "{{obj.id}}"),
        (f"GET {METERS}?meterTypeId=$row['id']", None, "$row['id']", "{{row['id']}}"),
        (f"GET {METERS}?meterTypeId=$obj.id", None, "$obj.id", "{{obj.id}}"),
        (f'GET {METERS} -H "X-Id: {{ids[0]}}"', None, "{ids[0]}", "{{ids[0]}}"),
        (f"POST {METERS}", JSON_CELL % "{row['id']}", "{row['id']}", "{{row['id']}}"),
        (f"POST {METERS}", JSON_CELL % "{ids[0]}", "{ids[0]}", "{{ids[0]}}"),
        (f'POST {METERS} -H "Content-Type: text/plain"', "id {obj.id}", "{obj.id}", "{{obj.id}}"),
        ("", f"GET {METERS}?meterTypeId={{row['id']}}\n", "{row['id']}", "{{row['id']}}"),
        ("", f"GET {METERS}\nX-Id: $row['id']\n", "$row['id']", "{{row['id']}}"),
    ],
)
def test_an_expression_on_a_defined_name_is_refused_with_the_placeholder_that_holds_it(
    variables: Any, sandbox: Sandbox, line: str, cell: str | None, written: str, instead: str
) -> None:
    message = refusal(variables, line, cell)
    first = message.splitlines()[0]
    assert f"{written} is IPython's syntax" in first and f"write {instead}" in first
    assert "{{row}}" not in first  # the whole dict is not what was meant
    assert sandbox.counters()["api_requests"] == 0


def test_the_hinted_placeholder_sends_the_value(variables: Any, sandbox: Sandbox) -> None:
    message = refusal(variables, f"GET {METERS}?meterTypeId=$row['id']")
    assert "write {{row['id']}}" in message
    with capture_output():
        variables.run_line_magic("ue_call", f"GET {METERS}?meterTypeId={{{{row['id']}}}} -q")
    assert variables.user_ns["_ue"].request.url.params["meterTypeId"] == "mt-1"


@pytest.mark.parametrize(
    ("written", "computed"),
    [
        ("{price+1}", "(value = price+1)"),
        ("{str(price)}", "(value = str(price))"),
        ("{price:>5}", ""),
        ("{price!r}", ""),
    ],
)
def test_an_expression_placeholders_cannot_hold_hints_a_variable(
    variables: Any, sandbox: Sandbox, written: str, computed: str
) -> None:
    message = refusal(variables, f"POST {METERS}", JSON_CELL % written).splitlines()[0]
    assert f"{written} is IPython's syntax" in message
    assert f"compute the value in a Python cell first {computed}".strip() in message
    assert "write {{value}}" in message and "{{price" not in message
    assert sandbox.counters()["api_requests"] == 0


def test_an_expression_in_an_http_file_is_refused(
    variables: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "requests.http"
    path.write_text(
        f"### one\nPOST {METERS}\nContent-Type: application/json\n\n"
        + JSON_CELL % "{obj.id}"
        + "\n",
        encoding="utf-8",
    )
    message = refusal(variables, f"--file {path} --name one")
    assert "{obj.id} is IPython's syntax" in message and "write {{obj.id}}" in message
    assert sandbox.counters()["api_requests"] == 0


@pytest.mark.parametrize(
    ("line", "cell", "param"),
    [
        (f"GET {METERS}?meterTypeId={{nope.id}}", None, "{nope.id}"),  # not a variable
        (f"GET {METERS}?meterTypeId={{id}}", None, "{id}"),  # a query template, no variable
        (f"GET {METERS}?meterTypeId=$5.00", None, "$5.00"),
        (f"GET {METERS}?meterTypeId=${{nope.x}}", None, "${nope.x}"),
        (f"GET {METERS}?meterTypeId={{{{ids[0]}}}}", None, "mt-1"),
    ],
)
def test_text_that_only_looks_alike_is_sent(
    variables: Any, line: str, cell: str | None, param: str
) -> None:
    variables.user_ns.pop("nope", None)
    variables.user_ns.pop("id", None)
    with capture_output():
        variables.run_line_magic("ue_call", f"{line} -q")
    assert variables.user_ns["_ue"].request.url.params["meterTypeId"] == param


def test_json_braces_and_a_dollar_in_a_body_are_sent(variables: Any) -> None:
    body = '{"userId": "u $5 {2}", "meterKey": "k", "meterTypeId": "{{row.id}}", "x": {"y": [{}]}}'
    with capture_output():
        variables.run_cell_magic("ue_call", f"POST {METERS} --no-raise -q", body)
    sent = json.loads(variables.user_ns["_ue"].request.content)
    assert sent["userId"] == "u $5 {2}" and sent["meterTypeId"] == "mt-1"
    assert sent["x"] == {"y": [{}]}
