"""The completion engine, without IPython: every kind of candidate, on both descriptions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.openapi.conftest import HAND_30, SANDBOX_31
from ue_magic.cells.openapi import CompletionContext, complete, load_description

OPTIONS = {
    "ue_call": {
        "--table": False,
        "--timeout": True,
        "--profile": True,
        "--each": True,
        "-H": True,
        "--header": True,
        "-o": True,
        "-q": False,
        "--no-validate": False,
    },
    "ue_login": {"--profile": True, "--openapi": True, "--widget": False},
    "ue_api": {"--reload": False, "--profile": True},
}
DESCRIPTIONS = {"3.1": load_description(SANDBOX_31), "3.0": load_description(HAND_30)}


class Cfg:
    def __init__(self) -> None:
        self.region = "eu"
        self.limits = {"max": 3}


def context(version: str = "3.1", **names: Any) -> CompletionContext:
    asked: list[str | None] = []

    def describe(profile: str | None) -> Any:
        asked.append(profile)
        return DESCRIPTIONS[version]

    ctx = CompletionContext(
        describe=describe, namespace=names, profiles=["staging", "prod"], options=OPTIONS
    )
    ctx.asked = asked  # type: ignore[attr-defined]
    return ctx


def texts(
    text: str, ctx: CompletionContext, cursor: int | None = None
) -> tuple[int, list[str]] | None:
    """(start, candidates), or None when nothing is offered (ours or not: see test_not_ours)."""
    found = complete(text, len(text) if cursor is None else cursor, ctx)
    if found is None or not found.candidates:
        return None
    return found.start, [c.text for c in found.candidates]


@pytest.mark.parametrize("version", ["3.1", "3.0"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%ue_call --ta", ["--table"]),
        ("%ue_call --ti", ["--timeout"]),
        ("%ue_login --op", ["--openapi"]),
        ("%ue_call ", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
        ("%ue_call po", ["POST"]),
        ("%ue_call GET /usage-me", ["usage-metering"]),
        ("%ue_call GET usage-me", ["/usage-metering"]),
        ("%ue_call GET /usage-metering/v1/me", ["meter-types", "meters"]),
        ("r = %ue_call GET /usage-metering/v1/meters?meter", ["meterTypeId", "meterKey"]),
        ("%ue_call GET /usage-metering/v1/meters?meterKey=k&li", ["limit"]),
        ("%ue_call --profile st", ["staging"]),
        ("%ue_api --profile ", ["staging", "prod"]),
        ("%ue_api POST /usage-metering/v1/", ["meter-types", "meters"]),
    ],
)
def test_magic_line(version: str, text: str, expected: list[str]) -> None:
    found = texts(text, context(version))
    assert found is not None
    start, candidates = found
    assert candidates == expected
    typed = text[start:]
    assert all(
        c.lower().startswith(typed.lower().lstrip("/")) or c.startswith("/") for c in candidates
    )


def test_templated_segments_show_as_such() -> None:
    assert texts("%ue_call DELETE /usage-metering/v1/meters/", context("3.1")) == (
        len("%ue_call DELETE /usage-metering/v1/meters/"),
        ["{id}"],
    )
    # 3.0: the path parameter is named meterId, and only PUT and DELETE have it
    assert texts("%ue_call PUT /usage-metering/v1/meters/", context("3.0"))[1] == ["{meterId}"]  # type: ignore[index]
    assert texts("%ue_call GET /usage-metering/v1/meters/", context("3.0")) is None


def test_the_method_narrows_the_paths() -> None:
    found = complete("%ue_call PATCH /usage-metering/v1/", 34, context("3.1"))
    assert found is not None and [c.text for c in found.candidates] == ["meter-types"]
    assert found.candidates[0].kind == "path"


def test_path_candidates_say_their_methods() -> None:
    found = complete("%ue_call GET /usage-metering/v1/met", 35, context("3.1"))
    assert found is not None
    assert {c.text: c.detail for c in found.candidates} == {
        "meter-types": "GET POST",
        "meters": "GET POST",
    }


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("%%ue_call\nGET /usage-me", ["usage-metering"]),
        ("%%ue_call\n# list them\n\nGET /usage-metering/v1/me", ["meter-types", "meters"]),
        ("%%ue_call\nge", ["GET"]),
        ("%%ue_call\nGET /usage-metering/v1/meters\n?meterT", ["meterTypeId"]),
        ("%%ue_call\nGET /usage-metering/v1/meters\n?meterTypeId=1\n&meterK", ["meterKey"]),
        ("%%ue_call\nGET /usage-metering/v1/meter-types\nX-Req", ["X-Request-Id"]),
        ("%%ue_call\nPOST /usage-metering/v1/meters\nAccept: */*\nIdem", ["Idempotency-Key"]),
        ("%%ue_call --ta", ["--table"]),
        ("%%ue_call --each rows --pro", ["--profile"]),
    ],
)
def test_cell(cell: str, expected: list[str]) -> None:
    found = texts(cell, context("3.0"))
    assert found is not None and found[1] == expected


@pytest.mark.parametrize(
    "cell",
    [
        "%%capture\nGET /usage-me",  # not ours
        "x = 1",
        "print('%ue_call GET /usage-me')[",
        # a magic's name still being typed: IPython completes magic names
        "%ue_lo",
        "%ue_ca",
        "r = %ue_ca",
        "%%ue_c",
        "%%ue_call",
    ],
)
def test_not_ours(cell: str) -> None:
    assert complete(cell, len(cell), context("3.0")) is None  # IPython's completers answer


def test_a_cell_magic_name_being_typed_is_not_ours_below_it_is() -> None:
    cell = "%%ue_c\nGET /usage-me"
    assert complete(cell, len("%%ue_c"), context("3.0")) is None
    assert complete(cell, len(cell), context("3.0")) is not None


def test_ours_with_nothing_to_offer() -> None:
    """An empty answer, not None: IPython's completers would evaluate what is typed."""
    for text in ("%ue_call GET /x/{{nothing.", "%ue_call --profile zz", "%ue_call GET /x -H q"):
        found = complete(text, len(text), context("3.0"))
        assert found is not None and found.candidates == []


