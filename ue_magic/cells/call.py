"""What %%ue_call does, without IPython: render the request, send it, store and show the answer.

The magic passes in the user's namespace and a ``show`` function (IPython's ``display``), so this
module is tested with a plain dict and a list.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._constants import BEARER_MASK, USE_CLIENT_DEFAULT
from ..core._client import UsageEngineClient
from ..core._media import decode_body
from ..core._visible import visible
from ..core.problem import describe_error
from ..errors import HttpStatusError, UsageEngineError
from .call_options import CALL_OPTIONS
from .curl import curl_command, token_fetch_comment
from .progress import PageCounter
from .render import RequestView, ResponseView
from .request import RequestSpec, RequestTemplate
from .result import output_left, shown
from .save import check_target, write_answer

Show = Callable[[Any], None]
DRY_RUN_NOTE = (
    "Not sent (--dry-run). These are the bytes that would be sent; only the token is masked."
)


@dataclass(frozen=True)
class CallOptions:
    """The options of one %%ue_call, with the magic's settings folded in.

    Each option's field, default setting and check are declared once, in ``CALL_OPTIONS``;
    the fields below are those, plus the display settings that no option sets.
    """

    output: str | None = None
    quiet: bool = False
    profile: str | None = None
    headers: tuple[str, ...] = ()
    timeout: float | None = None
    max_bytes: int | None = None
    table: bool = False
    raw: bool = False
    dry_run: bool = False
    curl: bool = False
    retry: int | None = None
    no_raise: bool = False
    each: str | None = None
    concurrency: int = 4
    rate: float | None = None
    save: str | None = None
    all_pages: bool = False
    columns: tuple[str, ...] | None = None
    python: bool = False
    no_validate: bool = False
    df: bool = False  # --df: the value is a DataFrame, or an error
    file: str | None = None  # --file: the .http file the request came from
    name: str | None = None  # --name: the request of --file
    # settings only
    display_limit: int = 100
    display_bytes: int = 200_000
    expand_levels: int = 2
    text_limit: int = 10
    dataframe: bool = False  # the setting: list answers are DataFrames without --df

    def __post_init__(self) -> None:
        """Option values that cannot work are refused before anything is sent."""
        for option in CALL_OPTIONS:
            problem = option.check(getattr(self, option.field)) if option.check else None
            if problem is not None:
                raise UsageEngineError(problem)
        if self.rate is not None and self.each is None:  # else it would be silently ignored
            raise UsageEngineError("--rate paces --each (one request per item); add --each VAR.")
        if (self.table or self.columns) and self.raw:
            raise UsageEngineError("Choose --table or --raw, not both.")
        if self.each is not None:
            given = [o.flags[-1] for o in CALL_OPTIONS if not o.each and getattr(self, o.field)]
            if given:  # refused before the API description is asked to name the operation
                raise UsageEngineError(f"--each cannot be combined with {' or '.join(given)}.")
        if self.dry_run or self.curl or self.python:
            self._check_previews()
        if self.df:
            self._check_df()
        if self.frames:
            from .frame import pandas

            pandas("--df" if self.df else "UsageEngineMagics.dataframe = True")  # before sending

    @property
    def frames(self) -> bool:
        """Is the value a DataFrame (--df, or the setting where the line asks for no other
        view and something is answered)?"""
        if self.df:
            return True
        previews = self.dry_run or self.curl or self.python
        return self.dataframe and not (self.raw or self.table or previews)

    def _check_df(self) -> None:
        for flag, on in (("--raw", self.raw), ("--table", self.table)):
            if on:
                raise UsageEngineError(f"Choose --df or {flag}: --df shows the DataFrame itself.")
        previews = (("--dry-run", self.dry_run), ("--curl", self.curl), ("--python", self.python))
        for flag, on in previews:
            if on:
                raise UsageEngineError(f"--df needs an answer, and {flag} sends nothing.")

    def _check_previews(self) -> None:
        flags = (("--dry-run", self.dry_run), ("--curl", self.curl), ("--python", self.python))
        previews = [flag for flag, on in flags if on]
        if len(previews) > 1:
            raise UsageEngineError(f"Choose one of {', '.join(previews)}: each sends nothing.")
        if self.save is not None:
            raise UsageEngineError(f"--save needs an answer, and {previews[0]} sends nothing.")

    @classmethod
    def from_args(cls, args: Any, settings: Any) -> CallOptions:
        """The declared options' values (a setting where an option is not given), and the
        display settings."""
        display_limit = settings.display_limit
        return cls(
            **{option.field: option.value(args, settings) for option in CALL_OPTIONS},
            display_limit=display_limit,
            display_bytes=settings.display_bytes,
            expand_levels=settings.expand_levels,
            text_limit=min(display_limit, getattr(settings, "text_limit", display_limit)),
            dataframe=getattr(settings, "dataframe", False),
        )

    def view(self, response: httpx.Response, body: Any, more_pages: bool = False) -> ResponseView:
        return ResponseView(
            response,
            body=body,
            display_limit=self.display_limit,
            display_bytes=self.display_bytes,
            table=self.table,
            raw=self.raw,
            expand_levels=self.expand_levels,
            output_var=self.output,
            text_limit=self.text_limit,
            columns=self.columns,
            more_pages=more_pages,
        )


# each settings object's (UsageEngineMagics') options per parsed line (by identity: the parse
# is cached, and kept alive here so that its id is not reused), until a setting changes
_OPTIONS: weakref.WeakKeyDictionary[Any, dict[int, tuple[Any, CallOptions]]] = (
    weakref.WeakKeyDictionary()
)


def options_for(args: Any, settings: Any) -> CallOptions:
    """``CallOptions.from_args``, made once per parsed line (a loop re-sends the same line, and
    the magic caches its parse) until one of ``settings``' traits changes (``%config``).

    ``args``: the magic's cached, read-only ``Arguments`` (same object, same options);
    ``settings``: a ``HasTraits`` object.
    Raises ``UsageEngineError`` as ``from_args`` does (nothing is kept then).
    """
    cache = _OPTIONS.get(settings)
    if cache is None:
        cache = _OPTIONS[settings] = {}
        settings.observe(lambda _change: cache.clear())  # any trait: %config, or set in code
    kept = cache.get(id(args))
    if kept is not None and kept[0] is args:
        return kept[1]
    if len(cache) >= 256:
        cache.clear()
    options = CallOptions.from_args(args, settings)
    cache[id(args)] = (args, options)
    return options


def send_spec(client: UsageEngineClient, spec: RequestSpec, options: CallOptions) -> httpx.Response:
    """Send one rendered request with the call's timeout and retry policy."""
    return client.request(
        spec.method,
        spec.path,
        **spec.request_kwargs(),
        timeout=options.timeout,
        retries=options.retry,
        max_bytes=USE_CLIENT_DEFAULT if options.max_bytes is None else options.max_bytes,
    )


