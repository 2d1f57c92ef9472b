"""Completing ``{{`` names through IPython: no user code runs (properties, ``__dir__``,
``__iter__``), nothing raises, and IPython's own completers are not asked in our place (they
evaluate what is typed)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.utils.capture import capture_output


def completions(ip: Any, text: str) -> list[str]:
    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


class Traps:
    """Every way a value could run code when looked at."""

    ran: ClassVar[list[str]] = []

    @property
    def prop(self) -> int:
        Traps.ran.append("property")
        return 1

    def method(self) -> int:
        Traps.ran.append("method")
        return 1

    def __dir__(self) -> list[str]:
        Traps.ran.append("__dir__")
        raise RuntimeError("__dir__ ran")


class LoudDict(dict):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        Traps.ran.append("__iter__")
        raise RuntimeError("__iter__ ran")


def test_no_user_code_runs_and_nothing_is_shown(ip: Any) -> None:
    Traps.ran.clear()
    ip.user_ns.update(trap=Traps(), loud=LoudDict(region="eu"), rows=[{"id": "a"}])
    with capture_output() as captured:
        after_property = completions(ip, "%ue_call GET /x/{{trap.prop.")
        attributes = completions(ip, "%ue_call GET /x/{{trap.")
        keys = completions(ip, "%ue_call GET /x/{{loud.")
        nothing = completions(ip, '%%ue_call POST /x\n{"a": "{{nothing_here.')
    assert Traps.ran == []
    assert captured.stdout == "" and captured.stderr == ""
    # not IPython's guesses (int's methods...): at most what is typed, which changes nothing
    assert after_property in ([], [""]) and nothing in ([], [""])
    assert "prop" in attributes
    assert keys == ["region"]


def test_each_over_a_data_frame_completes_its_columns(ip: Any) -> None:
    # README: --each takes a DataFrame, whose rows become dicts; {{item. completes from them
    pd = pytest.importorskip("pandas")
    ip.user_ns["frame"] = pd.DataFrame({"user": ["a"], "meter_key": ["k"]})
    cell = '%%ue_call --each frame POST /x\n{"userId": "{{item.'
    assert completions(ip, cell) == ["user", "meter_key"]  # in column order
    assert completions(ip, cell + "us") == ["user"]


class DataFrame:
    """Not pandas': its columns property is user code, and must not run."""

    ran = False

    @property
    def columns(self) -> list[str]:
        DataFrame.ran = True
        return ["x"]


def test_a_data_frame_of_another_kind_is_not_looked_into(ip: Any) -> None:
    ip.user_ns["frame"] = DataFrame()
    assert completions(ip, '%%ue_call --each frame POST /x\n{"a": "{{item.') in ([], [""])
    assert DataFrame.ran is False


def test_methods_are_not_offered(ip: Any) -> None:
    # a placeholder calls nothing: {{item.upper}} would send "<built-in method upper ...>"
    Traps.ran.clear()
    ip.user_ns.update(trap=Traps(), word="abc")
    attributes = completions(ip, "%ue_call GET /x/{{trap.")
    assert "prop" in attributes and "method" not in attributes
    assert Traps.ran == []
    assert completions(ip, "%ue_call GET /x/{{word.") in ([], [""])
    assert completions(ip, "%ue_call GET /x/{{word.up") in ([], [""])


def test_a_magic_line_with_nothing_to_offer_offers_nothing(ip: Any) -> None:
    assert completions(ip, "%ue_call --profile ") in ([], [""])  # no files, keywords, magics
    assert completions(ip, "%ue_call GET /x -H x-") in ([], [""])  # no Python builtins


def test_a_tab_into_a_huge_dict_reads_a_bounded_number_of_keys(ip: Any) -> None:
    # 2,000,000 keys took 4 s a Tab (every key's isidentifier); the keys looked at are bounded:
    # the first MAX_KEYS only (keys are exact str, so no key's own code can count them)
    from ue_magic.cells.openapi._complete import MAX_KEYS

    huge = {"zz_early": 0, **{f"k{i}": i for i in range(MAX_KEYS * 3)}, "zz_late": 0}
    ip.user_ns["m"] = huge
    assert completions(ip, "%ue_call GET /x?a={{m.zz") == ["zz_early"]
    offered = completions(ip, "%ue_call GET /x?a={{m.k1")
    assert "k1" in offered and "k10" in offered


def test_a_tab_on_a_query_value_reads_a_bounded_number_of_enum_values() -> None:
    # each Tab turned every enum value into text: 1,000,000 values took 12-18 s a Tab
    from ue_magic.cells.openapi import CompletionContext, complete, load_description
    from ue_magic.cells.openapi._complete import MAX_KEYS

    class Counted(str):
        looked = 0

        def startswith(self, *args: Any) -> bool:  # type: ignore[override]
            Counted.looked += 1
            return super().startswith(*args)

        def __str__(self) -> str:
            Counted.looked += 1
            return str.__str__(self)

    values: list[Any] = [Counted(f"v{i}") for i in range(MAX_KEYS * 3)]
    values.insert(0, {f"k{i}": "x" * 500 for i in range(1_000)})  # a big object: skipped
    param = {"name": "sort", "in": "query", "schema": {"enum": values}}
    description = load_description(
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/x": {"get": {"parameters": [param], "responses": {"200": {}}}}},
        }
    )
    context = CompletionContext(describe=lambda profile: description)
    typed = "%ue_call GET /x?sort=v1"
    found = complete(typed, len(typed), context)
    assert found is not None and "v1" in [c.text for c in found.candidates]
    assert Counted.looked <= MAX_KEYS
