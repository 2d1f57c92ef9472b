"""What the line form ``r = %ue_call GET /path`` returns: the decoded body that shows itself.

A bare ``%ue_call GET /path`` displays through IPython's Out; assigned, it is an ordinary dict,
list or str to the user's code. Either way the answer is shown once.
"""

from __future__ import annotations

from typing import Any


class _Shown:
    """Mixin: display as the response view that came with the body."""

    _ue_view: Any

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        return self._ue_view._repr_mimebundle_(include=include, exclude=exclude)


class JsonDict(_Shown, dict):  # type: ignore[type-arg,unused-ignore]
    """A JSON object body."""


class JsonList(_Shown, list):  # type: ignore[type-arg,unused-ignore]
    """A JSON array body."""


class TextBody(_Shown, str):
    """A text body."""


_WRAPPERS: dict[type, type] = {dict: JsonDict, list: JsonList, str: TextBody}


def shown(body: Any, view: Any) -> Any:
    """``body`` wrapped so that it displays as ``view``; None when it cannot be wrapped."""
    wrapper = _WRAPPERS.get(type(body))
    if wrapper is None:
        return None
    result = wrapper(body)
    result._ue_view = view
    return result
