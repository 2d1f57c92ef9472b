"""%%ue_call and %ue_call through a real InteractiveShell against the sandbox on loopback."""

from __future__ import annotations

import json
import shlex
from typing import Any

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import CapturedIO, capture_output

from ue_magic.sandbox import Sandbox

TYPES = "/usage-metering/v1/meter-types"
METERS = "/usage-metering/v1/meters"


def call(shell: Any, line: str, cell: str | None = None) -> tuple[Any, CapturedIO]:
    with capture_output() as captured:
        if cell is None:
            result = shell.run_line_magic("ue_call", line)
        else:
            result = shell.run_cell_magic("ue_call", line, cell)
    return result, captured


def api_requests(sandbox: Sandbox) -> int:
    return int(sandbox.counters()["api_requests"])


def meter_type(name: str) -> str:
    return json.dumps({"name": name, "unit": "calls", "aggregation": {"type": "sum"}})


# -- request forms ------------------------------------------------------------------------------


def test_json_body_form(shell: Any, sandbox: Sandbox) -> None:
    _, captured = call(shell, f"POST {TYPES} -o created", meter_type("form-one"))
    created = shell.user_ns["created"]
    assert created["name"] == "form-one" and created["id"]
    response = shell.user_ns["_ue"]
    assert isinstance(response, httpx.Response) and response.status_code == 201
    assert response.request.headers["authorization"] == "Bearer ***"
    html = captured.outputs[0].data["text/html"]
    assert "201" in html and "form-one" in html
    assert sandbox.counters()["by_route"][f"POST {TYPES}"] == 1


def test_http_message_form(shell: Any, sandbox: Sandbox) -> None:
    call(shell, f"POST {TYPES} -o t -q", meter_type("message-form"))
    cell = f"""# list the types called message-form
# a second comment
GET {TYPES}
?name=message-form
X-Trace: abc
"""
    _, captured = call(shell, "-o found", cell)
    assert [t["name"] for t in shell.user_ns["found"]["meterTypes"]] == ["message-form"]
    assert shell.user_ns["_ue"].request.headers["x-trace"] == "abc"
    assert captured.outputs


def test_line_form_returns_the_body(shell: Any) -> None:
    result = shell.run_cell(f"r = %ue_call GET {TYPES}")
    assert result.success
    assert isinstance(shell.user_ns["r"], dict) and "meterTypes" in shell.user_ns["r"]


def test_line_form_shows_once(shell: Any) -> None:
    result, captured = call(shell, f"GET {TYPES}")
    assert captured.outputs == []  # IPython shows the returned body through Out
    bundle = result._repr_mimebundle_()
    assert "200" in bundle["text/plain"]


def test_missing_method_means_get(shell: Any, sandbox: Sandbox) -> None:
    call(shell, f"{METERS} -q")
    assert sandbox.counters()["by_route"][f"GET {METERS}"] == 1


# -- interpolation --------------------------------------------------------------------------


