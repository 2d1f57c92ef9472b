"""The description of one login: found, fetched and parsed once, in a thread started at login.

Why a thread: a large legal description (20 MB, 100,000 paths) takes seconds of CPU to parse
and index; a call waits for it at most ``timeout`` (the login's ``openapi_timeout``) and then
goes on unchecked with one warning, a Tab at most ``TAB_WAIT`` and then offers nothing; both
pick the description up once it is there.

Where it comes from: the ``--openapi`` option or the ``UE_OPENAPI`` setting (a file or URL);
without either, ``{api}openapi.json``. From that default place a 404 or an answer that is not a
description means "none", quietly; anything else that goes wrong is one warning, and the login
goes on without a description until ``reload()``.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core._visible import visible
from ...errors import ApiConnectionError, DescriptionError, OriginError, UsageEngineError
from ._load import CHILD_BYTES, MAX_BYTES, referrer, shown_url

if TYPE_CHECKING:  # imported where used: %load_ext does not pay for the model and the checks
    from ._check import RequestChecker
    from ._model import Description

DEFAULT_NAME = "openapi.json"
OFF = frozenset({"off", "none", "no", "false", "0"})  # UE_OPENAPI=off: no description, no fetch
# URL -> (status, body), raises on no answer; token=False: never with the token
Fetch = Callable[..., "tuple[int, bytes]"]
Warn = Callable[[str], None]
LOAD_SECONDS = 5.0  # a call waits this long for the load (the openapi_timeout setting's default)
TAB_WAIT = 0.05  # a Tab waits this long: within the 100 ms a Tab may take


class QuietMiss(DescriptionError):
    """The default place has no description (404, or not one): say nothing."""


class LoginDescription:
    """Holds one login's description; ``get()`` loads it at most once until ``reload()``."""

    tab_wait = TAB_WAIT  # seconds a Tab waits for the load (tests that Tab at once wait longer)

    def __init__(
        self,
        source: str | None,
        api_url: str,
        fetch: Fetch,
        warn: Warn,
        timeout: float = LOAD_SECONDS,
    ) -> None:
        self.source = source
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.timeout = timeout  # seconds a call waits for the load
        self._fetch = fetch
        self._warn = warn
        self._lock = threading.Lock()
        self._loaded = False
        self._loading: threading.Event | None = None  # set when the running load ends
        self._load_started = 0.0  # time.monotonic() when it started
        self._generation = 0  # a reload's load replaces an older one still running
        self._pending: list[str] = []  # the load's warnings, said by the caller's thread
        self._description: Description | None = None
        self._checker: RequestChecker | None = None
        self._note = "not loaded yet"  # why there is none (its words raw; see ``note``)
        self._said: set[str] = set()
        self._missing_file()

    @property
    def where(self) -> str:
        return self.source or self.api_url + DEFAULT_NAME

    @property
    def note(self) -> str:
        """Why there is no description, for %ue_api's error: one line, terminal-safe (it
        quotes the description's own words, a ``$ref`` text or URL)."""
        return visible(self._note, one_line=True)

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def absent(self) -> bool:
        """Known to have no description (turned off, or looked for and not found)."""
        if self.source is not None and self.source.strip().lower() in OFF:
            return True
        if not self._loaded:
            return False
        self._say_pending()  # a load that failed in the background says so now, once
        return self._description is None

    def get(self, wait: float | None = None, *, quiet: bool = False) -> Description | None:
        """The description, its load started on the first call; None when there is none, or
        while it is loading after ``wait`` seconds (default: until the load has run for
        ``timeout`` and a second's grace, counted from its start, so a cell that comes late,
        or waits for the interpreter first, waits less; then one warning, unless ``quiet``: a
        Tab says nothing)."""
        if not self._loaded:
            with self._lock:
                loading = self._start()
                started = self._load_started
            # a call's grace of 1 s past the timeout: a fetch that times out says so itself
            left = started + self.timeout + 1.0 - time.monotonic()
            waited = max(0.0, left) if wait is None else wait
            if loading is not None and not loading.wait(waited):
                if not quiet:
                    self.warn_once(
                        f"API description: loading {self.where} takes over {self.timeout:g} s; "
                        "going on without it until it is loaded (requests go out unchecked)."
                    )
                return None
        self._say_pending()
        return self._description

    def for_api(self) -> Description | None:
        """For ``%ue_api``, which has nothing to show without it: a running load is waited
        for at least ``timeout`` seconds from now (a call counts from the load's start, then
        goes on unchecked), quietly. None when there is none, or still (``still_loading``)."""
        left = self._load_started + self.timeout + 1.0 - time.monotonic()
        return self.get(max(left, self.timeout), quiet=True)

    @property
    def still_loading(self) -> str:
        """What to say while the load runs on ("" when it does not): not "none", since one
        is on its way."""
        if self._loaded or self._loading is None:
            return ""
        took = time.monotonic() - self._load_started
        return visible(
            f"The API description {shown_url(self.where)} is still loading ({took:.0f} s so "
            "far); run %ue_api again in a moment. Calls go out unchecked until it is there.",
            one_line=True,
        )

    def _say_pending(self) -> None:
        """Say the load's warnings in the caller's thread (the load's own has no cell)."""
        while self._pending:
            self._warn(visible(self._pending.pop(0)))  # a description's words: never raw

    def start(self) -> None:
        """Start loading now, in the background (at login: by the first Tab it is there)."""
        if self.source is not None and self.source.strip().lower() in OFF:
            return
        with self._lock:
            self._start()

    def for_tab(self) -> Description | None:
        """The description if it is there within ``tab_wait`` (its load started), or None."""
        return self.get(self.tab_wait, quiet=True)

    def _start(self) -> threading.Event | None:
        """The running load's event, starting one if none is (under the lock)."""
        if self._loaded:
            return None
        if self._loading is None:
            self._loading = threading.Event()
            self._load_started = time.monotonic()
            generation = self._generation
            threading.Thread(
                target=self._run,
                args=(generation, self._loading),
                name="ue-magic openapi load",
                daemon=True,
            ).start()
        return self._loading

    def _run(self, generation: int, done: threading.Event) -> None:
        # the first Tab, which may come while the description loads, imports nothing itself
        # (its modules took 40-80 ms to import, on top of the wait for the description)
        from . import _complete  # noqa: F401

        with without_collection_pauses() as made_big:
            try:
                description, note, warnings = self._load()
            except BaseException as error:  # a bug: said, not lost in a thread
                description, note = None, f"could not be loaded ({type(error).__name__})"
                warnings = [f"API description not used: it {note}. Going on without it."]
            checker = None
            if description is not None:  # body checks made ready in the background
                from ._check import RequestChecker

                checker = RequestChecker(description)
                checker.warm_up()
                if description.size >= CHILD_BYTES:
                    made_big()
        with self._lock:
            if generation == self._generation:
                self._description, self._checker, self._note = description, checker, note
                self._pending.extend(warnings)
                self._loaded = True
                self._loading = None
        done.set()

    def checker(self) -> RequestChecker | None:
        description = self.get()
        if description is not None and self._checker is None:
            from ._check import RequestChecker

            self._checker = RequestChecker(description)
        return self._checker

    def warn_once(self, text: str) -> None:
        """Show ``text`` the first time only (a loop must not repeat a warning per call)."""
        if text not in self._said:
            self._said.add(text)
            self._warn(visible(text))

    def reload(self) -> Description | None:
        with self._lock:
            self._generation += 1
            self._loaded = False
            self._loading = None
            self._description = None
            self._checker = None
        return self.for_api()

    def _missing_file(self) -> None:
        """A file named at login that is not there is said at login, not at the first use."""
        source = self.source
        if source is None or source.strip().lower() in OFF or "://" in source:
            return
        if not Path(source).is_file():
            self._loaded = True
            self._note = f"{source} does not exist; check the path"
            self.warn_once(
                f"API description not used: {source} does not exist; check the path. "
                "Going on without it."
            )

    def _load(self) -> tuple[Description | None, str, list[str]]:
        """(the description or None, why none, warnings to say)."""
        from ._model import NotADescription, load_description

        if self.source is not None and self.source.strip().lower() in OFF:
            return None, f"turned off (UE_OPENAPI or %ue_login --openapi is {self.source!r})", []
        try:
            description = load_description(
                self.where, read_url=self._read_url, api_url=self.api_url
            )
            description.index  # built now, so the first completion is quick  # noqa: B018
            description.names.warm(description.operations)  # the first `?`-Tab too
            return description, "", []
        except QuietMiss as miss:
            return None, str(miss), []
        except NotADescription as error:
            said = f"API description not used: {_sentence(error)} Going on without it."
            return None, str(error), [said] if self.source is not None else []
        except DescriptionError as error:
            said = f"API description not used: {_sentence(error)} Going on without it."
            return None, str(error), [said]

    def _read_url(self, url: str) -> bytes:
        shown = shown_url(url)
        try:
            if url == self.where or self._trusted(referrer()):
                status, body = self._fetch(url)
            else:  # a file another origin's file names: never with the token
                status, body = self._fetch(url, token=False)
        except DescriptionError:
            raise  # already says which URL and what went wrong
        except UsageEngineError as error:
            raise DescriptionError(f"{shown} did not answer ({error})") from None
        implicit = self.source is None and url == self.where
        if 400 <= status < 500 and implicit:
            raise QuietMiss(f"{shown} answered {status}: the API serves no description there.")
        if status >= 400:
            raise DescriptionError(f"{shown} answered {status}.")
        if implicit and body.lstrip()[:1] != b"{":
            raise QuietMiss(f"{shown} did not answer with a JSON description.")
        return body

    def _trusted(self, named_by: str | None) -> bool:
        """Whether the files a ``$ref`` in ``named_by`` names on the API's origin get the token:
        only when the description and that file are both on the API's origin (a description
        from elsewhere, a file, or a foreign file it names must not choose which authenticated
        GETs are sent, at any depth)."""
        import httpx

        from ...core.credentials import origin_of

        try:
            api = origin_of(httpx.URL(self.api_url))
            return all(
                origin_of(httpx.URL(uri)) == api for uri in (self.where, named_by or self.where)
            )
        except httpx.InvalidURL:
            return False


