"""Descriptions built to make ue-magic work without end (issue 22): each is loaded, matched,
completed, outlined and checked within a generous bound, with one warning past a limit, and
the request goes on. The bounds here only guard against a hang; `benchmarks/bench_openapi.py`
measures the times."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.conftest import Answer, DescriptionServer
from tests.openapi.test_magics_api import completions, login
from ue_magic.cells.openapi import api_view, load_description
from ue_magic.errors import DescriptionError
from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"
TYPES = "/usage-metering/v1/meter-types"
HANG = 10.0  # seconds: far above the targets (1 s a body check, 100 ms a Tab), far below a hang
pytestmark = pytest.mark.timeout(120)


def doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None, **extra: Any) -> Any:
    return {
        "openapi": "3.1.0",
        "info": {"title": "hostile", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
        **extra,
    }


def post_body(ref: str) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": ref}}}
    return {
        "post": {"requestBody": {"content": content}, "responses": {"201": {"description": ""}}}
    }


def allof_chain(n: int, parts: int = 4, same: bool = True) -> dict[str, Any]:
    """``S_i = {"allOf": [{"$ref": S_i+1}] * 4}`` for i = 0..n-1, ``S_n`` a plain object; with
    ``same=False`` the four parts differ in a note, so they are not the same part repeated."""
    schemas: dict[str, Any] = {
        f"S{i}": {
            "allOf": [
                {"$ref": f"#/components/schemas/S{i + 1}", **({} if same else {"description": k})}
                for k in map(str, range(parts))
            ]
        }
        for i in range(n)
    }
    schemas[f"S{n}"] = {
        "type": "object",
        "required": ["userId"],
        "properties": {"userId": {"type": "string"}},
    }
    return doc({METERS: post_body("#/components/schemas/S0")}, schemas)


def within(seconds: float, work: Any) -> Any:
    started = time.monotonic()
    result = work()
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    return result


def login_with(ip: Any, tmp_path: Path, description: Any, name: str = "openapi.json") -> Path:
    path = tmp_path / name
    path.write_text(description if isinstance(description, str) else json.dumps(description))
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    return path


@pytest.mark.parametrize("n", [11, 30])
def test_an_allof_chain_is_checked_in_bounded_time(ip: Any, tmp_path: Path, n: int) -> None:
    login_with(ip, tmp_path, allof_chain(n))
    with pytest.raises(UsageError, match=r"\$\.userId: expected a string"):
        within(
            HANG, lambda: ip.run_cell_magic("ue_call", f"POST {METERS} --dry-run", '{"userId": 5}')
        )
    view = within(HANG, lambda: ip.run_line_magic("ue_api", f"POST {METERS}"))
    assert "userId*: string" in repr(view)
    ip.user_ns["items"] = [{"u": str(i)} for i in range(5)]
    with capture_output():
        within(
            HANG,
            lambda: ip.run_cell_magic(
                "ue_call", f"POST {METERS} --each items -q --no-raise", '{"userId": "{{item.u}}"}'
            ),
        )


def test_an_allof_chain_too_wide_to_check_goes_out_unchecked_with_one_warning(
    ip: Any, tmp_path: Path, sandbox: Sandbox
) -> None:
    source = login_with(ip, tmp_path, allof_chain(11, same=False))
    for attempt in range(2):
        with capture_output() as captured:
            within(
                HANG,
                lambda: ip.run_cell_magic(
                    "ue_call", f"POST {METERS} -q --no-raise", '{"userId": 5}'
                ),
            )
        if attempt == 0:
            assert "too complex to check" in captured.stderr and str(source) in captured.stderr
            assert "sent unchecked" in captured.stderr
        else:
            assert "too complex" not in captured.stderr  # once per login
    assert sandbox.counters()["by_route"] == {f"POST {METERS}": 2}
    view = within(HANG, lambda: ip.run_line_magic("ue_api", f"POST {METERS}"))
    assert "userId*: string" in repr(view)


def bomb_yaml(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_by_ref_is_refused_at_the_first_tab(
    ip: Any,
    api_env: dict[str, str],
    description_server: DescriptionServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("yaml")
    description = doc({METERS: {"get": {"responses": {"200": {"description": ""}}}}})
    description["x-extra"] = {"$ref": "bomb.yaml#/l0"}
    description_server.answers["/openapi.json"] = Answer(body=json.dumps(description).encode())
    description_server.answers["/bomb.yaml"] = Answer(
        body=bomb_yaml().encode(), content_type="application/yaml"
    )
    login(ip, api_env, monkeypatch)
    with capture_output() as captured:
        found = within(HANG, lambda: completions(ip, "%ue_call GET /usage-me"))
    assert not any(found)  # nothing offered (IPython may show one empty entry)
    assert "bomb.yaml" in captured.stderr and "YAML aliases" in captured.stderr
    assert captured.stderr.count("API description not used") == 1


def test_a_yaml_alias_bomb_named_at_login_is_refused(ip: Any, tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-bomb: *l8\n"
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb_yaml() + text.replace("x-bomb: *l8", "x-bomb: *l8"))
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    with capture_output() as captured:
        found = within(HANG, lambda: completions(ip, "%ue_call GET /usage-me"))
    assert not any(found)  # nothing offered (IPython may show one empty entry)
    assert "bomb.yaml" in captured.stderr and "YAML aliases" in captured.stderr


def test_a_self_referring_yaml_document_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "loop.yaml"
    path.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx: &a [*a]\n")
    with pytest.raises(DescriptionError, match="YAML aliases"):
        within(HANG, lambda: load_description(path))


def pattern_description(pattern: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"userId": {"type": "string", "pattern": pattern}},
    }
    return doc({METERS: post_body("#/components/schemas/M")}, {"M": schema})


def test_a_backtracking_pattern_is_checked_in_bounded_time(ip: Any, tmp_path: Path) -> None:
    login_with(ip, tmp_path, pattern_description(r"^(\w+\s?)*$"))
    value = "a" * 34 + "-"
    with pytest.raises(UsageError, match="does not match"):
        within(
            HANG,
            lambda: ip.run_cell_magic(
                "ue_call", f"POST {METERS} --dry-run", json.dumps({"userId": value})
            ),
        )


@pytest.mark.parametrize("pattern", [r"^(a|a)*$", r"^(a|aa)+$", r"\s*\s*\s*\s*$"])
def test_a_pattern_too_slow_to_match_goes_out_unchecked(
    ip: Any, tmp_path: Path, sandbox: Sandbox, pattern: str
) -> None:
    source = login_with(ip, tmp_path, pattern_description(pattern))
    value = ("a" if "a" in pattern else " ") * 30_000 + "-"
    with capture_output() as captured:
        within(
            HANG,
            lambda: ip.run_cell_magic(
                "ue_call", f"POST {METERS} -q --no-raise", json.dumps({"userId": value})
            ),
        )
    assert "its pattern" in captured.stderr and "sent unchecked" in captured.stderr
    assert str(source) in captured.stderr
    assert sandbox.counters()["by_route"] == {f"POST {METERS}": 1}


def test_a_path_template_of_sixteen_variables_cannot_backtrack(
    ip: Any, tmp_path: Path, sandbox: Sandbox
) -> None:
    many = "".join("{" + chr(ord("a") + k) + "}" for k in range(16)) + "z"
    get = {"get": {"responses": {"200": {"description": ""}}}}
    login_with(ip, tmp_path, doc({f"{TYPES}/{{id}}": get, f"{TYPES}/{many}": get}))
    uuid = "0b7e5a52-8a52-4cc7-9df5-2bd6e5d1f8a1"
    for options in ("--no-raise -q", "--no-raise -q --no-validate"):
        with capture_output() as captured:
            line = f"GET {TYPES}/{uuid} {options}"
            within(HANG, lambda line=line: ip.run_line_magic("ue_call", line))
        assert "no GET" not in captured.stderr  # matched {id}
    description = load_description(doc({f"{TYPES}/{{id}}": get, f"{TYPES}/{many}": get}))
    assert description.index.entry(f"{TYPES}/{'x' * 16}z").template == f"{TYPES}/{many}"
    assert description.index.entry(f"{TYPES}/{'x' * 15}z").template == f"{TYPES}/{{id}}"
    assert not any(within(HANG, lambda: completions(ip, f"%ue_call GET {TYPES}/{uuid[:5]}")))


def test_a_url_description_may_not_reach_a_local_file_through_another_url(
    ip: Any, tmp_path: Path, description_server: DescriptionServer
) -> None:
    """local openapi.json -> http://127.0.0.1:P/remote.json -> file:///.../.env"""
    secret_file = tmp_path / "secrets" / ".env"
    secret_file.parent.mkdir()
    secret_file.write_text('{"type": "string", "x-secret": "ZZTOPSECRETZZ"}')
    remote = {"S": {"$ref": secret_file.as_uri()}}
    description_server.answers["/remote.json"] = Answer(body=json.dumps(remote).encode())
    login_with(ip, tmp_path, doc({METERS: post_body(description_server.url + "remote.json#/S")}))
    with capture_output() as captured:
        ip.run_cell_magic("ue_call", f"POST {METERS} --dry-run", '{"a": 1}')
    assert "may not refer to local files" in captured.stderr
    assert "remote.json" in captured.stderr and "ZZTOPSECRETZZ" not in captured.stdout
    assert description_server.hits.get("/remote.json") == 1
    with pytest.raises(DescriptionError, match="may not refer to local files"):
        load_description(
            tmp_path / "openapi.json",
            read_url=lambda url: __import__("httpx").get(url).content,
        )


