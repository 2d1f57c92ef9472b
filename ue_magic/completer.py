"""Tab completion in IPython: a matcher (IPython 8.6+'s Matcher API v2) over ``openapi.complete``.

It is registered by ``load_ipython_extension`` in ``Completer.custom_matchers``, so it serves a
kernel's ``complete_request`` (JupyterLab, Notebook 7, VS Code, the console) and terminal
IPython alike. IPython hands it the whole cell, so a ``%%ue_call`` body completes too.
"""

from __future__ import annotations

from typing import Any

from IPython.core.completer import SimpleCompletion, context_matcher

IDENTIFIER = "ue_magic"


def make_matcher(magics: Any) -> Any:
    """A matcher bound to the magics instance (its logins, descriptions and namespace)."""

    @context_matcher(identifier=IDENTIFIER, priority=100)  # type: ignore[misc,untyped-decorator,unused-ignore]
    def ue_magic_matcher(context: Any) -> dict[str, Any]:
        from .openapi import complete

        text = context.full_text
        lines = text.split("\n")
        offset = sum(len(line) + 1 for line in lines[: context.cursor_line])
        offset += context.cursor_position
        found = complete(text, offset, magics.completion_context())
        if found is None or not found.candidates:
            return {"completions": [], "suppress": False}
        return {
            "completions": [SimpleCompletion(c.text, type=c.kind) for c in found.candidates],
            "matched_fragment": text[found.start : offset],
            "suppress": True,
            "ordered": True,
        }

    return ue_magic_matcher


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
