"""The login form shown by %ue_login when the client id or secret is missing.

The secret's widget value is cleared the moment it is read, so the front end's copy of the model,
and therefore any saved widget state, never keeps it. ipywidgets is imported here only, so that
loading the extension stays quick.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from .credentials import Secret

#: Called with (client_id, secret, region); returns the status line or raises with a message.
SubmitHandler = Callable[[str, Secret, str], str]


class LoginForm:
    """Client id, secret (a Password field) and region, with a Log in button."""

    def __init__(
        self, on_submit: SubmitHandler, client_id: str = "", region: str = "eu", where: str = ""
    ) -> None:
        self._on_submit = on_submit
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

    def _clicked(self, _button: object = None) -> None:
        secret = Secret(self.secret.value)
        self.secret.value = ""  # out of the widget model before anything else can happen
        client_id = self.client_id.value.strip()
        if not client_id or not secret:
            self.show_error("Enter both the client id and the secret.")
            return
        self.button.disabled = True
        self.message.value = "Logging in…"
        try:
            status = self._on_submit(client_id, secret, self.region.value)
        except Exception as error:
            self.button.disabled = False
            self.show_error(str(error))
            return
        self.box.children = (widgets.HTML(_escape(status)),)

    def show_error(self, text: str) -> None:
        self.message.value = f"<span style='color:#c62828'>{_escape(text)}</span>"


def _escape(text: str) -> str:
    import html

    return html.escape(text)
