"""The cell parser: both forms, every error with its position, interpolation in each context."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from ue_magic.cells.request import (
    METHODS,
    RequestSpec,
    RequestSyntaxError,
    UnknownNameError,
    compile_request,
    parse_request,
)
from ue_magic.errors import UsageEngineError

JSON = ("Content-Type", "application/json")


def spec_of(cell: str, ns: dict[str, Any] | None = None, **kw: Any) -> RequestSpec:
    return parse_request(cell, ns or {}, **kw)


def body_json(spec: RequestSpec) -> Any:
    """The body as the server decodes it."""
    assert spec.body is not None
    return json.loads(spec.body)


# --------------------------------------------------------------------------- HTTP-message form


@pytest.mark.parametrize(
    ("cell", "method", "path", "params", "headers", "body"),
    [
        ("GET /usage-metering/v1/meters", "GET", "/usage-metering/v1/meters", (), (), None),
        ("get /x", "GET", "/x", (), (), None),
        ("  Delete   /x/1  ", "DELETE", "/x/1", (), (), None),
        ("/x", "GET", "/x", (), (), None),
        ("usage-metering/v1/meters", "GET", "usage-metering/v1/meters", (), (), None),
        ("meters", "GET", "meters", (), (), None),
        ("GET /x HTTP/1.1", "GET", "/x", (), (), None),
        ("/x http/2", "GET", "/x", (), (), None),
        (
            "GET https://api.digitalroute.io/x?a=1",
            "GET",
            "https://api.digitalroute.io/x?a=1",
            (),
            (),
            None,
        ),
        ("# a comment\n\n## more\nHEAD /x", "HEAD", "/x", (), (), None),
        (
            "OPTIONS /x\r\nAccept: text/plain\r\n",
            "OPTIONS",
            "/x",
            (),
            (("Accept", "text/plain"),),
            None,
        ),
        (
            "GET /x\n?a=1\n&b=2&c=three%20four\n  &d\n&e=x+y",
            "GET",
            "/x",
            (("a", "1"), ("b", "2"), ("c", "three four"), ("d", ""), ("e", "x y")),
            (),
            None,
        ),
        ("GET /x\n?a=1=2", "GET", "/x", (("a", "1=2"),), (), None),
        (
            "GET /x\nAccept: application/json\nX-Trace :  abc  \nX-Empty:",
            "GET",
            "/x",
            (),
            (("Accept", "application/json"), ("X-Trace", "abc"), ("X-Empty", "")),
            None,
        ),
        ('POST /x\n\n{"a": 1}', "POST", "/x", (), (JSON,), b'{"a": 1}'),
        ("POST /x\n\n\n  [1, 2]\n\n", "POST", "/x", (), (JSON,), b"[1, 2]"),  # trimmed
        ("POST /x\n\n   \n", "POST", "/x", (), (), None),
        ("POST /x\n\n42", "POST", "/x", (), (JSON,), b"42"),
        (
            "POST /x\nContent-Type: text/plain\n\nhello {world}\n# a comment, dropped",
            "POST",
            "/x",
            (),
            (("Content-Type", "text/plain"),),
            b"hello {world}",
        ),
        (
            'PATCH /x\nContent-Type: application/merge-patch+json\n\n{"a": null}',
            "PATCH",
            "/x",
            (),
            (("Content-Type", "application/merge-patch+json"),),
            b'{"a": null}',
        ),
    ],
)
def test_http_message_form(
    cell: str, method: str, path: str, params: tuple, headers: tuple, body: bytes | None
) -> None:
    spec = spec_of(cell)
    assert (spec.method, spec.path, spec.params, spec.headers, spec.body) == (
        method,
        path,
        params,
        headers,
        body,
    )


def test_json_body_is_sent_as_json() -> None:
    spec = spec_of('POST /x\n\n{"a": [1, {"b": "c"}]}')
    assert spec.headers == (JSON,)
    assert body_json(spec) == {"a": [1, {"b": "c"}]}


def test_text_body_is_not_json() -> None:
    spec = spec_of("POST /x\nContent-Type: text/plain\n\nhi")
    assert (spec.headers, spec.body) == ((("Content-Type", "text/plain"),), b"hi")


def test_request_kwargs() -> None:
    spec = spec_of('POST /x\n?a=1\nX-A: b\n\n{"k": 1}')
    assert spec.request_kwargs() == {
        "params": [("a", "1")],
        "headers": [("X-A", "b"), JSON],
        "content": b'{"k": 1}',
    }
    assert spec_of("GET /x").request_kwargs() == {"params": None, "headers": None, "content": None}


# --------------------------------------------------------------------------- METHOD PATH form


@pytest.mark.parametrize(
    ("cell", "method", "path", "body", "headers"),
    [
        (
            '{"name": "api-calls"}',
            "post",
            "/usage-metering/v1/meter-types",
            b'{"name": "api-calls"}',
            (JSON,),
        ),
        ("", "GET", "/x", None, ()),
        ("   \n\t", "DELETE", "/x/1", None, ()),
        ('"just a string"', "PUT", "/x", b'"just a string"', (JSON,)),
        ("[]", "PUT", " /x ", b"[]", (JSON,)),
        ("GET /not/a/request/line", "GET", "/x", None, None),  # the cell is the body: invalid JSON
    ],
)
def test_method_path_form(
    cell: str, method: str, path: str, body: bytes | None, headers: tuple | None
) -> None:
    if headers is None:
        with pytest.raises(RequestSyntaxError) as info:
            spec_of(cell, method=method, path=path)
        assert (info.value.line, info.value.column) == (1, 1)
        return
    spec = spec_of(cell, method=method, path=path)
    assert (spec.method, spec.path, spec.body, spec.headers) == (
        method.upper(),
        path.strip(),
        body,
        headers,
    )


def test_path_alone_means_get() -> None:
    assert spec_of("", path="/x").method == "GET"


def test_magic_line_headers_replace_cell_headers() -> None:
    cell = "POST /x\nX-A: cell\nX-B: cell\n\nhello"
    spec = spec_of(cell, headers=["x-a: line {{ v }}", "Content-Type: text/plain"], ns={"v": 1})
    assert spec.headers == (("X-B", "cell"), ("x-a", "line 1"), ("Content-Type", "text/plain"))
    assert spec.body == b"hello"


def test_magic_line_content_type_decides_json() -> None:
    spec = spec_of(
        "a=1&b={{ v }}",
        method="POST",
        path="/x",
        ns={"v": "x&y z"},
        headers=["Content-Type: application/x-www-form-urlencoded"],
    )
    assert spec.body == b"a=1&b=x%26y+z"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("cell", "line", "column", "fragment"),
    [
        ("", 1, 1, "no request line"),
        ("# only a comment\n\n", 1, 1, "no request line"),
        ("FETCH /x", 1, 1, "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),
        ("\n\n  purge /x", 3, 3, "unknown method 'purge'"),
        ("GET", 1, 4, "give a PATH after GET"),
        ("GET /a b", 1, 7, "space"),
        ("GET /a\x01b", 1, 7, "control character"),
        ("GET /x\nnot a header", 2, 1, "not a header line"),
        ('GET /x\nX-A: 1\n{"a": 1}', 3, 1, "blank line between the headers and the body"),
        ("GET /x\nX-A: 1\n?a=1", 3, 1, "go right after the request line"),
        ("GET /x\nBad Name: 1", 2, 1, "not a header line"),
        ("GET /x\nX-A: a\x00b", 2, 7, "control character"),
        ('POST /x\n\n{"a": 1,, }', 3, 9, "invalid JSON"),
        ('POST /x\n\n{\n  "a": 1\n  "b": 2\n}', 5, 3, "expecting ',' delimiter"),
        ("POST /x\n\nhello", 3, 1, "Content-Type: text/plain"),
        ("POST /x\n\n[1, NaN]", 3, 1, "NaN is not JSON"),
        ('POST /x\n\n{"a": {{ }}}', 3, 10, "empty {{ }}"),
        ('POST /x\n\n{"a": {{ 1x }}}', 3, 10, "must start with a variable name"),
        ('POST /x\n\n{"a": {{ b + 1 }}}', 3, 12, "not '+ 1'"),
        ('POST /x\n\n{"a": {{ f() }}}', 3, 11, "not '()'"),
        ('POST /x\n\n{"a": {{ b[c] }}}', 3, 11, "not '[c]'"),
        ("POST /x\n\n{\"a\": {{ b['x\\N'] }}}", 3, 11, "not a valid string literal"),
        ('POST /x\n\n{"a": {{ b\n}}', 3, 7, "unclosed {{"),
        ("GET /x\nX-A: {{ b", 2, 6, "unclosed {{"),
        ('POST /x\n\n{"a": x{{ b }}}', 3, 8, "must be a whole JSON value"),
        ('POST /x\n\n{"a": {{ b }}1}', 3, 7, "must be a whole JSON value"),
        ("POST /x\n\n[{{ a }} {{ b }}]", 3, 2, "must be a whole JSON value"),
        ("POST /x\n\n[-{{ a }}]", 3, 3, "must be a whole JSON value"),
    ],
)
def test_syntax_errors_point_at_the_mistake(
    cell: str, line: int, column: int, fragment: str
) -> None:
    with pytest.raises(RequestSyntaxError) as info:
        compile_request(cell)
    error = info.value
    assert (error.line, error.column) == (line, column), str(error)
    assert fragment in str(error)
    lines = cell.split("\n")
    if line <= len(lines) and error.source_line is not None:
        assert error.source_line == lines[line - 1]
        assert f"Line {line}, column {column}:" in str(error)


def test_error_message_quotes_the_line_with_a_caret() -> None:
    with pytest.raises(RequestSyntaxError) as info:
        compile_request('POST /x\n\n{"a": 1,, }')
    text = str(info.value)
    assert text.splitlines() == [
        "Line 3, column 9: invalid JSON: expecting property name enclosed in double quotes.",
        '    {"a": 1,, }',
        "            ^",
    ]


def test_long_offending_line_is_quoted_around_the_column() -> None:
    body = '{"a": "' + "x" * 500 + '" "b": 1}'
    with pytest.raises(RequestSyntaxError) as info:
        compile_request(body, "POST", "/x")
    quoted, caret = str(info.value).splitlines()[1:]
    assert len(quoted) < 100
    assert quoted[caret.index("^")] == '"'


@pytest.mark.parametrize(
    ("method", "path", "column", "fragment"),
    [
        ("FETCH", "/x", 1, "unknown method 'FETCH'"),
        ("GET", "/a b", 3, "space"),
        ("GET", "/{{ a.( }}", 6, "not '.('"),
        ("GET", "", 1, "no path"),
    ],
)
def test_magic_line_errors_are_line_zero(
    method: str, path: str, column: int, fragment: str
) -> None:
    with pytest.raises(RequestSyntaxError) as info:
        compile_request("", method, path)
    assert (info.value.line, info.value.column) == (0, column)
    assert str(info.value).startswith(f"Magic line, column {column}:")
    assert fragment in str(info.value)


def test_method_without_path_is_an_error() -> None:
    with pytest.raises(RequestSyntaxError, match="give a PATH"):
        compile_request("", "GET", None)


def test_every_allowed_method() -> None:
    assert [compile_request(f"{m.lower()} /x").method for m in METHODS] == list(METHODS)


# --------------------------------------------------------------------------- interpolation


class Color(enum.Enum):
    RED = "red"


NS: dict[str, Any] = {
    "meter": {"id": "m/1 x", "tags": ["a", "b"], "items": 3, "nested": {"k": [10, 20]}},
    "obj": SimpleNamespace(name='O\'Brien "quoted"\n', n=5, items=["z"]),
    "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    "day": dt.date(2024, 1, 2),
    "money": decimal.Decimal("12.50"),
    "whole": decimal.Decimal("10"),
    "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "color": Color.RED,
    "pair": (1, "two"),
    "tags": {"b", "a"},
    "none": None,
    "flag": True,
    "text": 'line1\nline2\t"q" \\ é ☃',
    "url": "https://api.digitalroute.io/usage-metering/v1/meters?pageToken=a%2Fb",
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ meter }}", NS["meter"]),
        ("{{meter.id}}", "m/1 x"),
        ("{{ meter['id'] }}", "m/1 x"),
        ('{{ meter["tags"][1] }}', "b"),
        ("{{ meter.tags[-1] }}", "b"),
        ("{{ meter.nested.k[0] }}", 10),
        ("{{ meter.items }}", 3),  # a mapping key wins over dict.items
        ("{{ obj.name }}", 'O\'Brien "quoted"\n'),
        ("{{ obj.items[0] }}", "z"),
        ("{{ when }}", "2024-01-02T03:04:05+00:00"),
        ("{{ day }}", "2024-01-02"),
        ("{{ money }}", 12.5),
        ("{{ whole }}", 10),
        ("{{ uid }}", "12345678-1234-5678-1234-567812345678"),
        ("{{ color }}", "red"),
        ("{{ pair }}", [1, "two"]),
        ("{{ tags }}", ["a", "b"]),
        ("{{ none }}", None),
        ("{{ flag }}", True),
        ("{{ text }}", NS["text"]),
        ("[{{ flag }}, {{ none }} , {{pair}}]", [True, None, [1, "two"]]),
    ],
)
def test_whole_json_value(template: str, expected: object) -> None:
    spec = spec_of(f'{{"v": {template}}}', NS, method="POST", path="/x")
    assert body_json(spec) == {"v": expected}
    assert json.loads(spec.body or b"") == {"v": expected}


@pytest.mark.parametrize(
    ("inside", "expected"),
    [
        ("{{ meter.id }}", "m/1 x"),
        ("id={{ meter.id }}!", "id=m/1 x!"),
        ("{{ obj.name }}", 'O\'Brien "quoted"\n'),
        ("{{ text }}", NS["text"]),
        ("{{ obj.n }}", "5"),
        ("{{ when }}", "2024-01-02T03:04:05+00:00"),
        ("{{ none }}", "None"),
        ("{{ flag }}", "True"),
        ("{{ meter.tags }}", "['a', 'b']"),
        ("{{ color }}", "red"),
        ("a \\{{ b }} c", "a {{ b }} c"),
        ("{{ meter.id }}{{ meter.id }}", "m/1 xm/1 x"),
        ("\\\\", "\\"),
        ('\\"{{ meter.id }}\\"', '"m/1 x"'),
    ],
)
def test_inside_a_json_string(inside: str, expected: str) -> None:
    spec = spec_of(f'{{"v": "{inside}"}}', NS, method="POST", path="/x")
    assert body_json(spec) == {"v": expected}


def test_braces_in_plain_json_are_left_alone() -> None:
    cell = '{"a": {"b": {"c": []}}, "d": "}} and }"}'
    assert body_json(spec_of(cell, method="POST", path="/x")) == json.loads(cell)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/m/{{ meter.id }}", "/m/m%2F1%20x"),
        ("/m/{{ meter.id }}/x?q={{ meter.id }}", "/m/m%2F1%20x/x?q=m%2F1%20x"),
        ("/m/{{ obj.n }}", "/m/5"),
        ("{{ url }}", NS["url"]),  # a whole-path placeholder is a URL kept as it is
        # where the URL begins, a value is URL text, as in the .http references (issue 23)
        ("{{ url }}/x", NS["url"] + "/x"),
    ],
)
def test_path_is_url_encoded(path: str, expected: str) -> None:
    assert spec_of("", NS, method="GET", path=path).path == expected


def test_path_in_http_form_with_spaces_in_braces() -> None:
    assert spec_of("GET /m/{{ meter . id }}/t HTTP/1.1", NS).path == "/m/m%2F1%20x/t"


def test_query_lines_and_headers_take_text() -> None:
    cell = (
        "GET /x\n?id={{ meter.id }}&day={{ day }}\n&{{ color }}={{ obj.n }}\n"
        "X-Id: id {{ meter.id }}"
    )
    spec = spec_of(cell, NS)
    assert spec.params == (("id", "m/1 x"), ("day", "2024-01-02"), ("red", "5"))
    assert spec.headers == (("X-Id", "id m/1 x"),)


def test_query_values_are_not_split_by_interpolated_ampersands() -> None:
    spec = spec_of("GET /x\n?a={{ v }}&b=%26", {"v": "1&c=2"})
    assert spec.params == (("a", "1&c=2"), ("b", "&"))


@pytest.mark.parametrize(
    "where", ["GET /x\nX-A: {{ text }}", "GET /x\n?a={{ text }}", "GET /x/{{ text }}"]
)
def test_newlines_are_refused_where_they_would_inject(where: str) -> None:
    with pytest.raises(RequestSyntaxError, match="line break") as info:
        spec_of(where, NS)
    assert info.value.line in (1, 2)


def test_text_body_gets_plain_text() -> None:
    cell = (
        "POST /x\nContent-Type: text/plain; charset=utf-8\n\nhi {{ obj.name }} \\{{ no }} {{ day }}"
    )
    assert spec_of(cell, NS).body == b'hi O\'Brien "quoted"\n {{ no }} 2024-01-02'


def test_form_body_gets_url_encoded_values() -> None:
    cell = "POST /x\nContent-Type: application/x-www-form-urlencoded\n\na={{ meter.id }}&b=1"
    assert spec_of(cell, NS).body == b"a=m%2F1+x&b=1"


def test_numpy_and_pandas_values() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    ns = {
        "i": np.int64(7),
        "f": np.float32(0.5),
        "arr": np.array([[1, 2], [3, 4]]),
        "s": pd.Series([1, 2]),
        "ts": pd.Timestamp("2024-01-02T03:04:05Z"),
        "df": pd.DataFrame({"a": [1, 2]}),
    }
    cell = '{"i": {{i}}, "f": {{f}}, "arr": {{arr}}, "s": {{s}}, "ts": {{ts}}, "df": {{df}}}'
    assert body_json(spec_of(cell, ns, method="POST", path="/x")) == {
        "i": 7,
        "f": 0.5,
        "arr": [[1, 2], [3, 4]],
        "s": [1, 2],
        "ts": "2024-01-02T03:04:05+00:00",
        "df": [{"a": 1}, {"a": 2}],
    }


# --------------------------------------------------------------------------- render-time errors


class Boom:
    @property
    def bad(self) -> str:
        raise RuntimeError("secret detail")

    def at(self) -> str:
        return "secret detail"


def _circular() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


@pytest.mark.parametrize(
    ("cell", "ns", "line", "column", "fragment"),
    [
        ('POST /x\n\n{"a": {{ missing }}}', {}, 3, 7, "'missing' is not defined"),
        ("GET /x/{{ meter.nope }}", NS, 1, 8, "a dict has no key or attribute 'nope'"),
        ("GET /x/{{ obj.nope }}", NS, 1, 8, "a SimpleNamespace has no key or attribute 'nope'"),
        ("GET /x/{{ meter.tags[5] }}", NS, 1, 8, "a list has no item [5]"),
        ("GET /x/{{ meter['zz'] }}", NS, 1, 8, "a dict has no item ['zz']"),
        ("GET /x/{{ meter.items[0] }}", NS, 1, 8, "an int cannot be indexed"),
        (
            "GET /x/{{ b.bad }}",
            {"b": Boom()},
            1,
            8,
            "reading 'bad' of a Boom failed (RuntimeError)",
        ),
        ('POST /x\n\n{"a": {{ b }}}', {"b": Boom()}, 3, 7, "a Boom cannot be written as JSON"),
        (
            'POST /x\n\n{"a": {{ b }}}',
            {"b": [object()]},
            3,
            7,
            "an object cannot be written as JSON",
        ),
        ('POST /x\n\n{"a": {{ b }}}', {"b": float("nan")}, 3, 7, "NaN and infinity are not JSON"),
        ('POST /x\n\n{"a": {{ b }}}', {"b": decimal.Decimal("inf")}, 3, 7, "NaN and infinity"),
        ('POST /x\n\n{"a": {{ b }}}', {"b": _circular()}, 3, 7, "refers to itself"),
        ('POST /x\n\n{"a": "{{ b }}"}', {"b": b"\xff"}, 3, 8, "not UTF-8"),
        # a method's text ("<built-in method upper of str object at 0x...>") was sent as is
        ("GET /x?u={{ s.upper }}", {"s": "abc"}, 1, 10, "placeholders call nothing"),
        ('POST /x\n\n{"a": {{ f }}}', {"f": len}, 3, 7, "v = f(...)"),
        ("GET /x/{{ b.at }}", {"b": Boom()}, 1, 8, "is a function or method"),
    ],
)
def test_render_errors_name_the_placeholder(
    cell: str, ns: dict[str, Any], line: int, column: int, fragment: str
) -> None:
    with pytest.raises(RequestSyntaxError) as info:
        spec_of(cell, ns)
    assert (info.value.line, info.value.column) == (line, column), str(info.value)
    assert fragment in str(info.value)
    assert "secret detail" not in str(info.value)


def test_unknown_name_is_a_distinct_error() -> None:
    with pytest.raises(UnknownNameError) as info:
        spec_of("GET /x\nX-A: {{ nobody }}")
    assert info.value.name == "nobody"
    assert isinstance(info.value, RequestSyntaxError)
    assert (info.value.line, info.value.column) == (2, 6)


@pytest.mark.parametrize("cell", ["BREW /x", "GET /x\nX-A: {{ nobody }}"])
def test_cell_errors_are_usage_engine_errors_and_value_errors(cell: str) -> None:
    with pytest.raises(UsageEngineError) as info:
        spec_of(cell)
    assert isinstance(info.value, RequestSyntaxError) and isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- the template


def test_template_names_and_reuse() -> None:
    template = compile_request(
        'POST /m/{{ item.id }}\n?t={{ t }}\nX-A: {{ h[0] }}\n\n{"v": {{ item.v }}, "s": "{{ s }}"}'
    )
    assert template.names == frozenset({"item", "t", "h", "s"})
    first = template.render({"item": {"id": 1, "v": 2}, "t": "x", "h": ["y"], "s": "z"})
    second = template.render({"item": {"id": 3, "v": [4]}, "t": "x", "h": ["y"], "s": "z"})
    assert (first.path, body_json(first)) == ("/m/1", {"v": 2, "s": "z"})
    assert (second.path, body_json(second)) == ("/m/3", {"v": [4], "s": "z"})


def test_template_without_names_renders_the_same_spec() -> None:
    template = compile_request('POST /x\n\n{"a": 1}')
    assert template.names == frozenset()
    assert template.render({}) is template.render({"anything": 1})


def test_spec_is_frozen() -> None:
    spec = spec_of("GET /x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.path = "/y"  # type: ignore[misc]


def test_render_many_items() -> None:
    template = compile_request(
        '{"id": "{{ item.id }}", "v": {{ item.v }}}', "POST", "/m/{{ item.id }}"
    )
    specs = [template.render({"item": {"id": f"i{i}", "v": i}}) for i in range(2000)]
    assert [body_json(s) for s in specs[:2]] == [{"id": "i0", "v": 0}, {"id": "i1", "v": 1}]
    assert specs[-1].path == "/m/i1999"
