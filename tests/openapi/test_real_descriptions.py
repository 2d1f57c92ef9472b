"""Large public descriptions as they are (issue 23): GitHub's REST API (OpenAPI 3.0.3 with
``nullable``, 13 MB, from npm ``@octokit/openapi``) and ReadMe's examples (3.0 and 3.1, from npm
``@readme/oas-examples``), installed by `make node` into tests/data/openapi-real."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.test_magics_api import completions
from ue_magic.cells.openapi import (
    BodyValidator,
    Description,
    RequestChecker,
    api_view,
    load_description,
)
from ue_magic.sandbox import Sandbox

REAL = Path(__file__).resolve().parents[1] / "data" / "openapi-real" / "node_modules"
GITHUB = REAL / "@octokit" / "openapi" / "generated" / "api.github.com.json"
EXAMPLES = REAL / "@readme" / "oas-examples"
TRAIN_31 = EXAMPLES / "3.1" / "json" / "train-travel.json"
TYPES_30 = EXAMPLES / "3.0" / "json" / "schema-types.json"
PETSTORE_V2 = EXAMPLES / "3.0" / "json" / "petstore.json"  # servers: http://petstore.swagger.io/v2
STAR_TREK = EXAMPLES / "3.0" / "json" / "star-trek.json"  # servers: http://stapi.co/api/v1/rest
ISSUES = "/repos/{owner}/{repo}/issues"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def require(path: Path) -> Path:
    """The file, or a failure (CI) / skip (elsewhere) that says to run `make node`."""
    if path.is_file():
        return path
    message = f"{path.name} is not installed: run `make node` (tests/data/openapi-real)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def github() -> Description:
    return load_description(require(GITHUB))


@pytest.fixture
def ip_github(ip: Any) -> Any:
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {require(GITHUB)}")
    return ip


def test_github_loads_whole(github: Description) -> None:
    assert github.version.startswith("3.0")
    assert len(github.operations) > 1000
    operation = github.index.match("POST", "/repos/octo/hello/issues")
    assert operation is not None and operation.path == ISSUES
    assert github.index.match("GET", "/repos/octo/hello/pulls/12/files").path.endswith("/files")


def test_nullable_admits_null_for_the_whole_schema(ip_github: Any) -> None:
    """``milestone`` is ``{"oneOf": [string, integer], "nullable": true}``."""
    with capture_output() as captured:
        ip_github.run_cell_magic(
            "ue_call",
            "POST /repos/octo/hello/issues --dry-run",
            '{"title": "x", "milestone": null}',
        )
    assert f"Matches POST {ISSUES}" in captured.stdout and "not" not in captured.stderr
    with pytest.raises(UsageError, match=r"\$\.title: is required"):
        ip_github.run_cell_magic(
            "ue_call", "POST /repos/octo/hello/issues --dry-run", '{"milestone": null}'
        )
    with pytest.raises(UsageError, match=r"\$\.milestone"):
        ip_github.run_cell_magic(
            "ue_call", "POST /repos/octo/hello/issues --dry-run", '{"title": "x", "milestone": []}'
        )


def example_of(view: Any) -> str:
    return "\n".join(
        line[2:] for line in repr(view).split("Example:\n", 1)[1].split("\n") if line.strip()
    )


def test_the_example_cell_passes_its_own_check(ip_github: Any) -> None:
    view = ip_github.run_line_magic("ue_api", f"POST {ISSUES}")
    example = example_of(view)
    first, body = example.split("\n", 1)
    assert first == "%%ue_call POST /repos/{{owner}}/{{repo}}/issues"
    assert json.loads(body)["title"] is not None
    ip_github.user_ns.update(owner="octo", repo="hello")
    with capture_output() as captured:
        ip_github.run_cell_magic("ue_call", first.split(None, 1)[1] + " --dry-run", body)
    assert "POST" in captured.stdout


def test_every_github_example_passes_or_names_its_placeholders(github: Description) -> None:
    """An example either passes the check as printed, or leaves ``{{name}}`` placeholders
    that %ue_call names until they have values (a pattern, a choice only the user can make)."""
    checker = RequestChecker(github)
    checked = placeholders = 0
    for operation in github.operations:
        if operation.body_schema is None:
            continue
        text = example_of(api_view(github, [operation.method, operation.path]))
        body = text.split("\n", 1)[1]
        if _PLACEHOLDER.search(body):
            placeholders += 1
            continue
        checker.check_body(operation, json.loads(body), body)  # raises if it does not pass
        checked += 1
    assert checked > 250 and placeholders < checked / 5


def test_an_example_placeholder_is_named_when_run(ip_github: Any) -> None:
    view = ip_github.run_line_magic("ue_api", "POST /user/keys")
    first, body = example_of(view).split("\n", 1)
    [name] = _PLACEHOLDER.findall(body)
    with pytest.raises(UsageError, match=name):
        ip_github.run_cell_magic("ue_call", first.split(None, 1)[1] + " --dry-run", body)


def test_github_completes_paths_and_query_names(ip_github: Any) -> None:
    paths = completions(ip_github, "%ue_call GET /repos/octo/hello/iss")
    assert any("issues" in p for p in paths)
    names = completions(ip_github, "%ue_call GET /repos/octo/hello/issues?mil")
    assert "milestone" in names


def test_a_31_description_checks_bodies(ip: Any) -> None:
    description = load_description(require(TRAIN_31))
    assert description.is_31
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {TRAIN_31}")
    view = ip.run_line_magic("ue_api", "POST /bookings")
    first, body = example_of(view).split("\n", 1)
    with capture_output():
        ip.run_cell_magic("ue_call", first.split(None, 1)[1] + " --dry-run", body)
    with pytest.raises(UsageError, match=r"\$\.passenger_name|\$\.trip_id"):
        ip.run_cell_magic("ue_call", "POST /bookings --dry-run", '{"trip_id": 5}')


def test_a_30_description_with_nullable_fields(ip: Any) -> None:
    description = load_description(require(TYPES_30))
    nullable = [
        (op, name)
        for op in description.operations
        if isinstance(op.body_schema, dict)
        for name, schema in (op.body_schema.get("properties") or {}).items()
        if isinstance(schema, dict) and schema.get("nullable") is True and "$ref" not in schema
    ]
    assert nullable
    validator = BodyValidator(description)
    for operation, name in nullable:
        problems = validator.problems(operation, {name: None})
        assert not [p for p in problems if p.location[:1] == (name,)], (operation.label, name)
        assert [p for p in validator.problems(operation, {name: []}) if p.location[:1] == (name,)]


@pytest.mark.parametrize(
    ("source", "api_path", "typed", "operation"),
    [
        (PETSTORE_V2, "v2/", "GET /pet/findByStatus?status=sold", "GET /pet/findByStatus"),
        (STAR_TREK, "api/v1/rest/", "GET /animal/search", "GET /animal/search"),
    ],
)
def test_paths_match_relative_to_an_api_url_with_the_servers_path(
    ip: Any,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    source: Path,
    api_path: str,
    typed: str,
    operation: str,
) -> None:
    monkeypatch.setenv("UE_API_URL", sandbox.base_url + api_path)
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {require(source)}")
    with capture_output() as captured:
        ip.run_line_magic("ue_call", f"{typed} --dry-run")
    assert "has no" not in captured.stderr, captured.stderr
    assert f"Matches {operation}" in captured.stdout
    method, path = typed.split()
    with capture_output() as captured:  # a full URL on the API's origin: below the API URL's path
        ip.run_line_magic("ue_call", f"{method} {sandbox.base_url}{api_path}{path[1:]} --dry-run")
    assert f"Matches {operation}" in captured.stdout, captured.stderr
    table = ip.run_line_magic("ue_api", "")
    assert tuple(operation.split()) in [row[:2] for row in table.rows()]
    view = ip.run_line_magic("ue_api", operation)
    assert repr(view).startswith(operation)
