"""Ints of up to 100,000 digits in a body that is checked against a description are checked and
sent (Python's ``int()`` and ``repr()`` stop at 4,300 digits; JSON has no integer limit): the body
read back for the check, jsonschema's messages, ``uniqueItems``, ``enum``, a float
``multipleOf`` and ``--python`` all work with them; a longer one is refused saying so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.security.servers import Server, serving
from tests.security.test_big_values import digits, echo
from ue_magic.cells.request._long_ints import MAX_INT_DIGITS, TooLongInt, read_int
from ue_magic.sandbox import Sandbox

BIG = 10**4999 + 7  # 5,000 digits: over Python's 4,300
HUGE = 10**99_999 + 1  # 100,000 digits: the most that is sent
TYPES = "/usage-metering/v1/meter-types"
TYPE_BODY = '{"name": "n", "unit": "u", "aggregation": {"type": "sum"}, "x": {{big}}}'
SCHEMAS = {
    "maximum": ({"maximum": 1e308}, "an integer of 5,000 digits is greater than the maximum"),
    "multipleOf": ({"multipleOf": 0.3}, "an integer of 5,000 digits is not a multiple of 0.3"),
    "enum": ({"enum": [1, 2.5, "x"]}, 'expected one of 1, 2.5, "x", got an integer of 5,000'),
    "const": ({"const": 1.5}, "expected one of 1.5, got an integer of 5,000 digits"),
    "unique": ({"uniqueItems": True}, "has non-unique elements"),
    "string": ({"type": "string"}, "expected a string, got an integer"),
}


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(echo) as running:
        yield running


@pytest.fixture
def shell(ip: Any, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Logged in with the sandbox's tokens, the API on the server above, described by a
    description of one POST per schema above (``/t/<name>``, the value in ``v``)."""
    paths = {
        f"/t/{name}": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"v": schema}}
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        }
        for name, (schema, _) in {**SCHEMAS, "any": ({}, "")}.items()
    }
    spec = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}
    described = tmp_path / "openapi.json"
    described.write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("UE_API_URL", server.url)
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {described}")
    ip.user_ns.update(big=BIG, bigs=[BIG, BIG], huge=HUGE)
    return ip


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_a_long_int_that_does_not_fit_says_why(shell: Any, server: Server, name: str) -> None:
    value = "{{bigs}}" if name == "unique" else "{{big}}"
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_cell_magic("ue_call", f"POST /t/{name}", '{"v": ' + value + "}")
    message = str(info.value)
    assert message.startswith("Line 1, column 7: $.v: ") and SCHEMAS[name][1] in message
    assert "limit" not in message and "broken" not in message and len(message) < 300
    assert server.seen == []


@pytest.mark.parametrize("value", [BIG, -HUGE, [HUGE, BIG]], ids=["5000", "-100000", "list"])
def test_a_long_int_that_fits_is_checked_and_sent(shell: Any, server: Server, value: Any) -> None:
    shell.user_ns["value"] = value
    with capture_output() as captured:
        shell.run_cell_magic("ue_call", "POST /t/any", '{"v": {{value}}}')
    assert "API description" not in captured.stderr  # checked, not "sent unchecked"
    sent = server.seen[-1].body.decode()
    written = digits(value) if isinstance(value, int) else f"[{digits(HUGE)}, {digits(BIG)}]"
    assert sent == '{"v": ' + written + "}"


def test_a_long_literal_in_the_cell_is_sent(shell: Any, server: Server) -> None:
    literal = digits(BIG)
    with capture_output():
        shell.run_cell_magic("ue_call", "POST /t/maximum", '{"v": -' + literal + "}")
    assert server.seen[-1].body.decode() == '{"v": -' + literal + "}"


def test_a_literal_over_100000_digits_is_refused_saying_so(shell: Any, server: Server) -> None:
    cell = '{"v": 1' + "0" * MAX_INT_DIGITS + "}"
    with capture_output(), pytest.raises(UsageError) as info:
        shell.run_cell_magic("ue_call", "POST /t/any", cell)
    message = str(info.value)
    assert message.startswith("Line 1, column 7: an integer of 100,001 digits; at most 100,000")
    assert len(message) < 300 and server.seen == []


def test_the_sandbox_s_own_description_checks_a_long_int(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UE_OPENAPI", sandbox.openapi_url)
    ip.user_ns["big"] = BIG
    with capture_output() as captured:
        ip.run_line_magic("ue_login", "")
        ip.run_cell_magic("ue_call", f"POST {TYPES} --dry-run", TYPE_BODY)
    assert "API description" not in captured.stderr
    shown = "".join(o.data["text/plain"] for o in captured.outputs)
    assert shown.endswith(f'"x": {digits(BIG)}}}')
    with capture_output(), pytest.raises(UsageError, match=r"\$\.name: expected a string"):
        ip.run_cell_magic("ue_call", f"POST {TYPES}", TYPE_BODY.replace('"n"', "{{big}}"))


def test_python_code_for_a_long_int_runs_to_the_same_body(shell: Any) -> None:
    literal = digits(BIG)
    with capture_output() as captured:
        shell.run_cell_magic(
            "ue_call", "POST /t/any --python", '{"v": {{big}}, "w": [' + literal + "]}"
        )
    code = captured.stdout
    assert '"v": big' in code
    compile(code, "<ue_call --python>", "exec")  # a decimal literal this long would not
    body = code[code.index("json=") + 5 : code.index(",\n)")]
    assert eval(body, {"big": BIG}) == {"v": BIG, "w": [BIG]}


def test_read_int_reads_any_length_up_to_the_limit() -> None:
    for n in (1, 600, 601, 4_300, 4_301, 12_345, MAX_INT_DIGITS):
        text = "9" * n
        assert read_int(text) == 10**n - 1 and read_int("-" + text) == 1 - 10**n
    with pytest.raises(TooLongInt, match="100,001 digits; at most 100,000 are sent"):
        read_int("1" * (MAX_INT_DIGITS + 1))
