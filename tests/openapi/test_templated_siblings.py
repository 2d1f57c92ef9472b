"""Many templated siblings in one path segment (issue 22, second attack): a 24 MB description of
480,000 paths ``/{aI}s{b}g{c}m{d}t{e}r{f}Q{g}`` made every Tab take seconds and a call to a
path it lacks over 7 s, each typed segment compared with every sibling. Siblings of one shape
are compared once, shapes are found by their leading literal text, and past a budget matching
gives up with one warning (Tab: nothing). And the first call waits for a loading description
at most ``openapi_timeout`` and a second from the load's start."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import (  # noqa: F401  slow_load: a fixture
    HANG,
    doc,
    login_with,
    slow_load,
    within,
)
from tests.openapi.test_magics_api import completions
from ue_magic.cells.openapi import CompletionContext, complete, load_description
from ue_magic.cells.openapi._index import MATCH_BUDGET, SegmentMatcher, TooManyTemplates
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)

GET = {"get": {"responses": {}}}
TYPES = "/usage-metering/v1/meter-types"


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The typed segments compared with a templated segment, one per comparison."""
    seen: list[str] = []
    real = SegmentMatcher.fullmatch

    def counted(self: SegmentMatcher, typed: str) -> bool:
        seen.append(typed)
        return real(self, typed)

    monkeypatch.setattr(SegmentMatcher, "fullmatch", counted)
    yield seen


def same_shape_siblings(n: int) -> dict[str, Any]:
    paths = {f"/{{a{i}}}s{{b}}g{{c}}m{{d}}t{{e}}r{{f}}Q{{g}}": GET for i in range(n)}
    return doc(paths | {f"{TYPES}/{{id}}": GET})


def test_siblings_of_one_shape_are_compared_once(compared: list[str]) -> None:
    description = load_description(same_shape_siblings(20_000))
    index = description.index
    assert index.match("GET", f"{TYPES}/x").path == f"{TYPES}/{{id}}"
    assert index.match("GET", "/xsygzmwtvruQq").path == "/{a0}s{b}g{c}m{d}t{e}r{f}Q{g}"
    assert index.match("GET", "/usage-metering/v1/nothing") is None
    assert len(compared) <= 4  # one shape at the root, per path


def test_shapes_are_found_by_their_leading_text(compared: list[str]) -> None:
    description = load_description(doc({f"/p{i}-{{x}}": GET for i in range(5_000)}))
    index = description.index
    assert index.match("GET", "/p4321-abc").path == "/p4321-{x}"
    assert index.match("GET", "/usage-metering") is None
    assert compared == ["p4321-abc"]  # the one shape whose leading text starts it
    assert index.match("GET", "/p4-x").path == "/p4-{x}"


def test_a_tab_among_many_siblings_compares_a_few_shapes(compared: list[str]) -> None:
    description = load_description(same_shape_siblings(20_000))
    description.index  # noqa: B018  built with the load
    context = CompletionContext(describe=lambda profile: description)

    def tab(text: str) -> list[str]:
        found = within(HANG / 10, lambda: complete(text, len(text), context))
        return [c.text for c in found.candidates] if found else []

    assert tab(f"%ue_call GET {TYPES}/") == ["{id}"]
    assert tab("%ue_call GET /0b9c2a44-1c4e-4d3a-9a8b-7f1e2d3c4b5a/") == []
    assert len(compared) <= 8


def distinct_shapes(n: int) -> dict[str, Any]:
    """``n`` templated siblings of different shapes, none with a leading literal text."""
    return doc({f"/{{x}}-{i}": GET for i in range(n)} | {f"{TYPES}/{{id}}": GET})


def test_past_the_budget_matching_gives_up() -> None:
    index = load_description(distinct_shapes(MATCH_BUDGET + 1)).index
    with pytest.raises(TooManyTemplates, match=f"over {MATCH_BUDGET:,} templated"):
        index.match("GET", f"{TYPES}/x")


def test_past_the_budget_a_call_goes_out_unchecked_with_one_warning(
    ip: Any, tmp_path: Path, sandbox: Sandbox
) -> None:
    source = login_with(ip, tmp_path, distinct_shapes(MATCH_BUDGET + 1))
    with capture_output() as captured:
        for _ in range(2):
            within(HANG, lambda: ip.run_line_magic("ue_call", f"GET {TYPES}/x -q --no-raise"))
    assert captured.stderr.count("API description") == 1
    assert str(source) in captured.stderr and "templated path segments" in captured.stderr
    assert "sent unchecked" in captured.stderr
    assert sandbox.counters()["by_route"] == {f"GET {TYPES}/x": 2}


def test_past_the_budget_a_tab_offers_nothing(ip: Any, tmp_path: Path) -> None:
    login_with(ip, tmp_path, distinct_shapes(MATCH_BUDGET + 1))
    with capture_output() as captured:
        assert "{id}" not in within(HANG, lambda: completions(ip, f"%ue_call GET {TYPES}/"))
    assert captured.stderr == ""


def test_past_the_budget_ue_api_says_why(ip: Any, tmp_path: Path) -> None:
    source = login_with(ip, tmp_path, distinct_shapes(MATCH_BUDGET + 1))
    with pytest.raises(Exception, match="templated path segments") as raised:
        ip.run_line_magic("ue_api", f"GET {TYPES}/x")
    assert str(source) in str(raised.value)


@pytest.mark.usefixtures("slow_load")
def test_a_late_first_call_waits_only_what_is_left_of_the_load_s_time(
    ip: Any, tmp_path: Path
) -> None:
    """A call counts its wait from the load's start (at login): a cell that comes late, or that
    first waits for the interpreter while the load holds it, does not wait the whole time
    again (a 24 MB description's first cell waited 6.9 to 8.9 s)."""
    ip.run_line_magic("config", "UsageEngineMagics.openapi_timeout = 2.0")
    login_with(ip, tmp_path, json.dumps(doc({f"{TYPES}/{{id}}": GET})))
    time.sleep(3.1)  # the load's 2 s and the second's grace are over
    with capture_output() as captured:
        within(1.5, lambda: ip.run_line_magic("ue_call", f"GET {TYPES}/x --dry-run"))
    assert "takes over 2 s; going on without it" in captured.stderr
