"""Asking for a missing client id or secret with prompts (terminal, ``jupyter console``,
``%ue_login --prompt``), and the messages that say what to do where nobody can be asked.

Pure functions of their arguments: the caller passes the prompt functions (``input`` and
``getpass.getpass``, which ipykernel routes through the kernel's stdin), so this is testable
without a terminal or a kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core._visible import visible
from ..core.credentials import Secret, variable_name
from ..errors import ConfigurationError

__all__ = ["LoginCancelled", "ask_credentials", "forced_names", "headless_message"]


class LoginCancelled(ConfigurationError):
    """The user cancelled a prompt or gave an empty answer; nothing was sent."""


def _names(missing: tuple[str, ...]) -> tuple[str, str]:
    return " and ".join(missing), "is" if len(missing) == 1 else "are"


def _for_profile(profile: str | None) -> str:
    return f" for profile {profile}" if profile else ""


def forced_names(profile: str | None) -> tuple[str, str]:
    """What ``%ue_login --prompt`` asks for, set or not (as ``--widget`` shows its form)."""
    return variable_name("client_id", profile), variable_name("client_secret", profile)


def ask_credentials(
    missing: tuple[str, ...],
    looked_in: str,
    profile: str | None,
    ask: Callable[[str], str],
    ask_secret: Callable[[str], str],
    say: Callable[[str], None],
    note: str | None = None,
) -> dict[str, Any]:
    """Ask for the settings named in ``missing`` (``UE_CLIENT_ID``, ``UE_X_CLIENT_SECRET``...).

    ``looked_in`` is the sentence of where they were looked for; empty for ``--prompt``, which
    asks for both whether they are set or not. Returns ``client_id`` and/or ``client_secret``
    (a Secret); ``note`` (where the secret goes) is said before the secret is asked for.
    Raises LoginCancelled on Ctrl+C, end of input or an empty answer; an empty id
    is refused before the secret is asked for.
    """
    import textwrap

    from ..cells._terminal import terminal_width

    names, verb = _names(missing)
    them = "it" if len(missing) == 1 else "them"
    why = f"{names} {verb} not set ({looked_in})" if looked_in else f"--prompt asks for {names}"
    intro = (
        f"Usage Engine login{_for_profile(profile)}: {why}. Type {them} below; Ctrl+C (or "
        "interrupting the kernel) cancels."
    )  # wrapped between words to the terminal's width: paths are never broken
    id_name = next((name for name in missing if name.endswith("CLIENT_ID")), None)
    secret_name = next((name for name in missing if name.endswith("CLIENT_SECRET")), None)
    width = terminal_width()
    for text in (intro, note if secret_name else None):
        if text:  # a path or URL from a file: shown with no control character
            shown = visible(text, one_line=True)
            say(textwrap.fill(shown, width, break_long_words=False, break_on_hyphens=False))
    asked: dict[str, Any] = {}
    try:
        if id_name:
            client_id = ask(f"Client id{_for_profile(profile)}: ").strip()
            if not client_id:
                raise LoginCancelled(
                    f"No client id given ({id_name}), so the secret was not asked for and "
                    "nothing was sent; run %ue_login again and type it, or set it in .env."
                )
            asked["client_id"] = client_id
        if secret_name:
            secret = Secret(ask_secret(f"Client secret{_for_profile(profile)} (hidden): "))
            if not secret:
                raise LoginCancelled(
                    f"No client secret given ({secret_name}); nothing was sent. Run %ue_login "
                    "again and type it, or set it in .env."
                )
            asked["client_secret"] = secret
    except (EOFError, KeyboardInterrupt):
        raise LoginCancelled("Login cancelled; nothing was sent.") from None
    return asked


def headless_message(missing: tuple[str, ...], looked_in: str, profile: str | None) -> str:
    """Why %ue_login fails at once where nobody can type (nbconvert, papermill, Voila);
    ``looked_in`` empty: ``--prompt`` asked for them."""
    names, verb = _names(missing)
    flag = f" --profile {profile}" if profile else ""
    why = f"{names} {verb} not set ({looked_in})" if looked_in else f"--prompt asks for {names}"
    then = "Set" if looked_in else "Leave out --prompt and set"
    return (
        f"{why}, and nobody can type "
        f"{'it' if len(missing) == 1 else 'them'} here: this run does not take input "
        f"(nbconvert --execute, papermill, Voila). {then} {names} in the kernel's environment or "
        f"a .env file next to the notebook, or try %ue_login{flag} --sandbox, which needs no "
        "account."
    )
