"""What real ``.http`` files use, read as the references read it (issue 23): file variables,
system variables, a variable where the URL begins, scheme-less targets, JetBrains' indented
target lines, ``&`` form lines, multipart line breaks, a templated Content-Type."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from ue_magic.cells.request import RequestSyntaxError, compile_request, parse_request

# -- file variables ---------------------------------------------------------------------------


def test_file_variables_are_text_where_they_stand_and_use_earlier_ones() -> None:
    cell = (
        "@host = 127.0.0.1:8000\n"
        "@base = http://{{host}}/api\n"
        "@ct = application/json\n"
        "POST {{base}}/items\n"
        "Content-Type: {{ct}}\n"
        "\n"
        '{"n": {{n}}, "by": "{{ who }}"}'
    )
    spec = parse_request(cell, {"n": 5, "who": "nb"})
    assert spec.path == "http://127.0.0.1:8000/api/items"
    assert spec.headers == (("Content-Type", "application/json"),)
    assert spec.body == b'{"n": 5, "by": "nb"}'


def test_file_variables_shadow_notebook_names() -> None:
    spec = parse_request("@id = 7\nGET /things/{{id}}", {"id": "from-notebook"})
    assert spec.path == "/things/7"


def test_a_dotted_variable_name_as_the_dotnet_template_writes_it() -> None:
    cell = "@App.Api_HostAddress = http://localhost:5000\nGET {{App.Api_HostAddress}}/weather/"
    assert parse_request(cell, {}).path == "http://localhost:5000/weather/"


def test_a_file_variable_in_a_json_string_must_leave_valid_json() -> None:
    with pytest.raises(RequestSyntaxError, match="invalid JSON"):
        parse_request('@v = say "hi"\nPOST /x\n\n{"a": "{{v}}"}', {})


@pytest.mark.parametrize("line", ["@name value", "@ = 1", "@1a = 2", "@a b = 3"])
def test_a_bad_variable_line_is_refused(line: str) -> None:
    with pytest.raises(RequestSyntaxError, match=r"@name = value") as info:
        parse_request(f"{line}\nGET /x", {})
    assert info.value.line == 1


def test_variable_lines_keep_line_numbers() -> None:
    with pytest.raises(RequestSyntaxError) as info:
        parse_request("@a = 1\n@b = 2\nPOST /x\n\n{bad", {})
    assert info.value.line == 5


# -- system variables -------------------------------------------------------------------------


def test_system_variables_are_computed_at_each_render() -> None:
    template = compile_request("GET /x?id={{$guid}}&n={{$randomInt 1 3}}\nX-At: {{$timestamp}}")
    first, second = template.render({}), template.render({})
    ids = [dict(spec.params or _query(spec.path))["id"] for spec in (first, second)]
    assert all(uuid.UUID(i) for i in ids) and ids[0] != ids[1]
    assert dict(_query(first.path))["n"] in ("1", "2")
    assert re.fullmatch(r"\d{10}", dict(first.headers)["X-At"])


def _query(path: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(path).query)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("{{$uuid}}", r"[0-9a-f-]{36}"),
        ("{{$isoTimestamp}}", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"),
        ("{{$datetime iso8601}}", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"),
        ("{{$datetime rfc1123 -1 d}}", r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"),
        ("{{$localDatetime iso8601}}", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"),
    ],
)
def test_system_variable_formats(text: str, pattern: str) -> None:
    spec = parse_request(f'POST /x\n\n{{"v": "{text}"}}', {})
    assert re.fullmatch(pattern, json.loads(spec.body or b"")["v"])


def test_a_system_variable_as_a_whole_json_value() -> None:
    spec = parse_request('POST /x\n\n{"n": {{$randomInt 5 6}}}', {})
    assert spec.body == b'{"n": 5}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{$processEnv UE_CLIENT_SECRET}}", "would read the kernel's environment"),
        ("{{$dotenv UE_CLIENT_SECRET}}", "would read the .env file"),
        ("{{$nope}}", "not a system variable"),
        ("{{$randomInt 5}}", "min and max"),
        ("{{$randomInt 9 1}}", "min < max"),
        ("{{$guid 1}}", "takes no arguments"),
        ("{{$timestamp 1 parsec}}", "an offset is a whole number and a unit"),
        ("{{$datetime 'YYYY'}}", "custom formats are not supported"),
        # an OverflowError's traceback before: a date outside the years 1 to 9999
        ("{{$timestamp 999999 y}}", "leaves the years 1 to 9999"),
        ("{{$datetime rfc1123 -999999 y}}", "leaves the years 1 to 9999"),
        ("{{$localDatetime iso8601 99999999999999999999 d}}", "leaves the years 1 to 9999"),
    ],
)
def test_unknown_or_bad_system_variables_are_refused(text: str, message: str) -> None:
    with pytest.raises(RequestSyntaxError, match=re.escape(message)):
        parse_request(f"GET /x?q={text}", {})


def test_an_unknown_system_variable_is_told_the_supported_list() -> None:
    with pytest.raises(RequestSyntaxError) as info:
        parse_request("GET /x?q={{$randomGuid}}", {})
    assert "Supported: {{$guid}}, {{$uuid}}, {{$timestamp" in str(info.value)


# -- the URL ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "namespace", "path"),
    [
        ("{{base}}/health", {"base": "http://127.0.0.1:47813"}, "http://127.0.0.1:47813/health"),
        ("http://{{host}}/x", {"host": "127.0.0.1:8000"}, "http://127.0.0.1:8000/x"),
        (
            "{{scheme}}://{{host}}:{{port}}/x",
            {"scheme": "http", "host": "h", "port": 1},
            "http://h:1/x",
        ),
        ("{{prefix}}/meters", {"prefix": "/usage-metering/v1"}, "/usage-metering/v1/meters"),
        ("/v1/{{id}}", {"id": "a/b"}, "/v1/a%2Fb"),  # after the authority: a path segment
        ("{{base}}/v1/{{id}}", {"base": "http://h", "id": "a b"}, "http://h/v1/a%20b"),
    ],
)
def test_a_variable_where_the_url_begins_is_url_text(
    target: str, namespace: dict[str, object], path: str
) -> None:
    assert parse_request(f"GET {target}", namespace).path == path


def test_url_text_with_a_dot_segment_is_refused() -> None:
    with pytest.raises(RequestSyntaxError, match=r"\. or \.\. segment"):
        parse_request("GET {{base}}/x", {"base": "/usage-metering/.."})


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("127.0.0.1:47813/v1/movies", "http://127.0.0.1:47813/v1/movies"),
        ("localhost:4000/x?a=1", "http://localhost:4000/x?a=1"),
        ("localhost", "http://localhost"),
        ("example.com/api", "http://example.com/api"),
        ("[::1]:8000/x", "http://[::1]:8000/x"),
        ("http:localhost:5000", "http://localhost:5000"),
        ("usage-metering/v1/meters", "usage-metering/v1/meters"),  # relative, as before
        ("v1.2/things", "v1.2/things"),
    ],
)
def test_a_scheme_less_target_is_http(target: str, path: str) -> None:
    assert parse_request(f"GET {target}", {}).path == path


def test_jetbrains_indented_target_lines_continue_the_target() -> None:
    cell = "POST http://h:1\n    /anything\n    /more\n    ?test=test\n    &b=2\nX-A: 1\n\n{}"
    spec = parse_request(cell, {})
    assert spec.path == "http://h:1/anything/more"
    assert spec.params == (("test", "test"), ("b", "2"))
    assert spec.headers[0] == ("X-A", "1")


# -- bodies -------------------------------------------------------------------------------------


def test_form_lines_starting_with_ampersand_are_joined() -> None:
    form = "Content-Type: application/x-www-form-urlencoded"
    cell = f"POST /login\n{form}\n\nname=foo\n  &password={{{{pw}}}}"
    assert parse_request(cell, {"pw": "a&b"}).body == b"name=foo&password=a%26b"


def test_a_multipart_body_is_sent_with_crlf() -> None:
    cell = (
        "POST /up\nContent-Type: multipart/form-data; boundary=b\n\n"
        '--b\nContent-Disposition: form-data; name="t"\n\nText\n--b--'
    )
    body = parse_request(cell, {}).body
    assert body == b'--b\r\nContent-Disposition: form-data; name="t"\r\n\r\nText\r\n--b--'


def test_a_templated_content_type_checks_the_json_body() -> None:
    with pytest.raises(RequestSyntaxError, match="invalid JSON") as info:
        parse_request('POST /x\nContent-Type: {{ct}}\n\n{"a": 1', {"ct": "application/json"})
    assert info.value.line == 4


def test_a_templated_content_type_escapes_json_strings() -> None:
    cell = 'POST /x\nContent-Type: {{ct}}\n\n{"a": "{{v}}"}'
    spec = parse_request(cell, {"ct": "application/json", "v": 'say "hi"'})
    assert json.loads(spec.body or b"") == {"a": 'say "hi"'}
    assert spec.sends_json


def test_a_templated_content_type_can_name_text_or_form() -> None:
    template = compile_request("POST /x\nContent-Type: {{ct}}\n\na={{v}}")
    form = template.render({"ct": "application/x-www-form-urlencoded", "v": "1 2"})
    text = template.render({"ct": "text/plain", "v": "1 2"})
    assert (form.body, text.body) == (b"a=1+2", b"a=1 2")


def test_trace_is_refused_with_its_reason() -> None:
    with pytest.raises(RequestSyntaxError, match="echo the request's headers"):
        parse_request("TRACE /x", {})


def test_a_body_is_trimmed_as_the_references_send_it() -> None:
    spec = parse_request('POST /x\n\n\n{"a": 1}  \n\n', {})
    assert spec.body == b'{"a": 1}'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("< ./input.json", "is not read; paste its content"),
        ("<@latin1 ./demo.xml", "is not read"),
        ('{}\n\n> {% client.global.set("a", 1); %}', "response handlers"),
        ("{}\n\n> ./handler.js", "response handlers"),
        ("{}\n\n<> previous-response.200.json", "references are not run"),
        ("{}\n\nGET /second HTTP/1.1", "a second request"),
    ],
)
def test_what_the_references_read_as_no_body_text_is_refused(body: str, message: str) -> None:
    with pytest.raises(RequestSyntaxError, match=re.escape(message)):
        parse_request(f"POST /x\nContent-Type: text/plain\n\n{body}", {})


@pytest.mark.parametrize("body", ['<note id="1">x</note>', "> a quoted line", "-> GET /x HTTP"])
def test_markup_and_quotes_stay_body_text(body: str) -> None:
    spec = parse_request(f"POST /x\nContent-Type: text/plain\n\n{body}", {})
    assert spec.body == body.encode()


def test_a_percent_variable_is_percent_encoded_as_rest_client_has_it() -> None:
    cell = "@name = Strunk & White\nGET /authors/{{%name}}?by={{%name}}"
    spec = parse_request(cell, {})
    assert spec.path == "/authors/Strunk%20%26%20White?by=Strunk%20%26%20White"
