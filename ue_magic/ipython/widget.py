"""The login form shown by %ue_login when the client id or secret is missing.

The secret must be in no saved notebook at any moment, and JupyterLab can save widget state
(the front end's copy of every model) whenever the notebook is saved. So the secret field
syncs its value only when the user leaves it or presses Enter (``continuous_update=False``:
while typed, the secret is in the browser's input box, not in the model), and the kernel moves
it out of the model the moment it arrives: into a ``Secret`` held by the form, with the field
emptied at once. Enter in either field submits, as does the button. ipywidgets is imported
here only, so that loading the extension stays quick.

The form is shown with a display id; a successful login replaces that output with the plain
"Logged in ..." line, so a saved notebook, an HTML export or GitHub's viewer show the login as
ordinary text rather than an empty widget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from IPython.display import display
from traitlets import Unicode

from ..core.credentials import Secret

#: Called with (client_id, secret, region); returns the status line or raises with a message.
SubmitHandler = Callable[[str, Secret, str], str]
#: Runs a callback once the messages already on their way have been handled (see ``_Enter``).
Defer = Callable[[Callable[[], None]], None]

SECRET_PLACEHOLDER = "UE_CLIENT_SECRET"
SECRET_HELD_PLACEHOLDER = "entered (hidden): press Enter or Log in"
#: Seconds to wait after Enter for the field's value, which the browser sends just after it.
ENTER_GRACE = 0.25


class Password(widgets.Password):
    """ipywidgets' Password field, but the kernel does not echo its value back to the browser
    (one copy of the secret less on the wire); same name, so code that looks fields up by
    type name still finds it."""

    value = Unicode(help="String value").tag(sync=True, echo_update=False)


def kernel_defer(callback: Callable[[], None]) -> None:
    """Run ``callback`` on the kernel's event loop a moment later (at once outside a loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        callback()
        return
    loop.call_later(ENTER_GRACE, callback)


#: What a front end without widgets shows instead of the form.
FORM_TEXT = (
    "Usage Engine login form (it needs a front end that shows widgets; in a terminal or "
    "jupyter console run %ue_login --prompt)"
)


class LoginForm:
    """Client id, secret (a Password field) and region, with a Log in button.

    Enter in a field sends a ``submit`` message before the field's new value (the browser
    fires ``keypress`` before ``change``), so the submission waits for that value, or, when
    none comes (the secret was entered earlier), runs after ``defer``.
    """

    def __init__(
        self,
        on_submit: SubmitHandler,
        client_id: str = "",
        region: str = "eu",
        where: str = "",
        defer: Defer = kernel_defer,
    ) -> None:
        self.on_submit = on_submit  # replaceable: a %reload_ext points it at the new magics
        self._defer = defer
        self._held: Secret | None = None
        self._enter_pending = False
        self.closed = False
        self.submitting = False
        self.client_id = widgets.Text(
            value=client_id, description="Client id", placeholder="UE_CLIENT_ID"
        )
        self.secret = Password(
            value="",
            description="Secret",
            placeholder=SECRET_PLACEHOLDER,
            continuous_update=False,
        )
        self.region = widgets.Dropdown(options=["eu", "us"], value=region, description="Region")
        self.button = widgets.Button(description="Log in", button_style="primary", icon="sign-in")
        self.message = widgets.HTML(value="")
        intro = "Usage Engine login" + (f" for {where}" if where else "")
        self.box = widgets.VBox(
            [
                widgets.HTML(f"<b>{intro}</b>"),
                self.client_id,
                self.secret,
                self.region,
                self.button,
                self.message,
            ]
        )
        self.box.add_class("ue-login-form")
        self.secret.observe(self._take_secret, names="value")
        self.secret.on_msg(self._keypress)
        self.client_id.on_msg(self._keypress)
        self.button.on_click(self._clicked)
        self._handle: Any = None

    def show(self) -> None:
        """Display the form as an output that the login line can later replace."""
        bundle = dict(self.box._repr_mimebundle_() or {})
        bundle["text/plain"] = FORM_TEXT
        self._handle = display(bundle, raw=True, display_id=True)

    def close(self, reason: str) -> None:
        """Retire a form nobody filled in (a later login or logout replaced it): its output
        becomes ``reason`` as plain text, and a click on it does nothing."""
        self.closed = True
        self.box.children = (widgets.HTML(_escape(reason)),)
        if self._handle is not None:
            self._handle.update({"text/plain": reason}, raw=True)

    def _take_secret(self, change: dict[str, Any]) -> None:
        """Out of the widget model (and so of any saved widget state) as soon as it arrives."""
        if not change["new"]:
            return
        self._held = Secret(change["new"])
        change.clear()  # the plain value stays in no frame that a traceback could show
        self.secret.value = ""
        self.secret.placeholder = SECRET_HELD_PLACEHOLDER
        if self._enter_pending:
            self._enter_pending = False
            self.submit()

    def _keypress(self, _widget: object, content: Any, _buffers: object = None) -> None:
        if isinstance(content, dict) and content.get("event") == "submit":  # Enter
            self._enter_pending = True
            self._defer(self._enter_without_new_value)

    def _enter_without_new_value(self) -> None:
        if self._enter_pending:
            self._enter_pending = False
            self.submit()

    def _clicked(self, _button: object = None) -> None:
        self.submit()

    def submit(self) -> None:
        """Log in with the client id, the secret entered and the region; show the outcome.
        A closed form (a later login or logout replaced it) does nothing."""
        if self.closed:
            self._held = None
            return
        client_id = self.client_id.value.strip()
        if not client_id or not self._held:
            self.show_error("Enter both the client id and the secret.")
            return
        secret, self._held = self._held, None  # a failed login asks for the secret again
        self.secret.placeholder = SECRET_PLACEHOLDER
        self.button.disabled = True
        self.message.value = "Logging in…"
        self.submitting = True
        try:
            status = self.on_submit(client_id, secret, self.region.value)
        except Exception as error:
            self.button.disabled = False
            self.show_error(str(error))
            return
        finally:
            self.submitting = False
        fields = self.box.children
        self.box.children = (widgets.HTML(_escape(status)),)
        for field in fields:
            field.close()  # closed models are left out of saved widget state
        if self._handle is not None:  # the login line as ordinary output, for exports
            self._handle.update({"text/plain": status}, raw=True)

    def show_error(self, text: str) -> None:
        self.message.value = f"<span style='color:#c62828'>{_escape(text)}</span>"


def _escape(text: str) -> str:
    import html

    return html.escape(text)
