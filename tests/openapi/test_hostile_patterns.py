"""Schema patterns whose *compiling* runs away (issue 22, second attack): regex expands counted
repeats when it compiles, outside any time limit; such a pattern is refused before it is
compiled, with the "too complex" warning, and the body goes out unchecked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from tests.openapi.test_hostile_descriptions import (
    HANG,
    METERS,
    login_with,
    pattern_description,
    within,
)
from ue_magic.cells.openapi._bounded import Deadline, TooComplex
from ue_magic.cells.openapi._pattern_size import MAX_LENGTH, MAX_SIZE, expanded_size, refusal
from ue_magic.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)


def search(pattern: str, text: str) -> bool:
    deadline = Deadline()
    deadline.start()
    return deadline.search(pattern, text)


# each of these took seconds and hundreds of MB to a MemoryError (or the OOM killer) to compile
RUNAWAY = [
    "^a{2147483647}$",
    "^(((a{100}){100}){100}){10}$",
    "^(((a{100}){100}){100})$",  # 1.2 s and 380 MB at every body check and %ue_api
    "^(?:ab){99999999999999999999}$",
    "^(?:(?#\\))(?:a{1000}){1000})$",  # a comment's escaped ")" closes nothing
    "^(?:a{1000}\\p{L}{1}){1000}$",  # \p{L}'s braces are no repeat, {1} is
]


@pytest.mark.parametrize("pattern", RUNAWAY)
def test_a_pattern_too_big_to_compile_is_refused_before_compiling(pattern: str) -> None:
    with pytest.raises(TooComplex, match=r"its pattern .* repeats to over"):
        within(HANG, lambda: search(pattern, "b"))


def test_a_pattern_too_long_is_refused() -> None:
    pattern = "(a)" * (MAX_LENGTH // 3 + 1)
    with pytest.raises(TooComplex, match=f"characters is over {MAX_LENGTH:,}"):
        search(pattern, "b")


@pytest.mark.parametrize(
    "pattern",
    [
        # read as code, a verbose comment's "(" opens a group that swallows the repeats after it
        "(?x)((((a{100}) # (\n){100}) # (\n){100})",
        # a POSIX class, or a version 1 nested set, holds a ")" that would close a group early
        "((((a{100})[[:alpha:])(]){100})[[:alpha:])(]){100})",
        "(?V1)((((a{100})[[x])(]){100})[[x])(]){100})",
    ],
)
def test_a_repeat_hidden_from_the_group_reading_still_counts(pattern: str) -> None:
    assert expanded_size(pattern) > MAX_SIZE
    with pytest.raises(TooComplex, match="repeats to over"):
        search(pattern, "b")


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$",
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?Z$",
        r"^\p{L}{1,64}$",
        r"^(?P<user>\w{3,})(?:\.(?P=user)){0,3}$",
        r"^[\[\]a-z]{1,8}(?:[[:digit:]]{4})?$",  # escaped brackets; a POSIX class: a bound
        "^a{0,100000}$",  # a loop, not copies
        "(?:a{100}){100}",  # 10,000 copies: compiled
    ],
)
def test_patterns_of_a_usual_size_are_compiled_and_matched(pattern: str) -> None:
    assert refusal(pattern) is None
    assert search(pattern, "b") in (True, False)


def test_the_size_multiplies_nested_least_counts() -> None:
    assert expanded_size("a{10}") == 10
    assert expanded_size("(?:a{10}){10}") == expanded_size("(?:a){10}") + 90
    assert expanded_size("a{3,1000}b{,1000}c*") == 5  # 3 copies of a, one b, one c
    assert expanded_size("[{]{100}]") == 101  # a class of "{", 100 copies, then "]"
    assert expanded_size("((a{100}){100}){100}") > MAX_SIZE


def test_a_body_with_a_pattern_too_big_to_compile_goes_out_with_one_warning(
    ip: Any, tmp_path: Path, sandbox: Sandbox
) -> None:
    source = login_with(ip, tmp_path, pattern_description("^(((a{100}){100}){100})$"))
    with capture_output() as captured:
        within(
            HANG,
            lambda: ip.run_cell_magic(
                "ue_call", f"POST {METERS} -q --no-raise", json.dumps({"userId": "b"})
            ),
        )
    assert captured.stderr.count("API description") == 1
    assert "too complex to check" in captured.stderr and "repeats to over" in captured.stderr
    assert str(source) in captured.stderr and "sent unchecked" in captured.stderr
    assert sandbox.counters()["by_route"] == {f"POST {METERS}": 1}


def test_api_shows_an_operation_whose_pattern_is_too_big_to_compile(
    ip: Any, tmp_path: Path
) -> None:
    login_with(ip, tmp_path, pattern_description("^(((a{100}){100}){100})$"))
    with capture_output():
        view = within(HANG, lambda: ip.run_line_magic("ue_api", f"POST {METERS}"))
    assert "userId" in repr(view)
