"""The first checked body is as quick as the next ones: jsonschema is imported without building
the RFC 3987 grammar (a second and more when rfc3987-syntax is installed, as JupyterLab has it),
and in a background thread once a description is loaded; a check that comes before that
warm-up ends waits for it and gives the same answer."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.openapi.conftest import SANDBOX_31
from ue_magic.cells.openapi import LoginDescription, RequestChecker, _validate, load_description
from ue_magic.errors import BodyCheckError

TYPES = "/usage-metering/v1/meter-types"
GOOD = {"name": "n", "unit": "u", "aggregation": {"type": "sum"}}
BAD = {"name": "n", "unit": "u", "aggregation": {"type": "avg"}}
WARM_UP = "ue-magic body checks warm-up"  # the warm-up thread's name


@pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None, reason="rfc3987-syntax not installed"
)
def test_a_body_is_checked_without_building_the_rfc3987_grammar() -> None:
    """In a new interpreter (this one may have jsonschema already): a check imports jsonschema
    but not rfc3987_syntax's grammar or lark; jsonschema's own "iri" checks still work after,
    building it then, and a later ``import rfc3987_syntax`` gets the real module."""
    probe = f"""
import sys
from ue_magic.errors import BodyCheckError
from ue_magic.cells.openapi import RequestChecker, load_description
checker = RequestChecker(load_description({str(SANDBOX_31)!r}))
operation = checker.match("POST", {TYPES!r}).operation
checker.check_body(operation, {GOOD!r}, "")
try:
    checker.check_body(operation, {BAD!r}, "")
except BodyCheckError as error:
    print("stopped", error.path)
print(*(name in sys.modules for name in ("jsonschema", "rfc3987_syntax.syntax_helpers", "lark")))
import jsonschema
formats = jsonschema.FormatChecker()
print(formats.conforms("http://a b/", "iri"), formats.conforms("http://example.com/ü", "iri"))
import rfc3987_syntax
print(hasattr(rfc3987_syntax, "syntax_parser"), "lark" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:4] == [
        "stopped $.aggregation.type",
        "True False False",  # checked with jsonschema, no grammar built
        "False True",  # jsonschema's iri format: a bad IRI fails, a good one passes
        "True True",  # the real module
    ], out.stderr


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """``_validate.import_jsonschema`` held at a gate: who called it, and when it was entered."""
    real: Callable[[], Any] = _validate.import_jsonschema
    state: dict[str, Any] = {
        "gate": threading.Event(),
        "entered": threading.Event(),
        "callers": [],
        "fail_first": False,
    }

    def held() -> Any:
        state["callers"].append(threading.current_thread().name)
        state["entered"].set()
        assert state["gate"].wait(20), "the gate was never opened"
        if state["fail_first"] and len(state["callers"]) == 1:
            raise RuntimeError("a warm-up that goes wrong")
        return real()

    monkeypatch.setattr(_validate, "import_jsonschema", held)
    yield state
    state["gate"].set()


def _check(checker: RequestChecker, body: dict[str, Any]) -> str:
    operation = checker.match("POST", TYPES).operation
    assert operation is not None
    try:
        checker.check_body(operation, body, "")
    except BodyCheckError as error:
        return error.path
    return "fits"


def test_a_check_before_the_warm_up_ends_waits_for_it_and_answers_right(
    gated: dict[str, Any],
) -> None:
    checker = RequestChecker(load_description(str(SANDBOX_31)))
    checker.warm_up()
    assert gated["entered"].wait(10)
    answers: list[str] = []
    checks = threading.Thread(target=lambda: answers.extend([_check(checker, BAD)]))
    checks.start()
    checks.join(0.3)
    assert checks.is_alive() and not answers  # waiting on the warm-up, not checking half-made
    gated["gate"].set()
    checks.join(10)
    assert answers == ["$.aggregation.type"]
    assert _check(checker, GOOD) == "fits"
    assert gated["callers"] == [WARM_UP]  # made once, by the warm-up: the check waited for it


def test_a_warm_up_that_fails_is_done_again_by_the_first_check(gated: dict[str, Any]) -> None:
    gated["fail_first"] = True
    gated["gate"].set()
    checker = RequestChecker(load_description(str(SANDBOX_31)))
    checker.warm_up()
    assert _check(checker, BAD) == "$.aggregation.type"
    assert gated["callers"][0] == WARM_UP
    assert gated["callers"][-1] == threading.current_thread().name


def test_loading_a_description_starts_the_warm_up(gated: dict[str, Any]) -> None:
    """No body checked yet: once the description is there, the import starts in the
    background, and ``get`` does not wait for it (the gate is still closed)."""
    described = LoginDescription(str(SANDBOX_31), "http://127.0.0.1:9/", _no_fetch, _no_warn)
    assert described.get() is not None
    assert gated["entered"].wait(10)
    assert gated["callers"] == [WARM_UP]
    checker = described.checker()
    assert checker is not None
    gated["gate"].set()
    assert _check(checker, BAD) == "$.aggregation.type"


def _no_fetch(url: str) -> tuple[int, bytes]:
    raise AssertionError(f"nothing is fetched: {url}")


def _no_warn(text: str) -> None:
    raise AssertionError(f"no warning: {text}")
