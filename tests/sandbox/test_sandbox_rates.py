"""Rate limits: the token endpoint's per-client 10/s burst 5 (on by default) and the API's
optional limit, their 429 answers, the hooks and settings that change them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from ue_magic.cells._quota import read_quota
from ue_magic.sandbox import Sandbox, start
from ue_magic.sandbox.rates import Rate, RateLimiter, parse_rate, retry_after

from .api_helpers import client_for, get_token

TYPES = "usage-metering/v1/meter-types"


@pytest.mark.parametrize(
    ("spec", "rate"),
    [
        ("10/5", Rate(10, 5)),
        (" 2.5 / 1 ", Rate(2.5, 1)),
        ("7", Rate(7, 7)),
        (3, Rate(3, 3)),
        ("0", None),
        (0, None),
        ("0/5", None),
        (None, None),
        (Rate(1, 1), Rate(1, 1)),
    ],
)
def test_parse_rate(spec: object, rate: Rate | None) -> None:
    assert parse_rate(spec) == rate  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", ["abc", "10/0", "-1/2", "10/", "/5", "1e9/5", True, [10, 5]])
def test_parse_rate_refuses(spec: object) -> None:
    with pytest.raises(ValueError, match="N/B"):
        parse_rate(spec)  # type: ignore[arg-type]


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(Rate(10, 5), clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(5)] == [0.0] * 5
    assert limiter.take("a") == pytest.approx(0.1)
    assert limiter.take("b") == 0.0  # per client
    now[0] += 0.1
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    now[0] += 10  # a long pause refills to the burst, not beyond
    assert [limiter.take("a") for _ in range(6)].count(0.0) == 5


def test_no_rate_never_limits() -> None:
    limiter = RateLimiter(None)
    assert all(limiter.take("a") == 0 for _ in range(1000))


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after(w) for w in (0.01, 0.999, 1.0, 1.2)] == ["1", "1", "1", "2"]


def token_request(http: httpx.Client, sb: Sandbox, client_id: str, secret: str) -> httpx.Response:
    fields = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        "audience": sb.base_url,
    }
    return http.post(sb.token_url, data=fields)


def test_token_limit_is_on_by_default_at_the_documented_figure(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url, timeout=10, verify=False) as http:
        assert http.post("_sandbox/rates", json={}).json() == {"token": "10/5", "api": None}
        started = time.monotonic()
        statuses = [
            token_request(http, sandbox, sandbox.client_id, sandbox.client_secret).status_code
            for _ in range(12)
        ]
        elapsed = time.monotonic() - started
    assert statuses[:5] == [200] * 5  # the burst
    # never more than the bucket allows, however slow this machine is today
    assert statuses.count(200) <= 5 + 10 * elapsed + 1, (statuses, elapsed)


def test_token_endpoint_limits_each_client(sandbox: Sandbox) -> None:
    sandbox.set_rates(token="0.2/5")  # the default's burst, refilled slowly: no timing flakes
    sandbox.add_client("rate-other", "s", "read:meters")
    with httpx.Client(timeout=10, verify=False) as http:
        answers = [token_request(http, sandbox, sandbox.client_id, sandbox.client_secret)]
        answers += [token_request(http, sandbox, sandbox.client_id, "wrong") for _ in range(5)]
        other = token_request(http, sandbox, "rate-other", "s")
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 401, 401, 401, 401, 429]  # bad secrets count too: no guessing storm
    refused = answers[-1]
    assert refused.json() == {
        "error": "too_many_requests",
        "error_description": "Global limit has been reached",
    }
    assert refused.headers["retry-after"] in {"4", "5"}  # whole seconds until a token is due
    assert other.status_code == 200


def test_token_limit_refills(sandbox: Sandbox) -> None:
    sandbox.set_rates(token="20/1")
    with httpx.Client(timeout=10, verify=False) as http:
        first = token_request(http, sandbox, sandbox.client_id, sandbox.client_secret)
        time.sleep(0.2)  # four tokens' worth at 20 a second; the bucket holds one
        second = token_request(http, sandbox, sandbox.client_id, sandbox.client_secret)
    assert (first.status_code, second.status_code) == (200, 200)


def test_reset_restores_the_default_limits(sandbox: Sandbox) -> None:
    sandbox.set_rates(token=0, api="0.2/1")
    with client_for(sandbox, get_token(sandbox)) as api:
        assert [api.get(TYPES).status_code for _ in range(2)] == [200, 429]
        sandbox.reset()
        assert all(api.get(TYPES).status_code == 200 for _ in range(10))
        assert api.post("_sandbox/rates", json={}).json() == {"token": "10/5", "api": None}


@pytest.fixture
def limited() -> Iterator[Sandbox]:
    with start(token_rate=0, api_rate="0.2/3") as sb:
        yield sb


def test_api_limit_is_per_client_with_retry_after_in_whole_seconds(limited: Sandbox) -> None:
    limited.add_client("second", "s", limited.scopes)
    with (
        client_for(limited, get_token(limited)) as first,
        client_for(limited, get_token(limited, "second", "s")) as second,
    ):
        statuses = [first.get(TYPES).status_code for _ in range(4)]
        refused = first.get(TYPES)
        other = second.get(TYPES)
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.headers["retry-after"].isdigit() and int(refused.headers["retry-after"]) >= 1
    assert (
        refused.json()["error"] == "too_many_requests"
        and "Retry-After" in refused.json()["message"]
    )
    assert other.status_code == 200


def test_token_limit_off_at_start(limited: Sandbox) -> None:
    with httpx.Client(timeout=10, verify=False) as http:
        statuses = {
            token_request(http, limited, limited.client_id, limited.client_secret).status_code
            for _ in range(20)
        }
    assert statuses == {200}


def test_rates_hook_sets_and_reports(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url, timeout=10, verify=False) as hooks:
        answer = hooks.post("_sandbox/rates", json={"api": "5/2"})
        assert answer.status_code == 200
        assert answer.json() == {"token": "10/5", "api": "5/2"}
        assert hooks.post("_sandbox/rates", json={"token": 0}).json()["token"] is None
        bad = hooks.post("_sandbox/rates", json={"api": "fast"})
        assert bad.status_code == 400 and bad.json()["field"] == "api"
        assert hooks.post("_sandbox/rates", json={"tokens": "1/1"}).status_code == 400
        hooks.post("_sandbox/reset")
        assert hooks.post("_sandbox/rates", json={}).json() == {"token": "10/5", "api": None}


@pytest.mark.parametrize("kwargs", [{"token_rate": "x"}, {"api_rate": "1/0"}])
def test_bad_rates_are_refused_at_start(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="N/B"):
        start(**kwargs)  # type: ignore[arg-type]


def test_set_rates_refuses_a_bad_rate(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.set_rates(token="ten")


@pytest.mark.parametrize(
    ("spec", "rate"),
    [
        ("100,fixed", Rate(100, 100, kind="fixed")),
        ("100, sliding ,retry-after=fraction", Rate(100, 100, "sliding", "fraction")),
        ("5/2,headers=ietf,retry-after=none", Rate(5, 2, "bucket", "none", "ietf")),
        ("50,HEADERS=X", Rate(50, 50, headers="x")),
    ],
)
def test_other_limiters_and_headers_are_options_of_a_rate(spec: str, rate: Rate) -> None:
    assert parse_rate(spec) == rate
    assert parse_rate(str(rate)) == rate  # what the rates hook reports reads back the same


@pytest.mark.parametrize("spec", ["100/20,leaky", "100,headers=yes", "100,retry-after=2", "1,"])
def test_a_bad_rate_option_is_named(spec: str) -> None:
    with pytest.raises(ValueError, match="fixed, sliding"):
        parse_rate(spec)


@pytest.mark.parametrize("spec", ["100/20,fixed", "20/5,sliding"])
def test_a_burst_is_refused_for_windows_and_logs(spec: str) -> None:
    with pytest.raises(ValueError, match=r"a burst .* is a token bucket's"):
        parse_rate(spec)  # not silently ignored


def test_fixed_windows_refuse_until_the_next_second() -> None:
    now = [10.25]
    limiter = RateLimiter(parse_rate("3,fixed,retry-after=fraction"), clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    refused = limiter.admit("a")
    assert refused.wait == pytest.approx(0.75) and refused.headers["Retry-After"] == "0.750"
    now[0] = 11.0
    assert limiter.take("a") == 0


def test_a_sliding_log_refuses_until_the_oldest_is_a_second_old() -> None:
    now = [0.0]
    limiter = RateLimiter(parse_rate("2,sliding,retry-after=none"), clock=lambda: now[0])
    limiter.take("a")
    now[0] = 0.6
    limiter.take("a")
    now[0] = 0.9
    refused = limiter.admit("a")
    assert refused.wait == pytest.approx(0.1) and "Retry-After" not in refused.headers
    now[0] = 1.01
    assert limiter.take("a") == 0 and limiter.take("a") > 0  # the one at 0.6 is still in


def test_the_limit_is_stated_on_every_answer(sandbox: Sandbox) -> None:
    sandbox.set_rates(token=0, api="5/3,headers=ietf")
    with client_for(sandbox, get_token(sandbox)) as api:
        answer = api.get(TYPES)
        for _ in range(3):
            refused = api.get(TYPES)
    assert answer.status_code == 200 and refused.status_code == 429
    # 5 a second; the window is an Integer of seconds (draft-ietf-httpapi-ratelimit-headers-08)
    assert answer.headers["RateLimit-Policy"] == '"default";q=5;w=1'
    assert answer.headers["RateLimit"] == '"default";r=2;t=0'
    quota = read_quota(answer.headers.raw)
    assert quota is not None and quota.rate == pytest.approx(5)
    assert refused.headers["Retry-After"].isdigit() and refused.headers["RateLimit"].endswith(
        "r=0;t=1"
    )


@pytest.mark.parametrize(("per_second", "policy"), [(20, (20, 1)), (0.5, (1, 2)), (2.5, (2, 1))])
def test_the_stated_window_is_whole_seconds(per_second: float, policy: tuple[int, int]) -> None:
    from ue_magic.sandbox.rates import policy as stated

    assert stated(Rate(per_second, 5, headers="ietf")) == policy


def test_no_x_ratelimit_answer_says_none_remain_and_reset_now() -> None:
    now = [0.0]
    limiter = RateLimiter(parse_rate("100/5,headers=x"), clock=lambda: now[0])
    seen = []
    for step in range(400):
        now[0] = step * 0.0049  # a little faster than the limit: some answers have none left
        seen.append(limiter.admit("a").headers)
    empty = [h for h in seen if h["X-RateLimit-Remaining"] == "0"]
    assert empty and all(float(h["X-RateLimit-Reset"]) > 0 for h in empty)


def test_the_cli_takes_the_options_and_says_the_form(capsys: pytest.CaptureFixture[str]) -> None:
    from ue_magic.sandbox.__main__ import parser

    args = parser().parse_args(["--api-rate", "100,sliding,headers=x"])
    assert args.api_rate == Rate(100, 100, "sliding", "whole", "x")
    with pytest.raises(SystemExit):
        parser().parse_args(["--api-rate", "100,leaky"])
    assert "'leaky' is not one of fixed, sliding" in capsys.readouterr().err
