"""Reading the token endpoint's answer: claims, lifetimes, Retry-After, odd bodies, scrubbing."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.auth.tokens import (
    SECRET,
    TokenServer,
    every_frame_leaks,
    make_jwt,
    raw_answer,
)
from ue_magic.core._oauth import scrub
from ue_magic.core._retry import backoff_delay, parse_retry_after
from ue_magic.core.token import (
    DEFAULT_LIFETIME,
    MAX_LIFETIME,
    MIN_LIFETIME,
    TokenManager,
    decode_claims,
    renew_margin,
)
from ue_magic.errors import (
    TokenError,
    TokenServerError,
)


@pytest.mark.parametrize(
    ("token", "claims"),
    [
        ("opaque", {}),
        ("a.b.c", {}),
        ("a.!!!.c", {}),
        (f"x.{base64.urlsafe_b64encode(b'[1]').decode()}.y", {}),
        (make_jwt({"accountId": "u"}), {"accountId": "u"}),
        (make_jwt({"k": "ünï"}), {"k": "ünï"}),
    ],
)
def test_decode_claims(token: str, claims: dict[str, object]) -> None:
    assert decode_claims(token) == claims


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("5", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("Tue, 14 Nov 2023 22:13:40 GMT", 20.0),
        ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=1_700_000_000.0) == seconds


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 10])
def test_backoff_is_bounded_with_jitter(attempt: int) -> None:
    ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
    waits = [backoff_delay(attempt, cap=8.0) for _ in range(200)]
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    assert len(set(waits)) > 1


@pytest.mark.parametrize(("lifetime", "margin"), [(3600, 300), (1000, 100), (2, 0.2), (0, 0)])
def test_renew_margin(lifetime: float, margin: float) -> None:
    assert renew_margin(lifetime) == pytest.approx(margin)


HUGE_EXP = make_jwt({"exp": 1e300, "n": "huge"})


NESTED_JWT = "x." + base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode() + ".y"


@pytest.mark.parametrize(
    ("body", "lifetime"),
    [
        ('{"access_token": "t1", "expires_in": 1e300}', MAX_LIFETIME),
        ('{"access_token": "t1", "expires_in": 1e400}', DEFAULT_LIFETIME),  # inf: ignored
        ('{"access_token": "t1", "expires_in": Infinity}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": "inf"}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": NaN}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": "nan"}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": -5}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": -1e300}', DEFAULT_LIFETIME),
        ('{"access_token": "t1", "expires_in": 1e-9}', MIN_LIFETIME),
        ('{"access_token": "t1", "expires_in": 0.2}', MIN_LIFETIME),
        ('{"access_token": "t1", "expires_in": 99999999999999999999999999}', MAX_LIFETIME),
        ('{"access_token": "t1", "expires_in": %s}' % ("9" * 400), DEFAULT_LIFETIME),
        (f'{{"access_token": "{HUGE_EXP}"}}', MAX_LIFETIME),
        (f'{{"access_token": "{HUGE_EXP}", "expires_in": 60}}', 60.0),
        (f'{{"access_token": "{NESTED_JWT}", "expires_in": 60}}', 60.0),
    ],
)
def test_absurd_lifetimes_are_clamped(
    body: str, lifetime: float, server: TokenServer, manager: TokenManager
) -> None:
    server.queue.append(raw_answer(body))
    manager.get_token()
    assert manager.seconds_left() == pytest.approx(lifetime)
    assert manager.info is not None and manager.info.lifetime == pytest.approx(lifetime)


@pytest.mark.parametrize(
    "error",
    [OverflowError("date value out of range"), RecursionError(), ValueError(), TypeError()],
)
def test_any_error_while_making_the_token_is_a_clean_token_error(
    error: Exception,
    server: TokenServer,
    manager: TokenManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing between the answer and the token may escape with the token in a frame's locals."""

    def broken(*args: object) -> float:
        raise error

    monkeypatch.setattr("ue_magic.core._oauth._remaining", broken)
    with pytest.raises(TokenServerError, match="cannot read") as info:
        manager.get_token()
    exc = info.value
    assert exc.__cause__ is None and exc.__context__ is None
    assert not every_frame_leaks(exc.__traceback__, [SECRET, *server.issued])


@pytest.mark.parametrize(
    "content",
    [
        '{"access_token": "t", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["nested-200", "nested-list"],
)
def test_an_answer_nested_too_deeply_is_a_clean_token_error(
    content: str, server: TokenServer, manager: TokenManager
) -> None:
    server.queue.append(raw_answer(content))
    with pytest.raises(TokenServerError, match="not a JSON object") as info:
        manager.get_token()
    assert info.value.__context__ is None
    server.queue.append(httpx.Response(400, content=content.encode()))
    with pytest.raises(TokenError) as info:
        manager.renew()
    assert info.value.__context__ is None


def test_decode_claims_survives_deep_nesting_and_odd_input() -> None:
    assert decode_claims(NESTED_JWT) == {}
    assert decode_claims("a.ü.c") == {}
    assert decode_claims(None) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        ("s", "server_error: bad", "server_error: bad"),
        ("s", "bad secret s here", "bad secret *** here"),
        ("abc", "xabcx abc", "xabcx ***"),
        ("short-1", "short-1x short-1", "short-1x ***"),
        ("longer-secret", "xlonger-secretx", "x***x"),
        ("", "anything", "anything"),
    ],
)
def test_scrub_removes_long_secrets_anywhere_and_short_ones_as_whole_words(
    secret: str, text: str, expected: str
) -> None:
    assert scrub(text, secret) == expected
