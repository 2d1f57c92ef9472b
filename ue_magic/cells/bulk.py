"""%%ue_call --each: one request per item, paced for a rate-limited service.

Every item is checked (rendered, then dropped) before the first request is sent, so a bad item
stops the cell with nothing sent, and memory does not grow with rendered bodies; each request is
rendered again by the worker that sends it. Workers share a ``Throttle`` (``_pacing``): a 429 pauses
them all and lowers the pace. httpx's ``trace`` extension tells each worker when its request was
written to the socket, so the counts are honest: sent means written. An interrupt (any number of
them) or a logout stops new requests; those in flight finish and the report says what each item is.
"""

from __future__ import annotations

import dataclasses
import time
from collections import ChainMap
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import httpx

from .._constants import MAX_RETRIES, USE_CLIENT_DEFAULT, UseClientDefault
from ..core._client import UsageEngineClient
from ..core._media import decode_body
from ..core._retry import parse_retry_after
from ..core.problem import describe_error, server_message
from ..errors import (
    ApiConnectionError,
    HttpStatusError,
    SecretInRequestError,
    UsageEngineError,
)
from ._bulk_report import BulkFailure, BulkResult, Pending, no_items_line, short_form
from ._interrupts import DeferredInterrupts
from ._items import items_of, render_each
from ._pacing import Stopped, Throttle
from ._quota import read_quota
from ._runs import BulkRuns
from .call import CallOptions
from .progress import Progress, TextProgress
from .request import RequestTemplate
from .result import output_left
from .save import JsonLines

__all__ = [
    "BulkFailure",
    "BulkResult",
    "BulkRuns",
    "call_each",
    "check_items",
    "items_of",
    "run_bulk",
    "short_form",
]

ProgressFactory = Callable[[int], Progress]
INTERRUPTED = "interrupted"
ABANDONED = "interrupted again while in flight: the server may have processed it"


def check_items(
    template: RequestTemplate, namespace: MutableMapping[str, Any], items: Sequence[Any]
) -> None:
    """Render every request once and drop it: a bad item names its index, nothing is sent.

    A template that does not use ``{{item}}`` would send the same request N times: refused.
    """
    if "item" not in template.names:
        for _spec in render_each(template, namespace, items[:1]):
            pass  # a mistyped name ({{itm}}) is named first, with its closest (item)
        raise UsageEngineError(
            f"--each sends one request per item, but this request does not use {{{{item}}}}: "
            f"it would send {len(items)} identical requests. Put {{{{item}}}} (or "
            "{{item.field}}) in the path, the query, a header or the body."
        )
    for _spec in render_each(template, namespace, items):
        pass


class _Trace:
    """httpx's ``trace`` extension for one item: waits its turn before each attempt is written,
    notes that it was written, and tells the throttle about each answer."""

    __slots__ = (
        "attempts",
        "max_wait",
        "started",
        "status",
        "throttle",
        "ticket",
        "traced",
        "unwritten",
        "written",
    )

    def __init__(self, throttle: Throttle, max_wait: float) -> None:
        self.throttle = throttle
        self.max_wait = max_wait  # a longer Retry-After pauses the run only this long
        self.started: float | None = None
        self.written = self.traced = False
        self.status: int | None = None  # the last answer's status
        self.attempts = self.unwritten = 0  # attempts started; connection errors before writing
        self.ticket: int | None = None  # the throttle's, for the next attempt (see reserve)

    def _claim(self, now: float) -> None:  # under the throttle's lock: stop cannot race it
        self.started = now
        self.attempts += 1
        self.written = False  # this attempt's: an earlier one's 429 says nothing of it
        self.status = None

    def __call__(self, name: str, info: dict[str, Any]) -> None:
        self.traced = True
        if name.endswith(".send_request_headers.started"):
            ticket, self.ticket = self.ticket, None  # for this attempt only, not its retries
            self.throttle.before_write(self._claim, ticket)
        elif name.endswith(".send_request_body.complete"):
            self.written = True
        elif name.endswith(".receive_response_headers.complete"):
            self.written = True  # an answer proves the request arrived
            status, headers = info["return_value"][1], info["return_value"][3]
            self.status = status
            wait = None
            stated = False  # the limit in the headers (RateLimit-*, X-RateLimit-*)
            for key, value in headers:
                lowered: bytes = key.lower()
                if lowered == b"retry-after":
                    wait = parse_retry_after(value.decode("latin-1"))
                    wait = None if wait is None else min(wait, self.max_wait)
                elif b"ratelimit" in lowered:
                    stated = True
            assert self.started is not None
            quota = read_quota(headers) if stated else None
            self.throttle.answered(self.started, status, wait, quota)


