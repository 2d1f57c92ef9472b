"""The parts of an OpenAPI 3.0 or 3.1 description that ue-magic uses: its operations.

An ``Operation`` carries the full path template as a user types it after ``UE_API_URL``
(the path of the first server, such as ``/usage-metering/v1``, joined to the path item), its
parameters with ``$ref``s resolved, and the URI of its JSON request schema for validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from ...errors import DescriptionError
from ._index import OperationIndex
from ._load import (
    SCHEME,
    Budget,
    Documents,
    Reader,
    file_uri,
    is_url,
    parse,
    read_file,
    shown_url,
)
from ._operation import Operation, Parameter
from ._param_names import NameIndex

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_VARIABLE = re.compile(r"\{([^{}]+)\}")


class NotADescription(DescriptionError):
    """The file is JSON but not an OpenAPI 3 description."""


@dataclass
class Description:
    """A loaded description: its operations, in the order the file lists them."""

    source: str  # the file or URL it came from, for messages
    version: str  # the openapi field: 3.0.x or 3.1.x
    title: str
    operations: list[Operation]
    documents: Documents = field(repr=False)
    size: int = 0  # bytes of the root file
    base_path: str = ""  # the API URL's path (``/v2``): a full URL typed is matched below it

    @property
    def is_31(self) -> bool:
        return self.version.startswith("3.1")

    @cached_property
    def index(self) -> OperationIndex:
        return OperationIndex(self.operations, self.base_path)

    @cached_property
    def names(self) -> NameIndex:
        """The operations' parameter names, sorted for completion."""
        return NameIndex()


def check_version(root: Any, source: str) -> str:
    """The ``openapi`` field (3.0.x or 3.1.x); NotADescription for anything else, before any
    file it refers to is read."""
    version = root.get("openapi") if isinstance(root, dict) else None
    if not isinstance(version, str) or not version.startswith("3."):
        found = "swagger 2.0" if isinstance(root, dict) and "swagger" in root else "no"
        raise NotADescription(
            f"{source} is not an OpenAPI 3 description ({found} 'openapi' field); "
            "ue-magic reads OpenAPI 3.0 and 3.1."
        )
    return version


def build(
    documents: Documents, source: str, size: int = 0, *, api_url: str | None = None
) -> Description:
    """The operations of an OpenAPI 3.0/3.1 document; DescriptionError if it is not one.

    Paths are as typed after ``api_url``: a server path that URL already ends in is left out."""
    root = documents.root
    version = check_version(root, source)
    paths = root.get("paths", {})
    paths = {} if paths is None else paths
    if not isinstance(paths, dict):
        raise DescriptionError(f"{source}: 'paths' must be an object.")
    prefix = relative_prefix(server_prefix(root.get("servers")), api_url)
    default_security = root.get("security")
    operations: list[Operation] = []
    base = documents.root_uri
    built = _Built()
    for template, raw_item in paths.items():
        if not isinstance(template, str) or not template.startswith("/"):
            continue
        item_loc = f"{base}#/paths/{_escape(template)}"
        item, item_loc = _at(documents, raw_item, item_loc)
        if not isinstance(item, dict):
            continue
        shared = built.parameters(documents, item.get("parameters"), item_loc + "/parameters")
        for method in HTTP_METHODS:
            raw_op = item.get(method)
            if not isinstance(raw_op, dict):
                continue
            op_loc = f"{item_loc}/{method}"
            own = built.parameters(documents, raw_op.get("parameters"), op_loc + "/parameters")
            merged = built.merged(shared, own)
            built.count(len(merged), source)
            operations.append(
                Operation(
                    method=method.upper(),
                    path=prefix + template,
                    operation_id=str(raw_op.get("operationId") or ""),
                    summary=_text(raw_op.get("summary") or item.get("summary")),
                    description=_text(raw_op.get("description")),
                    parameters=merged,
                    **_body(documents, raw_op.get("requestBody"), op_loc + "/requestBody"),
                    responses=built.responses(documents, raw_op.get("responses"), op_loc),
                    **_answer(documents, raw_op.get("responses"), op_loc),
                    scopes=built.scopes(raw_op.get("security", default_security)),
                    deprecated=bool(raw_op.get("deprecated")),
                )
            )
    info = root.get("info") if isinstance(root.get("info"), dict) else {}
    return Description(
        source=source,
        version=version,
        title=_text(info.get("title")),
        operations=operations,
        documents=documents,
        size=size,
        base_path=urlsplit(api_url).path.rstrip("/") if api_url else "",
    )


MAX_SERVER_URL = 8_192  # characters: longer than any URL a server or a proxy takes


def server_prefix(servers: Any) -> str:
    """The path of the first server, variables at their defaults (``/usage-metering/v1``)."""
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url") or "")[:MAX_SERVER_URL]
    variables = servers[0].get("variables") or {}

    def default(match: re.Match[str]) -> str:
        spec = variables.get(match.group(1)) if isinstance(variables, dict) else None
        return str(spec.get("default", "")) if isinstance(spec, dict) else ""

    # counted before it is built: "/{v}" 2,000 times with a 100 KB default is 200 MB
    grown = sum(len(default(found)) for found in _VARIABLE.finditer(url))
    if len(url) + grown > MAX_SERVER_URL:
        raise DescriptionError(
            f"the first server's URL, its variables at their defaults, is over "
            f"{MAX_SERVER_URL:,} characters."
        )
    url = _VARIABLE.sub(default, url)
    path = urlsplit(url).path if "://" in url else url.split("?")[0]
    return path.rstrip("/")


