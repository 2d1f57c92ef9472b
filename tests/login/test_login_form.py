"""The login form's protocol with the browser, message by message (issue 12: Enter submits; the
secret is never left in the widget model, so never in saved widget state).

The browser's side is played by hand with the messages JupyterLab's widget manager sends: an
``update`` with the field's value when it changes (on leaving the field or on Enter, as the
secret field does not sync while typed), and a ``custom`` ``{"event": "submit"}`` on Enter,
which the browser sends *before* the value (keypress comes before change). What the kernel
sends back is recorded from the widgets' comms. The real browser is in tests/browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pytest
from IPython.utils.capture import capture_output

import ue_magic
from tests.conftest import shown_widget
from ue_magic.core.credentials import Secret
from ue_magic.ipython.widget import LoginForm
from ue_magic.sandbox import Sandbox

SECRET = "s3cret-typed-in-the-form"


def from_browser(widget: widgets.Widget, data: dict[str, Any]) -> None:
    """Deliver a comm message from the front end, as the kernel's comm manager does."""
    widget._handle_msg({"content": {"data": data}, "buffers": []})


def typed_value(widget: widgets.Widget, value: str) -> None:
    from_browser(widget, {"method": "update", "state": {"value": value}, "buffer_paths": []})


def enter(widget: widgets.Widget) -> None:
    from_browser(widget, {"method": "custom", "content": {"event": "submit"}})


class Kernel:
    """Records what the kernel sends to the browser, and the deferred Enter callbacks."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.deferred: list[Callable[[], None]] = []

    def watch(self, *fields: widgets.Widget) -> None:
        for field in fields:
            assert field.comm is not None
            field.comm.publish_msg = self._record  # type: ignore[method-assign]

    def _record(self, msg_type: str, data: Any = None, *args: Any, **kwargs: Any) -> None:
        self.sent.append(data)

    def run_deferred(self) -> None:
        while self.deferred:
            self.deferred.pop(0)()


class Logins:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail = fail

    def __call__(self, client_id: str, secret: Secret, region: str) -> str:
        self.calls.append((client_id, secret.get_secret_value(), region))
        if self.fail:
            raise ValueError("The token endpoint refused the client id or secret.")
        return f"Logged in as {client_id}"


@pytest.fixture
def kernel() -> Kernel:
    return Kernel()


def make_form(kernel: Kernel, logins: Logins, client_id: str = "my-client") -> LoginForm:
    form = LoginForm(logins, client_id=client_id, defer=kernel.deferred.append)
    kernel.watch(form.secret, form.client_id, form.message, form.box)
    return form


def test_enter_submits_with_the_value_that_follows_it(kernel: Kernel) -> None:
    logins = Logins()
    form = make_form(kernel, logins)
    enter(form.secret)  # keypress first ...
    assert logins.calls == []
    typed_value(form.secret, SECRET)  # ... then the change with the typed value
    assert logins.calls == [("my-client", SECRET, "eu")]
    kernel.run_deferred()
    assert len(logins.calls) == 1


def test_enter_submits_a_secret_entered_before(kernel: Kernel) -> None:
    logins = Logins()
    form = make_form(kernel, logins)
    typed_value(form.secret, SECRET)  # left the field: the value came
    enter(form.secret)  # Enter in the now empty field: no change, no value
    assert logins.calls == []
    kernel.run_deferred()
    assert logins.calls == [("my-client", SECRET, "eu")]


def test_enter_submits_the_newest_secret(kernel: Kernel) -> None:
    logins = Logins()
    form = make_form(kernel, logins)
    typed_value(form.secret, "first-try")
    enter(form.secret)
    typed_value(form.secret, SECRET)
    kernel.run_deferred()
    assert logins.calls == [("my-client", SECRET, "eu")]


def test_enter_in_the_client_id_field_submits(kernel: Kernel) -> None:
    logins = Logins()
    form = make_form(kernel, logins, client_id="")
    typed_value(form.secret, SECRET)
    typed_value(form.client_id, "typed-id")
    enter(form.client_id)
    kernel.run_deferred()
    assert logins.calls == [("typed-id", SECRET, "eu")]


def test_enter_without_a_secret_asks_for_it(kernel: Kernel) -> None:
    logins = Logins()
    form = make_form(kernel, logins)
    enter(form.secret)
    kernel.run_deferred()
    assert logins.calls == [] and "secret" in form.message.value


def test_secret_leaves_the_model_the_moment_it_arrives(kernel: Kernel) -> None:
    form = make_form(kernel, Logins())
    typed_value(form.secret, SECRET)
    assert form.secret.value == "" and form.secret.get_state()["value"] == ""
    values = [m["state"]["value"] for m in kernel.sent if "value" in m.get("state", {})]
    assert values and values[-1] == "", "the browser's copy of the model was not emptied"
    assert SECRET not in repr(kernel.sent), "the kernel sent the secret back to the browser"
    assert "hidden" in form.secret.placeholder  # the user sees that it was taken


def test_failed_login_forgets_the_secret_and_says_why(kernel: Kernel) -> None:
    logins = Logins(fail=True)
    form = make_form(kernel, logins)
    typed_value(form.secret, SECRET)
    form.button.click()
    assert "refused" in form.message.value and SECRET not in form.message.value
    assert not form.button.disabled
    form.button.click()  # nothing held any more: the secret must be typed again
    assert len(logins.calls) == 1 and "secret" in form.message.value
    assert SECRET not in repr(kernel.sent)


def test_success_closes_the_fields(kernel: Kernel) -> None:
    form = make_form(kernel, Logins())
    fields = form.box.children
    typed_value(form.secret, SECRET)
    enter(form.secret)
    kernel.run_deferred()
    assert len(form.box.children) == 1 and "Logged in" in form.box.children[0].value
    assert all(field.comm is None for field in fields), "closed models stay out of saved state"


def test_magic_form_enter_logs_in_to_the_sandbox(
    ip: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through %ue_login in a notebook front end: outside a kernel's event loop the Enter
    check runs at once."""
    from tests.login.test_frontends import NOTEBOOK, in_frontend

    in_frontend(ip, monkeypatch, NOTEBOOK)
    with capture_output() as captured:
        ip.run_line_magic("ue_login", "--widget")
    views = [o for o in captured.outputs if "application/vnd.jupyter.widget-view+json" in o.data]
    box = shown_widget(views[0])
    text = next(w for w in box.children if type(w) is widgets.Text)
    password = next(w for w in box.children if isinstance(w, widgets.Password))
    typed_value(text, sandbox.client_id)
    typed_value(password, sandbox.client_secret)
    assert password.value == ""
    enter(password)
    assert len(box.children) == 1 and sandbox.client_id in box.children[0].value
    assert ue_magic.client().credentials.client_id == sandbox.client_id
