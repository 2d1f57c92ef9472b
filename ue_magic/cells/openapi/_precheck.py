"""The checks %ue_call runs before sending, on a compiled cell (pure: no IPython needed)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from ...errors import BodyCheckError, DescriptionError
from .._items import items_of, render_each
from ..request import RequestSpec, RequestTemplate
from ._bounded import TooComplex
from ._check import Checked, RequestChecker, body_line

EACH_SECONDS = 10.0  # checking every item of --each before sending: at most this long


def check_call(
    checker_of: Callable[[], RequestChecker | None],
    template: RequestTemplate,
    namespace: MutableMapping[str, Any],
    *,
    resolve_url: Callable[[str], object] | None = None,
    cell: str | None,
    message_form: bool,
    each: str | None = None,
    validate: bool = True,
) -> Checked:
    """Match the request to an operation and check its JSON body (each item's with ``each``).

    A one-shot iterator given to ``each`` (a generator) is not checked: checking would use it
    up. The cell is rendered first, so a mistake in it is reported before ``checker_of`` may
    fetch the description (the one request a check can cost, once per login); so is a URL that
    ``resolve_url`` (the client's) refuses, such as one on another origin, which the description
    does not describe. Raises
    BodyCheckError (with ``each``, naming the item) or the render errors the cell would raise
    anyway; returns the match and a warning for a request the description does not have, or
    for a body schema too broken or too complex to check (each body within 0.5 s, all of
    ``each`` within 10 s; the rest then go out unchecked).
    """
    if each:
        items: Any = namespace.get(each)
        try:
            one_shot = iter(items) is items
        except TypeError:  # missing or not iterable: --each itself says so
            return Checked(None)
        if one_shot:
            return Checked(None)  # checking would use it up
        specs: Iterator[RequestSpec] = render_each(template, namespace, items_of(items))
    else:
        specs = iter([template.render(namespace)])
    first = next(specs, None)
    if first is not None and resolve_url is not None:
        resolve_url(first.path)  # another origin: refused as sending would, before any warning
    checker = checker_of()
    if first is None or checker is None:
        return Checked(None)
    specs = itertools.chain([first], specs)
    checked = checker.match(first.method, first.path, hint=validate)
    if checked.operation is None or not validate:
        return checked
    if not checker.validates:  # no jsonschema: say so (once per login: the caller's warn_once)
        if first.sends_json and first.body is not None:
            return Checked(checked.operation, unchecked_warning())
        return checked
    start = body_line(cell, message_form) if cell is not None else 1
    ends = time.monotonic() + EACH_SECONDS
    for index, spec in enumerate(specs):
        if each and index and time.monotonic() > ends:
            return Checked(
                checked.operation,
                f"API description: checking the bodies of {each} took over {EACH_SECONDS:g} s; "
                f"items from {index} on are sent unchecked.",
            )
        try:
            _check_one(checker, checked, spec, cell, start)
        except TooComplex as error:
            unchecked = f"items {index} on are sent unchecked" if each else "sent unchecked"
            return Checked(checked.operation, f"API description: {error}; {unchecked}.")
        except DescriptionError as error:  # the schema is at fault: send, and say so once
            label = checked.operation.label if checked.operation else ""
            return Checked(
                checked.operation,
                f"API description: cannot check the body of {label}: {error}; sent unchecked.",
            )
        except BodyCheckError as error:
            if not each:
                raise
            raise BodyCheckError(
                f"item {index} of {each} (nothing was sent), {error.path}",
                error.expected,
                error.line,
                error.column,
                error.source_line,
            ) from None
    return checked


def unchecked_warning() -> str:
    """What a login without the ``openapi`` extra says at its first JSON body."""
    from ..._extras import install_command

    return (
        "JSON bodies go out unchecked (checking them against the API description needs the "
        f"'openapi' extra): run {install_command('openapi')}."
    )


def _check_one(
    checker: RequestChecker, checked: Checked, spec: RequestSpec, cell: str | None, start: int
) -> None:
    if not spec.sends_json or spec.body is None or checked.operation is None:
        return
    text = spec.body.decode("utf-8")
    checker.check_body(checked.operation, spec.json_value(long_ints=True), text, cell, start)