def test_interpolation_in_every_place(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns.update(
        info={"name": 'interp "quoted" name', "capacity": 42},
        trace="t-1",
    )
    cell = f"""POST {TYPES}
X-Trace: {{{{trace}}}}

{{"name": "{{{{info.name}}}}", "unit": "calls", "capacity": {{{{info.capacity}}}},
 "aggregation": {{"type": "sum"}}}}"""
    call(shell, "-o t -q", cell)
    created = shell.user_ns["t"]
    assert created["name"] == 'interp "quoted" name' and created["capacity"] == 42
    assert shell.user_ns["_ue"].request.headers["x-trace"] == "t-1"
    shell.user_ns["tid"] = created["id"]
    call(shell, f"GET {TYPES}/{{{{tid}}}} -o again -q")
    assert shell.user_ns["again"]["id"] == created["id"]
    shell.user_ns["odd"] = "a/b c"
    call(shell, f"GET {TYPES}/{{{{odd}}}} --no-raise -q")
    assert shell.user_ns["_ue"].request.url.raw_path.endswith(b"/a%2Fb%20c")


def test_ipython_expansion_does_not_touch_the_request(shell: Any) -> None:
    """IPython does not expand; $y and {y} with no variable y go out as written (a defined one
    is refused: tests/cells/test_ipython_syntax_and_help.py)."""
    shell.user_ns.pop("y", None)
    body = json.dumps({"name": "$y {y} $HOME", "unit": "u", "aggregation": {"type": "sum"}})
    call(shell, f"POST {TYPES} -o t -q", body)
    assert shell.user_ns["t"]["name"] == "$y {y} $HOME"


# -- options --------------------------------------------------------------------------------


def test_repeated_headers(shell: Any) -> None:
    shell.user_ns["who"] = "me"
    call(shell, f'GET {METERS} -q -H "X-One: 1" -H "X-Who: {{{{who}}}}"')
    headers = shell.user_ns["_ue"].request.headers
    assert headers["x-one"] == "1" and headers["x-who"] == "me"


def test_quiet_shows_nothing(shell: Any) -> None:
    result, captured = call(shell, "-q", f"GET {METERS}\n")
    assert captured.outputs == [] and captured.stdout == "" and result is None


def test_table(shell: Any, sandbox: Sandbox) -> None:
    type_id = sandbox.seed_meters(3)
    shell.user_ns["type_id"] = type_id
    _, captured = call(shell, "--table", f"GET {METERS}?meterTypeId={{{{type_id}}}}\n")
    bundle = captured.outputs[0].data
    assert "<table" in bundle["text/html"] and "meterKey" in bundle["text/html"]


def test_raw(shell: Any) -> None:
    _, captured = call(shell, "--raw", f"GET {TYPES}\n")
    assert "<pre" in captured.outputs[0].data["text/html"]
    assert '"meterTypes"' in captured.outputs[0].data["text/plain"]


def test_timeout(shell: Any, sandbox: Sandbox) -> None:
    sandbox.set_latency(2.0)
    with pytest.raises(UsageError, match=r"(?i)time"):
        call(shell, f"POST {TYPES} --timeout 0.3 -q", meter_type("slow"))


def test_post_is_not_retried_unless_asked(shell: Any, sandbox: Sandbox) -> None:
    sandbox.inject("api", status=503, count=1)
    with pytest.raises(UsageError, match="503"):
        call(shell, f"POST {TYPES} -q", meter_type("no-retry"))
    assert sandbox.counters()["by_route"][f"POST {TYPES}"] == 1
    sandbox.inject("api", status=503, count=2)
    call(shell, f"POST {TYPES} --retry 2 -q -o t", meter_type("retried"))
    assert shell.user_ns["t"]["name"] == "retried"
    assert sandbox.counters()["by_route"][f"POST {TYPES}"] == 4


def test_get_is_retried(shell: Any, sandbox: Sandbox) -> None:
    # only this call's path: a request that another test left in flight must not take it
    sandbox.inject("api", status=503, count=1, retry_after=0, path_prefix=METERS)
    call(shell, f"GET {METERS} -q")
    assert shell.user_ns["_ue"].status_code == 200
    assert sandbox.counters()["by_route"][f"GET {METERS}"] == 2


# -- errors from the API ---------------------------------------------------------------------


def test_error_shows_body_keeps_output_and_raises(shell: Any) -> None:
    with capture_output() as captured, pytest.raises(UsageError) as caught:
        shell.run_cell_magic("ue_call", f"POST {TYPES} -o err", json.dumps({"name": "x" * 81}))
    message = str(caught.value)
    assert "400" in message and "name" in message and "--no-raise" in message
    assert "\n" not in message.strip()
    assert "err" not in shell.user_ns  # -o keeps its (here: no) value when the call raises
    assert shell.user_ns["_ue"].status_code == 400
    assert shell.user_ns["_ue"].json()["field"] == "name"
    assert "80" in captured.outputs[0].data["text/html"]


def test_error_stops_run_all(shell: Any) -> None:
    result = shell.run_cell(f"%ue_call GET {TYPES}/no-such-id")
    assert isinstance(result.error_in_exec, UsageError)
    assert "404" in str(result.error_in_exec)


def test_no_raise_goes_on(shell: Any) -> None:
    _, _captured = call(shell, f"GET {TYPES}/no-such-id --no-raise -o err")
    assert shell.user_ns["_ue"].status_code == 404
    assert isinstance(shell.user_ns["err"], dict)


# -- dry run and curl --------------------------------------------------------------------------


def test_dry_run_sends_nothing(shell: Any, sandbox: Sandbox) -> None:
    _, captured = call(shell, f"POST {TYPES} --dry-run", meter_type("dry"))
    assert api_requests(sandbox) == 0 and sandbox.counters()["token_requests"] == 0
    bundle = captured.outputs[0].data
    assert "Bearer ***" in bundle["text/plain"] and "dry" in bundle["text/plain"]
    assert sandbox.base_url.rstrip("/") in bundle["text/plain"]
    assert all(token not in str(bundle) for token in sandbox.issued_tokens)


def test_curl_uses_an_environment_variable(shell: Any, sandbox: Sandbox) -> None:
    _, captured = call(shell, f"POST {TYPES} --curl", meter_type("curl-me"))
    out = captured.stdout
    assert api_requests(sandbox) == 0
    assert "$UE_TOKEN" in out and sandbox.client_secret not in out
    assert all(token not in out for token in sandbox.issued_tokens)
    command = "\n".join(line for line in out.splitlines() if not line.startswith("#"))
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl" and "curl-me" in " ".join(words)


# -- mistakes: nothing is sent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "cell", "expected"),
    [
        (f"POST {TYPES}", '{"name": "a",\n "unit": }', "(?i)line 2"),
        (f"FETCH {TYPES}", "{}", "FETCH"),
        (f"GET {TYPES}/{{{{no_such_name}}}}", None, "no_such_name"),
        (f'GET {TYPES} -H "not a header"', None, "header"),
        ("GET https://evil.example.com/steal", None, "evil.example.com"),
        ("", f"GET {TYPES}\nBroken header line\n", "(?i)line 2"),
        ("GET", None, "path"),
        ("GET /a /b /c", None, "METHOD PATH"),
    ],
)
def test_mistakes_send_nothing(
    shell: Any, sandbox: Sandbox, line: str, cell: str | None, expected: str
) -> None:
    with pytest.raises(UsageError, match=expected):
        call(shell, line, cell)
    assert api_requests(sandbox) == 0


