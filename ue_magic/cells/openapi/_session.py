"""The description of one login: found, fetched and parsed once, on first need.

Where it comes from: the ``--openapi`` option or the ``UE_OPENAPI`` setting (a file or URL);
without either, ``{api}openapi.json``. From that default place a 404 or an answer that is not a
description means "none", quietly; anything else that goes wrong is one warning, and the login
goes on without a description until ``reload()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import ApiConnectionError, DescriptionError, OriginError, UsageEngineError
from ._check import RequestChecker
from ._load import MAX_BYTES, shown_url
from ._model import Description, NotADescription, load_description

DEFAULT_NAME = "openapi.json"
OFF = frozenset({"off", "none", "no", "false", "0"})  # UE_OPENAPI=off: no description, no fetch
Fetch = Callable[[str], "tuple[int, bytes]"]  # URL -> (status, body); raises on no answer
Warn = Callable[[str], None]


class QuietMiss(DescriptionError):
    """The default place has no description (404, or not one): say nothing."""


class LoginDescription:
    """Holds one login's description; ``get()`` loads it at most once until ``reload()``."""

    def __init__(self, source: str | None, api_url: str, fetch: Fetch, warn: Warn) -> None:
        self.source = source
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._fetch = fetch
        self._warn = warn
        self._lock = threading.Lock()
        self._loaded = False
        self._description: Description | None = None
        self._checker: RequestChecker | None = None
        self.note = "not loaded yet"  # why there is none, for %ue_api
        self._said: set[str] = set()
        self._missing_file()

    @property
    def where(self) -> str:
        return self.source or self.api_url + DEFAULT_NAME

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def absent(self) -> bool:
        """Known to have no description (turned off, or looked for and not found)."""
        if self.source is not None and self.source.strip().lower() in OFF:
            return True
        return self._loaded and self._description is None

    def get(self) -> Description | None:
        """The description, loading it on the first call; None when there is none."""
        if self._loaded:
            return self._description
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
                if self._description is not None:  # body checks made ready in the background
                    self._checker = RequestChecker(self._description)
                    self._checker.warm_up()
        return self._description

    def checker(self) -> RequestChecker | None:
        description = self.get()
        if description is not None and self._checker is None:
            self._checker = RequestChecker(description)
        return self._checker

    def warn_once(self, text: str) -> None:
        """Show ``text`` the first time only (a loop must not repeat a warning per call)."""
        if text not in self._said:
            self._said.add(text)
            self._warn(text)

    def reload(self) -> Description | None:
        with self._lock:
            self._loaded = False
            self._description = None
            self._checker = None
        return self.get()

    def _missing_file(self) -> None:
        """A file named at login that is not there is said at login, not at the first use."""
        source = self.source
        if source is None or source.strip().lower() in OFF or "://" in source:
            return
        if not Path(source).is_file():
            self._loaded = True
            self.note = f"{source} does not exist; check the path"
            self.warn_once(
                f"API description not used: {source} does not exist; check the path. "
                "Going on without it."
            )

    def _load(self) -> None:
        if self.source is not None and self.source.strip().lower() in OFF:
            self.note = f"turned off (UE_OPENAPI or %ue_login --openapi is {self.source!r})"
            return
        try:
            self._description = load_description(
                self.where, read_url=self._read_url, api_url=self.api_url
            )
            self._description.index  # built now, so the first completion is quick  # noqa: B018
            self.note = ""
        except QuietMiss as miss:
            self.note = str(miss)
        except NotADescription as error:
            self.note = str(error)
            if self.source is not None:
                self._warn(f"API description not used: {_sentence(error)} Going on without it.")
        except DescriptionError as error:
            self.note = str(error)
            self._warn(f"API description not used: {_sentence(error)} Going on without it.")

    def _read_url(self, url: str) -> bytes:
        shown = shown_url(url)
        try:
            status, body = self._fetch(url)
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


def _sentence(error: Exception) -> str:
    text = str(error).rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


def client_fetch(client: Any, timeout: float) -> Fetch:
    """Fetch a description URL: with the token on the API's own origin, without it elsewhere.

    ``timeout`` (seconds) bounds the whole answer, not each read: a server that sends a byte
    now and then must not hold the kernel. Raises DescriptionError past it.
    """

    def fetch(url: str) -> tuple[int, bytes]:
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
