"""What happens around a login form and a %reload_ext: the things a user does between showing
the form and filling it in, and what the extension keeps when it is reloaded.

A form is live until it is used: a form left on screen after a later %ue_login or %ue_logout of
its profile (or %unload_ext) would otherwise replace that later login when someone fills it in.
A reload keeps every login with all it had (its API description too), and a form shown before
the reload still logs in to the reloaded extension.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import ue_magic
from tests.login.test_frontends import (
    CONSOLE,
    NOTEBOOK,
    fill,
    in_frontend,
    no_credentials,
    run,
    shown_form,
)
from ue_magic.sandbox import Sandbox


def reload(ip: Any) -> str:
    """%reload_ext in a cell, as a user runs it (an unload outside a cell closes the logins)."""
    with capture_output() as captured:
        assert ip.run_cell("%reload_ext ue_magic").success
    return captured.stdout


def test_reload_keeps_the_api_description(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UE_OPENAPI", raising=False)  # the sandbox serves its own
    run(ip)
    reload(ip)
    listed = ip.run_line_magic("ue_api", "meter-types")
    assert "/usage-metering/v1/meter-types" in repr(listed)
    sent = sandbox.counters()["api_requests"]
    with pytest.raises(UsageError, match="name"):  # checked against the schema, not sent
        ip.run_cell_magic("ue_call", "POST /usage-metering/v1/meter-types", '{"unit": "calls"}')
    assert sandbox.counters()["api_requests"] == sent


def test_form_shown_before_a_reload_logs_in_after_it(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    no_credentials(monkeypatch)
    box, _ = shown_form(run(ip))
    reload(ip)
    with pytest.raises(UsageError, match="still waiting"):
        ue_magic.client()
    with capture_output():
        fill(box, sandbox.client_id, sandbox.client_secret)
    assert ue_magic.client().credentials.client_id == sandbox.client_id
    assert ip.run_line_magic("ue_call", "GET /usage-metering/v1/meter-types -q") is not None


@pytest.mark.parametrize("later", ["ue_login --sandbox", "ue_logout", "unload_ext ue_magic"])
def test_a_later_login_or_logout_closes_the_waiting_form(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, later: str
) -> None:
    in_frontend(ip, monkeypatch, NOTEBOOK)
    no_credentials(monkeypatch)
    box, display_id = shown_form(run(ip))
    controls = box.children  # the form's own widgets, which a stale click would still reach
    with capture_output() as after:
        magic, _, line = later.partition(" ")
        ip.run_line_magic(magic, line)
    if magic == "ue_logout":
        assert "login form" in after.stdout and "closed" in after.stdout
    updates = [o for o in after.outputs if o.update]
    assert [u.transient["display_id"] for u in updates] == [display_id]
    assert "closed" in updates[0].data["text/plain"]
    tokens = sandbox.counters()["token_requests"]
    kept = ue_magic.client().credentials.api_url if magic == "ue_login" else None
    with capture_output():
        fill(widgets.VBox(controls), sandbox.client_id, sandbox.client_secret)  # does nothing
    if magic == "unload_ext":
        with pytest.raises(UsageError, match="load_ext ue_magic"):
            ue_magic.client()
        ip.run_line_magic("load_ext", "ue_magic")  # the fixture unloads it again
    elif kept is None:
        with pytest.raises(UsageError, match="Not logged in: run %ue_login first"):
            ue_magic.client()
    else:
        assert ue_magic.client().credentials.api_url == kept
    assert sandbox.counters()["token_requests"] == tokens


@pytest.mark.parametrize("kernel", [None, CONSOLE], ids=["terminal", "console"])
def test_widget_option_where_no_widget_can_show(
    ip: Any, monkeypatch: pytest.MonkeyPatch, kernel: Any
) -> None:
    in_frontend(ip, monkeypatch, kernel)
    with pytest.raises(UsageError, match="--prompt"):
        run(ip, "--widget")
    with pytest.raises(UsageError, match="Not logged in: run %ue_login first"):
        ue_magic.client()


def test_sandbox_login_line_fits_the_width(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    out = run(ip, "--sandbox").stdout
    assert out.startswith("Sandbox (a local emulator in this kernel, not a real account).")
    assert max(len(line) for line in out.splitlines()) <= 100, out