def test_each_mistake_is_a_short_usage_error(shell: Any) -> None:
    result = shell.run_cell(f"%%ue_call POST {TYPES}\n{{bad json")
    assert isinstance(result.error_in_exec, UsageError)


# -- big answers ----------------------------------------------------------------------------


def test_big_answer_is_truncated_but_kept_whole(shell: Any, sandbox: Sandbox) -> None:
    type_id = sandbox.seed_meters(5000)
    shell.user_ns["type_id"] = type_id
    result, _ = call(shell, f"GET {METERS}?meterTypeId={{{{type_id}}}} -o everything")
    assert len(shell.user_ns["everything"]["meters"]) == 5000
    assert len(shell.user_ns["_ue"].json()["meters"]) == 5000
    bundle = result._repr_mimebundle_()
    assert sum(len(v) for v in bundle.values()) <= 300_000
    assert "_ue" in bundle["text/html"] and "5,000" in bundle["text/html"]


def test_display_limit_is_configurable(shell: Any, sandbox: Sandbox) -> None:
    shell.run_line_magic("config", "UsageEngineMagics.display_limit = 3")
    shell.user_ns["type_id"] = sandbox.seed_meters(10)
    _, captured = call(shell, "", f"GET {METERS}?meterTypeId={{{{type_id}}}}\n")
    assert "7 more" in captured.outputs[0].data["text/plain"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("-o 1abc", "variable name"),
        ("-o a.b", "variable name"),
        ("--timeout 0", "timeout"),
        ("--timeout -1", "timeout"),
        ("--retry -1", "retry"),
        ("--each users --concurrency 0", "concurrency"),
        ("--table --raw", "--table or --raw"),
        ("--timeout soon", "timeout"),
    ],
)
def test_bad_options_send_nothing(
    shell: Any, sandbox: Sandbox, options: str, expected: str
) -> None:
    shell.user_ns["users"] = ["a"]
    with pytest.raises(UsageError, match=expected):
        call(shell, f"GET {TYPES} {options}")
    assert api_requests(sandbox) == 0


def test_help_lists_the_options(shell: Any) -> None:
    with capture_output() as captured:
        shell.run_line_magic("pinfo", "%ue_call")
    text = captured.stdout
    assert "--dry-run" in text and "--each" in text and "METHOD PATH" in text