def test_many_paths_are_matched_and_completed_through_the_path_tree() -> None:
    """100,000 operations (4 MB): matching and a Tab follow the typed segments, not every path
    (a walk over all of them took 2.5 s a Tab and 0.3 s a call)."""
    from ue_magic.cells.openapi import CompletionContext, complete

    get = {"get": {"responses": {}}}
    paths = {f"/p{i}/{{id}}": get for i in range(100_000)} | {"/p7/special": get}
    description = load_description(doc(paths))
    description.index  # built once per login (LoginDescription builds it with the load)  # noqa: B018
    context = CompletionContext(describe=lambda profile: description)

    def tab(text: str) -> list[str]:
        found = within(HANG / 10, lambda: complete(text, len(text), context))
        return [c.text for c in found.candidates] if found else []

    assert len(tab("%ue_call GET /")) == 200  # MAX_CANDIDATES
    assert tab("%ue_call GET /p9999")[:2] == ["p9999", "p99990"]
    assert tab("%ue_call GET /p7/") == ["special", "{id}"]
    assert tab("%ue_call DELETE /p7/") == []
    assert within(HANG / 10, lambda: description.index.match("GET", "/p7/special")).path == (
        "/p7/special"
    )
    assert description.index.match("GET", "/p99999/x").path == "/p99999/{id}"
    assert description.index.match("GET", "/p100000/x") is None


