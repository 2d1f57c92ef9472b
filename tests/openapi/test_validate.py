"""Checks before sending: a JSON body that does not fit its schema is stopped with the JSON
path, what was expected and where in the cell, and nothing reaches the sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.conftest import DATA, HAND_30
from ue_magic import Credentials, UsageEngineClient
from ue_magic._extras import install_command
from ue_magic.cells.openapi import RequestChecker, load_description
from ue_magic.errors import BodyCheckError
from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"
TYPES = "/usage-metering/v1/meter-types"
CORPUS = json.loads((DATA / "valid-bodies.json").read_text())


def sent(sandbox: Sandbox) -> int:
    return int(sandbox.counters()["api_requests"])


@pytest.mark.parametrize(
    "case", CORPUS, ids=[f"{c['path'][18:]}-{i}" for i, c in enumerate(CORPUS)]
)
def test_every_body_of_the_corpus_passes_and_the_sandbox_takes_it(
    case: dict[str, Any], sandbox: Sandbox, sandbox_openapi: str
) -> None:
    """The schema is no stricter than the service: what the checks pass, the sandbox stores."""
    import httpx

    read_url = lambda url: httpx.get(url).content  # noqa: E731
    checker = RequestChecker(load_description(sandbox_openapi, read_url=read_url))
    credentials = Credentials.from_env(environ=sandbox.env(), cwd="/")
    with UsageEngineClient(credentials) as client:
        type_id = client.post(
            TYPES, json={"name": "corpus", "unit": "u", "aggregation": {"type": "sum"}}
        ).json()["id"]
        body = dict(case["body"])
        text = json.dumps(body).replace("{type_id}", type_id)
        body = json.loads(text)
        operation = checker.match("POST", case["path"]).operation
        assert operation is not None
        checker.check_body(operation, body, text)  # raises if it does not fit
        assert client.post(case["path"], json=body).status_code == 201


BROKEN = [
    # (cell, path in the error, what it says, line, column)
    ('{"userId": "u", "meterKey": "k"}', r"\$\.meterTypeId", "is required but missing", 1, 1),
    (
        '{"userId": "u",\n "meterKey": 5,\n "meterTypeId": "t"}',
        r"\$\.meterKey",
        "expected a string, got an integer",
        2,
        14,
    ),
    (
        '{"userId": "", "meterKey": "k", "meterTypeId": "t"}',
        r"\$\.userId",
        "expected at least 1 character, got 0",
        1,
        12,
    ),
    (
        '{"userId": "u", "meterKey": "k", "meterTypeId": "t",\n  "deleteOnReset": "yes"}',
        r"\$\.deleteOnReset",
        "expected true or false or null, got a string",
        2,
        20,
    ),
    ('["u", "k"]', r"\$", "expected an object, got an array", 1, 1),
    (
        '{"userId": "u", "meterKey": "k", "meterTypeId": "t", "customFields": [1]}',
        r"\$\.customFields",
        "expected an object or null, got an array",
        1,
        70,
    ),
]


@pytest.mark.parametrize(("cell", "path", "says", "line", "column"), BROKEN)
def test_a_broken_meter_body_is_stopped_before_sending(
    ip_openapi: Any, sandbox: Sandbox, cell: str, path: str, says: str, line: int, column: int
) -> None:
    with pytest.raises(UsageError) as caught:
        ip_openapi.run_cell_magic("ue_call", f"POST {METERS}", cell)
    message = str(caught.value)
    assert message.startswith(f"Line {line}, column {column}: ")
    assert f"{path.replace(chr(92), '')}: {says}" in message
    assert "--no-validate" in message
    caret_line = message.split("\n")[2]
    assert caret_line.index("^") - 4 == column - 1  # the caret sits under the value
    assert sent(sandbox) == 0


BROKEN_TYPES = [
    (
        {"name": "n", "unit": "u", "aggregation": {"type": "avg"}},
        "$.aggregation.type",
        "expected one of",
    ),
    (
        {"name": "x" * 81, "unit": "u", "aggregation": {"type": "sum"}},
        "$.name",
        "at most 80 characters",
    ),
    ({"name": "n", "unit": "u"}, "$.aggregation", "is required but missing"),
    (
        {"name": "n", "unit": "u", "aggregation": {"type": "sum"}, "thresholds": [{"name": "t"}]},
        "$.thresholds[0]",
        "is not valid under any of the given schemas",
    ),
    (
        {"name": "n", "unit": "u", "aggregation": {"type": "sum"}, "resetSchedule": {"day": "1"}},
        "$.resetSchedule.hour",
        "is required but missing",
    ),
    ({"name": "n", "unit": "u", "aggregation": {"type": "sum"}, "capacity": 0}, "$.capacity", "0"),
]


@pytest.mark.parametrize(("body", "path", "says"), BROKEN_TYPES)
def test_a_broken_meter_type_body_in_a_message_cell(
    ip_openapi: Any, sandbox: Sandbox, body: dict[str, Any], path: str, says: str
) -> None:
    """The HTTP-message form: the line counts from the cell's first line, headers included."""
    cell = f"# a comment\nPOST {TYPES}\nX-Note: one\n\n" + json.dumps(body, indent=1)
    with pytest.raises(UsageError) as caught:
        ip_openapi.run_cell_magic("ue_call", "", cell)
    message = str(caught.value)
    assert f"{path}: " in message and says in message
    line = int(message.split(",")[0].removeprefix("Line "))
    assert line >= 5  # the body starts on line 5
    assert sent(sandbox) == 0


