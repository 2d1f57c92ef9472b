"""Conformance: real ``.http`` requests sent by httpyac (npm) and by ``%ue_call --file`` agree.

Each request of ``tests/data/http-corpus`` goes to a loopback echo server twice: through httpyac
6.16.7, a reference ``.http`` client, and through ``%ue_call --file FILE --name NAME`` in a real
InteractiveShell logged in to that server. What arrived is compared: method, path, decoded
query, the headers written in the file, the body bytes. Every difference is in ``DELIBERATE``
(the table of differences in docs/guide/http-cells.md says why); anything else fails. That page
states the count.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from .echo_server import TOKEN, Arrived, EchoServer
from .http_corpus import Request, materialize, seen

pytestmark = pytest.mark.interop

INTEROP_DIR = Path(__file__).parent
HTTPYAC = INTEROP_DIR / "node_modules" / ".bin" / "httpyac"
GUIDE = INTEROP_DIR.parent.parent / "docs" / "guide" / "http-cells.md"

#: request name -> (what differs, a word of ue-magic's refusal): "refused" (ue-magic sends nothing
#: and says why), "httpyac failed" (the reference cannot send it; ue-magic does), "differs" (both
#: send, not the same). The guide's table of differences gives each kind its reason.
DELIBERATE = {
    "rc_xml_authorization": ("refused", "leave out the Authorization header"),
    "rc_basic_auth": ("refused", "leave out the Authorization header"),
    "hy_headers_authorization": ("refused", "leave out the Authorization header"),
    "rc_graphql": ("refused", "invalid JSON"),  # a GraphQL body is not made JSON
    "rc_custom_datetime": ("refused", "custom formats are not supported"),
    "rc_process_env": ("refused", "$processEnv is not supported"),
    "jb_scheme_less": ("httpyac failed", ""),  # http:// as the JetBrains spec reads it
    "hy_local_datetime": ("differs", ""),  # "+00:00" sent as %2B; httpyac's bare + is a space
    "gl_get": ("httpyac failed", ""),  # scheme-less, as jb_scheme_less
    "it_malformed": ("refused", "invalid JSON"),  # the file's own "malformed JSON" example
    "rn_raw": ("refused", "add a header such as Content-Type: text/plain"),
    "sb_accounts": ("refused", "response handlers and references are not run"),
    "rv_no_amp": ("refused", "a line break in a form body is not a separator"),
}


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


def _require_httpyac() -> None:
    if shutil.which("node") and HTTPYAC.is_file():
        return
    message = "httpyac is not installed: run `make node` (cd tests/interop && npm ci)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _httpyac(folder: Path, file: str, echo: EchoServer) -> dict[str, Any]:
    """Send every request of ``file`` with httpyac; each name -> what arrived, or its error."""
    run = subprocess.run(
        [str(HTTPYAC), "send", file, "--all", "--json", "--no-color"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return paired(json.loads(run.stdout)["requests"], echo.take())


def paired(entries: list[dict[str, Any]], arrived: list[Arrived]) -> dict[str, Any]:
    """httpyac's ``--json`` entries, each name -> what arrived for it, or its error. Entries are
    regions, not requests: a ``### Variables`` block is one, with no response and no error, and
    takes no arrival. Arrivals come in order; each is checked against the request httpyac says
    it sent, so a wrong pairing fails here rather than comparing two different requests."""
    arrived = list(arrived)
    results: dict[str, Any] = {}
    for entry in entries:
        failed = [t for t in entry.get("testResults", []) if t.get("status") == "ERROR"]
        sent = (entry.get("response") or {}).get("request")
        if sent is not None:
            assert arrived, f"httpyac says it sent {entry['name']}, and nothing arrived"
            got = arrived.pop(0)
            assert (got.method, got.target) == (sent["method"], _target(sent["url"])), entry["name"]
            results[entry["name"]] = got
        elif failed:
            results[entry["name"]] = failed[0]["message"]
    assert not arrived, f"httpyac sent more than its results say: {arrived}"
    return results


def _target(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))


def _ue_call(ip: Any, folder: Path, request: Request, echo: EchoServer) -> Any:
    try:
        with capture_output():
            ip.run_line_magic("ue_call", f"--file {folder / request.file} --name {request.name} -q")
    except UsageError as error:
        assert not echo.take(), "a refused request must send nothing"
        return str(error)
    (arrived,) = echo.take()
    assert arrived.header("authorization") == f"Bearer {TOKEN}"
    return arrived


def test_corpus_agrees_with_httpyac(
    ip: Any, echo: EchoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_httpyac()
    requests = materialize(tmp_path, echo.port)
    assert len(requests) >= 60
    for name, value in {
        "UE_CLIENT_ID": "conformance",
        "UE_CLIENT_SECRET": "conformance-secret",
        "UE_AUDIENCE": echo.url,
        "UE_API_URL": echo.url,
        "UE_TOKEN_URL": f"{echo.url}oauth/token",
        "UE_OPENAPI": "off",  # the echo server has no description
    }.items():
        monkeypatch.setenv(name, value)
    with capture_output():
        ip.run_line_magic("ue_login", "")
    echo.take()

    reference: dict[str, Any] = {}
    for file in sorted({r.file for r in requests}):
        reference.update(_httpyac(tmp_path, file, echo))
    outcomes: dict[str, str] = {}
    for request in requests:
        ours = _ue_call(ip, tmp_path, request, echo)
        assert request.name in reference, f"httpyac did not list {request.name}"
        theirs = reference[request.name]
        if isinstance(theirs, str):
            assert not isinstance(ours, str), f"{request.name}: both failed: {ours} / {theirs}"
            outcomes[request.name] = "httpyac failed"
        elif TOKEN in str(theirs.headers):
            raise AssertionError("the login's token reached httpyac's request")
        elif isinstance(ours, str):
            outcomes[request.name] = f"refused: {ours}"
        else:
            got, want = seen(ours, request), seen(theirs, request)
            outcomes[request.name] = "agree" if got == want else f"differs: {got} != {want}"

    unexplained = {
        name: outcome
        for name, outcome in outcomes.items()
        if outcome != "agree"
        and (
            DELIBERATE.get(name, ("",))[0] != outcome.partition(":")[0]
            or DELIBERATE[name][1] not in outcome
        )
    }
    assert not unexplained, "\n".join(f"{name}: {why}" for name, why in unexplained.items())
    stale = {name for name in DELIBERATE if outcomes.get(name) == "agree"}
    assert not stale, f"listed as differences but agree now: {stale}"
    agree = sum(outcome == "agree" for outcome in outcomes.values())
    stated = f"{agree} of {len(outcomes)} requests agree"
    assert stated in GUIDE.read_text(encoding="utf-8"), f"the .http guide should say: {stated}"


def test_regions_without_a_request_take_no_arrival() -> None:
    """httpyac lists a ``### Variables`` block as an entry with no result: pairing arrivals by
    entry would give every later request the one before it."""
    get_a = Arrived("GET", "/a?x=1", (), b"")
    entries: list[dict[str, Any]] = [
        {"name": "Variables", "testResults": []},
        {"name": "one", "response": {"request": {"method": "GET", "url": "http://h:1/a?x=1"}}},
        {"name": "two", "testResults": [{"status": "ERROR", "message": "Invalid URL"}]},
    ]
    assert paired(entries, [get_a]) == {"one": get_a, "two": "Invalid URL"}
    with pytest.raises(AssertionError, match="one"):
        paired(entries, [Arrived("POST", "/b", (), b"")])
