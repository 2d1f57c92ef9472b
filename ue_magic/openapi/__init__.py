"""API-aware cells from an OpenAPI 3.0/3.1 description (``openapi.json``).

Loading with ``$ref``s resolved (``load_description``), which operation a request is
(``Description.index``), checks of JSON bodies before sending (``RequestChecker``; needs the
``openapi`` extra: ``pip install 'ue-magic[openapi]'``), and a pure completion engine
(``complete``). Everything here works without IPython.
"""

from __future__ import annotations

from ._check import Checked, RequestChecker, body_line
from ._complete import Candidate, CompletionContext, Completions, complete
from ._index import OperationIndex, request_path
from ._load import load_description
from ._model import Description, NotADescription, Operation, Parameter
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
    "load_description",
    "loaded_line",
    "matched_line",
    "request_path",
]
