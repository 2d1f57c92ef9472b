"""Loading descriptions: files, URLs and dicts; $refs across files; 3.0 and 3.1; bad ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.openapi.conftest import HAND_30, SANDBOX_31, Answer
from ue_magic.cells.openapi import NotADescription, _load, load_description
from ue_magic.errors import DescriptionError


def test_30_with_refs_across_files() -> None:
    description = load_description(HAND_30)
    assert description.version == "3.0.3"
    files = {Path(uri.removeprefix("file://")).name for uri in description.documents.files}
    assert files == {
        "openapi.json",
        "parameters.json",
        "meter.json",
        "meter-type.json",
        "common.json",
    }
    meters = description.index.match("GET", "/usage-metering/v1/meters")
    # the server's path (with its {version} variable at its default) prefixes every path
    assert meters is not None and meters.path == "/usage-metering/v1/meters"
    assert [p.name for p in meters.params_in("query")] == ["meterTypeId", "meterKey", "limit"]
    assert meters.params_in("query")[0].description == "Only the meters of this meter type"
    create = description.index.match("POST", "/usage-metering/v1/meter-types")
    assert create is not None and create.body_schema_uri.endswith(
        "schemas/meter-type.json#/MeterTypeCreate"
    )
    assert create.body_schema["required"] == ["name", "unit", "aggregation"]
    assert create.scopes == ("create:meter_types",)


def test_31_sandbox_description() -> None:
    description = load_description(SANDBOX_31)
    assert description.is_31
    labels = {op.label for op in description.operations}
    assert "DELETE /usage-metering/v1/meters/{id}" in labels
    assert "PATCH /usage-metering/v1/meter-types/{id}" in labels
    meter = description.index.match("GET", "/usage-metering/v1/meters/abc")
    assert meter is not None and [p.name for p in meter.parameters] == ["id"]  # path-level params


def test_a_dict_resolves_relative_refs_against_base_uri() -> None:
    root = json.loads(HAND_30.read_text())
    description = load_description(root, base_uri=HAND_30.as_uri())
    assert len(description.operations) == 6
    assert description.source == "the description given"


def test_a_url_is_read_with_read_url_and_so_are_its_relative_refs(tmp_path: Path) -> None:
    fetched: list[str] = []
    base = "https://example.test/api/"

    def read_url(url: str) -> bytes:
        fetched.append(url)
        relative = url.removeprefix(base)
        return (HAND_30.parent / relative).read_bytes()

    description = load_description(base + "openapi.json", read_url=read_url)
    assert len(description.operations) == 6
    assert fetched[0] == base + "openapi.json"
    assert base + "schemas/common.json" in fetched  # a ref of a ref, relative to its own file


def test_without_read_url_a_url_is_refused() -> None:
    with pytest.raises(DescriptionError, match="only files and http"):
        load_description("https://example.test/openapi.json")


def write(tmp_path: Path, name: str, value: Any) -> Path:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


MINIMAL = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"broken\.json is (not JSON|neither JSON nor YAML)"),
        ({"swagger": "2.0", "paths": {}}, r"not an OpenAPI 3 description \(swagger 2\.0"),
        ({"info": {}}, "not an OpenAPI 3 description"),
        (
            {**MINIMAL, "paths": {"/a": {"$ref": "#/components/pathItems/missing"}}},
            r"points at nothing \(no 'components'\)",
        ),
        (
            {**MINIMAL, "paths": {"/a": {"get": {"parameters": [{"$ref": "other.json#/P"}]}}}},
            r"other\.json does not exist",
        ),
        ({**MINIMAL, "paths": {"/a": {"$ref": "#/paths/~1a"}}}, "loops"),
        ({**MINIMAL, "paths": []}, "'paths' must be an object"),
    ],
    ids=[
        "not-json",
        "swagger-2",
        "no-openapi",
        "dangling-ref",
        "missing-file",
        "ref-loop",
        "bad-paths",
    ],
)
def test_a_broken_description_is_one_error_naming_the_file(
    tmp_path: Path, content: Any, message: str
) -> None:
    path = write(tmp_path, "broken.json", content)
    with pytest.raises(DescriptionError, match=message) as caught:
        load_description(path)
    text = str(caught.value)
    assert "\n" not in text and len(text) < 300
    assert "broken.json" in text or "other.json" in text


def test_not_openapi_is_its_own_kind(tmp_path: Path) -> None:
    """From the default place, JSON that is not a description is "none", quietly."""
    with pytest.raises(NotADescription):
        load_description(write(tmp_path, "x.json", {"error": "not_found"}))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DescriptionError, match=r"nope\.json does not exist; check the path"):
        load_description(tmp_path / "nope.json")


def test_too_big_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_load, "MAX_BYTES", 1_000)
    path = write(tmp_path, "big.json", {**MINIMAL, "x": "y" * 2_000})
    with pytest.raises(DescriptionError, match=r"over the 0 MB ue-magic reads"):
        load_description(path)


def test_yaml_when_pyyaml_is_there(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = write(
        tmp_path,
        "api.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get: {summary: X}\n",
    )
    assert [op.label for op in load_description(path).operations] == ["GET /x"]


YAML_TEXT = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get: {summary: X}\n"


def test_yaml_is_read_by_libyaml_when_pyyaml_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyYAML's pure-Python loader took 205 s of CPU for a 13.5 MB description; its C loader
    (libyaml, in PyYAML's wheels) is about four times as quick."""
    yaml = pytest.importorskip("yaml")
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    used: list[bytes] = []

    class Spy(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        def __init__(self, stream: bytes) -> None:
            used.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(yaml, "CSafeLoader", Spy)
    path = write(tmp_path, "api.yaml", YAML_TEXT)
    assert [op.label for op in load_description(path).operations] == ["GET /x"]
    assert used == [YAML_TEXT.encode()]


def test_without_libyaml_big_yaml_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml = pytest.importorskip("yaml")
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    assert [op.label for op in load_description(write(tmp_path, "a.yaml", YAML_TEXT)).operations]
    monkeypatch.setattr(_load, "YAML_PURE_BYTES", len(YAML_TEXT) - 1)
    monkeypatch.setattr(yaml, "load", lambda *a, **k: pytest.fail("parsed"))
    with pytest.raises(DescriptionError, match=r"without libyaml .* convert it to JSON"):
        load_description(write(tmp_path, "b.yaml", YAML_TEXT))


def test_a_description_from_a_url_may_not_read_local_files(
    tmp_path: Path, description_server: Any
) -> None:
    """A server's description names only URLs: a ``file:`` $ref in it would read (or, on
    ``/dev/zero``, hang on) a file of the user's machine."""
    import httpx

    local = tmp_path / "schema.json"
    local.write_text('{"type": "object"}')
    ref = {"$ref": local.as_uri()}
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/x": {"post": {"requestBody": {"content": {"application/json": {"schema": ref}}}}}
        },
    }
    description_server.answers["/openapi.json"] = Answer(body=json.dumps(doc).encode())
    read_url = lambda url: httpx.get(url).content  # noqa: E731
    with pytest.raises(DescriptionError, match="from a URL may not refer to local files") as caught:
        load_description(description_server.url + "openapi.json", read_url=read_url)
    assert local.as_uri() in str(caught.value)


