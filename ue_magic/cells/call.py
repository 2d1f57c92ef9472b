"""What %%ue_call does, without IPython: render the request, send it, store and show the answer.

The magic passes in the user's namespace and a ``show`` function (IPython's ``display``), so this
module is tested with a plain dict and a list.
"""

from __future__ import annotations

import keyword
import weakref
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._constants import BEARER_MASK, MAX_CONCURRENCY, MAX_RETRIES, MAX_TIMEOUT
from ..core._client import UsageEngineClient
from ..core._media import decode_body
from ..core.problem import describe_error
from ..errors import HttpStatusError, UsageEngineError
from .curl import curl_command, token_fetch_comment
from .progress import PageCounter
from .render import RequestView, ResponseView
from .request import RequestSpec, RequestTemplate
from .result import shown
from .save import check_target, write_answer

Show = Callable[[Any], None]
DRY_RUN_NOTE = (
    "Not sent (--dry-run). These are the bytes that would be sent; only the token is masked."
)
MAX_RATE = 100_000.0  # requests a second; more is a typo


@dataclass(frozen=True)
class CallOptions:
    """The options of one %%ue_call, with the magic's settings folded in."""

    output: str | None = None
    quiet: bool = False
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
    all_pages: bool = False
    display_limit: int = 100
    display_bytes: int = 200_000
    expand_levels: int = 2
    text_limit: int = 10
    columns: tuple[str, ...] | None = None
    save: str | None = None
    python: bool = False
    profile: str | None = None
    df: bool = False  # --df: the value is a DataFrame, or an error
    dataframe: bool = False  # the setting: list answers are DataFrames without --df

    def __post_init__(self) -> None:
        """Option values that cannot work are refused before anything is sent."""
        for flag, name in (("-o", self.output), ("--each", self.each)):
            if name is not None and (not name.isidentifier() or keyword.iskeyword(name)):
                raise UsageEngineError(f"{flag} needs a Python variable name, not {name!r}.")
        if self.timeout is not None and not 0 < self.timeout <= MAX_TIMEOUT:
            raise UsageEngineError(f"--timeout needs seconds above 0 and at most {MAX_TIMEOUT}.")
        if self.max_bytes is not None and self.max_bytes < 1:
            raise UsageEngineError("--max-bytes needs a count of bytes above 0.")
        if self.retry is not None and not 0 <= self.retry <= MAX_RETRIES:
            raise UsageEngineError(f"--retry needs a count from 0 to {MAX_RETRIES}.")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UsageEngineError(f"--concurrency needs a count from 1 to {MAX_CONCURRENCY}.")
        if self.rate is not None and not 0 < self.rate <= MAX_RATE:
            raise UsageEngineError(f"--rate needs requests a second above 0, at most {MAX_RATE:g}.")
        if self.rate is not None and self.each is None:  # else it would be silently ignored
            raise UsageEngineError("--rate paces --each (one request per item); add --each VAR.")
        if (self.table or self.columns) and self.raw:
            raise UsageEngineError("Choose --table or --raw, not both.")
        if self.columns is not None and not all(self.columns):
            raise UsageEngineError("--columns needs names separated by commas: --columns id,name.")
        if self.each is not None:
            flags = (
                ("--dry-run", self.dry_run),
                ("--curl", self.curl),
                ("--python", self.python),
                ("--all-pages", self.all_pages),
            )
            given = [flag for flag, on in flags if on]
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
        display_limit = settings.display_limit
        return cls(
            output=args.output,
            quiet=args.quiet,
            headers=tuple(args.header),
            timeout=args.timeout if args.timeout is not None else settings.timeout,
            max_bytes=args.max_bytes if args.max_bytes is not None else settings.max_bytes,
            table=args.table,
            raw=args.raw,
            dry_run=args.dry_run,
            curl=args.curl,
            retry=args.retry,
            no_raise=args.no_raise,
            each=args.each,
            concurrency=settings.concurrency if args.concurrency is None else args.concurrency,
            rate=args.rate,
            all_pages=args.all_pages,
            display_limit=display_limit,
            display_bytes=settings.display_bytes,
            expand_levels=settings.expand_levels,
            text_limit=min(display_limit, getattr(settings, "text_limit", display_limit)),
            columns=_column_names(args.columns),
            save=args.save,
            python=args.python,
            profile=args.profile,
            df=args.df,
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


def _column_names(text: str | None) -> tuple[str, ...] | None:
    """``"id, name"`` -> ``("id", "name")``; an empty name is kept so that it is refused."""
    if text is None:
        return None
    return tuple(name.strip() for name in text.split(","))


def send_spec(client: UsageEngineClient, spec: RequestSpec, options: CallOptions) -> httpx.Response:
    """Send one rendered request with the call's timeout and retry policy."""
    return client.request(
        spec.method,
        spec.path,
        **spec.request_kwargs(),
        timeout=options.timeout,
        retries=options.retry,
        max_bytes=-1 if options.max_bytes is None else options.max_bytes,
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

    ``page_counter`` makes what counts pages and items while --all-pages runs;
    ``description`` (an ``openapi.Description``) names the date-time fields of a DataFrame.
    """
    spec = template.render(namespace)
    if options.python:
        from .pycode import python_code

        # the same checks as sending (the origin guard, plain http): the printed code must not
        # be refused where the magic would have been
        client.build_request(spec.method, spec.path, **spec.request_kwargs())

        print(python_code(template, namespace, spec, profile=options.profile))
        return None
    if options.dry_run or options.curl:
        _preview(client, spec, options, show)
        return None
    target = check_target(options.save) if options.save is not None else None
    namespace["_ue"] = None  # a call that fails to get an answer leaves nothing stale behind
    if options.output:
        namespace[options.output] = None
    note = ""
    partial = False  # -o gets the pages before an error
    if options.all_pages:
        from ..core.pages import fetch_all_pages

        counter = None if options.quiet or page_counter is None else page_counter()
        pages = fetch_all_pages(client, spec, options, counter.update if counter else None)
        if counter is not None:
            counter.finish(pages.summary())
        elif pages.limited:  # even with -q: the list is incomplete
            print(pages.summary())
        response, body = pages.response, pages.body
        stored = body
        if pages.before_error is not None and options.output:
            stored, partial = pages.before_error, True
            kept = pages.pages - 1
            note = f"; -o {options.output} holds the {kept} page{'s' if kept > 1 else ''} before it"
    else:
        response = send_spec(client, spec, options)
        body = stored = decode_body(response)
    namespace["_ue"] = response
    saved = write_answer(target, body) if target is not None else None
    framed = False
    notes: list[str] = []
    if options.frames and (partial or not response.is_error):  # an error body stays as it is
        from .frame import answer_value

        # raises, before -o is set, for an answer --df cannot convert (_ue holds it)
        value, notes = answer_value(stored, options, spec.method, spec.path, description)
        framed, stored = value is not stored, value
    if options.output:
        namespace[options.output] = stored
    view = None
    more = False
    if not options.quiet:  # the paging note is only read by the view
        more = not options.all_pages and has_next_page(response, body, spec.params)
        view = options.view(response, body, more_pages=more)
    if response.is_error and not options.no_raise:
        if view is not None:
            show(view)
        raise HttpStatusError(
            describe_error(response, body) + f" (--no-raise to go on{note})", response
        )
    if saved is not None and not options.quiet:
        print(saved)
    if framed and not response.is_error:  # a DataFrame (partial pages: the error shows)
        return _show_frame(stored, notes, more, show, line_form, options.quiet)
    if line_form:
        result = shown(body, view)
        if result is not None:
            return result  # IPython shows it once, through Out, unless it is assigned
    if view is not None:
        show(view)
    return body if line_form else None


def _show_frame(
    frame: Any, notes: list[str], more: bool, show: Show, line_form: bool, quiet: bool
) -> Any:
    """A DataFrame shows itself (pandas' HTML and text), after its notes and the paging note;
    the line form returns it, so IPython shows it once, as Out, unless it is assigned."""
    if not quiet:
        if more:
            notes = [*notes, "More pages exist: add --all-pages to get them all."]
        for line in notes:
            print(line.replace("`", ""))
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
        print(
            token_fetch_comment(credentials.token_url, credentials.client_id, credentials.audience)
        )
        print(curl_command(request))


__all__ = ["CallOptions", "UsageEngineError", "call_once", "options_for", "send_spec"]