def test_a_panic_from_rust_in_a_ref_loop_is_a_broken_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fuzzing found a $ref loop whose RecursionError ended inside rpds (referencing's Rust
    part), which pyo3 turns into a PanicException, a BaseException that escaped as a traceback."""
    from ue_magic.cells.openapi import RequestChecker

    class PanicException(BaseException):  # pyo3_runtime.PanicException cannot be imported
        pass

    description = load_description(allof_chain(2))
    checker = RequestChecker(description)
    operation = description.operations[0]
    checker.check_body(operation, {"userId": "u"}, "{}")  # builds the validator

    def panic(*args: Any, **kwargs: Any) -> Any:
        raise PanicException("__eq__ failed!: RecursionError")

    monkeypatch.setattr("jsonschema.exceptions.best_match", panic)
    with pytest.raises(DescriptionError, match="refers to itself without end"):
        checker.check_body(operation, {"userId": "u"}, "{}")
    view = api_view(description, ["POST", METERS])  # the example's check: what it has
    assert "userId" in repr(view)


def inline_body(schema: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": schema}}
    return {
        "post": {"requestBody": {"content": content}, "responses": {"201": {"description": ""}}}
    }


def test_an_example_of_many_placeholders_is_written_in_one_pass() -> None:
    """19,000 required names of no type: each a placeholder; one ``str.replace`` per
    placeholder over the whole text took over 60 s."""
    names = [f"p{i}" for i in range(19_000)]
    description = load_description(
        doc({METERS: inline_body({"type": "object", "required": names})})
    )
    from ue_magic.cells.openapi._example import example_body

    view = within(HANG, lambda: api_view(description, ["POST", METERS]))
    body = example_body(description.operations[0], description)
    assert body is not None and body.endswith('"p18999": {{value}}}')
    assert "over the 20,000 characters shown" in repr(view)  # too long to print (test_api_caps)


def test_required_names_from_allof_parts_are_joined_in_one_pass() -> None:
    """``required`` of 10,000 names joined with an ``allOf`` part's 10,000: a list search per
    name was quadratic (53 s at 20,000); past the walk's budget the view says so."""
    from ue_magic.cells.openapi._schema_walk import MAX_STEPS, SchemaWalker

    half = MAX_STEPS // 2
    schema = {
        "type": "object",
        "required": [f"p{i}" for i in range(half)],
        "allOf": [{"required": [f"q{i}" for i in range(half)] + ["p0"]}],
    }
    description = load_description(doc({METERS: inline_body(schema)}))
    merged, _ = within(HANG, lambda: SchemaWalker(description, 10 * MAX_STEPS).merged(schema, ""))
    assert len(merged["required"]) == 2 * half
    big = {**schema, "allOf": [{"required": [f"q{i}" for i in range(4 * MAX_STEPS)]}]}
    description = load_description(doc({METERS: inline_body(big)}))
    view = within(HANG, lambda: api_view(description, ["POST", METERS]))
    assert "steps to outline" in repr(view) or "too big" in repr(view).lower()


