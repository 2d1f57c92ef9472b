"""Work a description's size drives, kept linear or done once (issue 22): scopes named by the
root's ``security`` are gathered once for every operation, and without comparing each with
each. The time bounds only guard against a hang."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ue_magic.cells.openapi import load_description

HANG = 10.0  # seconds
pytestmark = pytest.mark.timeout(120)


def spec(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}


def test_scopes_are_gathered_once_in_order_without_repeats() -> None:
    security = [{"oauth": ["a", "b", "a"]}, {"key": ["c", "b"]}]
    paths = {f"/p{i}": {"get": {"responses": {}}} for i in range(3)}
    paths["/own"] = {"get": {"security": [{"oauth": ["z", "z"]}]}}
    operations = load_description(spec(paths, security=security)).operations
    assert [op.scopes for op in operations] == [("a", "b", "c")] * 3 + [("z",)]
    # the root's requirements, shared by every operation without its own, are read once
    assert operations[0].scopes is operations[1].scopes is operations[2].scopes


def test_many_scopes_are_deduplicated_in_linear_time() -> None:
    # 60,000 scopes compared each with each took 20 s an operation (20,000: 2.2 s)
    scopes = [f"scope{i}" for i in range(60_000)]
    paths = {"/a": {"get": {"security": [{"oauth": scopes + scopes[:10]}]}}}
    started = time.monotonic()
    (operation,) = load_description(spec(paths)).operations
    assert time.monotonic() - started < HANG
    assert operation.scopes == tuple(scopes)
