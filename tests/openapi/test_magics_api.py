"""Where the description comes from (option, setting, per profile, {api}openapi.json), what
happens when it is missing, broken, huge or slow, %ue_api, and completion through IPython."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.openapi.big import big_description
from tests.openapi.conftest import HAND_30, SANDBOX_31, Answer, DescriptionServer
from ue_magic.cells.openapi import OperationTable, OperationView, _load
from ue_magic.sandbox import Sandbox

DESCRIPTION = "/openapi.json"


def completions(ip: Any, text: str) -> list[str]:
    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


def login(ip: Any, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, line: str = "") -> None:
    monkeypatch.delenv("UE_OPENAPI", raising=False)  # found without a setting
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with capture_output():
        ip.run_line_magic("ue_login", line)


# -- naming the description ---------------------------------------------------------------------


def test_openapi_option(ip: Any, sandbox: Sandbox) -> None:
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {HAND_30}")
    with capture_output() as captured:
        ip.run_line_magic("ue_api", "--reload")
    assert "6 operations from" in captured.stdout and "(OpenAPI 3.0.3)" in captured.stdout


def test_setting_per_profile(
    ip: Any, sandbox: Sandbox, sandbox_openapi: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sandbox.env()
    staging = {k.replace("UE_", "UE_STAGING_", 1): v for k, v in env.items()}
    staging["UE_STAGING_OPENAPI"] = str(HAND_30)
    login(ip, {**staging, "UE_OPENAPI": sandbox_openapi}, monkeypatch, "--profile staging")
    with capture_output():
        ip.run_line_magic("ue_login", "")
    assert len(ip.run_line_magic("ue_api", "--profile staging").operations) == 6
    served = httpx.get(sandbox_openapi).json()["paths"]
    assert len(ip.run_line_magic("ue_api", "").operations) == sum(map(len, served.values()))
    # completion follows --profile: only the 3.0 description has X-Request-Id
    cell = "%%ue_call --profile staging\nGET /usage-metering/v1/meter-types\nX-Req"
    assert completions(ip, cell) == ["X-Request-Id"]


# -- {api}openapi.json, found without a setting -------------------------------------------------


def test_fetched_once_from_login(
    ip: Any, api_env: dict[str, str], description_server: DescriptionServer, monkeypatch: Any
) -> None:
    description_server.answers[DESCRIPTION] = Answer(body=SANDBOX_31.read_bytes())
    login(ip, api_env, monkeypatch)
    deadline = time.monotonic() + 10  # asked for at login, in the background, with no Tab
    while not description_server.hits and time.monotonic() < deadline:
        time.sleep(0.01)
    assert description_server.hits == {DESCRIPTION: 1}
    ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters --dry-run")
    for _ in range(3):
        assert completions(ip, "%ue_call GET /usage-metering/v1/me") == ["meter-types", "meters"]
    assert description_server.hits == {DESCRIPTION: 1}
    ip.run_line_magic("ue_api", "--reload")
    assert description_server.hits == {DESCRIPTION: 2}


@pytest.mark.parametrize(
    "answer",
    [
        Answer(404, b'{"error": "not_found", "message": "no route"}'),
        Answer(403, b'{"error": "insufficient_scope"}'),
        Answer(200, b"<html>API reference</html>", content_type="text/html"),
        Answer(200, b'{"status": "ok"}'),
    ],
    ids=["404", "403", "html", "other-json"],
)
def test_no_description_there_is_quiet(
    ip: Any,
    api_env: dict[str, str],
    description_server: DescriptionServer,
    monkeypatch: Any,
    answer: Answer,
) -> None:
    description_server.answers[DESCRIPTION] = answer
    login(ip, api_env, monkeypatch)
    with capture_output() as captured:
        assert "usage-metering" not in completions(ip, "%ue_call GET /usage-me")
        ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters --dry-run")
        assert completions(ip, "%ue_call --ta") == ["--table"]  # options need no description
    assert captured.stderr == ""
    assert "Matches" not in captured.stdout
    with pytest.raises(UsageError, match=r"No API description for this login .*UE_OPENAPI"):
        ip.run_line_magic("ue_api", "")
    assert description_server.hits == {DESCRIPTION: 1}


def broken() -> bytes:
    doc = json.loads(SANDBOX_31.read_text())
    doc["paths"]["/x"] = {"get": {"parameters": [{"$ref": "#/components/parameters/gone"}]}}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (Answer(body=b'{"openapi": "3.1.0", "paths": '), "is not JSON|neither JSON nor YAML"),
        (Answer(body=broken()), r"points at nothing \(no 'gone'\)"),
        (Answer(500, b"oops"), "answered 500"),
        (Answer(body=SANDBOX_31.read_bytes(), delay=3.0), "did not answer"),
        (Answer(body=SANDBOX_31.read_bytes(), drip=0.2), r"json did not answer within 0\.5 s\. "),
    ],
    ids=["truncated", "dangling-ref", "server-error", "slow", "dripping"],
)
def test_a_broken_or_slow_description_is_said_once(
    ip: Any,
    api_env: dict[str, str],
    description_server: DescriptionServer,
    monkeypatch: Any,
    answer: Answer,
    says: str,
) -> None:
    description_server.answers[DESCRIPTION] = answer
    ip.run_line_magic("config", "UsageEngineMagics.openapi_timeout = 0.5")
    login(ip, api_env, monkeypatch)
    with capture_output() as captured:
        # "slow": the warning says it did not answer, so the timeout ended it, not the answer
        assert "usage-metering" not in completions(ip, "%ue_call GET /usage-me")
        completions(ip, "%ue_call GET /usage-metering/v1/me")
        ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters --dry-run")
    warnings = [line for line in captured.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, captured.stderr
    assert warnings[0].startswith("API description not used: ")
    assert "openapi.json" in warnings[0] and warnings[0].endswith("Going on without it.")
    import re

    assert re.search(says, warnings[0])


def test_a_dripping_description_elsewhere_is_given_up_at_the_timeout(
    ip: Any, description_server: DescriptionServer
) -> None:
    """A URL on another origin than the API (fetched without the token): a byte every 0.2 s
    never trips a per-read timeout of 0.5 s, so the timeout must be for the whole answer."""
    description_server.answers[DESCRIPTION] = Answer(body=SANDBOX_31.read_bytes(), drip=0.2)
    ip.run_line_magic("config", "UsageEngineMagics.openapi_timeout = 0.5")
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {description_server.url}openapi.json")
    with capture_output() as captured:
        completions(ip, "%ue_call GET /usage-me")
        completions(ip, "%ue_call GET /usage-me")
    assert captured.stderr.count("API description not used") == 1
    assert "openapi.json did not answer within 0.5 s. Going on" in captured.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"swagger": "2.0"}', "is not an OpenAPI 3 description (swagger 2.0"),
        (None, "does not exist; check the path"),
    ],
    ids=["swagger-2", "missing"],
)
def test_a_broken_file_named_by_the_option(
    ip: Any, sandbox: Sandbox, tmp_path: Any, content: str | None, says: str
) -> None:
    path = tmp_path / "api.json"
    if content is not None:
        path.write_text(content)
    with capture_output() as at_login:
        ip.run_line_magic("ue_login", f"--openapi {path}")
    with capture_output() as captured:
        completions(ip, "%ue_call GET /u")
        completions(ip, "%ue_call GET /u")
        ip.run_line_magic("ue_call", "GET /usage-metering/v1/meters -q")  # the call still works
    said = at_login.stderr + captured.stderr
    assert said.count("API description not used") == 1
    assert f"{path} {says}" in said
    if content is None:  # a missing file is said at login, not at the first use
        assert f"{path} {says}" in at_login.stderr
    assert ip.user_ns["_ue"].status_code == 200


def test_terminal_ipython_completes_too(ip_openapi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The prompt_toolkit completer of terminal IPython asks the same IPython completer."""
    from IPython.terminal.ptutils import IPythonPTCompleter
    from prompt_toolkit.document import Document

    monkeypatch.setattr(ip_openapi, "min_elide", 30, raising=False)  # a terminal shell's setting
    completer = IPythonPTCompleter(shell=ip_openapi)
    text = "%ue_call GET /usage-metering/v1/me"
    found = list(completer.get_completions(Document(text, len(text)), None))
    assert [(c.text, c.start_position) for c in found] == [("meter-types", -2), ("meters", -2)]