def call_once(
    namespace: MutableMapping[str, Any],
    client: UsageEngineClient,
    template: RequestTemplate,
    options: CallOptions,
    show: Show,
    *,
    line_form: bool = False,
    page_counter: Callable[[], PageCounter] | None = None,
    description: Any = None,
) -> Any:
    """One request: everything is checked before sending; the answer goes to ``_ue`` and -o.

    ``line_form``: the value is returned (and so decoded); a -q line whose value is not used
    passes False. ``page_counter`` makes what counts pages and items while --all-pages runs;
    ``description`` (an ``openapi.Description``) names the date-time fields of a DataFrame.
    """
    spec = template.render(namespace)
    if options.python:
        from .pycode import python_code

        # the same checks as sending (the origin guard, plain http): the printed code must not
        # be refused where the magic would have been
        client.build_request(spec.method, spec.path, **spec.request_kwargs())

        print(visible(python_code(template, namespace, spec, profile=options.profile)))
        return None
    if options.dry_run or options.curl:
        _preview(client, spec, options, show)
        return None
    target = check_target(options.save) if options.save is not None else None

    def framed_value(body: Any) -> tuple[Any, list[str]]:
        """--df (or the setting): the DataFrame of a body (see ``frame.answer_value``)."""
        from .frame import answer_value

        return answer_value(body, options, spec.method, spec.path, description)

    # A call that fails to get an answer leaves no stale _ue behind; -o VAR keeps its value until
    # an answer it should hold arrives (a failing re-run of a create cell loses nothing).
    namespace["_ue"] = None
    note = ""
    partial = False  # --no-raise: -o and --save get the pages before an error
    last: Any = None  # what _ue holds: the response, or the Pages before an error
    if options.all_pages:
        from ..core.pages import fetch_all_pages

        counter = None if options.quiet or page_counter is None else page_counter()
        try:
            pages = fetch_all_pages(client, spec, options, counter.update if counter else None)
        except KeyboardInterrupt:
            raise UsageEngineError(
                "Interrupted (Ctrl-C) before the first page arrived; nothing was kept."
            ) from None
        if counter is not None:  # after Ctrl-C or an error answer, one line says it all
            counter.finish("" if pages.interrupted or pages.failed else pages.summary())
        elif pages.limited:  # even with -q: the list is incomplete
            print(pages.summary())
        if pages.interrupted:
            _keep_partial(namespace, pages, options, framed_value)
        response, body = pages.response, pages.body
        stored = body
        if pages.failed:
            body = stored = pages.error_body
            if pages.page_count:  # pages came before the error: _ue keeps them
                last = pages
                partial, note = _failed_pages(pages, options, namespace)
                stored = pages.body if partial else stored
    else:
        try:
            response = send_spec(client, spec, options)
        except KeyboardInterrupt:  # one line, no traceback through the client; stops Run All
            raise UsageEngineError(_interrupted(spec, options, namespace)) from None
        # decoded only when something reads it: not for a -q line whose value is thrown away
        wanted = line_form or not options.quiet or options.output or options.frames
        wanted = wanted or target is not None or response.is_error
        body = stored = decode_body(response) if wanted else None
    namespace["_ue"] = response if last is None else last
    raises = response.is_error and not options.no_raise
    # as -o: a call that raises leaves the file as it was (a failing re-run loses no answer)
    saved = write_answer(target, stored if partial else body) if target and not raises else None
    framed = False
    notes: list[str] = []
    if options.frames and (partial or not response.is_error):  # an error body stays as it is
        # raises, before -o is set, for an answer --df cannot convert (_ue holds it)
        value, notes = framed_value(stored)
        framed, stored = value is not stored, value
    if options.output and (not raises or partial):  # pages before an error: kept
        namespace[options.output] = stored
    view = None
    more = False
    if not options.quiet:  # the paging note is only read by the view
        more = not options.all_pages and has_next_page(response, body, spec.params)
        view = options.view(response, body, more_pages=more)
    if raises:
        if view is not None:
            show(view)
        if options.output and not note:
            note = f"; {output_left(options.output, namespace)}, _ue holds this answer"
        if target is not None:
            note += f"; --save {options.save} was not written"
        raise HttpStatusError(
            describe_error(response, body) + f" (--no-raise to go on{note})", response
        )
    if saved is not None and not options.quiet:
        print(visible(saved))
    if framed and not response.is_error:  # a DataFrame (partial pages: the error shows)
        return _show_frame(stored, notes, more, show, line_form, options.quiet)
    if line_form:
        result = shown(body, view)
        if result is not None:
            return result  # IPython shows it once, through Out, unless it is assigned
    if view is not None:
        show(view)
    return body if line_form else None


