"""The items of ``--each VAR`` and each item's request: shared by the run and the body check.

Below both ``bulk`` (which sends) and ``openapi`` (which checks bodies before sending).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from typing import Any

from ..errors import RequestSyntaxError, UsageEngineError
from .request import RequestSpec, RequestTemplate

__all__ = ["items_of", "render_each"]


def items_of(value: Any) -> list[Any]:
    """The items of --each VAR: any iterable; a DataFrame gives its rows as dicts."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and hasattr(value, "columns"):
        return list(to_dict("records"))
    if isinstance(value, (str, bytes, dict)):
        raise UsageEngineError(
            f"--each needs a list or other iterable of items, not a {type(value).__name__}."
        )
    if not isinstance(value, Iterable):
        kind = type(value).__name__
        article = "an" if kind[:1] in "aeiou" else "a"
        raise UsageEngineError(f"--each needs a list or other iterable, not {article} {kind}.")
    return list(value)


def render_each(
    template: RequestTemplate, namespace: MutableMapping[str, Any], items: Sequence[Any]
) -> Iterator[RequestSpec]:
    """Each item's request, rendered one at a time and not kept (100,000 items stay small);
    a bad item raises UsageEngineError naming its index."""
    scope: ChainMap[str, Any] = ChainMap({"item": None}, namespace)
    for index, item in enumerate(items):
        scope.maps[0]["item"] = item
        try:
            yield template.render(scope)
        except RequestSyntaxError as error:
            raise UsageEngineError(f"Item {index} (nothing was sent): {error}") from None
