"""Tab completion in IPython: a matcher (IPython 8.6+'s Matcher API v2) over ``openapi.complete``.

It is registered by ``load_ipython_extension`` in ``Completer.custom_matchers``, so it serves a
kernel's ``complete_request`` (JupyterLab, Notebook 7, VS Code, the console) and terminal
IPython alike. IPython hands it the whole cell, so a ``%%ue_call`` body completes too.
"""

from __future__ import annotations

import os
from typing import Any

from ..core._visible import visible

IDENTIFIER = "ue_magic"
MAX_CANDIDATE_LENGTH = 1_000  # characters: a path segment, a name, a value to insert


def make_matcher(magics: Any) -> Any:
    """A matcher bound to the magics instance (its logins, descriptions and namespace).
    IPython is imported here, so the module itself imports without it."""
    from IPython.core.completer import SimpleCompletion, context_matcher

    options = {
        magic.__name__: {
            name: action.nargs != 0
            for action in magic.parser._actions
            for name in action.option_strings
        }
        for magic in (magics.ue_call, magics.ue_login, magics.ue_logout, magics.ue_api)
    }

    @context_matcher(identifier=IDENTIFIER, priority=100)  # type: ignore[misc,untyped-decorator,unused-ignore]
    def ue_magic_matcher(context: Any) -> dict[str, Any]:
        from ..cells.openapi import CompletionContext, complete

        text = context.full_text
        lines = text.split("\n")
        offset = sum(len(line) + 1 for line in lines[: context.cursor_line])
        offset += context.cursor_position
        found = complete(
            text,
            offset,
            CompletionContext(
                describe=magics.description_for_tab,
                namespace=_visible(magics.shell),
                profiles=_profiles(magics.profiles),
                options=options,
            ),
        )
        if found is None:  # not ours: IPython's own completers answer
            return {"completions": [], "suppress": False}
        # a name holding a control character (a description's `limit\x1b[31m`) is not offered:
        # shown, it would act on the terminal; made visible, it would insert another name
        # and one longer than a line (a description's 100 kB segment) is not offered either:
        # 200 of them made each Tab's reply tens of MB
        offered = [
            c
            for c in found.candidates
            if len(c.text) <= MAX_CANDIDATE_LENGTH and visible(c.text, one_line=True) == c.text
        ]
        if not offered:
            # Ours, with nothing to offer. IPython lets a matcher silence the others only when
            # it has a completion, and they would evaluate what is typed (running properties)
            # or offer files and keywords: so offer what is typed, which changes nothing.
            typed = text[found.start : offset]
            return {
                "completions": [SimpleCompletion(typed, type="text")],
                "matched_fragment": typed,
                "suppress": True,
            }
        return {
            "completions": [SimpleCompletion(c.text, type=c.kind) for c in offered],
            "matched_fragment": text[found.start : offset],
            "suppress": True,
            "ordered": True,
        }

    return ue_magic_matcher


def _visible(shell: Any) -> dict[str, Any]:
    """The user's names, without IPython's own (In, Out, _ih, ...); exact ``str`` names only
    (looking a ``str`` subclass up in ``hidden`` would run its ``__hash__`` and ``__eq__``)."""
    if shell is None:
        return {}
    hidden = shell.user_ns_hidden
    return {k: v for k, v in shell.user_ns.items() if type(k) is str and k not in hidden}


def _profiles(logged_in: list[str | None]) -> list[str]:
    """Logged-in profiles, then those the environment has a UE_NAME_CLIENT_ID for."""
    names = [p for p in logged_in if p]
    for variable in os.environ:
        if variable.startswith("UE_") and variable.endswith("_CLIENT_ID"):
            name = variable[3:-10].lower().replace("_", "-")
            if name and name not in names:
                names.append(name)
    return names


def register(shell: Any, magics: Any) -> None:
    completer = getattr(shell, "Completer", None)
    if completer is None:
        return
    unregister(shell)
    completer.custom_matchers.append(make_matcher(magics))


def unregister(shell: Any) -> None:
    completer = getattr(shell, "Completer", None)
    if completer is None:
        return
    completer.custom_matchers[:] = [
        m for m in completer.custom_matchers if getattr(m, "matcher_identifier", None) != IDENTIFIER
    ]
