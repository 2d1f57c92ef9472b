"""One operation of an API description: a method on a path template, with its parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Parameter:
    """One parameter: ``location`` is ``query``, ``header``, ``path`` or ``cookie``."""

    name: str
    location: str
    required: bool = False
    description: str = ""
    schema: Any = None  # the parameter's schema with its top-level $ref resolved, or None


@dataclass(frozen=True)
class Operation:
    """One method on one path template, e.g. ``POST /usage-metering/v1/meters``."""

    method: str  # upper case
    path: str  # the full template: server path + path item, e.g. /usage-metering/v1/meters/{id}
    operation_id: str = ""
    summary: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    body_media: str = ""  # the JSON media type of the request body, "" without one
    body_required: bool = False
    body_schema: Any = field(default=None, repr=False)  # the JSON schema node (inner refs kept)
    body_schema_uri: str = ""  # where that schema lives: file URI + '#' + JSON pointer
    responses: tuple[tuple[str, str], ...] = ()  # (status, description)
    answer_schema: Any = field(default=None, repr=False)  # the first 2xx JSON answer's schema
    answer_schema_uri: str = ""  # where that schema lives, as body_schema_uri
    scopes: tuple[str, ...] = ()
    deprecated: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def params_in(self, location: str) -> list[Parameter]:
        return [p for p in self.parameters if p.location == location]