def test_the_closest_operation_hint_compares_a_bounded_number_of_templates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Of many paths, the hint compares only those nearest in the path tree (100,000 paths
    compared one by one took 8-20 s on every call to a path the description lacks), still
    finds the close one, is kept per path, and is not sought with ``--no-validate``."""
    import difflib

    from ue_magic.cells.openapi._index import CLOSEST_CANDIDATES

    get = {"get": {"responses": {}}}
    description = load_description(doc({f"/v1/m{i}/{{id}}": get for i in range(5_000)}))
    compared: list[str] = []
    real = difflib.SequenceMatcher

    def counted(junk: Any, a: str, b: str) -> Any:
        compared.append(b)
        return real(junk, a, b)

    monkeypatch.setattr(difflib, "SequenceMatcher", counted)
    index = description.index
    for typed in ("/v1/m4123x/abc", "/v1/m4123x/abc", "/v1/m4123x/abc"):
        warning = within(HANG, lambda typed=typed: index.closest("POST", typed))
        assert warning.endswith("closest: GET /v1/m4123/{id}. Sending anyway.")
    assert 0 < len(compared) <= CLOSEST_CANDIDATES
    compared.clear()
    assert "closest" in index.closest("GET", "/v2/m4999/x")
    assert 0 < len(compared) <= CLOSEST_CANDIDATES
    compared.clear()
    assert "closest" not in index.closest("GET", "/v2/m42", hint=False)
    assert compared == []


def test_no_validate_sends_to_a_path_not_described_without_seeking_the_closest(
    ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ue_magic.cells.openapi._index import OperationIndex

    get = {"get": {"responses": {}}}
    login_with(ip, tmp_path, doc({f"{METERS}/{{id}}": get}))
    sought: list[str] = []
    real = OperationIndex._candidates
    monkeypatch.setattr(
        OperationIndex, "_candidates", lambda self, path: sought.append(path) or real(self, path)
    )
    with capture_output() as out:
        ip.run_line_magic("ue_call", f"GET {TYPES}x -q --dry-run --no-validate")
    assert "has no GET" in out.stdout + out.stderr and sought == []
    with capture_output() as out:
        ip.run_line_magic("ue_call", f"GET {METERS}x -q --dry-run")
    assert sought == [METERS + "x"]


@pytest.fixture
def slow_load(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Loading a description takes until ``gate`` is set (at most 5 s), as a 20 MB legal
    one takes seconds of CPU to parse and index; Tabs wait as a user's do."""
    import threading

    from ue_magic.cells.openapi import LoginDescription, _model, _session

    gate = threading.Event()
    real = _model.load_description  # read by the load when it runs

    def slow(*args: Any, **kwargs: Any) -> Any:
        gate.wait(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(_model, "load_description", slow)
    monkeypatch.setattr(LoginDescription, "tab_wait", _session.TAB_WAIT)
    return gate


def test_a_tab_offers_nothing_while_the_description_loads(
    ip: Any, tmp_path: Path, slow_load: Any
) -> None:
    login_with(ip, tmp_path, doc({f"{METERS}/{{id}}": {"get": {"responses": {}}}}))
    with capture_output() as captured:
        assert "meters" not in within(
            1.0, lambda: completions(ip, "%ue_call GET /usage-metering/v1/")
        )
    assert captured.stderr == ""
    slow_load.set()
    deadline = time.monotonic() + HANG
    while "meters" not in completions(ip, "%ue_call GET /usage-metering/v1/"):
        assert time.monotonic() < deadline


def test_a_call_waits_for_the_load_at_most_the_openapi_timeout(
    ip: Any, tmp_path: Path, slow_load: Any
) -> None:
    """Past ``openapi_timeout`` (and a second's grace) the call goes on unchecked, with one
    warning; once loaded, the next call is checked."""
    ip.run_line_magic("config", "UsageEngineMagics.openapi_timeout = 0.2")
    login_with(ip, tmp_path, allof_chain(1))
    with capture_output() as captured:
        for _ in range(2):
            within(3.0, lambda: ip.run_cell_magic("ue_call", f"POST {METERS} --dry-run", "{}"))
    assert captured.stderr.count("takes over 0.2 s; going on without it") == 1
    slow_load.set()
    deadline = time.monotonic() + HANG
    while True:
        try:
            with capture_output():
                ip.run_cell_magic("ue_call", f"POST {METERS} --dry-run", "{}")
        except Exception as error:  # checked now: userId is required
            assert "userId" in str(error)
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_query_names_of_an_operation_with_thousands_are_offered_by_prefix_and_capped() -> None:
    """200,000 query parameters took 2.3-7.5 s a Tab after ``?``: at most MAX_CANDIDATES are
    offered, found in a sorted index made once per operation."""
    from ue_magic.cells.openapi import CompletionContext, complete
    from ue_magic.cells.openapi._complete import MAX_CANDIDATES

    params = [{"name": f"p{i}", "in": "query"} for i in range(20_000)]
    get = {"get": {"parameters": params, "responses": {}}}
    description = load_description(doc({METERS: get}))
    context = CompletionContext(describe=lambda profile: description)

    def tab(text: str) -> list[str]:
        found = within(HANG / 10, lambda: complete(text, len(text), context))
        return [c.text for c in found.candidates] if found else []

    offered = tab(f"%ue_call GET {METERS}?")
    assert len(offered) == MAX_CANDIDATES and offered[:3] == ["p0", "p1", "p10"]
    assert tab(f"%ue_call GET {METERS}?a=1&p1999") == ["p1999", *(f"p1999{n}" for n in range(10))]
    assert tab(f"%ue_call GET {METERS}?q") == []


def test_an_enum_of_many_objects_is_compared_under_the_deadline() -> None:
    """jsonschema compares every value of an ``enum`` in one keyword call, past the deadline
    (100,000 objects: 3.9 s a check); the deadline is asked before each value."""
    from ue_magic.cells.openapi import RequestChecker
    from ue_magic.cells.openapi._bounded import TooComplex

    values = [{"a": [i, i, {"b": "x" * 20}]} for i in range(20_000)]
    schema = {"type": "object", "properties": {"n": {"enum": values}}}
    description = load_description(doc({METERS: inline_body(schema)}))
    checker = RequestChecker(description)
    operation = description.operations[0]
    checker.check_body(operation, {"n": values[5]}, "{}")  # builds the validator: fits
    checker._validator._deadline.seconds = 0.01  # type: ignore[union-attr]  # 20,000 take longer
    with pytest.raises(TooComplex, match="too complex"):
        within(HANG, lambda: checker.check_body(operation, {"n": {"a": []}}, "{}"))


def test_the_example_s_checks_are_bounded_in_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to 20 checks turn failing values into placeholders; each within its deadline, they
    were 20 x 0.5 s for an example of 400,000 items: together they stop at ``FIX_SECONDS``."""
    from ue_magic.cells.openapi import _example
    from ue_magic.cells.openapi._validate import BodyValidator

    fields = {f"a{i}": {"type": "string"} for i in range(20)}
    schema = {"type": "object", "example": {f"a{i}": 0 for i in range(20)}, "properties": fields}
    description = load_description(doc({METERS: inline_body(schema)}))
    real = BodyValidator.problems
    checks: list[float | None] = []

    def slow(self: Any, operation: Any, body: Any, seconds: float | None = None) -> Any:
        checks.append(seconds)
        time.sleep(0.6)  # a check as slow as one of a 400,000-item example
        return real(self, operation, body)

    monkeypatch.setattr(BodyValidator, "problems", slow)
    view = within(HANG / 2, lambda: repr(api_view(description, ["POST", METERS])))
    assert '"a0": {{a0}}' in view and '"a19": 0' in view  # fixed while there was time
    assert len(checks) == 2 and all(s is not None and s <= _example.FIX_SECONDS for s in checks)


def test_the_description_loads_from_login_on_without_a_tab_or_a_call(
    ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loaded in the background from %ue_login on: the first Tab (which waits 50 ms) finds it."""
    from ue_magic.cells.openapi import LoginDescription, _session

    login_with(ip, tmp_path, doc({f"{METERS}/{{id}}": {"get": {"responses": {}}}}))
    magics = ip.magics_manager.registry["UsageEngineMagics"]
    described = magics.logins.get(None).description
    deadline = time.monotonic() + HANG
    while not described.loaded:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    monkeypatch.setattr(LoginDescription, "tab_wait", _session.TAB_WAIT)  # a user's Tab
    assert "meters" in completions(ip, "%ue_call GET /usage-metering/v1/")


def test_server_variables_that_multiply_are_refused_before_they_are_built(tmp_path: Path) -> None:
    """A server URL "/{v}" 2,000 times with a 100 KB default: 0.1 MB of description made a
    prefix of 200 MB, copied into every operation's path (a third breaker)."""
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "/{v}" * 2000, "variables": {"v": {"default": "x" * 100_000}}}],
        "paths": {f"/a{i}": {"get": {}} for i in range(4)},
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(spec))
    started = time.monotonic()
    with pytest.raises(DescriptionError, match="first server's URL"):
        load_description(str(path))
    assert time.monotonic() - started < 5  # refused, not built and copied
    spec["servers"] = [{"url": "/{v}/v1", "variables": {"v": {"default": "usage"}}}]
    path.write_text(json.dumps(spec))
    assert load_description(str(path)).operations[0].path.startswith("/usage/v1/")