_collection_lock = threading.Lock()
# loads running; whether collection was on before the first; whether one made a big description
_collection_holds: list[Any] = [0, False, False]


@contextmanager
def without_collection_pauses() -> Iterator[Callable[[], None]]:
    """No cyclic garbage collection while a description loads; yields ``made_big()``, which
    the load calls when its description is big (``CHILD_BYTES`` or more): its objects are then
    kept out of later collections (``gc.freeze()``) when the last running load ends.

    Why: a 20 MB description is about 2,000,000 objects; while they are made, Python's full
    collections (each walks every object, holding the GIL: 0.1 to 0.4 s) run again and again,
    and a Tab pressed during one waits for it. Frozen, the description is never walked again;
    its objects are freed by reference counting as before. Collection is off for the load only
    (seconds), for the whole process, and back on after the last load ends. Freezing is
    process-wide too: cycles that are alive then and become garbage later are kept, so it is done
    for a big description only, where the pauses it saves are long."""

    def made_big() -> None:
        with _collection_lock:
            _collection_holds[2] = True

    with _collection_lock:
        if _collection_holds[0] == 0:
            _collection_holds[1] = gc.isenabled()
            gc.disable()
        _collection_holds[0] += 1
    try:
        yield made_big
    finally:
        with _collection_lock:
            _collection_holds[0] -= 1
            if _collection_holds[0] == 0:
                if _collection_holds[2]:
                    gc.freeze()
                _collection_holds[2] = False
                if _collection_holds[1]:
                    gc.enable()