def relative_prefix(prefix: str, api_url: str | None) -> str:
    """The server path as typed after ``api_url``: ``/v2`` against ``https://h/v2/`` is "",
    ``/api/usage/v1`` against ``https://h/api/`` is ``/usage/v1`` (a relative path is joined to
    the API URL's path)."""
    if not api_url or not prefix:
        return prefix
    base = urlsplit(api_url).path.rstrip("/")
    if base and (prefix == base or prefix.startswith(base + "/")):
        return prefix[len(base) :]
    return prefix


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


MAX_PARAMETER_ENTRIES = 2_000_000  # parameters over all operations: about 16 MB of references


class _Built:
    """What a build made once, by where it was found: a path item or response that many paths
    share by ``$ref`` is read once, not once per path (a 0.3 MB description of 6,000 paths
    sharing one item of 1,000 parameters took 34 s and 1.2 GB); and how many parameters the
    operations hold in all, which no sharing can make small, is bounded."""

    def __init__(self) -> None:
        self._parameters: dict[str, list[Parameter]] = {}
        self._texts: dict[str, str] = {}
        # by id(): the root's ``security``, which every operation without its own shares
        self._scopes: dict[int, tuple[Any, tuple[str, ...]]] = {}
        # by the ids of a path item's and an operation's lists: those lists and their merge
        self._merged: dict[tuple[int, int], tuple[Any, Any, tuple[Parameter, ...]]] = {}
        self.entries = 0

    def parameters(self, documents: Documents, raw: Any, loc: str) -> list[Parameter]:
        if isinstance(raw, list) and not raw:
            return []
        key = _at(documents, raw, loc)[1] if isinstance(raw, dict) else loc
        if key not in self._parameters:
            self._parameters[key] = _parameters(documents, raw, loc)
        return self._parameters[key]

    def merged(self, shared: list[Parameter], own: list[Parameter]) -> tuple[Parameter, ...]:
        """The path item's parameters with the operation's over them (by name and place),
        one tuple for every operation of a shared path item (completion sorts its names once)."""
        kept = self._merged.get((id(shared), id(own)))
        if kept is None or kept[0] is not shared or kept[1] is not own:
            merged = {(p.name, p.location): p for p in shared}
            merged.update({(p.name, p.location): p for p in own})
            kept = self._merged[(id(shared), id(own))] = (shared, own, tuple(merged.values()))
        return kept[2]

    def scopes(self, security: Any) -> tuple[str, ...]:
        kept = self._scopes.get(id(security))
        if kept is None or kept[0] is not security:
            kept = self._scopes[id(security)] = (security, _scopes(security))
        return kept[1]

    def count(self, entries: int, source: str) -> None:
        self.entries += entries
        if self.entries > MAX_PARAMETER_ENTRIES:
            raise DescriptionError(
                f"{source}: its operations hold over {MAX_PARAMETER_ENTRIES:,} parameters in "
                "all (path items shared by $ref repeat theirs on every path)."
            )

    def responses(self, documents: Documents, raw: Any, loc: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(raw, dict):
            return ()
        found = []
        for status, entry in raw.items():
            response, where = _at(documents, entry, f"{loc}/responses/{_escape(str(status))}")
            if where not in self._texts:
                text = response.get("description") if isinstance(response, dict) else ""
                self._texts[where] = _text(text)
            found.append((str(status), self._texts[where]))
        return tuple(found)


def _at(documents: Documents, node: Any, loc: str) -> tuple[Any, str]:
    """``node`` (found at ``loc``) with its $ref chain followed, and where it ends up."""
    hops = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        hops += 1
        if hops > 64:
            raise DescriptionError(f"{documents.root_uri}: a $ref chain loops at {loc}.")
        loc = urljoin(urldefrag(loc)[0], node["$ref"])
        node = documents.lookup(loc)
    return node, loc


MAX_TEXT = 10_000  # characters of a summary or description kept: shown in a line or a table


def _text(value: Any) -> str:
    """A summary or description on one line, cut to ``MAX_TEXT`` before it is read (YAML
    aliases can make one gigabytes long); a list or an object: none."""
    if isinstance(value, (int, float)):  # ints are bounded when read (4,300 digits)
        value = str(value)
    return " ".join(value[:MAX_TEXT].split()) if isinstance(value, str) else ""


def _parameters(documents: Documents, raw: Any, loc: str) -> list[Parameter]:
    found: list[Parameter] = []
    if not isinstance(raw, list):
        return found
    for i, entry in enumerate(raw):
        param, param_loc = _at(documents, entry, f"{loc}/{i}")
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            continue
        schema, _ = _at(documents, param.get("schema"), param_loc + "/schema")
        found.append(
            Parameter(
                name=param["name"],
                location=str(param.get("in", "query")),
                required=bool(param.get("required")) or param.get("in") == "path",
                description=_text(param.get("description")),
                schema=schema if isinstance(schema, dict) else None,
            )
        )
    return found


def _body(documents: Documents, raw: Any, loc: str) -> dict[str, Any]:
    body, body_loc = _at(documents, raw, loc)
    if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
        return {}
    for media, entry in body["content"].items():
        kind = str(media).split(";")[0].strip().lower()
        if kind == "application/json" or kind.endswith("+json") or kind == "*/*":
            if not isinstance(entry, dict) or "schema" not in entry:
                return {"body_media": kind, "body_required": bool(body.get("required"))}
            schema_loc = f"{body_loc}/content/{_escape(media)}/schema"
            schema, schema_loc = _at(documents, entry["schema"], schema_loc)
            return {
                "body_media": kind,
                "body_required": bool(body.get("required")),
                "body_schema": schema,
                "body_schema_uri": schema_loc,
            }
    return {}


def _answer(documents: Documents, raw: Any, loc: str) -> dict[str, Any]:
    """The schema of the first success (2xx) answer with a JSON body, and where it lives; none
    when it cannot be reached (the answer's schema only names columns: never fail a load)."""
    if not isinstance(raw, dict):
        return {}
    for status, entry in sorted(raw.items(), key=lambda pair: str(pair[0])):
        if not str(status).startswith("2"):
            continue
        try:
            found = _json_schema(documents, entry, f"{loc}/responses/{_escape(str(status))}")
        except DescriptionError:
            return {}
        if found:
            return found
    return {}


def _json_schema(documents: Documents, entry: Any, loc: str) -> dict[str, Any]:
    response, response_loc = _at(documents, entry, loc)
    content = response.get("content") if isinstance(response, dict) else None
    if not isinstance(content, dict):
        return {}
    for media, value in content.items():
        kind = str(media).split(";")[0].strip().lower()
        json_media = kind == "application/json" or kind.endswith("+json")
        if json_media and isinstance(value, dict) and "schema" in value:
            schema_loc = f"{response_loc}/content/{_escape(str(media))}/schema"
            schema, schema_loc = _at(documents, value["schema"], schema_loc)
            return {"answer_schema": schema, "answer_schema_uri": schema_loc}
    return {}


def _scopes(security: Any) -> tuple[str, ...]:
    """Every scope the requirements name, once each, in order: kept in a dict, so 20,000
    scopes are not compared with each other (a list's ``in`` took 2 s for one operation)."""
    scopes: dict[str, None] = {}
    if isinstance(security, list):
        for requirement in security:
            if isinstance(requirement, dict):
                for values in requirement.values():
                    if isinstance(values, list):
                        scopes.update(dict.fromkeys(str(v) for v in values))
    return tuple(scopes)


def load_description(
    source: str | Path | dict[str, Any],
    *,
    read_url: Reader | None = None,
    base_uri: str | None = None,
    api_url: str | None = None,
) -> Any:
    """A ``Description`` from a file path, a URL or an already-parsed dict.

    ``read_url`` fetches URLs (the description itself and files its ``$ref``s name); without
    it, URLs are refused. ``base_uri`` is where relative ``$ref``s of a dict are resolved
    (default: the working folder). A description read from a URL may refer to URLs only, never
    to local files, at any depth. ``api_url`` is the URL paths are typed relative to: a server
    path it already ends in (``/v2``) is not part of the operations' paths. Raises
    DescriptionError naming the file and the problem (or what was too big: over 25 MB, over
    100 files, YAML aliases that expand past a million values).
    """

    def read(uri: str) -> bytes:
        if uri.startswith("file:"):
            if not local:
                raise DescriptionError(
                    f"{shown} refers to {uri}: a description read from a URL may not refer to "
                    "local files."
                )
            return read_file(uri)
        if is_url(uri) and read_url is not None:
            return read_url(uri)
        raise DescriptionError(f"cannot read {uri}: only files and http(s) URLs are supported.")

    if isinstance(source, dict):
        uri = base_uri or file_uri(Path.cwd() / "openapi.json")
        shown, local = "the description given", uri.startswith("file:")
        documents = Documents(uri, source, read)
        size = 0
    else:
        text = str(source)
        if SCHEME.match(text) and not is_url(text):
            raise DescriptionError(f"{text}: only files and http(s) URLs are supported.")
        uri = text if is_url(text) else file_uri(text)
        shown, local = shown_url(text), uri.startswith("file:")
        data = read(uri)
        size = len(data)
        budget = Budget(shown)
        budget.take(data, shown)
        documents = Documents(uri, parse(data, shown), read, budget)
    try:
        check_version(documents.root, shown)
        documents.load_all()
        description = build(documents, shown, size, api_url=api_url)
    except DescriptionError:
        raise
    except (TypeError, AttributeError, ValueError) as exc:  # a shape the file should not have
        raise DescriptionError(f"{shown} is not a valid description ({exc}).") from None
    return description
