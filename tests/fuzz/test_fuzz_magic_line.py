"""The magic lines of %ue_call and %ue_login as IPython hands them over, parsed (nothing is
sent): only ue-magic's errors (as IPython's UsageError) come out, within the time budget, and
%ue_login never echoes a word of its line (one might be a secret)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from IPython.core.error import UsageError

from tests.fuzz.strategies import SECRET, pieces
from ue_magic.cells import call
from ue_magic.errors import UsageEngineError


def magics(ip: Any) -> Any:
    return ip.magics_manager.registry["UsageEngineMagics"]


@given(line=pieces)
def test_any_ue_call_line(ip: Any, line: str) -> None:
    ue = magics(ip)
    try:
        args = ue._call_args(line)
        ue._call_template(line, tuple(args.request_line), None, tuple(args.header))
        call.options_for(args, ue)
    except (UsageError, UsageEngineError):
        pass


@given(line=pieces)
def test_any_ue_login_line_never_echoes_the_secret(ip: Any, line: str) -> None:
    ue = magics(ip)
    try:
        ue._parse(ue.ue_login, line)
    except UsageError as error:
        assert SECRET not in str(error), str(error)