def _interrupted(
    spec: RequestSpec, options: CallOptions, namespace: MutableMapping[str, Any]
) -> str:
    """The one line for Ctrl-C during one request: what was left as it was."""
    kept = [f"; {output_left(options.output, namespace)}"] if options.output else []
    if options.save is not None:
        kept.append(f"; --save {options.save} was not written")
    return (
        f"Interrupted (Ctrl-C) while waiting for the answer to {spec.method} {spec.path}: "
        f"the server may have acted on it{''.join(kept)}."
    )


def _failed_pages(
    pages: Any, options: CallOptions, namespace: MutableMapping[str, Any]
) -> tuple[bool, str]:
    """An error answer after some pages: with --no-raise, -o and --save get the pages before it
    and one line says the list is partial (also with -q); else the note for the error (-o
    keeps its value, _ue.body holds those pages). Returns (partial, note)."""
    count = pages.page_count
    before = f"the {count} page{'s' if count != 1 else ''} ({pages.item_count} items) before it"
    if options.no_raise:
        holders = [f"-o {options.output}"] if options.output else []
        holders += [f"--save {options.save}"] if options.save is not None else []
        verb = "hold" if len(holders) > 1 else "holds"
        where = f"{' and '.join(holders)} {verb}" if holders else "_ue.body holds"
        answer = f"{pages.response.status_code} {pages.response.reason_phrase}".strip()
        print(
            visible(f"The list is partial: page {count + 1} answered {answer}; {where} {before}.")
        )
        return True, ""
    kept = f"; {output_left(options.output, namespace)}" if options.output else ""
    return False, f"{kept}; _ue.body holds {before}, _ue.response this answer"