def _sentence(error: Exception) -> str:
    text = str(error).rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


def client_fetch(client: Any, timeout: float) -> Fetch:
    """Fetch a description URL: with the token on the API's own origin, without it elsewhere
    or with ``token=False``.

    ``timeout`` (seconds) bounds the whole answer, not each read: a server that sends a byte
    now and then must not hold the kernel. Raises DescriptionError past it.
    """

    def fetch(url: str, *, token: bool = True) -> tuple[int, bytes]:
        if not token:
            return _fetch_plain(url, timeout)
        try:
            client.resolve_url(url)
        except OriginError:
            return _fetch_plain(url, timeout)

        def with_token() -> tuple[int, bytes]:
            response = client.request("GET", url, timeout=timeout, retries=0)
            return response.status_code, response.content

        return _within(timeout, url, with_token)

    return fetch


def _within(seconds: float, url: str, work: Callable[[], tuple[int, bytes]]) -> tuple[int, bytes]:
    """``work()``, given up after ``seconds``: the client has no deadline for a whole answer,
    so it runs in a thread that is left to finish (or time out per read) on its own."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=run, name="ue-magic openapi fetch", daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    error = outcome.get("error")
    # the request's own deadline is the same: whichever ends first, the same words
    late = isinstance(error, ApiConnectionError) and time.monotonic() - started >= seconds * 0.9
    if worker.is_alive() or late:
        raise DescriptionError(f"{shown_url(url)} did not answer within {seconds:g} s.")
    if error is not None:
        raise error
    return outcome["value"]


def _fetch_plain(url: str, timeout: float) -> tuple[int, bytes]:
    """A description elsewhere, without the token; bounded as every answer is (``_http``):
    ``timeout`` is a deadline for the whole answer, and its size is at most the default limit."""
    import httpx

    from ...core._http import Budget, http_client
    from ...errors import AnswerTooLargeError

    try:
        with http_client((url,), timeout=timeout, follow_redirects=True) as http:
            request = http.build_request("GET", url)
            budget = Budget.start(request, MAX_BYTES)  # the whole answer, within the timeout
            with budget.running():
                response = http.send(request)
    except AnswerTooLargeError:
        raise DescriptionError(
            f"{shown_url(url)} is over the {MAX_BYTES / 1e6:.0f} MB ue-magic reads."
        ) from None
    except UsageEngineError as error:  # a SOCKS proxy without socksio: its sentence says what to do
        raise DescriptionError(f"{shown_url(url)} could not be fetched: {error}") from None
    except httpx.TimeoutException:  # the deadline for the whole answer
        raise DescriptionError(f"{shown_url(url)} did not answer within {timeout:g} s.") from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise DescriptionError(
            f"{shown_url(url)} did not answer ({type(error).__name__})"
        ) from None
    return response.status_code, response.content
