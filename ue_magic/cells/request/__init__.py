"""The cell language: cell text -> request, the pure parser behind ``%%ue_call``.

No IPython, no network. Two cell forms. With METHOD and PATH on the magic line the cell is the
body. Otherwise the cell is an HTTP message as in ``.http`` files::

    # comments before the request line
    POST /usage-metering/v1/meters?limit=10
    &name={{ type_name }}
    Content-Type: application/json

    {"meterTypeId": "{{ t.id }}", "userId": "u-1", "meterKey": "k", "customFields": {{ fields }}}

``{{ name }}`` takes a value from the notebook namespace. A body is JSON unless a Content-Type
header names a non-JSON type; a JSON body is checked when the template is compiled (positions
are the user's), and gets ``Content-Type: application/json`` when it has none.

As pasted from ``.http`` files: ``#`` and ``//`` lines are comments before the body (before the
request line, among query lines and headers); a line starting with ``###`` ends the request,
and a second request after it is refused. A literal ``+`` in a query is a space on the request
line and on ``?``/``&`` lines alike (``%2B`` is a plus); placeholder values are always sent as
written.

A placeholder never changes the request's shape; each is refused when rendered, before
anything is sent: a path segment left empty, ``.`` or ``..``; a header value that literal header
text could not hold (control characters, non-ASCII); a URL longer than httpx sends.

One module per part of the grammar:

- ``_placeholders``: ``{{ ... }}`` found in text and looked up in a namespace;
- ``_values``: how a value is written where it stands (JSON, string, header, path, form);
- ``_json``: the JSON body check, with the user's line and column;
- ``_message``: the ``.http`` message grammar (request line, query lines, headers, body);
- ``_template``: ``compile_request`` -> ``RequestTemplate`` -> ``render`` -> ``RequestSpec``;
- ``_body``: a body as the references read it (comments, multipart), by mode;
- ``_form``: a form body as the references send it (``&`` lines, spaces, percent-encoding);
- ``_variables``: ``@name = value`` file variables; ``_system``: ``{{$guid}}`` and the like;
- ``_file``: one named request of a ``.http`` file (``--file``/``--name``);
- ``_call``: which form a ``%ue_call`` takes (METHOD PATH on the line, or a message cell);
- ``_foreign``: IPython's ``{expr}``/``$name`` refused when it starts with a defined name.
"""

from __future__ import annotations

from ..._constants import METHODS
from ...errors import RequestSyntaxError, UnknownNameError
from ._call import compile_call, file_cell
from ._foreign import refuse_ipython_names
from ._json import json_standin
from ._template import RequestSpec, RequestTemplate, compile_request, parse_request

__all__ = [
    "METHODS",
    "RequestSpec",
    "RequestSyntaxError",
    "RequestTemplate",
    "UnknownNameError",
    "compile_call",
    "compile_request",
    "file_cell",
    "json_standin",
    "parse_request",
    "refuse_ipython_names",
]