def _keep_partial(
    namespace: MutableMapping[str, Any],
    pages: Any,
    options: CallOptions,
    framed_value: Callable[[Any], tuple[Any, list[str]]],
) -> None:
    """Ctrl-C during --all-pages: the pages fetched so far go to ``_ue`` (the ``Pages``) and
    -o (as a DataFrame with --df), then one line says so; raising stops Run All."""
    namespace["_ue"] = pages
    where = "_ue.body"
    if options.output:
        value = pages.body
        if options.frames:
            with contextlib.suppress(UsageEngineError):  # no list: the pages as they came
                value = framed_value(pages.body)[0]
        namespace[options.output] = value
        where = f"-o {options.output} and _ue.body hold"
    else:
        where += " holds"
    count = pages.page_count
    kept = f"{count} page{'s' if count != 1 else ''}, {pages.item_count} items"
    raise UsageEngineError(f"Interrupted (Ctrl-C) after {kept}: {where} them; the list is partial.")


def _show_frame(
    frame: Any, notes: list[str], more: bool, show: Show, line_form: bool, quiet: bool
) -> Any:
    """A DataFrame shows itself (pandas' HTML and text), after its notes and the paging note;
    the line form returns it, so IPython shows it once, as Out, unless it is assigned."""
    if not quiet:
        if more:
            notes = [*notes, "More pages exist: add --all-pages to get them all."]
        for line in notes:
            print(visible(line.replace("`", "")))
        if not line_form:
            show(frame)
    return frame if line_form else None


def has_next_page(response: httpx.Response, body: Any, params: Any) -> bool:
    """Is this answer one page of several? The paging rule (``pages.find_next``) decides, from
    the body already decoded, so that a big answer is not parsed a second time."""
    from ..core import pages

    return pages.find_next(response, params, body) is not None


def _preview(
    client: UsageEngineClient, spec: RequestSpec, options: CallOptions, show: Show
) -> None:
    """--dry-run and --curl: build the request (origin checked), send nothing, fetch no token."""
    request = client.build_request(spec.method, spec.path, **spec.request_kwargs())
    request.headers["Authorization"] = BEARER_MASK  # what will be sent, minus the token
    if options.dry_run:
        show(RequestView(request, note=DRY_RUN_NOTE))
    if options.curl:
        credentials = client.credentials
        comment = token_fetch_comment(
            credentials.token_url, credentials.client_id, credentials.audience
        )
        print(visible(comment))  # settings and the request: escaped as the shell reads them,
        print(visible(curl_command(request)))  # and nothing raw past that


__all__ = ["CallOptions", "UsageEngineError", "call_once", "options_for", "send_spec"]
