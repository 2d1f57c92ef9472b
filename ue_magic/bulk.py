"""%%ue_call --each: one request per item, N at a time, over the logged-in client.

Every request is rendered before the first is sent, so a bad item stops the cell with nothing
sent. Requests are handed to the pool only as slots free up, so an interrupt stops new sends at
once, waits for those in flight, and the report says exactly what was and was not sent.
"""

from __future__ import annotations

import html
import time
from collections import ChainMap
from collections.abc import Callable, Iterable, MutableMapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._client import UsageEngineClient
from .call import CallOptions, send_spec
from .errors import HttpStatusError, UsageEngineError
from .problem import describe_error
from .progress import Progress, TextProgress
from .render import decode_body
from .request import RequestSpec, RequestSyntaxError, RequestTemplate
from .save import JsonLinesWriter, check_target


@dataclass(frozen=True)
class BulkFailure:
    """One item that did not succeed: its index, status (None: no answer) and why."""

    index: int
    status: int | None
    message: str
    body: Any = None

    def __repr__(self) -> str:
        status = self.status if self.status is not None else "no answer"
        return f"BulkFailure(index={self.index}, status={status}, message={self.message!r})"


@dataclass
class BulkResult:
    """What ``_ue`` holds after --each: per-item answers in input order, and a summary."""

    total: int
    responses: list[httpx.Response | None]
    results: list[Any]
    failures: list[BulkFailure] = field(default_factory=list)
    elapsed: float = 0.0
    interrupted: bool = False

    @property
    def sent(self) -> int:
        return sum(1 for r in self.results if r is not _NOT_SENT)

    @property
    def ok(self) -> list[int]:
        """Indices of the items that got a 2xx/3xx answer."""
        failed = {f.index for f in self.failures}
        return [i for i, r in enumerate(self.results) if r is not _NOT_SENT and i not in failed]

    @property
    def failed(self) -> list[BulkFailure]:
        return list(self.failures)

    @property
    def not_sent(self) -> list[int]:
        return [i for i, r in enumerate(self.results) if r is _NOT_SENT]

    def summary(self) -> str:
        rate = self.sent / self.elapsed if self.elapsed > 0 else 0.0
        line = (
            f"{self.sent} of {self.total} sent, {len(self.ok)} ok, {len(self.failures)} failed "
            f"in {self.elapsed:.2f} s ({rate:.1f}/s)"
        )
        if self.interrupted:
            line += f"; interrupted: {len(self.not_sent)} not sent"
        return line

    def __repr__(self) -> str:
        from .render import wrap_text

        lines = [self.summary()]
        if self.failures:
            lines.append("index  status  error")
            lines += [  # a long error wraps under its own column, never inside a word
                wrap_text(
                    f"{f.index:<5}  {f.status if f.status is not None else '-':<6}  {f.message}",
                    indent=" " * 15,
                )
                for f in self.failures[:50]
            ]
            if len(self.failures) > 50:
                lines.append(f"… {len(self.failures) - 50} more failures in _ue.failed")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        out = [f"<div class='ue-bulk'><p>{html.escape(self.summary())}</p>"]
        if self.failures:
            rows = "".join(
                f"<tr><td>{f.index}</td><td>{f.status if f.status is not None else '-'}</td>"
                f"<td>{html.escape(f.message)}</td></tr>"
                for f in self.failures[:50]
            )
            more = len(self.failures) - 50
            out.append(
                "<table><thead><tr><th>item</th><th>status</th><th>error</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
            if more > 0:
                out.append(f"<p>… {more} more failures in <code>_ue.failed</code></p>")
        out.append("</div>")
        return "".join(out)


class _NotSent:
    def __repr__(self) -> str:
        return "<not sent>"


_NOT_SENT: Any = _NotSent()
ProgressFactory = Callable[[int], Progress]
OnResult = Callable[["BulkResult", int], None]


class QuietProgress:
    """-q: no bar at all."""

    def __init__(self, total: int = 0) -> None:
        self.total = total

    def update(self, done: int, failed: int, force: bool = False) -> None:
        pass

    def finish(self, done: int, failed: int, interrupted: bool) -> None:
        pass


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
        raise UsageEngineError(f"--each needs an iterable, not a {type(value).__name__}.")
    return list(value)


def render_all(
    template: RequestTemplate,
    namespace: MutableMapping[str, Any],
    items: list[Any],
) -> list[RequestSpec]:
    """Every request, rendered before anything is sent; a bad item names its index."""
    specs = []
    for index, item in enumerate(items):
        try:
            specs.append(template.render(ChainMap({"item": item}, namespace)))
        except RequestSyntaxError as error:
            raise UsageEngineError(f"Item {index} (nothing was sent): {error}") from None
    return specs


def run_bulk(
    client: UsageEngineClient,
    specs: list[RequestSpec],
    options: CallOptions,
    progress: Progress,
    clock: Callable[[], float] = time.monotonic,
    on_result: OnResult | None = None,
) -> BulkResult:
    """Send every request, ``options.concurrency`` at a time, in a pool of threads;
    ``on_result(result, index)`` is called as each item's result is recorded."""
    total = len(specs)
    result = BulkResult(total=total, responses=[None] * total, results=[_NOT_SENT] * total)
    started = clock()
    pending: dict[Future[httpx.Response], int] = {}
    next_index = done = 0
    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        try:
            while next_index < total or pending:
                while next_index < total and len(pending) < options.concurrency:
                    future = pool.submit(send_spec, client, specs[next_index], options)
                    pending[future] = next_index
                    next_index += 1
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    _record(result, index, future)
                    if on_result is not None:
                        on_result(result, index)
                    done += 1
                progress.update(done, len(result.failures))
        except KeyboardInterrupt:
            result.interrupted = True
            for future in list(pending):  # let those in flight finish and count them
                index = pending.pop(future)
                _record(result, index, _settled(future))
                if on_result is not None:
                    on_result(result, index)
                done += 1
    result.failures.sort(key=lambda f: f.index)
    result.elapsed = clock() - started
    progress.finish(done, len(result.failures), result.interrupted)
    return result


def _settled(future: Future[httpx.Response]) -> Future[httpx.Response]:
    wait([future])
    return future


def _record(result: BulkResult, index: int, future: Future[httpx.Response]) -> None:
    try:
        response = future.result()
    except Exception as error:  # one item's failure must not stop the report
        error = error.with_traceback(None)  # frames would keep requests alive in -o
        message = str(error) if isinstance(error, UsageEngineError) else repr(error)
        result.results[index] = error
        result.failures.append(BulkFailure(index, None, message))
        return
    body = decode_body(response)
    result.responses[index] = response
    if response.is_error:
        message = describe_error(response, body)
        result.results[index] = HttpStatusError(message, response)
        result.failures.append(BulkFailure(index, response.status_code, message, body))
    else:
        result.results[index] = body


def call_each(
    namespace: MutableMapping[str, Any],
    client: UsageEngineClient,
    template: RequestTemplate,
    options: CallOptions,
    show: Callable[[Any], None],
    progress_factory: ProgressFactory | None = None,
) -> None:
    """--each: render all, send all, show a summary; -o gets one result per item in order."""
    name = options.each or ""
    if name not in namespace:
        raise UsageEngineError(f"--each {name}: no variable {name!r} in the notebook.")
    items = items_of(namespace[name])
    specs = render_all(template, namespace, items)
    target = check_target(options.save) if options.save is not None else None
    factory = QuietProgress if options.quiet else (progress_factory or TextProgress)
    progress = factory(len(specs))
    if target is None:
        result = run_bulk(client, specs, options, progress)
    else:
        with JsonLinesWriter(target) as writer:
            result = run_bulk(client, specs, options, progress, on_result=_saver(writer))
    namespace["_ue"] = result
    if options.output:
        namespace[options.output] = [None if r is _NOT_SENT else r for r in result.results]
    if not options.quiet:
        show(result)
        if target is not None:
            print(writer.summary())
    if result.interrupted:
        raise UsageEngineError(
            f"Interrupted: {result.summary()}. _ue.not_sent lists the items not sent."
        )
    if result.failures:
        where = "_ue.failed lists them" if options.quiet else "see the table above"
        if options.no_raise:
            if options.quiet:
                print(f"{result.summary()}; {where}.")  # -q: one line, and only on failure
            return
        raise HttpStatusError(
            f"{len(result.failures)} of {len(specs)} requests failed; {where} "
            "(--no-raise to go on)."
        )


def _saver(writer: JsonLinesWriter) -> OnResult:
    """--save with --each: each result as a JSON line, as soon as it is recorded."""

    def write(result: BulkResult, index: int) -> None:
        response = result.responses[index]
        status = response.status_code if response is not None else None
        outcome = result.results[index]
        if isinstance(outcome, Exception):
            last = result.failures[-1] if result.failures else None  # just recorded
            body = last.body if last is not None and last.index == index else None
            writer.write(index, status, body, error=str(outcome))
        else:
            writer.write(index, status, outcome)

    return write
