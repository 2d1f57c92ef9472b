"""The login form shown by %ue_login when the client id or secret is missing.

The secret's widget value is cleared the moment it is read, so the front end's copy of the model,
and therefore any saved widget state, never keeps it. ipywidgets is imported here only, so that
loading the extension stays quick.

The form is shown with a display id; a successful login replaces that output with the plain
"Logged in ..." line, so a saved notebook, an HTML export or GitHub's viewer show the login as
ordinary text rather than an empty widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from .credentials import Secret

#: Called with (client_id, secret, region); returns the status line or raises with a message.
SubmitHandler = Callable[[str, Secret, str], str]

#: What a front end without widgets shows instead of the form.
FORM_TEXT = (
    "Usage Engine login form (it needs a front end that shows widgets; in a terminal or "
    "jupyter console run %ue_login --prompt)"
)


class LoginForm:
    """Client id, secret (a Password field) and region, with a Log in button."""

    def __init__(
        self, on_submit: SubmitHandler, client_id: str = "", region: str = "eu", where: str = ""
    ) -> None:
        self.on_submit = on_submit  # replaceable: a %reload_ext points it at the new magics
        self.closed = False
        self.submitting = False
        self.client_id = widgets.Text(
            value=client_id, description="Client id", placeholder="UE_CLIENT_ID"
        )
        self.secret = widgets.Password(
            value="", description="Secret", placeholder="UE_CLIENT_SECRET"
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

    def _clicked(self, _button: object = None) -> None:
        secret = Secret(self.secret.value)
        self.secret.value = ""  # out of the widget model before anything else can happen
        if self.closed:
            return
        client_id = self.client_id.value.strip()
        if not client_id or not secret:
            self.show_error("Enter both the client id and the secret.")
            return
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
        self.box.children = (widgets.HTML(_escape(status)),)
        if self._handle is not None:  # the login line as ordinary output, for exports
            self._handle.update({"text/plain": status}, raw=True)

    def show_error(self, text: str) -> None:
        self.message.value = f"<span style='color:#c62828'>{_escape(text)}</span>"


def _escape(text: str) -> str:
    import html

    return html.escape(text)