def test_a_path_that_is_not_a_regular_file_is_refused() -> None:
    """``/dev/zero`` or a pipe would be read forever; ``/dev/null`` stands in for them here."""
    with pytest.raises(DescriptionError, match="is not a regular file"):
        load_description("/dev/null")


def test_a_url_of_another_scheme_is_not_taken_for_a_file() -> None:
    with pytest.raises(DescriptionError, match=r"^ftp://host/openapi.json: only files and http"):
        load_description("ftp://host/openapi.json")


@pytest.mark.parametrize("raised", [True, False])
def test_a_fetch_out_of_time_says_so_in_the_same_words_whichever_deadline_ends_it(
    raised: bool,
) -> None:
    """The fetch's request has a deadline as long as the wait for it: when the request's ends
    first (an ApiConnectionError a hair before the wait's), the user reads the same sentence."""
    import time

    from ue_magic.cells.openapi._session import _within
    from ue_magic.errors import ApiConnectionError, DescriptionError

    def work() -> tuple[int, bytes]:
        time.sleep(0.2 if raised else 0.5)
        if raised:
            raise ApiConnectionError("GET ... within 0.2 s; give it more time with --timeout S")
        return 200, b"{}"

    with pytest.raises(DescriptionError, match=r"api.json did not answer within 0.2 s\.$"):
        _within(0.2, "http://127.0.0.1:9/api.json", work)