@dataclass(frozen=True)
class _Outcome:
    """What one worker learned: ``kind`` is "ok", "failed" or "not sent"."""

    kind: str
    response: httpx.Response | None = None
    message: str = ""
    error: Exception | None = None
    status: int | None = None  # without a response: the status it had (a 429 not retried)


class _Run:
    """One run's shared parts: what to send, with what, paced by which throttle."""

    def __init__(
        self,
        client: UsageEngineClient,
        template: RequestTemplate,
        namespace: MutableMapping[str, Any],
        items: Sequence[Any],
        options: CallOptions,
        throttle: Throttle,
    ) -> None:
        self.client = client
        self.template = template
        self.namespace = namespace
        self.items = items
        self.options = options
        self.throttle = throttle
        self.traces: dict[int, _Trace] = {}
        self.policy = dataclasses.replace(client.retry_policy, sleep=throttle.sleep)
        limit = options.max_bytes  # --max-bytes, as for one call
        self.max_bytes: int | UseClientDefault | None = (
            USE_CLIENT_DEFAULT if limit is None else limit
        )

    def send(self, index: int) -> _Outcome:
        """Send item ``index`` (a worker thread): its 429s are retried up to ``MAX_RETRIES``."""
        trace = self.traces[index] = _Trace(self.throttle, self.policy.max_wait)
        try:
            self.throttle.acquire(order=index)
        except Stopped as stop:
            return _Outcome("not sent", message=stop.reason)
        try:
            spec = self.template.render(ChainMap({"item": self.items[index]}, self.namespace))
            while True:
                request = self.client.build_request(
                    spec.method,
                    spec.path,
                    params=list(spec.params) or None,
                    headers=list(spec.headers) or None,
                    content=spec.body,
                    timeout=self.options.timeout,
                )
                request.extensions["trace"] = trace
                trace.ticket = self.throttle.reserve()  # before a connection and a timeout
                try:
                    response = self.client.send(
                        request,
                        retries=self.options.retry,
                        policy=self.policy,
                        max_bytes=self.max_bytes,
                    )
                except ApiConnectionError:
                    if not self._again(trace):
                        raise
                    continue
                if response.status_code != 429 or trace.attempts > MAX_RETRIES:
                    return _Outcome("ok" if not response.is_error else "failed", response)
                wait = parse_retry_after(response.headers.get("retry-after"))
                if self.options.retry is not None or (wait or 0) > self.policy.max_wait:
                    return _Outcome("failed", response)  # the user's count, or too long a wait
        except Stopped as stop:
            return self._unfinished(trace, stop.reason)
        except SecretInRequestError as error:  # refused before sending
            return _Outcome("not sent", message=_first_clause(str(error)), error=error)
        except UsageEngineError as error:
            if trace.traced and not trace.written:
                return _Outcome("not sent", message=_first_clause(str(error)))
            if 200 <= (trace.status or 0) < 300:
                # this attempt was answered 2xx, then its body was over --max-bytes, broken or
                # cut: done by the server, so never pending (sent again, it would be made twice)
                return _Outcome("ok", message=_first_clause(str(error)), status=trace.status)
            return _Outcome("failed", message=str(error), error=error.with_traceback(None))
        except Exception as error:  # one item's bug must not lose the report
            error = error.with_traceback(None)  # frames would keep requests alive in -o
            return _Outcome("failed", message=repr(error), error=error)
        finally:
            self.throttle.release()

    def _again(self, trace: _Trace) -> bool:
        """After a connection error: whether to send again. Only a request that was never
        written (so the server cannot have processed it) is, within the policy's retries."""
        if not trace.traced or trace.written or trace.unwritten >= self.policy.retries:
            return False
        trace.unwritten += 1
        self.throttle.sleep(self.policy.delay(trace.unwritten, None)[0])
        return True

    @staticmethod
    def _unfinished(trace: _Trace, reason: str) -> _Outcome:
        if trace.written:  # a 429 then a stop before its retry: still not processed
            message = f"answered 429, then {reason} before its retry"
            return _Outcome("failed", message=message, status=trace.status)
        return _Outcome("not sent", message=reason)

    def abandoned(self, index: int) -> _Outcome:
        """What an item still in flight after a second interrupt is, as far as we know."""
        trace = self.traces.get(index)
        if trace is None or trace.started is None:
            return _Outcome("not sent", message=INTERRUPTED)
        return _Outcome("failed", message=ABANDONED)