def test_no_validate_sends_it_anyway(ip_openapi: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match="400"):  # the sandbox's own answer
        ip_openapi.run_cell_magic(
            "ue_call", f"POST {METERS} --no-validate -q", '{"userId": "u", "meterKey": "k"}'
        )
    assert sent(sandbox) == 1


def test_each_checks_every_item_before_the_first_is_sent(ip_openapi: Any, sandbox: Sandbox) -> None:
    ip_openapi.user_ns["users"] = ["a", "b", 7, "d"]
    with pytest.raises(UsageError) as caught:
        ip_openapi.run_cell_magic(
            "ue_call",
            f"POST {METERS} --each users -q",
            '{"userId": {{item}}, "meterKey": "k", "meterTypeId": "t"}',
        )
    message = str(caught.value)
    assert "item 2 of users (nothing was sent), $.userId: expected a string" in message
    assert sent(sandbox) == 0


def test_an_unknown_path_is_a_warning_naming_the_closest_and_is_sent(
    ip_openapi: Any, sandbox: Sandbox
) -> None:
    with capture_output() as captured:
        for _ in range(3):
            ip_openapi.run_line_magic("ue_call", "GET /usage-metering/v1/meterz -q --no-raise")
    assert captured.stderr.count("no GET /usage-metering/v1/meterz") == 1  # once, not per call
    assert "closest: GET /usage-metering/v1/meters." in captured.stderr
    assert sent(sandbox) == 3


def test_a_method_the_path_lacks_is_a_warning(ip_openapi: Any, sandbox: Sandbox) -> None:
    with capture_output() as captured:
        ip_openapi.run_line_magic("ue_call", f"POST {METERS}/x -q --no-raise")
    assert (
        "has no POST /usage-metering/v1/meters/{id} (it has GET, PUT, DELETE, PATCH there)"
        in captured.stderr
    )
    assert sent(sandbox) == 1


def test_dry_run_names_the_operation(ip_openapi: Any, sandbox: Sandbox) -> None:
    with capture_output() as captured:
        ip_openapi.run_line_magic("ue_call", f"DELETE {METERS}/abc --dry-run")
    assert "Matches DELETE /usage-metering/v1/meters/{id} (deleteMeter): Delete a meter." in (
        captured.stdout
    )
    assert sent(sandbox) == 0


def test_openapi_30_nullable_and_closed_objects() -> None:
    checker = RequestChecker(load_description(HAND_30))
    create = checker.match("POST", METERS).operation
    assert create is not None
    ok = {"userId": "u", "meterKey": "k", "meterTypeId": "t", "customFields": None}
    checker.check_body(create, ok, json.dumps(ok))  # nullable: true (from another file)
    update = checker.match("PUT", f"{METERS}/m1").operation
    assert update is not None
    with pytest.raises(BodyCheckError) as caught:
        checker.check_body(update, {"deleteOnReset": True, "colour": "red"}, "{}")
    assert caught.value.path == "$.colour"
    assert "is not a field here (allowed: customFields, deleteOnReset)" in caught.value.expected
    with pytest.raises(BodyCheckError, match=r"\$\.capacity: 0 is less than or equal"):
        types = checker.match("POST", TYPES).operation
        assert types is not None
        checker.check_body(
            types, {"name": "n", "unit": "u", "aggregation": {"type": "sum"}, "capacity": 0}, "{}"
        )


