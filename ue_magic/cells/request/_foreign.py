"""IPython's own ``{name}`` and ``$name`` in a request: refused when the name is defined.

``%ue_call`` uses ``@no_var_expand``, so IPython does not expand them and they would go out as
written (``?meterTypeId={meter_type_id}`` finds nothing). When the name is a variable of the
notebook the user almost surely meant its value: refused before sending, with the spelling
that works (``{{name}}``). A ``{id}`` copied from a path template, with no such variable, is
left to the checks that refuse it today.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import RequestSyntaxError

__all__ = ["refuse_ipython_names"]

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_FOREIGN = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)\}(?!\})|\$\{?([A-Za-z_]\w*)\}?")


def refuse_ipython_names(texts: Iterable[str], namespace: Mapping[str, Any]) -> None:
    """Raise RequestSyntaxError for the first ``{name}`` or ``$name`` in ``texts`` (the
    request line, headers, the cell) whose name is defined in ``namespace``. Comment lines
    (``#``, ``//``) and ``{{ }}`` placeholders are not looked at."""
    for text in texts:
        for line in text.splitlines():
            if line.lstrip().startswith(("#", "//")):
                continue
            for found in _FOREIGN.finditer(_PLACEHOLDER.sub("", line)):
                name = found.group(1) or found.group(2)
                if name in namespace and not name.startswith("_"):
                    raise RequestSyntaxError(
                        f"{found.group(0)} is IPython's syntax, which %ue_call does not expand: it "
                        f"would be sent as written. Write {{{{{name}}}}} to send the value of "
                        f"{name}."
                    )
