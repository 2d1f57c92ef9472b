"""Per-call work done once (per answer, per line, per cookie-setting answer), nothing changed for
the user: the cookie jar skips answers that set no cookie, a line's options are made once until
a setting changes, -q skips the paging check only its view reads, a view's status line is built
once for both forms, and a request already masked is not masked again."""

from __future__ import annotations

import http.cookiejar
import json
import socket
from typing import Any

import httpx
import pytest
from IPython.utils.capture import capture_output

from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import UsageEngineClient
from ue_magic._constants import BEARER_MASK
from ue_magic.cells.call import options_for
from ue_magic.cells.render import ResponseView
from ue_magic.core import pages
from ue_magic.core._kept import mask_request
from ue_magic.sandbox import Sandbox

TYPES = "/usage-metering/v1/meter-types"


def cookie_api(seen: Seen, conn: socket.socket) -> None:
    path = seen.target.split("?")[0]
    if seen.target == TOKEN_PATH:
        token_answer(conn, "tok-" + "c" * 40)
    elif path == "/set":
        answer(conn, 200, {"ok": True}, (("Set-Cookie", "session=s1; Path=/"),))
    elif path == "/shouting":  # header names are case-insensitive: still a cookie
        answer(conn, 200, {"ok": True}, (("SET-COOKIE", "region=eu; Path=/"),))
    else:
        answer(conn, 200, {"cookie": seen.headers.get("cookie", "")})


@pytest.fixture
def jar_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The answers ``http.cookiejar`` was given to read, by path."""
    reads: list[str] = []
    original = http.cookiejar.CookieJar.extract_cookies

    def counted(jar: Any, response: Any, request: Any) -> None:
        reads.append(request.get_full_url().rsplit("/", 1)[-1])
        original(jar, response, request)

    monkeypatch.setattr(http.cookiejar.CookieJar, "extract_cookies", counted)
    return reads


def test_cookies_the_api_sets_are_kept_and_sent_back(jar_reads: list[str]) -> None:
    with serving(cookie_api) as server, UsageEngineClient(creds_for(server)) as ue:
        ue.get("set")
        ue.get("shouting")
        later = ue.get("echo")
    assert sorted(later.json()["cookie"].split("; ")) == ["region=eu", "session=s1"]
    assert jar_reads == ["set", "shouting"]  # "echo" set no cookie: the jar was not asked


def test_an_answer_without_cookies_is_not_read_by_the_jar(jar_reads: list[str]) -> None:
    with serving(cookie_api) as server:
        with httpx.Client(base_url=server.url) as plain:
            plain.get("echo")
        assert jar_reads == ["echo"]  # httpx's own client reads every answer
        with UsageEngineClient(creds_for(server)) as ue:
            for _ in range(3):
                assert ue.get("echo").json() == {"cookie": ""}
    assert jar_reads == ["echo"]


@pytest.fixture
def shell(ip: Any) -> Any:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    return ip


def magics(shell: Any) -> Any:
    return shell.magics_manager.registry["UsageEngineMagics"]


def test_a_lines_options_are_made_once_until_a_setting_changes(shell: Any) -> None:
    m = magics(shell)
    args = m._call_args(f"GET {TYPES} -q")
    first = options_for(args, m)
    assert options_for(args, m) is first
    shell.run_line_magic("config", "UsageEngineMagics.display_limit = 3")
    changed = options_for(args, m)
    assert changed is not first and changed.display_limit == 3
    m.timeout = 7.5  # set in code, not by %config: the same
    assert options_for(args, m).timeout == 7.5
    assert options_for(m._call_args(f"GET {TYPES} -q --timeout 2"), m).timeout == 2


def test_a_setting_changed_between_two_same_cells_is_obeyed(shell: Any, sandbox: Sandbox) -> None:
    for n in range(5):
        body = json.dumps({"name": f"once-{n}", "unit": "u", "aggregation": {"type": "sum"}})
        with capture_output():
            shell.run_cell_magic("ue_call", f"POST {TYPES} -q", body)
    with capture_output() as before:
        shell.run_cell_magic("ue_call", "", f"GET {TYPES}\n")
    shell.run_line_magic("config", "UsageEngineMagics.display_limit = 2")
    with capture_output() as after:
        shell.run_cell_magic("ue_call", "", f"GET {TYPES}\n")
    # the session's sandbox may hold other tests' types too: at least these five
    assert "Showing 2 of" not in before.outputs[0].data["text/html"]
    assert "Showing 2 of" in after.outputs[0].data["text/html"]


def test_quiet_calls_skip_the_paging_check_that_only_the_view_reads(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked: list[object] = []
    original = pages.find_next

    def counted(*args: Any, **kwargs: Any) -> Any:
        looked.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(pages, "find_next", counted)
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {TYPES} -q")
    assert looked == []
    with capture_output():
        shell.run_line_magic("ue_call", f"GET {TYPES}")  # a view: its paging note is checked
    assert len(looked) == 1


def test_a_views_status_line_is_built_once_for_both_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = httpx.Request("GET", "https://api.example/usage-metering/v1/meters")
    response = httpx.Response(200, json={"meters": [1, 2]}, request=request)
    built: list[str] = []
    original = ResponseView.status_line

    def counted(view: ResponseView) -> str:
        built.append("status")
        return original(view)

    monkeypatch.setattr(ResponseView, "status_line", counted)
    bundle = ResponseView(response)._repr_mimebundle_()
    assert built == ["status"]
    assert bundle["text/plain"].startswith("200 OK  GET /usage-metering/v1/meters")
    assert "200 OK  GET /usage-metering/v1/meters" in bundle["text/html"]


def test_a_masked_request_is_not_masked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    request = httpx.Request("GET", "https://api.example/x", headers={"Authorization": "Bearer t1"})
    sets: list[str] = []
    original = httpx.Headers.__setitem__

    def counted(headers: httpx.Headers, key: str, value: str) -> None:
        sets.append(value)
        original(headers, key, value)

    monkeypatch.setattr(httpx.Headers, "__setitem__", counted)
    mask_request(request)
    mask_request(request)
    assert request.headers["authorization"] == BEARER_MASK and sets == [BEARER_MASK]
    twice = httpx.Request(
        "GET",
        "https://api.example/x",
        headers=[("Authorization", BEARER_MASK), ("Authorization", "t2")],
    )
    mask_request(twice)  # a second value beside the mask is still replaced
    assert twice.headers.get_list("authorization") == [BEARER_MASK]