def _first_clause(message: str) -> str:
    """'Could not reach POST http://x/y (ConnectError: ...); check ...' -> before the ';'."""
    return message.split(";", 1)[0]


def run_bulk(
    client: UsageEngineClient,
    template: RequestTemplate,
    namespace: MutableMapping[str, Any],
    items: Sequence[Any],
    options: CallOptions,
    progress: Progress,
    *,
    throttle: Throttle | None = None,
    save: JsonLines | None = None,
    clock: Callable[[], float] = time.monotonic,
    origins: Sequence[int] | None = None,
) -> BulkResult:
    """Send one request per item, ``options.concurrency`` at most in flight, in input order.

    Results are recorded (and saved) as they arrive. A first KeyboardInterrupt stops new
    requests and waits for those in flight; a second stops waiting (in-flight items are
    reported as such). Never raises KeyboardInterrupt: the result says ``interrupted``.
    ``origins``: each item's index in the first run's input (a resent ``pending``), saved as
    its ``index``.
    """
    throttle = throttle or Throttle(options.concurrency, options.rate)
    result = BulkResult(
        items,
        _item_fields(template),
        keep_results=bool(options.output) or options.frames,  # a DataFrame has the bodies
        origins=origins,
    )
    run = _Run(client, template, namespace, items, options, throttle)
    started = clock()
    pending: dict[Future[_Outcome], int] = {}
    next_index = done = 0  # done: items sent (ok or failed), the bar's count
    # twice the workers the window lets send: one waiting out a Retry-After gives its place up
    # (Throttle.sleep), and a spare one sends in it
    workers = 2 * max(1, options.concurrency)
    pool = ThreadPoolExecutor(max_workers=workers)
    abandoned = False
    interrupts = DeferredInterrupts().install()  # Ctrl-C only at interrupts.check()
    try:
        while next_index < len(items) or pending:
            try:
                while next_index < len(items) and len(pending) < workers:
                    if throttle.stopped is not None:
                        break
                    pending[pool.submit(run.send, next_index)] = next_index
                    next_index += 1
                if not pending:
                    break
                finished, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                interrupts.check()  # here an interrupt loses nothing: finished stay pending
                for future in finished:
                    index = pending.pop(future)
                    outcome = future.result()
                    _record(result, index, outcome, save)
                    run.traces.pop(index, None)
                    done += outcome.kind != "not sent"  # as the summary counts: sent
                progress.update(done, len(result.failures))
            except KeyboardInterrupt:
                if result.interrupted:  # the second one: stop waiting for those in flight
                    abandoned = True
                    break
                result.interrupted = True
                throttle.stop(INTERRUPTED)
    finally:
        if abandoned:
            throttle.stop(INTERRUPTED)
            for future, index in list(pending.items()):
                outcome = future.result() if future.done() else run.abandoned(index)
                _record(result, index, outcome, save)
                done += outcome.kind != "not sent"
        pool.shutdown(wait=not abandoned, cancel_futures=True)
        reason = throttle.stopped or INTERRUPTED
        for index in range(next_index, len(items)):
            _record(result, index, _Outcome("not sent", message=reason), save)
        if throttle.stopped is not None and not result.interrupted:
            result.stopped = throttle.stopped
        result.elapsed = clock() - started
        result.pacing = throttle.stats
        interrupts.restore()
        progress.finish(done, len(result.failures), result.interrupted)
    return result