def test_bare_line_form_is_shown_truncated_with_a_status_line(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_id"] = sandbox.seed_meters(3000)
    with capture_output() as captured:
        result = shell.run_cell(f"%ue_call GET {METERS}?meterTypeId={{{{type_id}}}}")
    assert result.success
    assert "200 OK" in captured.stdout and "more" in captured.stdout
    assert len(captured.stdout) < 300_000
    assert len(shell.user_ns["_ue"].json()["meters"]) == 3000


def test_quiet_line_form_shows_nothing_but_returns_the_body(shell: Any) -> None:
    with capture_output() as captured:
        shell.run_cell(f"%ue_call GET {TYPES} -q")
        shell.run_cell(f"r = %ue_call GET {TYPES} -q")
    assert "meterTypes" not in captured.stdout
    assert "meterTypes" in shell.user_ns["r"]


def test_line_form_no_raise_returns_the_error_body(shell: Any) -> None:
    shell.run_cell(f"r = %ue_call GET {TYPES}/missing --no-raise -q")
    assert isinstance(shell.user_ns["r"], dict) and shell.user_ns["_ue"].status_code == 404


def test_spaces_inside_braces_on_the_magic_line(shell: Any) -> None:
    call(shell, f"POST {TYPES} -o t -q", meter_type("spaced"))
    call(shell, f"GET {TYPES}/{{{{ t.id }}}} -o again -q")
    assert shell.user_ns["again"]["name"] == "spaced"


@pytest.mark.parametrize(
    "placeholder", ['{{ rows[0]["id"] }}', '{{rows[0]["id"]}}', "{{ rows[0]['id'] }}"]
)
def test_quoted_keys_inside_spaced_braces_on_the_magic_line(shell: Any, placeholder: str) -> None:
    call(shell, f"POST {TYPES} -o t -q", meter_type("quoted"))
    shell.user_ns["rows"] = [{"id": shell.user_ns["t"]["id"]}]
    call(shell, f"GET {TYPES}/{placeholder} -o again -q")
    assert shell.user_ns["again"]["name"] == "quoted"


@pytest.mark.parametrize(
    "header",
    ['"X-Id: {{ rows[0]["id"] }}"', "'X-Id: {{ rows[0]['id'] }}'", 'X-Id:{{ rows[0]["id"] }}'],
)
def test_quoted_keys_inside_a_quoted_header_on_the_magic_line(shell: Any, header: str) -> None:
    shell.user_ns["rows"] = [{"id": "abc"}]
    call(shell, f"GET {TYPES} -H {header} -q")
    assert shell.user_ns["_ue"].request.headers["x-id"] == "abc"


def test_an_unclosed_quote_on_the_magic_line_sends_nothing(shell: Any, sandbox: Sandbox) -> None:
    line = f'GET {TYPES} -H "X-A: 1 -q'
    column = line.index('"') + 1
    with pytest.raises(
        UsageError, match=f'Magic line, column {column}: this " quote is not closed'
    ):
        call(shell, line)
    assert api_requests(sandbox) == 0


def test_a_failed_call_leaves_no_stale_ue_and_keeps_o(shell: Any, sandbox: Sandbox) -> None:
    call(shell, f"GET {TYPES} -o out -q")
    before = shell.user_ns["out"]
    assert shell.user_ns["_ue"] is not None
    sandbox.inject("api", drop=True, count=10)
    with pytest.raises(UsageError):
        call(shell, f"GET {TYPES} -o out -q")
    assert shell.user_ns["_ue"] is None  # no answer: nothing stale
    assert shell.user_ns["out"] is before  # -o keeps what the last good call gave it


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("-o class", "variable name"),
        ("--timeout nan", "timeout"),
        ("--timeout inf", "timeout"),
        ("--retry 1000", "retry"),
        ('-H "Host: evil.example.com"', "Host"),
        ('-H "Authorization: Bearer stolen"', "Authorization"),
        ('-H "Content-Length: 5"', "Content-Length"),
    ],
)
def test_more_bad_options_send_nothing(
    shell: Any, sandbox: Sandbox, options: str, expected: str
) -> None:
    with pytest.raises(UsageError, match=expected):
        call(shell, f"GET {TYPES} {options}")
    assert api_requests(sandbox) == 0


def test_query_in_the_path_and_query_lines_are_both_sent(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["type_id"] = sandbox.seed_meters(5)
    call(shell, "-o page -q", f"GET {METERS}?meterTypeId={{{{type_id}}}}\n&limit=2\n")
    params = shell.user_ns["_ue"].request.url.params
    assert params["meterTypeId"] == shell.user_ns["type_id"] and params["limit"] == "2"
    assert len(shell.user_ns["page"]["meters"]) == 2
