"""Text an API description chooses never becomes code in the example cell ``%ue_api`` prints
(issue 22, fourth attack): a schema's ``example`` or ``default`` of ``"{{os.environ[...][0]}}"``
or ``"{{In}}"``, a path variable or a query parameter named like an expression, were written
as live placeholders, so running the example read the notebook (the secret, a character a
field). Now description text is written escaped (``\\{{``) and every placeholder the example
writes is a plain name the user fills in."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from ue_magic.cells.openapi import load_description
from ue_magic.cells.openapi._outline import api_view
from ue_magic.sandbox import Sandbox

EXPRESSION = 'os.environ["UE_CLIENT_SECRET"][0]'
BODY = {
    "type": "object",
    "required": ["a", "b", "c"],
    "properties": {
        "a": {"type": "string", "example": "{{marker}}"},
        "b": {"type": "string", "default": "{{In}}"},
        "c": {"type": "string", "enum": ["{{" + EXPRESSION + "}}"]},
    },
}
DESCRIPTION = {
    "openapi": "3.0.3",
    "info": {"title": "hostile", "version": "1"},
    "paths": {
        "/usage-metering/v1/meter-types": {
            "post": {
                "parameters": [
                    {"name": "{{marker}}", "in": "query", "required": True, "schema": {}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": BODY}},
                },
                "responses": {"201": {"description": "made"}},
            }
        },
        "/usage-metering/v1/meters/{" + EXPRESSION + "}": {
            "get": {
                "parameters": [{"name": EXPRESSION, "in": "path", "required": True, "schema": {}}],
                "responses": {"200": {"description": "one"}},
            }
        },
    },
}
_LIVE = re.compile(r"(?<!\\)\{\{(.*?)\}\}")


def example_of(view: Any) -> str:
    return repr(view).split("Example:\n")[1]


def login_with_paths(
    ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: dict[str, Any], name: str
) -> Path:
    """``ip`` logged in to the sandbox with a description of ``paths``, loaded; its file."""
    path = tmp_path / name
    path.write_text(json.dumps({**DESCRIPTION, "paths": paths}), encoding="utf-8")
    monkeypatch.setenv("UE_OPENAPI", str(path))
    with capture_output():
        ip.run_line_magic("ue_login", "")
        ip.run_line_magic("ue_api", "")  # waits for the load
    return path


def tab(ip: Any, typed: str) -> list[str]:
    """What Tab offers at the end of ``typed``."""
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(typed, len(typed))]


@pytest.fixture
def description_file(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(DESCRIPTION), encoding="utf-8")
    return path


def test_every_placeholder_of_the_example_is_a_plain_name(description_file: Path) -> None:
    description = load_description(description_file)
    for words in (
        ["POST", "/usage-metering/v1/meter-types"],
        ["GET", "/usage-metering/v1/meters/{" + EXPRESSION + "}"],
    ):
        example = example_of(api_view(description, words))
        names = _LIVE.findall(example)
        assert names, example
        assert all(name.isidentifier() for name in names), (names, example)
        assert "os.environ" not in "".join(names) and "In" not in names


def test_the_example_cell_sends_the_description_s_text_as_text(
    ip: Any, sandbox: Sandbox, description_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UE_OPENAPI", str(description_file))
    with capture_output():
        ip.run_line_magic("ue_login", "")
        view = ip.run_line_magic("ue_api", "POST /usage-metering/v1/meter-types")
    cell = example_of(view).strip().splitlines()
    cell = [line.strip() for line in cell]
    assert cell[0].startswith("%%ue_call POST /usage-metering/v1/meter-types?")
    ip.user_ns.update(marker="LIVE", v_marker="x", _marker_="x")
    for name in _LIVE.findall("\n".join(cell)):
        ip.user_ns.setdefault(name, "filled")
    with capture_output():
        ip.run_cell_magic(
            "ue_call", cell[0][len("%%ue_call ") :] + " --no-raise", "\n".join(cell[1:])
        )
    request = ip.user_ns["_ue"].request
    sent = json.loads(request.content)
    assert sent["a"] == "{{marker}}" and sent["b"] == "{{In}}"
    assert sent["c"] == "{{" + EXPRESSION + "}}"
    assert "LIVE" not in str(request.url)
    assert sandbox.counters()["api_requests"] == 1


OPTIONS_PATH = "/usage-metering/v1/meters --save notes.txt"


def test_a_path_with_a_space_never_becomes_options(
    ip: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = {OPTIONS_PATH: {"post": {"responses": {"201": {}}}}}
    path = login_with_paths(ip, tmp_path, monkeypatch, paths, "spaces.json")
    offered = tab(ip, "%%ue_call POST /usage-metering/v1/mete")
    assert "meters%20--save%20notes.txt" in offered, offered
    assert not [text for text in offered if " " in text]
    description = load_description(path)
    example = example_of(api_view(description, ["POST", OPTIONS_PATH]))
    assert "--save" not in example.replace("%20--save", ""), example
    with capture_output():
        assert ip.run_line_magic("ue_api", "") is not None


def test_a_segment_longer_than_a_line_is_not_offered(
    ip: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = "m" + "x" * 5_000  # 200 of 100 kB made each Tab's reply 40 MB
    paths = {
        f"/usage-metering/v1/{name}": {"get": {"responses": {"200": {}}}}
        for name in (long, "meters")
    }
    login_with_paths(ip, tmp_path, monkeypatch, paths, "long.json")
    offered = tab(ip, "%ue_call GET /usage-metering/v1/m")
    assert offered == ["meters"], [text[:20] for text in offered]


def test_query_and_header_names_never_become_options(
    ip: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parameters = [
        {"name": "limit --save notes.txt", "in": "query", "schema": {"enum": ["1 --save x"]}},
        {"name": "X-Trace --save notes.txt", "in": "header", "schema": {}},
        {"name": "X-Good", "in": "header", "schema": {}},
    ]
    op = {"get": {"parameters": parameters, "responses": {"200": {}}}}
    login_with_paths(ip, tmp_path, monkeypatch, {"/usage-metering/v1/meters": op}, "names.json")

    names = tab(ip, "%ue_call GET /usage-metering/v1/meters?li")
    assert names == ["limit%20--save%20notes.txt"], names
    values = tab(ip, "%ue_call GET /usage-metering/v1/meters?limit%20--save%20notes.txt=")
    assert values == ["1%20--save%20x"], values
    headers = tab(ip, "%ue_call GET /usage-metering/v1/meters -H X-")
    assert "X-Good" in headers and not [h for h in headers if " " in h], headers


def test_tab_never_writes_a_placeholder_a_description_chose(
    ip: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = [
        {"name": "q{{aws_key}}", "in": "query", "schema": {}},
        {"name": "sort", "in": "query", "schema": {"enum": ["name{{aws_key}}"]}},
    ]
    paths = {
        "/usage-metering/v1/things{{aws_key}}": {"get": {"responses": {"200": {}}}},
        "/usage-metering/v1/items": {"get": {"parameters": query, "responses": {"200": {}}}},
    }
    login_with_paths(ip, tmp_path, monkeypatch, paths, "placeholders.json")

    offered = [
        *tab(ip, "%ue_call GET /usage-metering/v1/th"),
        *tab(ip, "%ue_call GET /usage-metering/v1/items?q"),
        *tab(ip, "%ue_call GET /usage-metering/v1/items?sort=na"),
    ]
    assert len(offered) == 3 and not [text for text in offered if "{{" in text], offered
    assert "things%7B%7Baws_key}}" in offered