def _record(result: BulkResult, index: int, outcome: _Outcome, save: JsonLines | None) -> None:
    item = result.items[index]
    if outcome.kind == "not sent":
        result.record_not_sent(index, outcome.message)
        if save is not None:
            save.write(
                {
                    "index": result.origin(index),
                    # an item that led to a secret is not written out either
                    "item": "***" if isinstance(outcome.error, SecretInRequestError) else item,
                    "outcome": "not sent",
                    "why": outcome.message,
                }
            )
        return
    response = outcome.response
    if response is None and outcome.kind == "ok":  # a 2xx whose body could not be read
        result.record_ok(index, None, outcome.status or 0)
        result.unread += 1
        if save is not None:
            line = {"index": result.origin(index), "item": item, "outcome": "ok"}
            save.write({**line, "status": outcome.status, "why": outcome.message})
        return
    if response is None:
        failure = BulkFailure(index, item, outcome.status, outcome.message)
        result.record_failure(failure, outcome.error)
        if save is not None:
            line = {
                "index": result.origin(index),
                "item": item,
                "outcome": "failed",
                "why": outcome.message,
            }
            save.write(line if outcome.status is None else {**line, "status": outcome.status})
        return
    try:
        body = decode_body(response)
    except Exception:  # the server answered: the item is recorded whatever its body holds
        body = None
    if outcome.kind == "ok":
        result.record_ok(index, body, response.status_code)
    else:
        described = describe_error(response, body)
        message = server_message(body) or response.reason_phrase or described
        failure = BulkFailure(index, item, response.status_code, message, body, response)
        result.record_failure(failure, HttpStatusError(described, response))
    if save is not None:
        save.write(
            {
                "index": result.origin(index),
                "item": item,
                "outcome": outcome.kind,
                "status": response.status_code,
                "body": body,
            }
        )


def _item_fields(template: RequestTemplate) -> list[str | int]:
    """The fields of ``{{item...}}`` the template uses: the failure table's short form."""
    return [key for root, key in template.fields if root == "item"]


def _checked_items(
    template: RequestTemplate, namespace: MutableMapping[str, Any], name: str
) -> list[Any]:
    """The items of ``--each name``, every request checked. A Ctrl-C meanwhile (a big input
    takes a while) sends nothing: ``_ue`` and ``_ue_bulk`` then hold every item as not sent
    (its ``pending`` is the whole input), so neither is the previous run's result."""
    items: list[Any] | None = None
    value = namespace[name]
    try:
        items = items_of(value)
        check_items(template, namespace, items)
        return items
    except KeyboardInterrupt:
        raise _not_sent(template, namespace, name, value, items) from None


def interrupted_check(
    template: RequestTemplate, namespace: MutableMapping[str, Any], name: str | None
) -> UsageEngineError:
    """The error for a Ctrl-C while the request (every item's, with ``--each name``) was
    checked against the API description: nothing was sent, and with --each ``_ue_bulk``
    holds every item as not sent (its ``pending`` the whole input), as after
    ``_checked_items``."""
    if not name:
        return UsageEngineError(
            "Interrupted (Ctrl-C) while checking the request against the API description: "
            "nothing was sent."
        )
    value = namespace.get(name)
    try:  # a one-shot iterator is never checked, so never read here either
        items = None if iter(value) is value else items_of(value)  # type: ignore[arg-type]
    except (TypeError, UsageEngineError):
        items = None
    return _not_sent(template, namespace, name, value, items)


def _not_sent(
    template: RequestTemplate,
    namespace: MutableMapping[str, Any],
    name: str,
    value: Any,
    items: list[Any] | None,
) -> UsageEngineError:
    namespace.pop("_ue", None)
    namespace.pop("_ue_bulk", None)
    if items is None and isinstance(value, Iterator):
        return UsageEngineError(  # reading a generator cannot be undone, nor resumed
            f"Interrupted while reading the items of --each {name}: nothing was sent, but "
            f"{name} is a generator (or other iterator), now partly or wholly used up: make "
            f"it again, or make it a list ({name} = list(...)), before --each {name}."
        )
    if items is not None:
        result = BulkResult(items, _item_fields(template), origins=_origins(value, items))
        result.interrupted = True
        for index in range(len(items)):
            result.record_not_sent(index, "interrupted while checking the items")
        namespace["_ue"] = namespace["_ue_bulk"] = result
    return UsageEngineError(
        f"Interrupted while checking the items of --each {name}: nothing was sent"
        + (f"; pending = _ue_bulk.pending holds all {len(items)}." if items is not None else ".")
    )