def shared_item_description(paths: int, parameters: int) -> dict[str, Any]:
    item = {
        "parameters": [{"name": f"p{i}", "in": "query"} for i in range(parameters)],
        "get": {"responses": {"200": {"$ref": "#/components/responses/R"}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {f"/a{i}": {"$ref": "#/components/pathItems/I"} for i in range(paths)},
        "components": {
            "pathItems": {"I": item},
            "responses": {"R": {"description": "x" * 100_000}},
        },
    }


def test_a_path_item_shared_by_ref_is_read_once(tmp_path: Path) -> None:
    """Shared by 600 paths: one item's parameters and one answer's text, not 600 copies (a 1 MB
    description made 612 MB); the operations share them (a third breaker)."""
    path = tmp_path / "api.json"
    path.write_text(json.dumps(shared_item_description(600, 50)))
    operations = load_description(str(path)).operations
    assert len(operations) == 600
    first, last = operations[0], operations[-1]
    assert first.parameters[0] is last.parameters[0]
    assert first.responses[0][1] is last.responses[0][1]


def test_parameters_over_all_operations_are_bounded(tmp_path: Path) -> None:
    """6,000 paths sharing an item of 1,000 parameters: 6 million entries from 0.3 MB (34 s and
    1.2 GB before); refused quickly, naming the bound."""
    path = tmp_path / "api.json"
    path.write_text(json.dumps(shared_item_description(6000, 1000)))
    started = time.monotonic()
    with pytest.raises(DescriptionError, match="parameters in all"):
        load_description(str(path))
    assert time.monotonic() - started < 10
