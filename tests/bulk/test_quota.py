"""The limit a service states in its headers, read in each form services send it."""

from __future__ import annotations

import pytest

from ue_magic.cells._quota import Quota, read_quota


def raw(**headers: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]


@pytest.mark.parametrize(
    ("headers", "quota"),
    [
        (raw(RateLimit_Policy='"default";q=100;w=1', RateLimit='"default";r=7;t=2'),
         Quota(100.0, 7.0, 2.0)),
        (raw(RateLimit_Policy='"burst";q=100;w=1, "day";q=86400;w=86400'),
         Quota(1.0, None, None, 86400.0)),  # the tightest policy counts, with its window
        (raw(RateLimit_Policy="600;w=60"), Quota(10.0, None, None, 60.0)),  # draft 7 and before
        (raw(RateLimit="limit=50, remaining=3, reset=0.25"), Quota(50.0, 3.0, 0.25)),
        (raw(RateLimit_Limit="20", RateLimit_Remaining="0", RateLimit_Reset="1"),
         Quota(20.0, 0.0, 1.0)),
        (raw(X_RateLimit_Limit="100", X_RateLimit_Remaining="99", X_RateLimit_Reset="0.500"),
         Quota(100.0, 99.0, 0.5)),
        (raw(x_ratelimit_limit="100"), Quota(100.0, None, None)),  # any case
    ],
)  # fmt: skip
def test_each_form_is_read(headers: list[tuple[bytes, bytes]], quota: Quota) -> None:
    assert read_quota(headers) == quota


def test_a_reset_given_as_an_epoch_time_is_seconds_from_now() -> None:
    quota = read_quota(raw(X_RateLimit_Remaining="0", X_RateLimit_Reset="2000000030"), 2e9)
    assert quota is not None and quota.reset == pytest.approx(30.0)


@pytest.mark.parametrize(
    "headers",
    [
        [],
        raw(Retry_After="1", Content_Type="application/json"),
        raw(X_RateLimit_Limit="lots"),
        raw(RateLimit_Policy="q=0;w=1"),
        raw(RateLimit_Policy='"default";q=100;w=0'),
    ],
)
def test_headers_that_state_no_usable_limit_are_none(headers: list[tuple[bytes, bytes]]) -> None:
    assert read_quota(headers) is None
