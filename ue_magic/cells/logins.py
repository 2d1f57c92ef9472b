"""The kernel's logins as plain objects, without IPython.

One ``Login`` per profile holds what that login owns: its client, its API description, the
sandbox it talks to and a login form still waiting for it, and closes them all with one
``close()``. ``Logins`` is the registry: the IPython magics hold it and hand it over on
``%reload_ext`` (so it outlives them), and ``ue_magic.client()`` reads it. Adding a per-login
resource touches ``Login`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core._client import UsageEngineClient
from ..core.credentials import Credentials
from ..errors import UsageEngineError
from .openapi import LoginDescription, client_fetch

__all__ = ["Login", "Logins", "NotLoggedInError", "Stoppable"]

Warn = Callable[[str], None]


class Stoppable(Protocol):
    """A sandbox as the registry sees it (``ue_magic.sandbox.Sandbox`` is one)."""

    def stop(self) -> None: ...


class Closable(Protocol):
    """A login form as the registry sees it (``ipython.widget.LoginForm`` is one)."""

    submitting: bool

    def close(self, reason: str) -> None: ...


class NotLoggedInError(UsageEngineError):
    """No login for this profile (the message says how to log in)."""


@dataclass(eq=False)
class Login:
    """One profile's login: ``client`` is None while only a form waits for it."""

    profile: str | None
    client: UsageEngineClient | None = None
    description: LoginDescription | None = None
    sandbox: Stoppable | None = None  # the embedded sandbox this login talks to
    form: Closable | None = None  # a login form shown and not yet submitted
    passed: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # cells that passed checks

    def close_form(self, why: str) -> None:
        form, self.form = self.form, None
        if form is not None and not form.submitting:
            form.close(f"Usage Engine login form closed: {why}.")

    def end(self) -> UsageEngineClient | None:
        """Close the client (forgetting its token and secret); returns it, or None."""
        client, self.client = self.client, None
        self.description = None
        self.passed.clear()
        if client is not None:
            client.token_manager.forget()
            client.close()
        return client

    def check_call(
        self,
        template: Any,
        namespace: Any,
        cell: str | None,
        *,
        message_form: bool,
        each: str | None,
        dry_run: bool,
        validate: bool,
    ) -> str | None:
        """With a description: check the call before anything is sent (every item's body with
        ``each``), warning once where it cannot; returns the matched operation's line for
        ``--dry-run`` (None otherwise). Raises what ``openapi.check_call`` raises."""
        from . import openapi

        described = self.description
        if described is None or described.absent:
            return None
        # A cell without {{names}} sends the same request every time: once it has passed against
        # this description (the same object: a reload makes a new one), a loop need not check it
        # again (profiled: the match was most of what a loaded description cost a call).
        constant = not template.names and not each and not dry_run
        key = (template, not validate)
        if constant and self.passed.get(key) is described.get() is not None:
            return None
        checked = openapi.check_call(
            described.checker,
            template,
            namespace,
            resolve_url=self.client.resolve_url if self.client is not None else None,
            cell=cell,
            message_form=message_form,
            each=each,
            validate=validate,
        )
        if checked.warning:
            described.warn_once(checked.warning)
        elif constant:
            if len(self.passed) >= 256:
                self.passed.clear()
            self.passed[key] = described.get()
        if dry_run and checked.operation is not None:
            return openapi.matched_line(checked.operation)
        return None

    def close(self, why: str) -> None:
        """Everything this login holds: the form, the client. (The sandbox is the registry's:
        other logins may share it.)"""
        self.close_form(why)
        self.end()