def test_a_5_mb_description_works(
    ip: Any, api_env: dict[str, str], description_server: DescriptionServer, monkeypatch: Any
) -> None:
    description_server.answers[DESCRIPTION] = Answer(body=big_description(5_000_000))
    login(ip, api_env, monkeypatch)
    with capture_output() as captured:
        found = completions(ip, "%ue_call GET /service-7/v1/things-14")
    assert found == [f"things-14{n}" for n in range(10)]
    assert captured.stderr == ""
    view = repr(ip.run_line_magic("ue_api", "POST /service-7/v1/things-140"))
    assert 'kind*: "a" | "b" | "c"' in view


def test_over_the_size_limit_is_said_once(
    ip: Any,
    api_env: dict[str, str],
    description_server: DescriptionServer,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(_load, "MAX_BYTES", 1_000_000)
    description_server.answers[DESCRIPTION] = Answer(body=big_description(2_000_000))
    login(ip, api_env, monkeypatch)
    with capture_output() as captured:
        assert "things-20" not in completions(ip, "%ue_call GET /service-1/v1/")
        assert "things-20" not in completions(ip, "%ue_call GET /service-1/v1/")
    assert captured.stderr.count("API description not used") == 1
    assert "over the 1 MB ue-magic reads" in captured.stderr


# -- %ue_api --------------------------------------------------------------------------------------


def test_ue_api_table_filter_and_one_operation(ip_openapi: Any) -> None:
    table = ip_openapi.run_line_magic("ue_api", "meters/{id} delete:meters")
    assert isinstance(table, OperationTable)
    assert [(m, p) for m, p, _s, _sc in table.rows()] == [
        ("DELETE", "/usage-metering/v1/meters/{id}")
    ]
    assert "delete:meters" in repr(table) and "<td>DELETE</td>" in table._repr_html_()
    view = ip_openapi.run_line_magic("ue_api", "POST /usage-metering/v1/meters")
    assert isinstance(view, OperationView)
    text = repr(view)
    for part in (
        "POST /usage-metering/v1/meters  (createMeter)",
        "Scopes: create:meters",
        "  userId*: string (min 1, max 200)",
        "  customFields: object | null",
        "  201  Success",
        "%%ue_call POST /usage-metering/v1/meters",
        '{"userId": "x", "meterKey": "x", "meterTypeId": "x"}',  # minLength 1
    ):
        assert part in text
    assert "<pre>" in view._repr_html_()
    path_view = repr(ip_openapi.run_line_magic("ue_api", "DELETE /usage-metering/v1/meters/{id}"))
    assert "%ue_call DELETE /usage-metering/v1/meters/{{id}}" in path_view


def test_ue_api_example_cell_runs(ip_openapi: Any, sandbox: Sandbox) -> None:
    """The example of a body-less operation is a cell that works as it is."""
    view = ip_openapi.run_line_magic("ue_api", "GET /usage-metering/v1/meter-types")
    example = repr(view).split("Example:\n")[1].strip()
    assert example == "%ue_call GET /usage-metering/v1/meter-types"
    with capture_output():
        ip_openapi.run_cell(example)
    assert sandbox.counters()["by_route"] == {"GET /usage-metering/v1/meter-types": 1}


def test_ue_api_mistakes(ip: Any, ip_openapi: Any) -> None:
    with pytest.raises(
        UsageError,
        match=r"no GET /usage-metering/v1/meterz; closest: GET /usage-metering/v1/meters",
    ):
        ip_openapi.run_line_magic("ue_api", "GET /usage-metering/v1/meterz")
    for line in ("POST /usage-metering/v1/nothing-here", "PATCH /usage-metering/v1/meters"):
        with pytest.raises(UsageError) as caught:  # %ue_api sends nothing: it must not say so
            ip_openapi.run_line_magic("ue_api", line)
        assert "The API description has no" in str(caught.value)
        assert "sending" not in str(caught.value).lower()
    with pytest.raises(UsageError, match=r"Not logged in --profile other"):
        ip_openapi.run_line_magic("ue_api", "--profile other")


def test_ue_api_before_login(ip: Any) -> None:
    with pytest.raises(UsageError, match="Not logged in: run %ue_login first"):
        ip.run_line_magic("ue_api", "")


# -- completion through IPython -----------------------------------------------------------------


def test_completion_sends_no_request(ip_openapi: Any, sandbox: Sandbox) -> None:
    ip_openapi.user_ns["meter_ids"] = ["a"]
    for text in (
        "%ue_call GET /usage-metering/v1/me",
        "%ue_call GET /usage-metering/v1/meters?meterT",
        "%%ue_call\nPOST /usage-metering/v1/meters\nIdem",
        "%ue_call GET /usage-metering/v1/meters/{{mete",
        "%ue_call --ta",
    ):
        assert completions(ip_openapi, text), text
    assert sandbox.counters()["api_requests"] == 0


def test_unload_takes_the_matcher_away(ip_openapi: Any) -> None:
    assert completions(ip_openapi, "%ue_call --ta") == ["--table"]
    ip_openapi.run_line_magic("unload_ext", "ue_magic")
    ids = [getattr(m, "matcher_identifier", "") for m in ip_openapi.Completer.custom_matchers]
    assert "ue_magic" not in ids
    ip_openapi.run_line_magic("load_ext", "ue_magic")
    ids = [getattr(m, "matcher_identifier", "") for m in ip_openapi.Completer.custom_matchers]
    assert ids.count("ue_magic") == 1


def test_off_means_no_description_and_no_request(
    ip: Any, api_env: dict[str, str], description_server: DescriptionServer, monkeypatch: Any
) -> None:
    description_server.answers[DESCRIPTION] = Answer(body=SANDBOX_31.read_bytes())
    login(ip, {**api_env, "UE_OPENAPI": "off"}, monkeypatch)
    completions(ip, "%ue_call GET /usage-me")
    with pytest.raises(
        UsageError, match=r"turned off \(UE_OPENAPI or %ue_login --openapi is 'off'\)"
    ):
        ip.run_line_magic("ue_api", "")
    assert description_server.hits == {}


def test_a_mistake_in_the_cell_is_reported_without_waiting_for_the_description(
    ip: Any, api_env: dict[str, str], description_server: DescriptionServer, monkeypatch: Any
) -> None:
    description_server.answers[DESCRIPTION] = Answer(body=SANDBOX_31.read_bytes(), delay=3.0)
    login(ip, api_env, monkeypatch)
    with pytest.raises(UsageError, match="'nobody' is not defined"):
        ip.run_cell_magic("ue_call", "POST /usage-metering/v1/meters", '{"userId": {{nobody}}}')
    described = ip.magics_manager.registry["UsageEngineMagics"].logins.get(None).description
    assert not described.loaded  # the slow description's load is still under way


def test_a_url_s_password_and_query_are_never_shown(
    ip: Any, description_server: DescriptionServer
) -> None:
    """A signed URL (``?sig=``) or ``user:password@`` names the description: messages name it
    without them, as the client's own messages leave out a request's query."""
    host = description_server.url.removeprefix("http://")
    url = f"http://bob:hunter2@{host}openapi.json?sig=SIGNATURE"
    with capture_output() as captured:
        ip.run_line_magic("ue_login", f"--openapi {url}")
        completions(ip, "%ue_call GET /usage-me")  # 404: one warning
        with pytest.raises(UsageError) as caught:
            ip.run_line_magic("ue_api", "")
        description_server.answers["/openapi.json?sig=SIGNATURE"] = Answer(
            body=SANDBOX_31.read_bytes()
        )
        ip.run_line_magic("ue_api", "--reload")
    shown = captured.stdout + captured.stderr + str(caught.value)
    assert "answered 404" in shown and "operations from http://" in shown
    assert f"{host}openapi.json" in shown
    assert "hunter2" not in shown and "SIGNATURE" not in shown


def test_no_description_is_one_clean_sentence(ip: Any, tmp_path: Any) -> None:
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {tmp_path / 'gone.json'}")
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("ue_api", "")
    assert "gone.json does not exist; check the path). Name one with" in str(caught.value)


def test_each_with_a_preview_is_refused_before_the_operation_is_named(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(ip, sandbox.env(), monkeypatch)
    ip.user_ns["ids"] = ["a"]
    with capture_output() as captured, pytest.raises(UsageError) as info:
        ip.run_line_magic("ue_call", "--each ids --dry-run GET /usage-metering/v1/meters/{{item}}")
    assert str(info.value) == "--each cannot be combined with --dry-run."
    assert captured.stdout == ""  # no "Matches ..." line before the refusal


def test_a_request_without_a_body_does_not_wait_for_jsonschema(sandbox: Sandbox) -> None:
    """Importing jsonschema can take seconds; a GET has no body to check, so it must not wait:
    the import runs in the background warm-up (held here at a gate until the GETs are done;
    a GET that waited for it would find jsonschema imported, after the gate's 20 s)."""
    import subprocess
    import sys

    env = dict(sandbox.env())
    probe = (
        "import os, sys, threading\n"
        f"os.environ.update({env!r})\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from IPython.utils.capture import capture_output\n"
        "from ue_magic.cells.openapi import _validate\n"
        "gate, real, callers = threading.Event(), _validate.import_jsonschema, []\n"
        "def held():\n"
        "    callers.append(threading.current_thread().name)\n"
        "    gate.wait(20)\n"
        "    return real()\n"
        "_validate.import_jsonschema = held\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'ue_magic')\n"
        "with capture_output():\n"
        "    ip.run_line_magic('ue_login', '')\n"
        "    ip.run_line_magic('ue_call', 'GET /usage-metering/v1/meters -q')\n"
        "    ip.run_line_magic('ue_call', 'GET /usage-metering/v1/nothing-here -q --no-raise')\n"
        "print(ip.magics_manager.registry['UsageEngineMagics'].description_of() is not None)\n"
        "print('jsonschema' in sys.modules, callers == ['ue-magic body checks warm-up'])\n"
        "gate.set()\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "True"], out.stderr


def test_ue_api_waits_for_the_load_past_the_call_s_timeout(
    ip: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call goes on unchecked once the load has run ``openapi_timeout``; %ue_api, which has
    nothing to show without it, waits that long again from its own start, then says the load
    is still running (not "no description", nor to name one)."""
    from ue_magic.cells.openapi import _model

    gate = threading.Event()
    real = _model.load_description  # read by the load when it runs

    def slow(*args: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(_model, "load_description", slow)
    ip.run_line_magic("config", "UsageEngineMagics.openapi_timeout = 1.0")
    path = tmp_path / "openapi.json"
    path.write_text(SANDBOX_31.read_text())
    with capture_output():
        ip.run_line_magic("ue_login", f"--openapi {path}")
    with pytest.raises(UsageError) as caught:  # still loading after 1 s and its grace
        ip.run_line_magic("ue_api", "meters")
    said = str(caught.value)
    assert "is still loading" in said and "run %ue_api again in a moment" in said
    assert "Name one" not in said
    time.sleep(1.2)  # the load has run past the timeout and its grace: a call would not wait
    threading.Timer(0.2, gate.set).start()
    with capture_output() as captured:
        view = ip.run_line_magic("ue_api", "meters")
    assert "operations matching 'meters'" in repr(view)
    assert captured.stderr == ""
