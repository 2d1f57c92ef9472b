"""Exceptions under one roof, deferred errors, and the constants defined once."""

from __future__ import annotations

import inspect
import pickle

import httpx
import pytest

from ue_magic import _constants, errors
from ue_magic.core import _client, _oauth
from ue_magic.core.credentials import Credentials, Secret
from ue_magic.errors import (
    ApiConnectionError,
    ClientClosedError,
    DeferredError,
    HttpStatusError,
    InvalidClientError,
    TokenServerError,
    UsageEngineError,
)

SECRET = "s3cret-for-errors"
CREDS = Credentials(
    "cid",
    Secret(SECRET),
    "eu",
    "https://api.example/",
    "https://api.example/",
    "https://t.example/",
)


def test_every_exception_in_errors_is_a_usage_engine_error() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, BaseException)
    ]
    assert {c.__name__ for c in classes} >= {"ClientClosedError", "HttpStatusError", "TokenError"}
    assert all(issubclass(c, UsageEngineError) for c in classes)
    assert all(c.__module__ == "ue_magic.errors" for c in classes)


def test_the_client_module_re_exports_the_one_closed_client_error() -> None:
    assert _client.ClientClosedError is ClientClosedError
    assert issubclass(ClientClosedError, ApiConnectionError)


def test_http_status_error_carries_its_response() -> None:
    response = httpx.Response(404, request=httpx.Request("GET", "https://api.example/x"))
    error = HttpStatusError("404 Not Found", response)
    assert error.response is response and str(error) == "404 Not Found"
    assert HttpStatusError("no answer").response is None


@pytest.mark.parametrize(
    ("attempts", "text"),
    [(1, "failed; try again."), (3, "failed after 3 attempts (3 attempts); try again.")],
)
def test_a_deferred_error_counts_attempts_only_when_there_were_several(
    attempts: int, text: str
) -> None:
    deferred = DeferredError(TokenServerError, "failed{after}{attempts}; try again.", retry=True)
    error = deferred.exception(attempts)
    assert type(error) is TokenServerError and str(error) == text
    assert error.__context__ is None and error.__traceback__ is None


def test_constants_are_what_the_cell_language_and_the_retries_use() -> None:
    from ue_magic.cells.request import METHODS

    assert tuple(METHODS) == _constants.METHODS
    assert set(_constants.METHODS) > _constants.IDEMPOTENT_METHODS
    assert {"POST", "PATCH"}.isdisjoint(_constants.IDEMPOTENT_METHODS)
    assert _client.MAX_RETRIES == _constants.MAX_RETRIES == 10
    sentence = _constants.refusing_origin("http://evil.example", "another origin", "fix it")
    assert sentence == "Refusing to send the token to http://evil.example: another origin; fix it."


def test_every_module_takes_the_limits_and_methods_from_the_constants() -> None:
    """Defined once: a second copy of a list or a limit would drift from the first."""
    from ue_magic.cells import call_options
    from ue_magic.cells.openapi import _complete
    from ue_magic.core._retry import RetryPolicy
    from ue_magic.core.token import TokenManager
    from ue_magic.ipython.magics import UsageEngineMagics

    assert _complete.METHODS is _constants.METHODS
    traits = UsageEngineMagics.class_traits()
    assert traits["timeout"].max == call_options.MAX_TIMEOUT == _constants.MAX_TIMEOUT
    assert traits["concurrency"].max == call_options.MAX_CONCURRENCY == _constants.MAX_CONCURRENCY
    assert traits["timeout"].default_value == _constants.DEFAULT_TIMEOUT
    client = inspect.signature(_client.UsageEngineClient).parameters
    assert client["timeout"].default == _constants.DEFAULT_TIMEOUT
    manager = inspect.signature(TokenManager).parameters
    assert RetryPolicy().max_wait == _constants.MAX_RETRY_WAIT
    for parameters in (client, manager):
        assert parameters["max_retry_wait"].default == _constants.MAX_RETRY_WAIT


def test_the_token_protocol_reads_an_answer_without_any_state() -> None:
    answer = httpx.Response(200, json={"access_token": "tok-abc", "expires_in": 120})
    grant = _oauth.read_answer(answer, CREDS, elapsed=20.0, now=1_700_000_000.0)
    assert isinstance(grant, _oauth.Grant)
    assert grant.value == "tok-abc" and grant.remaining == 100.0
    assert "tok-abc" not in repr(grant)
    with pytest.raises(TypeError):
        pickle.dumps(grant)


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (429, {}, "TokenRateLimitedError", "kept answering 429"),
        (503, {}, "TokenServerError", "failed"),
        (302, {}, "TokenError", "redirects to"),
        (
            400,
            {"error": "invalid_request", "error_description": "bad audience"},
            "InvalidClientError",
            "audience",
        ),
        (401, {"error": "invalid_client"}, "InvalidClientError", "refused client id 'cid'"),
        (400, {"error": "invalid_request"}, "TokenError", "refused the request"),
    ],
)
def test_the_refusal_table_words_each_answer(
    status: int, body: dict[str, str], kind: str, words: str
) -> None:
    answer = httpx.Response(status, json=body, headers={"retry-after": "3"})
    refused = _oauth.read_answer(answer, CREDS, elapsed=0.0, now=0.0)
    assert isinstance(refused, DeferredError)
    assert refused.error.__name__ == kind and words in refused.message
    assert refused.status == status and refused.retry_after == "3"
    assert SECRET not in refused.message


def test_a_secret_echoed_by_the_token_endpoint_is_scrubbed_from_the_words() -> None:
    answer = httpx.Response(401, json={"error": "invalid_client", "error_description": SECRET})
    refused = _oauth.read_answer(answer, CREDS, elapsed=0.0, now=0.0)
    assert isinstance(refused, DeferredError) and refused.error is InvalidClientError
    assert SECRET not in refused.message and "***" in refused.message
