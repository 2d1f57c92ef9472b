"""API-aware cells from an OpenAPI 3.0/3.1 description (``openapi.json``).

Loading with ``$ref``s resolved (``load_description``), which operation a request is
(``Description.index``), checks of JSON bodies before sending (``RequestChecker``; needs the
``openapi`` extra: ``pip install 'ue-magic[openapi]'``), and a pure completion engine
(``complete``). Everything here works without IPython; submodules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._check import Checked, RequestChecker, body_line
    from ._complete import Candidate, CompletionContext, Completions, complete
    from ._fields import date_time_fields
    from ._index import OperationIndex, request_path
    from ._model import Description, NotADescription, load_description
    from ._operation import Operation, Parameter
    from ._outline import OperationTable, OperationView, api_view, loaded_line, matched_line
    from ._precheck import check_call
    from ._session import LoginDescription, client_fetch
    from ._validate import BodyProblem, BodyValidator, available

__all__ = [
    "BodyProblem",
    "BodyValidator",
    "Candidate",
    "Checked",
    "CompletionContext",
    "Completions",
    "Description",
    "LoginDescription",
    "NotADescription",
    "Operation",
    "OperationIndex",
    "OperationTable",
    "OperationView",
    "Parameter",
    "RequestChecker",
    "api_view",
    "available",
    "body_line",
    "check_call",
    "client_fetch",
    "complete",
    "date_time_fields",
    "load_description",
    "loaded_line",
    "matched_line",
    "request_path",
]


_LAZY = {
    "date_time_fields": "._fields",
    "BodyProblem": "._validate",
    "BodyValidator": "._validate",
    "Candidate": "._complete",
    "Checked": "._check",
    "CompletionContext": "._complete",
    "Completions": "._complete",
    "Description": "._model",
    "LoginDescription": "._session",
    "NotADescription": "._model",
    "Operation": "._operation",
    "OperationIndex": "._index",
    "OperationTable": "._outline",
    "OperationView": "._outline",
    "Parameter": "._operation",
    "RequestChecker": "._check",
    "api_view": "._outline",
    "available": "._validate",
    "body_line": "._check",
    "check_call": "._precheck",
    "client_fetch": "._session",
    "complete": "._complete",
    "load_description": "._model",
    "loaded_line": "._outline",
    "matched_line": "._outline",
    "request_path": "._index",
}


def __getattr__(name: str) -> Any:
    """Submodules load on first use, so %load_ext stays quick."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ue_magic.openapi' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)