def test_without_the_extra_bodies_go_unchecked(
    ip_openapi: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ue_magic.cells.openapi import _check

    monkeypatch.setattr(_check, "available", lambda: False)
    ip_openapi.run_line_magic("ue_api", "--reload")
    with capture_output() as first, pytest.raises(UsageError, match="400"):
        ip_openapi.run_cell_magic("ue_call", f"POST {METERS} -q", '{"userId": "u"}')
    assert sent(sandbox) == 1
    # Said once per login, naming the extra and how to install it where this copy came from.
    said = "JSON bodies go out unchecked (checking them against the API description needs the "
    assert first.stderr.count(said) == 1
    assert f"'openapi' extra): run {install_command('openapi')}." in first.stderr
    with capture_output() as again, pytest.raises(UsageError, match="400"):
        ip_openapi.run_cell_magic("ue_call", f"POST {METERS} -q", '{"userId": "v"}')
    assert said not in again.stderr
    with capture_output() as no_body:  # a request without a body has nothing to check
        ip_openapi.run_line_magic("ue_login", "")
        ip_openapi.run_line_magic("ue_call", "GET /usage-metering/v1/meter-types -q")
    assert said not in no_body.stderr
    with capture_output() as new_login, pytest.raises(UsageError, match="400"):
        ip_openapi.run_cell_magic("ue_call", f"POST {METERS} -q", '{"userId": "w"}')
    assert new_login.stderr.count(said) == 1


def test_with_the_extra_nothing_is_said_about_unchecked_bodies(
    ip_openapi: Any, sandbox: Sandbox
) -> None:
    with capture_output() as out, pytest.raises(UsageError, match="no-validate sends it anyway"):
        ip_openapi.run_cell_magic("ue_call", f"POST {METERS} -q", '{"userId": "u"}')
    assert "unchecked" not in out.stderr and sent(sandbox) == 0


def test_each_over_a_generator_is_not_used_up_by_the_checks(
    ip_openapi: Any, sandbox: Sandbox
) -> None:
    ip_openapi.run_cell("users = (f'g{n}' for n in range(3))")
    ip_openapi.user_ns["type_id"] = "t-none"
    with pytest.raises(UsageError):  # the sandbox refuses the unknown meter type: 3 x 400
        ip_openapi.run_cell_magic(
            "ue_call",
            f"POST {METERS} --each users -q",
            '{"userId": "{{item}}", "meterKey": "k", "meterTypeId": "{{type_id}}"}',
        )
    assert sent(sandbox) == 3


def test_each_over_a_missing_name_says_so_as_before(ip_openapi: Any, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match="nothing_here"):
        ip_openapi.run_cell_magic("ue_call", f"POST {METERS} --each nothing_here -q", "{}")
    assert sent(sandbox) == 0


POSITIONS = [
    # (cell, what the caret is under): placeholders expand to other widths, but the line,
    # the column and the caret stay where the user wrote them.
    ('{"userId": "{{long_id}}", "meterKey": 5, "meterTypeId": "t"}', "5"),
    ('{"userId": {{n}}, "meterKey": "k", "meterTypeId": "{{long_id}}"}', "{{n}}"),
    ('{"userId": "u", "meterKey": "k", "meterTypeId": "t", "userId": 5}', "5}"),  # last wins
    ("{{whole}}", "{{whole}}"),  # inside a value the cell does not spell out: the placeholder
]


@pytest.mark.parametrize(("cell", "under"), POSITIONS)
def test_the_caret_points_at_the_cell_as_written(
    ip_openapi: Any, sandbox: Sandbox, cell: str, under: str
) -> None:
    ip_openapi.user_ns.update(
        long_id="a-long-identifier-" + "x" * 40,
        n=5,
        whole={"userId": "u", "meterKey": 5, "meterTypeId": "t"},
    )
    with pytest.raises(UsageError) as caught:
        ip_openapi.run_cell_magic("ue_call", f"POST {METERS}", cell)
    first, source, caret = str(caught.value).split("\n")
    column = cell.rindex(under) + 1
    assert first.startswith(f"Line 1, column {column}: ")
    assert source.strip() == cell
    assert caret.index("^") - 4 == column - 1
    assert sent(sandbox) == 0


def test_another_origin_is_refused_before_the_description_is_asked(ip_openapi: Any) -> None:
    """The description describes the API's origin: a call elsewhere gets the refusal only, not
    "The API description has no GET /steal. Sending anyway." before it."""
    with capture_output() as captured, pytest.raises(UsageError, match=r"evil\.example\.com"):
        ip_openapi.run_line_magic("ue_call", "GET https://evil.example.com/steal")
    assert "API description" not in captured.stdout + captured.stderr