class Logins:
    """The logins of one kernel, by profile (None: the default login), and its sandbox."""

    def __init__(self) -> None:
        self._by_profile: dict[str | None, Login] = {}
        self.sandbox: Stoppable | None = None  # the kernel's running sandbox, shared
        self.runs: Any = None  # --each runs under way (``BulkRuns``), made on first use

    # -- reading ------------------------------------------------------------------------------
    def get(self, profile: str | None = None) -> Login | None:
        """The logged-in ``Login`` of ``profile``, or None."""
        login = self._by_profile.get(profile)
        return login if login is not None and login.client is not None else None

    def client(self, profile: str | None = None) -> UsageEngineClient:
        """The client of ``profile``; NotLoggedInError says how to log in (or that a form waits)."""
        login = self._by_profile.get(profile)
        if login is not None and login.client is not None:
            return login.client
        flag = f" --profile {profile}" if profile else ""
        if login is not None and login.form is not None:
            raise NotLoggedInError(
                f"Not logged in{flag}: the login form of %ue_login{flag} is still waiting; "
                "fill in the client id and secret there and press Log in, then run this "
                "cell again."
            )
        raise NotLoggedInError(f"Not logged in{flag}: run %ue_login{flag} first.")

    def __iter__(self) -> Iterator[Login]:
        """The logged-in logins, in the order they were made."""
        return (login for login in self._by_profile.values() if login.client is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def profiles(self) -> list[str | None]:
        return [login.profile for login in self]

    def form_of(self, profile: str | None) -> Closable | None:
        login = self._by_profile.get(profile)
        return login.form if login is not None else None

    # -- changing -----------------------------------------------------------------------------
    def log_in(
        self,
        profile: str | None,
        credentials: Credentials,
        *,
        timeout: float,
        openapi_timeout: float,
        warn: Warn,
        sandbox: Stoppable | None = None,
    ) -> Login:
        """Fetch a token now (a wrong secret shows at login), then replace the profile's login.

        A failed login changes nothing: the error says whether the previous login of this
        profile is still in force. Raises UsageEngineError.
        """
        try:
            client = UsageEngineClient(credentials, timeout=timeout)
            try:
                client.token_manager.get_token()
            except BaseException:  # wrong secret, interrupted, a bug: no connections left open
                client.close()
                raise
        except UsageEngineError as error:
            raise _with_note(error, self.in_force(profile)) from None
        except KeyboardInterrupt:  # one line, not a traceback; an error stops Run All
            raise UsageEngineError(
                "%ue_login interrupted (Ctrl-C) before the token arrived; "
                + _lower(self.in_force(profile))
            ) from None
        self.forget(profile, "a later %ue_login replaced it", keep=sandbox)
        login = self._by_profile.setdefault(profile, Login(profile))
        login.client = client
        login.description = LoginDescription(
            credentials.openapi,
            credentials.api_url,
            client_fetch(client, openapi_timeout),
            warn,
            timeout=openapi_timeout,
        )
        login.description.start()  # in the background: by the first Tab it is there
        login.sandbox = sandbox
        if sandbox is not None:
            self.sandbox = sandbox
        return login

    def in_force(self, profile: str | None) -> str:
        """What a failed login leaves: 'The previous login of ..., client X, is still in force.'"""
        login = self.get(profile)
        where = f"profile {profile}" if profile else "the default profile"
        if login is None or login.client is None:
            return f"No login of {where} is in force."
        return (
            f"The previous login of {where}, client {login.client.credentials.client_id}, "
            "is still in force."
        )

    def wait_for_form(self, profile: str | None, form: Closable) -> None:
        """A login form for ``profile`` is shown: it replaces an older form still waiting."""
        login = self._by_profile.setdefault(profile, Login(profile))
        login.close_form("a later %ue_login replaced it")
        login.form = form

    def forget(
        self,
        profile: str | None,
        why: str,
        *,
        stop_runs: str = "logged in again",
        wait: float = 30.0,
        keep: Stoppable | None = None,
    ) -> UsageEngineClient | None:
        """End the login of ``profile`` (its runs, client and form); returns its client, or None.

        Its --each runs stop (``stop_runs`` says why, in their report), waiting at most
        ``wait`` seconds for requests in flight. The
        kernel's sandbox is stopped when no login uses it any more (unless it is ``keep``,
        about to be used again).
        """
        login = self._by_profile.get(profile)
        if login is None:
            return None
        login.close_form(why)
        if login.client is not None and self.runs is not None:
            self.runs.stop(login.client, stop_runs, wait)
        client = login.end()
        login.sandbox = None
        if login.form is None:
            del self._by_profile[profile]
        self._stop_unused_sandbox(keep=keep)
        return client

    def _stop_unused_sandbox(self, keep: Stoppable | None = None) -> None:
        running = self.sandbox
        if running is None or running is keep:
            return
        if any(login.sandbox is running for login in self._by_profile.values()):
            return
        self.sandbox = None
        running.stop()

    def close(self, why: str, wait: float = 30.0) -> None:
        """Every login (its --each runs stopped as a logout stops them), form and the sandbox
        (``%unload_ext``, or the kernel going away)."""
        for profile in list(self._by_profile):
            self.forget(profile, why, stop_runs=why, wait=wait)
        self._by_profile.clear()
        if self.sandbox is not None:
            running, self.sandbox = self.sandbox, None
            running.stop()


def _with_note(error: UsageEngineError, note: str) -> UsageEngineError:
    """``error``'s kind with ``note`` added to its message."""
    try:
        return type(error)(f"{error} {note}")
    except TypeError:  # an error whose constructor takes more than a message
        return UsageEngineError(f"{error} {note}")


def _lower(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]
