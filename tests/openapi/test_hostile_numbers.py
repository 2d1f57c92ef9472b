"""Numbers in a description that Python's readers or arithmetic refuse (issue 22): an integer
over Python's 4,300 digits, NaN and Infinity, ``multipleOf: 0``, a minimum no float holds.
Each is one warning (or one clear error), never a raw exception, and the request goes on."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import METERS, TYPES, doc, inline_body, login_with
from ue_magic.cells.openapi import RequestChecker, api_view, load_description
from ue_magic.errors import BodyCheckError, DescriptionError
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)
DIGITS = "1" + "0" * 5_000  # over sys.get_int_max_str_digits() (4,300)


def with_big_integer(kind: str) -> str:
    """A description whose schema has a 5,001-digit ``maximum``, as JSON or YAML text."""
    get = {"get": {"responses": {"200": {"description": ""}}}}
    text = json.dumps(doc({TYPES: get, METERS: inline_body({"maximum": 7})}))
    text = text.replace('"maximum": 7', f'"maximum": {DIGITS}')
    if kind == "yaml":
        text = "# YAML: JSON is YAML, and a comment is not JSON\n" + text
    return text


@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_an_integer_over_python_s_digit_limit_is_one_warning_and_requests_go_on(
    ip: Any, tmp_path: Path, sandbox: Sandbox, kind: str
) -> None:
    """Python's int() refuses over 4,300 digits with a ValueError, which came out of every
    %ue_call (even GET -q); the description is not used, and said so once."""
    login_with(ip, tmp_path, with_big_integer(kind), name=f"openapi.{kind}")
    described = ip.magics_manager.registry["UsageEngineMagics"].logins.get(None).description
    deadline = time.monotonic() + 10
    while not described.loaded:  # refused in the background before the first call
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with capture_output() as captured:
        for _ in range(2):
            ip.run_line_magic("ue_call", f"GET {TYPES} -q")
    assert captured.stderr.count("integer of over 4,300 digits") == 1
    assert sandbox.counters()["by_route"] == {f"GET {TYPES}": 2}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_json_description_are_refused(tmp_path: Path, constant: str) -> None:
    path = tmp_path / "openapi.json"
    text = json.dumps(doc({METERS: inline_body({"type": "number", "minimum": 7})}))
    path.write_text(text.replace('"minimum": 7', f'"minimum": {constant}'))
    with pytest.raises(DescriptionError, match=f"holds {constant}, which JSON does not allow"):
        load_description(path)


def test_arithmetic_a_schema_makes_fail_is_a_broken_schema() -> None:
    """ZeroDivisionError came out raw from the check."""
    schema = {"multipleOf": 0}
    description = load_description(doc({METERS: inline_body({"properties": {"n": schema}})}))
    checker = RequestChecker(description)
    with pytest.raises(DescriptionError, match="is broken"):
        checker.check_body(description.operations[0], {"n": 3}, "{}")


@pytest.mark.parametrize(("divisor", "fits"), [(0.5, True), (0.3, False)])
def test_a_float_multiple_of_an_int_past_float_s_range_is_exact(divisor: float, fits: bool) -> None:
    """jsonschema divides as floats: OverflowError for 10**400, once called a broken schema."""
    schema = {"multipleOf": divisor}
    description = load_description(doc({METERS: inline_body({"properties": {"n": schema}})}))
    checker = RequestChecker(description)
    if fits:
        checker.check_body(description.operations[0], {"n": 10**400}, "{}")
        return
    with pytest.raises(BodyCheckError, match=r"is not a multiple of 0\.3"):
        checker.check_body(description.operations[0], {"n": 10**400}, "{}")


def test_a_minimum_no_float_holds_gives_an_example_over_it() -> None:
    """``_example._number`` called float() on 10**400: OverflowError from %ue_api POST."""
    least = 10**400
    schema = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}
    schema["properties"]["n"]["minimum"] = least
    description = load_description(doc({METERS: inline_body(schema)}))
    view = repr(api_view(description, ["POST", METERS]))
    assert '{"n": ' + str(least) + "}" in view


NO_EXPONENT = "1" + "0" * 400 + ".0"  # read as an infinity too: the example cell said Infinity


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        *(
            ("json", n)
            for n in ("1e999", "-1.5E+400", "1e0400", NO_EXPONENT, "-9" + "9" * 308 + ".5")
        ),
        ("yaml", NO_EXPONENT),  # YAML reads 1e999 (no point) as a string
        ("yaml", "-1.5e+400"),
    ],
)
def test_a_number_over_a_float_s_range_is_refused(tmp_path: Path, number: str, kind: str) -> None:
    """json reads 1e999 as an infinity, which no JSON body or check can hold; so is a number of
    309 digits or more before its point, and YAML reads either so too (not YAML's ``.inf``)."""
    path = tmp_path / f"openapi.{kind}"
    text = json.dumps(doc({METERS: inline_body({"type": "number", "minimum": 7})}))
    text = text.replace('"minimum": 7', f'"minimum": {number}')
    path.write_text(text if kind == "json" else "# YAML\n" + text)
    with pytest.raises(DescriptionError, match="a number too large for a float"):
        load_description(path)


def test_a_big_exponent_within_range_is_read(tmp_path: Path) -> None:
    path = tmp_path / "openapi.json"
    text = json.dumps(doc({METERS: inline_body({"type": "number", "minimum": 7})}))
    big = "1" + "0" * 307 + ".0"  # 1e307, written out
    path.write_text(text.replace('"minimum": 7', f'"minimum": 1e300, "x-n": 2e-400, "x-b": {big}'))
    assert load_description(path).operations


@pytest.mark.parametrize(
    "integer",
    ["0x" + "f" * 5_000, "1:" * 300_000 + "1", "0" + "7" * 5_000, "-0b" + "1" * 20_000],
    ids=["hex", "base-60", "octal", "binary"],
)
def test_a_yaml_integer_in_any_base_is_bounded_by_its_text(tmp_path: Path, integer: str) -> None:
    # Python's limit counts base 10 only: 0xfff… passed it (and broke every view later), and
    # YAML 1.1's base 60 took time quadratic in its length (0.88 MB: 54 s in the load thread)
    path = tmp_path / "openapi.yaml"
    text = json.dumps(doc({METERS: inline_body({})}))
    path.write_text("{" + f'"x-n": {integer}, ' + text[1:])  # JSON's flow style, read as YAML
    started = time.monotonic()
    with pytest.raises(DescriptionError, match="integer of over 4,300 digits"):
        load_description(path)
    assert time.monotonic() - started < 10  # does not hang
