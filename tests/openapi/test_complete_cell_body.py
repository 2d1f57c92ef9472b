"""Tab anywhere in a ``%%ue_call`` cell is ue-magic's: a header line offers header names (from the
description, or the common ones without it), and a header's value or a body offers nothing. It
used to hand those over to IPython's own completers, which offered Python's builtins (``abs``,
``print``) for ``X-`` and evaluated what was typed."""

from __future__ import annotations

import builtins
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.openapi.test_complete import context
from tests.openapi.test_complete_namespace import completions
from ue_magic.cells.openapi import complete

METERS = "/usage-metering/v1/meters"
NOTHING = [
    f"%%ue_call POST {METERS}\nX-",  # the magic line names the request: this is its JSON body
    f"%%ue_call POST {METERS}\n",
    f'%%ue_call POST {METERS}\n{{"userId": pri',
    f"%%ue_call\nGET {METERS}\n\nanything in the body",
    f'%%ue_call\nPOST {METERS}\n\n{{"a": ab',
    f"%%ue_call\nGET {METERS}\nX-Note: ab",  # a header's value
    f"%%ue_call\nGET {METERS}\nContent-Type: app",
]


@pytest.mark.parametrize("cell", NOTHING)
def test_a_body_or_a_header_value_offers_nothing(cell: str) -> None:
    found = complete(cell, len(cell), context("3.0"))
    assert found is not None and found.candidates == []  # ours: IPython's stay silent


@pytest.mark.parametrize("cell", NOTHING)
def test_ipython_offers_no_python_name_in_a_cell(ip: Any, cell: str) -> None:
    with capture_output():
        ip.run_line_magic("ue_login", "")  # UE_OPENAPI=off: no description
    offered = completions(ip, cell)
    assert [name for name in offered if hasattr(builtins, name) and name] == []
    assert len(offered) <= 1  # at most what is typed, which changes nothing


def test_a_header_line_offers_common_headers_without_a_description(ip: Any) -> None:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    assert completions(ip, f"%%ue_call\nPOST {METERS}\nIdem") == ["Idempotency-Key"]
    assert completions(ip, f"%%ue_call\nPOST {METERS}\nContent-Type: a\nAcc") == ["Accept"]
