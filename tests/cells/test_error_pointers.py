"""Errors that point at the mistake: the unknown option named with the closest one, the magic
line quoted whole with the caret under the right column, the nearest defined name suggested.
Each one sends nothing."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"


def refused(shell: Any, sandbox: Sandbox, line: str, cell: str | None = None) -> str:
    """The UsageError's text; nothing reached the API."""
    with pytest.raises(UsageError) as info:
        if cell is None:
            shell.run_line_magic("ue_call", line)
        else:
            shell.run_cell_magic("ue_call", line, cell)
    assert sandbox.counters()["api_requests"] == 0
    assert type(info.value) is UsageError
    return str(info.value)


def caret_column(message: str) -> tuple[str, int]:
    """The quoted line and the 1-based column the caret is under."""
    quoted, caret = message.splitlines()[1:3]
    assert caret.startswith("    ") and quoted.startswith("    ")
    return quoted[4:], caret.index("^") - 3


@pytest.mark.parametrize(
    ("line", "typed", "meant"),
    [
        (f"GET {METERS} --tabel", "--tabel", "--table"),
        (f"GET {METERS} --colums id", "--colums", "--columns"),
        (f"--prfile x GET {METERS}", "--prfile", "--profile"),
        (f"GET {METERS} --dryrun", "--dryrun", "--dry-run"),
        (f"GET {METERS} --allpages", "--allpages", "--all-pages"),
    ],
)
def test_unknown_option_is_named_with_the_closest(
    shell: Any, sandbox: Sandbox, line: str, typed: str, meant: str
) -> None:
    message = refused(shell, sandbox, line)
    assert f"Unknown option {typed}; did you mean {meant}?" in message
    assert "%ue_call?" in message


def test_unknown_option_far_from_any_says_where_the_options_are(
    shell: Any, sandbox: Sandbox
) -> None:
    message = refused(shell, sandbox, f"GET {METERS} --zzzzzz")
    assert message == "Unknown option --zzzzzz; see %ue_call? for the options."


def test_unknown_method_quotes_the_whole_line_and_points_at_the_method(
    shell: Any, sandbox: Sandbox
) -> None:
    line = f"GTE {METERS}"
    message = refused(shell, sandbox, line)
    assert message.startswith("Magic line, column 1: unknown method 'GTE'; did you mean GET?")
    assert caret_column(message) == (line, 1)


@pytest.mark.parametrize(
    ("line", "word"),
    [
        (f"-q GET {METERS}/{{{{api_call.id}}}}", "{{api_call.id}}"),
        (f"--timeout 5 GET {METERS}/{{{{api_call.id}}}}", "{{api_call.id}}"),
        (f'-H "X-Trace: {{{{api_call.id}}}}" GET {METERS}', "{{api_call.id}}"),
        (f"-o out GTE {METERS}", "GTE"),
    ],
)
def test_columns_count_from_the_start_of_the_magic_line(
    shell: Any, sandbox: Sandbox, line: str, word: str
) -> None:
    shell.user_ns["api_calls"] = {"id": "mt-1"}
    message = refused(shell, sandbox, line)
    column = line.index(word) + 1
    assert message.startswith(f"Magic line, column {column}:")
    assert caret_column(message) == (line, column)


def test_unknown_name_suggests_the_closest_defined_name(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["api_calls"] = {"id": "mt-1"}
    message = refused(shell, sandbox, f"GET {METERS}/{{{{api_call.id}}}}")
    assert "'api_call' is not defined; did you mean 'api_calls'?" in message
    assert "`" not in message  # no Markdown in a plain-text message


def test_unknown_name_with_nothing_close_says_what_to_do(shell: Any, sandbox: Sandbox) -> None:
    message = refused(shell, sandbox, f"GET {METERS}/{{{{qqqqq}}}}")
    assert "'qqqqq' is not defined; run the cell that sets it, or fix the name." in message


def test_functions_are_not_suggested_as_values(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["nopf"] = len  # close to "nope", but a function
    message = refused(shell, sandbox, f"GET {METERS}/{{{{nope}}}}")
    assert "did you mean" not in message  # neither open() nor a function


def test_each_item_typo_suggests_item(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["users"] = ["u1", "u2"]
    message = refused(shell, sandbox, f"--each users GET {METERS}/{{{{itm}}}}")
    assert "'itm' is not defined; did you mean 'item'?" in message


def test_each_item_typo_in_the_cell(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["users"] = ["u1"]
    message = refused(shell, sandbox, f"--each users POST {METERS}", '{"userId": "{{itme}}"}')
    assert "Line 1, column 13: 'itme' is not defined; did you mean 'item'?" in message


def test_a_mistyped_key_suggests_the_closest_key(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["api_calls"] = {"id": "mt-1", "name": "x"}
    message = refused(shell, sandbox, f"GET {METERS}/{{{{api_calls.idd}}}}")
    assert "a dict has no key or attribute 'idd'; did you mean 'id'?" in message
    assert "?." not in message


@pytest.mark.parametrize(
    ("line", "cell"),
    [
        (f'GET {METERS} -H "Authorization: Bearer tok-SECRET-123"', None),
        ("", f"GET {METERS}\nAuthorization: Bearer tok-SECRET-123\n"),
    ],
)
def test_a_refused_authorization_header_is_pointed_at_but_never_quoted(
    shell: Any, sandbox: Sandbox, line: str, cell: str | None
) -> None:
    message = refused(shell, sandbox, line, cell)
    assert "leave out the Authorization header" in message
    assert "tok-SECRET" not in message and "Bearer" not in message