def _origins(value: Any, items: Sequence[Any]) -> tuple[int, ...] | None:
    """The first run's indices of ``items`` when --each is given a ``pending`` list."""
    return value.indices_for(items) if isinstance(value, Pending) else None


class QuietProgress:
    """-q: no bar at all."""

    def __init__(self, total: int = 0) -> None:
        self.total = total

    def update(self, done: int, failed: int, force: bool = False) -> None:
        pass

    def finish(self, done: int, failed: int, interrupted: bool) -> None:
        pass


def call_each(
    namespace: MutableMapping[str, Any],
    client: UsageEngineClient,
    template: RequestTemplate,
    options: CallOptions,
    show: Callable[[Any], None],
    progress_factory: ProgressFactory | None = None,
    runs: BulkRuns | None = None,
) -> Any:
    """--each: check all, send all, show a summary; -o gets one result per item in order
    (with --df, ``BulkResult.to_frame()``, which is also returned; else None), and
    ``_ue_bulk`` the ``BulkResult`` until the next --each (``_ue`` until the next call).

    The options were checked when made (``CallOptions``: what --each cannot be combined with).
    """
    name = options.each or ""
    if name not in namespace:
        raise UsageEngineError(f"--each {name}: no variable {name!r} in the notebook.")
    items = _checked_items(template, namespace, name)
    save = JsonLines.open(options.save) if options.save else None
    throttle = Throttle(options.concurrency, options.rate)
    done: Future[None] = Future()
    if runs is not None:
        runs.add(client, throttle, done)
    try:
        factory = QuietProgress if options.quiet else (progress_factory or TextProgress)
        progress = factory(len(items))
        result = run_bulk(
            client,
            template,
            namespace,
            items,
            options,
            progress,
            throttle=throttle,
            save=save,
            origins=_origins(namespace[name], items),
        )
    finally:
        done.set_result(None)
        if runs is not None:
            runs.remove(client, throttle)
        if save is not None:
            save.close()
    namespace["_ue"] = namespace["_ue_bulk"] = result
    value = result.to_frame() if options.frames else result.results
    unsent = len(result.not_sent)
    halted = result.interrupted or result.stopped
    raises = halted or (bool(result.failures or unsent) and not options.no_raise)
    # as for one call: a run that raises leaves -o as it was (a failing re-run of a create
    # cell loses nothing); its results are in _ue_bulk
    kept = ""
    if options.output:
        kept = f"; {output_left(options.output, namespace)}, _ue_bulk.results holds this run's"
    if options.output and not raises:
        namespace[options.output] = value
    if not options.quiet or halted:
        show(result)  # -q: failures are one line below, not the table
    if not items:
        print(no_items_line(name, namespace[name]))
    left = len(items) - len(result.ok)
    if halted:
        raise UsageEngineError(
            f"{'Interrupted' if result.interrupted else f'Stopped ({result.stopped})'} with "
            f"{result.sent} of {len(items)} sent{kept}; pending = _ue_bulk.pending holds the "
            f"{left} items to send again (see the report above)."
        )
    if result.failures or unsent:
        where = "_ue_bulk.failed lists them" if options.quiet else "see the table above"
        if options.no_raise:
            if options.quiet:
                print(f"{result.summary()}; {where}.")  # -q: one line, and only on failure
            return value if options.frames else None
        what = f"{len(result.failures)} of {len(items)} requests failed"
        if unsent:
            what += f" and {unsent} were not sent"
        unanswered = len(result.unanswered)
        check = (
            f"; {unanswered} got no answer and may have been processed: check them first"
            if unanswered
            else ""
        )
        raise HttpStatusError(
            f"{what}; {where}{kept} (pending = _ue_bulk.pending, then --each pending, sends them "
            f"again{check}; --no-raise to go on, and -o gets the results)."
        )
    return value if options.frames else None
