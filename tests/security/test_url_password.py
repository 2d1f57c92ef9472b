"""A password in ``UE_API_URL``'s userinfo (``http://me:pw@host/``) is shown as ``***``: in the
login line, ``%ue_status``, ``--curl``, ``--dry-run``, messages and log records."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.core.credentials import without_password
from ue_magic.sandbox import Sandbox

PASSWORD = "pw-Hunter2-secret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://me:{PASSWORD}@api.example.com/x?a=1", "https://me:***@api.example.com/x?a=1"),
        ("https://me@api.example.com/", "https://me@api.example.com/"),
        ("https://api.example.com/a@b", "https://api.example.com/a@b"),
    ],
)
def test_without_password(url: str, shown: str) -> None:
    assert without_password(url) == shown


def test_a_password_in_the_api_url_is_never_shown(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = sandbox.base_url.replace("http://", f"http://me:{PASSWORD}@")
    monkeypatch.setenv("UE_API_URL", base)
    shown = []
    with capture_output() as captured:
        ip.run_line_magic("ue_login", "")
        shown.append(repr(ip.run_line_magic("ue_status", "")))
        ip.run_line_magic("ue_call", "GET /usage-metering/v1/meter-types --curl")
        ip.run_line_magic("ue_call", "GET /usage-metering/v1/meter-types --dry-run")
    shown += [text for output in captured.outputs for text in output.data.values()]
    assert any("GET http://me:***@127.0.0.1" in text for text in shown)  # the --dry-run view
    monkeypatch.setenv("UE_API_URL", "http://me:" + PASSWORD + "@127.0.0.1:9/")
    with capture_output():
        ip.run_line_magic("ue_login", "")
    with capture_output(), pytest.raises(UsageError) as info:
        ip.run_line_magic("ue_call", "GET /x --timeout 2 --retry 0")
    shown += [captured.stdout, captured.stderr, str(info.value)]
    shown += [logging.Formatter().format(record) for record in caplog.records]
    assert "Could not reach GET http://me:***@127.0.0.1:9/x" in str(info.value)
    assert "me:***@127.0.0.1" in captured.stdout
    assert [text for text in shown if PASSWORD in text] == []
