"""Two things a newcomer types from IPython habit: ``--help``/``-h`` on a magic (the same help
as ``%magic?``), and IPython's ``{name}``/``$name`` in a request (refused when the name is
defined, with the ``{{name}}`` that works; nothing is sent)."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"
MAGICS = ["ue_call", "ue_login", "ue_logout", "ue_status", "ue_api"]


def pinfo(ip: Any, magic: str) -> str:
    """What ``%magic?`` shows."""
    return str(ip.object_inspect_mime(f"%{magic}")["text/plain"])


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("magic", MAGICS)
def test_help_flags_show_the_help_of_magic_question_mark(
    shell: Any, sandbox: Sandbox, magic: str, flag: str
) -> None:
    with capture_output() as captured:
        shell.run_line_magic(magic, flag)
    shown = captured.stdout
    lines = [line.strip() for line in shown.splitlines() if line.strip()]
    assert lines and "did you mean" not in shown and "Unknown" not in shown
    expected = pinfo(shell, magic)
    assert all(line in expected for line in lines), (shown, expected)
    assert sandbox.counters()["api_requests"] == 0


@pytest.mark.parametrize("flag", ["--hel", "--help=1", "-hq", "GET /x -hq"])
@pytest.mark.parametrize("magic", MAGICS)
def test_a_help_flag_misspelt_or_joined_still_asks_for_help(
    shell: Any, sandbox: Sandbox, magic: str, flag: str
) -> None:
    with capture_output() as captured:
        shell.run_line_magic(magic, flag)
    shown = captured.stdout
    assert "did you mean" not in shown and "Unknown" not in shown
    assert shown.strip() and all(line in pinfo(shell, magic) for line in shown.splitlines())
    assert sandbox.counters()["api_requests"] == 0


def test_help_on_the_cell_magic_line_sends_nothing(shell: Any, sandbox: Sandbox) -> None:
    with capture_output() as captured:
        shell.run_cell_magic("ue_call", f"POST {METERS} --help", '{"a": 1}')
    assert "--each" in captured.stdout and sandbox.counters()["api_requests"] == 0


@pytest.mark.parametrize(
    ("line", "cell", "written"),
    [
        (f"GET {METERS}?meterTypeId={{meter_type_id}}", None, "{meter_type_id}"),
        (f"GET {METERS}?meterTypeId=$meter_type_id", None, "$meter_type_id"),
        (f"GET {METERS}/{{meter_type_id}}", None, "{meter_type_id}"),
        (f'GET {METERS} -H "X-Type: {{meter_type_id}}"', None, "{meter_type_id}"),
        (f"POST {METERS}", '{"meterTypeId": "{meter_type_id}"}', "{meter_type_id}"),
        ("", f"GET {METERS}\nX-Type: $meter_type_id\n", "$meter_type_id"),
    ],
)
def test_ipython_style_names_that_are_defined_are_refused(
    shell: Any, sandbox: Sandbox, line: str, cell: str | None, written: str
) -> None:
    shell.user_ns["meter_type_id"] = "mt-1"
    with pytest.raises(UsageError) as raised:
        if cell is None:
            shell.run_line_magic("ue_call", line)
        else:
            shell.run_cell_magic("ue_call", line, cell)
    message = str(raised.value)
    assert written in message and "{{meter_type_id}}" in message
    assert sandbox.counters()["api_requests"] == 0


@pytest.mark.parametrize(
    ("line", "cell", "written"),
    [
        ("DELETE /usage-metering/v1/meter-types/{id}", None, "{id}"),
        (f"GET {METERS}/{{meterId}}", None, "{meterId}"),
        (f"GET {METERS}/x-{{type}}?limit=1", None, "{type}"),  # inside a segment
        ("", "# copied\nDELETE /usage-metering/v1/meter-types/{id}\n", "{id}"),
    ],
)
def test_a_path_template_segment_with_no_such_variable_is_refused(
    shell: Any, sandbox: Sandbox, line: str, cell: str | None, written: str
) -> None:
    for name in ("id", "meterId", "type"):
        shell.user_ns.pop(name, None)
    with pytest.raises(UsageError) as raised:
        if cell is None:
            shell.run_line_magic("ue_call", line)
        else:
            shell.run_cell_magic("ue_call", line, cell)
    message = str(raised.value)
    name = written.strip("{}")
    assert f"{written} in the path" in message and f"{{{{{name}}}}}" in message
    assert "IPython's syntax" not in message
    assert sandbox.counters()["api_requests"] == 0


def test_a_query_template_with_no_such_variable_is_left_alone(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns.pop("mt", None)
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {METERS}?meterTypeId={{mt}} -q")
    assert shell.user_ns["_ue"].request.url.params["meterTypeId"] == "{mt}"


def test_the_refusal_points_at_the_line_and_column(shell: Any) -> None:
    shell.user_ns["user"] = "u-1"
    cell = f'POST {METERS}\nX-A: 1\n\n{{"meterTypeId": "t",\n "userId": "{{user}}"}}\n'
    with pytest.raises(UsageError) as raised:
        shell.run_cell_magic("ue_call", "", cell)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("Line 5, column 13: {user} is IPython's syntax")
    assert lines[1].strip() == '"userId": "{user}"}'
    assert lines[2].index("^") == lines[1].index("{user}")
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("ue_call", f'GET {METERS} -H "X-User: {{user}}"')
    lines = str(raised.value).splitlines()
    column = len(f'GET {METERS} -H "X-User: ') + 1
    assert lines[0].startswith(f"Magic line, column {column}: {{user}}")
    assert lines[2].index("^") == lines[1].index("{user}")


def test_double_braces_still_send_the_value(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["meter_type_id"] = "mt-1"
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {METERS}?meterTypeId={{{{meter_type_id}}}} -q")
    assert shell.user_ns["_ue"].request.url.params["meterTypeId"] == "mt-1"


def test_python_after_the_magic_line_is_named(shell: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("ue_call", f'GET {METERS}?userId=z1 -q -o z; len(z["meters"])')
    message = str(raised.value)
    assert "Unknown words on the magic line: len(z[" in message  # named, as the line splits them
    assert "takes no Python after it" in message
    assert sandbox.counters()["api_requests"] == 0


def test_python_right_after_a_flag_is_named(shell: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("ue_call", f"GET {METERS}?userId=z1 -q; print(_ue)")
    message = str(raised.value)
    # argparse up to 3.12 reads "-q;" as -q given the value ";" (said in our words); 3.13 as
    # unknown words, which the unknown-words message names
    assert "takes no Python after it" in message and "ignored explicit" not in message
    assert sandbox.counters()["api_requests"] == 0
