"""Each %ue_call option is declared once (``CALL_OPTIONS``): the parser, the options object,
the checks, the help and the reference table all come from that declaration."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from ue_magic._constants import USE_CLIENT_DEFAULT
from ue_magic.cells.call import CallOptions
from ue_magic.cells.call_options import CALL_OPTIONS, reference
from ue_magic.errors import UsageEngineError
from ue_magic.ipython.magics import UsageEngineMagics

SETTINGS_ONLY = {"display_limit", "display_bytes", "expand_levels", "text_limit", "dataframe"}


def parser() -> Any:
    return UsageEngineMagics.ue_call.parser  # type: ignore[attr-defined]


def test_every_declared_option_is_a_field_and_every_field_an_option() -> None:
    fields = {f.name for f in dataclasses.fields(CallOptions)}
    assert {o.field for o in CALL_OPTIONS} == fields - SETTINGS_ONLY


def test_the_parser_and_the_help_come_from_the_declarations() -> None:
    flags = {flag for action in parser()._actions for flag in action.option_strings}
    assert flags == {flag for option in CALL_OPTIONS for flag in option.flags}
    help_text = UsageEngineMagics.ue_call.__doc__ or ""
    for option in CALL_OPTIONS:
        assert option.flags[-1] in help_text
        assert option.help.split("(")[0].split()[0] in help_text


def test_the_reference_table_lists_every_option() -> None:
    table = reference()
    assert all(f"`{option.flags[-1]}`" in table for option in CALL_OPTIONS)
    assert "(not with `--each`)" in table


def options(line: list[str]) -> CallOptions:
    settings = SimpleNamespace(
        timeout=30.0,
        max_bytes=1000,
        concurrency=4,
        display_limit=100,
        display_bytes=200_000,
        expand_levels=2,
        text_limit=10,
    )
    return CallOptions.from_args(parser().parse_args(["GET", "/x", *line]), settings)


def test_a_setting_fills_an_option_not_given() -> None:
    assert options([]).timeout == 30.0 and options(["--timeout", "2"]).timeout == 2.0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (["--each", "xs", "--dry-run"], "--each cannot be combined with --dry-run."),
        (["--each", "xs", "--curl", "--all-pages"], "--each cannot be combined with --curl or"),
        (["-o", "class"], "-o needs a Python variable name"),
        (["--retry", "99"], "--retry needs a count from 0 to"),
        (["--columns", "a,,b"], "--columns needs names separated by commas"),
    ],
)
def test_a_declared_check_refuses(line: list[str], message: str) -> None:
    with pytest.raises(UsageEngineError, match="^" + message.replace("(", r"\(")):
        options(line)


def test_the_client_default_is_a_named_object() -> None:
    assert repr(USE_CLIENT_DEFAULT) == "USE_CLIENT_DEFAULT"