def test_namespace_names_keys_and_attributes() -> None:
    ctx = context(cfg=Cfg(), meter_ids=["a", "b"], meter_type={"id": "t1", "name": "n"}, _hidden=1)
    line = "%ue_call GET /usage-metering/v1/meters/{{met"
    assert texts(line, ctx) == (len(line) - 3, ["meter_ids", "meter_type"])
    assert texts('%%ue_call POST /x\n{"meterTypeId": "{{ meter_type.', ctx)[1] == ["id", "name"]  # type: ignore[index]
    assert texts("%ue_call GET /x?region={{cfg.re", ctx)[1] == ["region"]  # type: ignore[index]
    assert texts("%ue_call GET /x?m={{cfg.limits.", ctx)[1] == ["max"]  # type: ignore[index]
    assert texts("%ue_call GET /x/{{_h", ctx)[1] == ["_hidden"]  # type: ignore[index]
    assert texts("%ue_call GET /x/{{nothing.", ctx) is None


def test_private_attributes_are_not_offered_nor_followed() -> None:
    """``{{ }}`` refuses a step that starts with ``_``: completion does not offer one."""
    ctx = context(cfg=Cfg(), conf={"_id": "x", "__class__": {"a": 1}, "k": 1})
    assert texts("%ue_call GET /x?r={{cfg._", ctx) is None
    assert texts("%ue_call GET /x?r={{cfg.__class__.", ctx) is None
    assert texts("%ue_call GET /x?r={{conf.", ctx)[1] == ["_id", "k"]  # type: ignore[index]
    assert texts("%ue_call GET /x?r={{conf.__class__.", ctx) is None


def test_each_item_completes_from_the_first_element() -> None:
    ctx = context(rows=[{"user": "u1", "key": "k1"}], other=3, _5=[1])
    cell = '%%ue_call --each rows POST /usage-metering/v1/meters\n{"userId": "{{item.'
    assert texts(cell, ctx)[1] == ["user", "key"]  # type: ignore[index]
    assert texts("%ue_call --each ", ctx)[1] == ["rows"]  # type: ignore[index]  # lists only


def test_properties_are_not_run_to_complete_after_them() -> None:
    class Trap:
        @property
        def boom(self) -> Any:
            raise AssertionError("completion ran a property")

    ctx = context(trap=Trap())
    assert texts("%ue_call GET /x/{{trap.boom.", ctx) is None
    assert "boom" in texts("%ue_call GET /x/{{trap.b", ctx)[1]  # type: ignore[index]


def test_options_do_not_load_the_description() -> None:
    ctx = context()
    texts("%ue_call --ta", ctx)
    texts("%ue_call --profile st", ctx)
    texts("%ue_call ", ctx)
    assert ctx.asked == []  # type: ignore[attr-defined]
    texts("%ue_call --profile prod GET /u", ctx)
    assert ctx.asked == ["prod"]  # type: ignore[attr-defined]  # that profile's description


def test_without_a_description_paths_complete_to_nothing() -> None:
    ctx = CompletionContext(options=OPTIONS)
    assert texts("%ue_call GET /usage-me", ctx) is None
    assert texts("%ue_call --ta", ctx) == (9, ["--table"])


def test_completion_needs_no_jsonschema() -> None:
    """Completion and %ue_api work without the openapi extra: they never import it."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "sys.modules['jsonschema'] = None  # importing it now fails, as when not installed\n"
        "from ue_magic.cells.openapi import (\n"
        "    CompletionContext, api_view, complete, load_description\n"
        ")\n"
        f"d = load_description({str(SANDBOX_31)!r})\n"
        "ctx = CompletionContext(describe=lambda p: d)\n"
        "found = complete('%ue_call GET /usage-metering/v1/me', 33, ctx)\n"
        "print([c.text for c in found.candidates])\n"
        "print(len(api_view(d, ['meters']).operations))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["['meter-types', 'meters']", "5"]


# The magic line is split by its one grammar (ue_magic.cells.magic_line), as %ue_call will read it:
# a quoted word with spaces, or a placeholder with quoted keys, is one word.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('%ue_call -H "X-A: b c" GET /usage-me', ["usage-metering"]),
        ("%ue_call -H 'X-Id: {{ rows[0][\"id\"] }}' GET /usage-me", ["usage-metering"]),
        ('%ue_call -H "X-Id: {{ rows[0]["id"] }}" GET /usage-me', ["usage-metering"]),
        ('%ue_call --each "ids" GET /usage-metering/v1/meters/{{ item.', ["user"]),
        ('%ue_call -H "X-A: b c" -H "Acc', ["Accept"]),
    ],
)
def test_completion_splits_the_line_as_the_magic_does(text: str, expected: list[str]) -> None:
    found = texts(text, context(ids=[{"user": "u1"}]))
    assert found is not None and found[1] == expected
