"""How answers are shown: decoding, the status line, the JSON tree, tables, cuts, escaping."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from typing import Any

import httpx
import pytest

from ue_magic.cells.render import RequestView, ResponseView, format_size
from ue_magic.core._media import decode_body

URL = "https://api.digitalroute.io/usage-metering/v1/meters?limit=5"
XSS = "<script>alert('x')</script>"


def response(
    status: int = 200,
    *,
    json_body: object = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    url: str = URL,
    elapsed_ms: float | None = None,
) -> httpx.Response:
    request = httpx.Request(method, url)
    if content is None:
        r = httpx.Response(status, json=json_body, headers=headers, request=request)
    else:
        r = httpx.Response(status, content=content, headers=headers, request=request)
    if elapsed_ms is not None:
        r.elapsed = dt.timedelta(milliseconds=elapsed_ms)
    return r


def meter(i: int) -> dict[str, Any]:
    return {
        "id": f"m-{i:06d}",
        "meterTypeId": "mt-0001",
        "meterTypeName": "api-calls",
        "userId": f"user-{i}",
        "meterKey": f"key-{i}",
        "value": i * 1.5,
        "unit": "calls",
        "periodStart": "2023-07-26T09:00:15.690+00:00",
        "capacity": 10000,
        "thresholds": [{"name": "90 percent", "capacityPercentage": 90}],
        "customFields": {},
        "deleteOnReset": False,
    }


def bundle(view: ResponseView) -> dict[str, str]:
    return view._repr_mimebundle_()


# --------------------------------------------------------------------------- decode_body


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b'{"a": [1, 2]}', "application/json", {"a": [1, 2]}),
        (b'{"a": 1}', "application/json; charset=utf-8", {"a": 1}),
        (b'{"error": "x"}', "application/problem+json", {"error": "x"}),
        (b"[1, 2]", None, [1, 2]),
        (b'"text"', None, "text"),
        (b"not json", "application/json", "not json"),
        (b"plain \xc3\xa9", "text/plain; charset=utf-8", "plain é"),
        (b"<a/>", "application/xml", "<a/>"),
        (b"plain words", None, "plain words"),
        (b"\x89PNG\r\n\x1a\n\xff", "image/png", b"\x89PNG\r\n\x1a\n\xff"),
        (b"\xff\xfe\x00", None, b"\xff\xfe\x00"),
        (b"", "application/json", None),
    ],
)
def test_decode_body(content: bytes, content_type: str | None, expected: object) -> None:
    headers = {"content-type": content_type} if content_type else {}
    assert decode_body(response(content=content, headers=headers)) == expected


# --------------------------------------------------------------------------- status line


def test_status_line_has_status_method_path_time_and_size() -> None:
    r = response(json_body={"meters": [1] * 400}, elapsed_ms=12.34)
    assert ResponseView(r).status_line() == (
        f"200 OK  GET /usage-metering/v1/meters?limit=5  12.3 ms  {format_size(len(r.content))}"
    )


def test_status_line_without_elapsed_or_request() -> None:
    bare = httpx.Response(204)
    assert ResponseView(bare).status_line() == "204 No Content  0 B"
    assert "ms" not in ResponseView(response(json_body={})).status_line()


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1234, "1.2 kB"), (20_300_000, "20.3 MB")],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


def test_slow_answers_show_whole_milliseconds() -> None:
    assert "1,523 ms" in ResponseView(response(json_body={}, elapsed_ms=1523.4)).status_line()


@pytest.mark.parametrize(
    ("status", "is_error"), [(200, False), (201, False), (404, True), (503, True)]
)
def test_error_status_is_marked(status: int, is_error: bool) -> None:
    page = bundle(ResponseView(response(status, json_body={"error": "no"})))["text/html"]
    assert ("class='st err'" in page) is is_error
    assert ("color:#d32f2f" in page) is is_error  # inline: kept in untrusted notebooks
    assert re.search(rf"<div class='st{' err' if is_error else ''}' style='[^']*'>{status} ", page)


# --------------------------------------------------------------------------- the bundle


def test_bundle_has_html_and_text_and_respects_include_exclude() -> None:
    view = ResponseView(response(json_body={"a": 1}))
    assert set(view._repr_mimebundle_()) == {"text/plain", "text/html"}
    assert set(view._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert set(view._repr_mimebundle_(exclude={"text/plain"})) == {"text/html"}


def test_forms_are_built_once() -> None:
    view = ResponseView(response(json_body={"a": 1}))
    first, second = view._repr_mimebundle_(), view._repr_mimebundle_()
    assert first["text/html"] is second["text/html"]
    assert first["text/plain"] is second["text/plain"]


def test_body_is_decoded_only_when_not_given() -> None:
    r = response(json_body={"from": "response"})
    assert '"from"' in bundle(ResponseView(r))["text/plain"]
    assert '"given"' in bundle(ResponseView(r, body={"given": 1}))["text/plain"]


def test_small_json_tree() -> None:
    body = {"name": "api-calls", "n": 2, "ok": True, "none": None, "list": [1, "a"], "empty": {}}
    view = ResponseView(response(json_body=body))
    text = bundle(view)["text/plain"]
    assert text.splitlines()[1:] == json.dumps(body, indent=2).splitlines()
    page = bundle(view)["text/html"]
    assert "<summary><span class=m>{…} 6 keys</span></summary>" in page
    assert '<b>name</b>: <span class=s>"api-calls"</span>' in page
    assert "<b>n</b>: <span class=n>2</span>" in page
    assert "<b>ok</b>: <span class=b>true</span>" in page
    assert "<b>list</b>: <span class=m>[…] 2 items</span>" in page
    assert "<b>empty</b>: <span class=m>{}</span>" in page
    assert "Showing" not in page + text
    assert "<script" not in page  # no JavaScript needed


def test_levels_open_by_expand_levels() -> None:
    body = {"a": {"b": {"c": {"d": 1}}}}
    for levels in (0, 1, 2, 3):
        page = bundle(ResponseView(response(json_body=body), expand_levels=levels))["text/html"]
        assert len(re.findall(r"<details[^>]* open>", page)) == levels
        assert page.count("<details") == 4  # root, a, b, c


def test_collapsed_items_show_a_preview() -> None:
    page = bundle(ResponseView(response(json_body={"meters": [meter(1)]})))["text/html"]
    assert re.search(
        r'\{…\} 12 keys</span> <span class=preview>id: "m-000001", meterTypeId: "mt-0001", …'
        r"</span></summary>",
        page,
    )


def test_scripts_in_keys_values_and_paths_are_escaped() -> None:
    body = {XSS: XSS, "list": [XSS], "deep": {"x": {"y": XSS}}}
    r = response(json_body=body, url="https://h/x?q=%3Cscript%3E")
    for view in (ResponseView(r), ResponseView(r, table=True), ResponseView(r, raw=True)):
        page = bundle(view)["text/html"]
        assert "<script>" not in page
        assert "&lt;script&gt;" in page
    page = bundle(ResponseView(response(json_body=[{XSS: XSS}]), table=True))["text/html"]
    assert "<script>" not in page


def test_long_strings_are_clipped() -> None:
    text = bundle(ResponseView(response(json_body={"blob": "x" * 50_000})))["text/plain"]
    assert '…" (50,000 chars)' in text
    assert len(text) < 2000


def test_scalar_and_empty_bodies() -> None:
    assert bundle(ResponseView(response(json_body=42)))["text/plain"].endswith("\n42")
    empty = bundle(ResponseView(response(204, content=b"")))
    assert empty["text/plain"].endswith("(empty body)")
    assert "(empty body)" in empty["text/html"]


# --------------------------------------------------------------------------- big answers


@pytest.fixture(scope="module")
def big() -> httpx.Response:
    """80,000 meters: about 20 MB of JSON, the size the benchmark renders."""
    return response(json_body={"meters": [meter(i) for i in range(80_000)]})


@pytest.fixture(scope="module")
def big_body(big: httpx.Response) -> Any:
    return big.json()


def test_big_answer_is_cut_with_a_note_and_bounded(big: httpx.Response, big_body: Any) -> None:
    assert len(big.content) > 19_000_000
    view = ResponseView(big, body=big_body)
    forms = bundle(view)
    sizes = {mime: len(text.encode()) for mime, text in forms.items()}
    assert sizes["text/html"] <= 200_000
    assert sizes["text/plain"] <= 100_000
    assert sum(sizes.values()) <= 300_000
    assert forms["text/plain"].endswith("Showing 100 of 80,000 items; the whole answer is in _ue.")
    assert (
        "Showing 100 of 80,000 items; the whole answer is in <code>_ue</code>."
        in forms["text/html"]
    )
    assert "… 79,900 more items" in forms["text/plain"]
    assert "… 79,900 more items" in forms["text/html"]
    assert big_body["meters"][-1]["id"] == "m-079999"  # nothing is cut in the data itself


def test_note_names_the_output_variable(big: httpx.Response, big_body: Any) -> None:
    text = bundle(ResponseView(big, body=big_body, output_var="meters"))["text/plain"]
    assert text.endswith("the whole answer is in _ue and meters.")


@pytest.mark.parametrize("display_bytes", [20_000, 50_000])
def test_byte_budget_cuts_before_the_item_limit(
    big: httpx.Response, big_body: Any, display_bytes: int
) -> None:
    forms = bundle(ResponseView(big, body=big_body, display_bytes=display_bytes))
    assert len(forms["text/html"].encode()) <= display_bytes
    assert len(forms["text/plain"].encode()) <= display_bytes // 2
    shown = int(re.search(r"Showing (\d+) of 80,000 items", forms["text/html"]).group(1))  # type: ignore[union-attr]
    assert 1 <= shown < 100


def test_display_limit_applies_to_every_level() -> None:
    body = {"list": list(range(30)), "obj": {f"k{i}": i for i in range(30)}}
    text = bundle(ResponseView(response(json_body=body), display_limit=10))["text/plain"]
    assert "… 20 more items" in text
    assert text.count("… 20 more items") == 2
    assert text.endswith(
        "Showing 10 of 30 items; the whole answer is in _ue; nested values are cut too."
    )


def test_outermost_cut_is_the_one_in_the_note() -> None:
    body = [{f"k{i}": i for i in range(5)} for _ in range(3)]
    text = bundle(ResponseView(response(json_body=body), display_limit=2))["text/plain"]
    assert "Showing 2 of 3 items" in text
    assert "… 1 more item\n" in text


# --------------------------------------------------------------------------- tables


def test_table_with_pandas() -> None:
    pytest.importorskip("pandas")
    rows = [{"id": 1, "name": "a", "tags": {"x": [1, 2]}}, {"id": 2, "extra": None}]
    view = ResponseView(response(json_body={"count": 2, "items": rows}), table=True)
    forms = bundle(view)
    assert "<table" in forms["text/html"]
    assert "<th style='white-space:nowrap'>extra</th>" in forms["text/html"]
    assert '{"x":[1,2]}' in forms["text/html"]
    header = forms["text/plain"].splitlines()[1].split()
    assert header == ["id", "name", "tags", "extra"]
    assert "Table of items." in forms["text/plain"]
    assert "Table of <code>items</code>." in forms["text/html"]


def test_table_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    rows = [{"id": 1, "name": "a<b>", "tags": {"x": [1, 2]}}, {"id": 2, "extra": None}]
    forms = bundle(ResponseView(response(json_body=rows), table=True))
    page = forms["text/html"].replace(" style='white-space:nowrap'", "")
    assert "<tr><th></th><th>id</th><th>name</th><th>tags</th><th>extra</th></tr>" in page
    assert "<td>a&lt;b&gt;</td>" in page
    assert '<td>{"x":[1,2]}</td>' in page
    assert forms["text/plain"].splitlines()[1:] == [
        "   id  name  tags         extra",
        '0  1   a<b>  {"x":[1,2]}',
        "1  2                      null",
    ]


def test_table_rows_are_limited(big: httpx.Response, big_body: Any) -> None:
    forms = bundle(ResponseView(big, body=big_body, table=True, display_limit=50))
    assert "Showing 50 of 80,000 rows" in forms["text/plain"]
    assert len(forms["text/html"].encode()) <= 200_000


def test_table_falls_back_to_the_tree() -> None:
    forms = bundle(ResponseView(response(json_body={"a": [1, 2]}), table=True))
    assert "No list of objects to show as a table; showing the tree." in forms["text/plain"]
    assert "<details" in forms["text/html"]


# --------------------------------------------------------------------------- raw, text, binary


def test_raw_shows_the_body_as_text() -> None:
    r = response(json_body={"a": XSS})
    forms = bundle(ResponseView(r, raw=True))
    assert forms["text/plain"].endswith(r.text)
    assert f"<pre>{r.text.replace('<', '&lt;').replace('>', '&gt;')}</pre>" in forms["text/html"]


def test_raw_is_cut_to_the_budget() -> None:
    r = response(content=b"<" * 100_000, headers={"content-type": "text/plain"})
    forms = bundle(ResponseView(r, raw=True, display_bytes=20_000))
    assert len(forms["text/html"].encode()) <= 20_000
    assert len(forms["text/plain"].encode()) <= 10_000
    assert "of 100,000 bytes" in forms["text/html"]


def test_text_body_in_pre() -> None:
    r = response(content=f"oops {XSS}".encode(), headers={"content-type": "text/plain"})
    forms = bundle(ResponseView(r))
    assert "<pre>oops &lt;script&gt;alert('x')&lt;/script&gt;</pre>" in forms["text/html"]
    assert forms["text/plain"].endswith(f"oops {XSS}")


def test_binary_body_is_summarised() -> None:
    r = response(content=b"\x89PNG" + bytes(1200), headers={"content-type": "image/png"})
    forms = bundle(ResponseView(r))
    assert forms["text/plain"].endswith("1,204 bytes of image/png")
    assert "1,204 bytes of image/png" in forms["text/html"]


# --------------------------------------------------------------------------- RequestView


def test_request_view_masks_the_token_and_shows_the_bytes_sent() -> None:
    request = httpx.Request(
        "POST",
        "https://api.digitalroute.io/usage-metering/v1/meters?a=1",
        headers={"Authorization": "Bearer eyJ.real.token", "Cookie": "s=1", "X-Trace": "t"},
        json={"name": XSS, "n": [1]},
    )
    forms = RequestView(request, note="Dry run: nothing was sent.")._repr_mimebundle_()
    for form in forms.values():
        assert "eyJ.real.token" not in form and "s=1" not in form
        assert "Authorization: Bearer ***" in form
        assert "Cookie: ***" in form
        assert "X-Trace: t" in form
        assert "POST https://api.digitalroute.io/usage-metering/v1/meters?a=1" in form
        assert "Dry run: nothing was sent." in form
    assert forms["text/plain"].endswith(
        "\n\n" + request.content.decode()
    )  # as sent, not re-indented
    assert "<script>" not in forms["text/html"]


@pytest.mark.parametrize("auth", ["Basic dXNlcjpwYXNz", "token-without-scheme", "Bearer "])
def test_request_view_always_shows_bearer_stars(auth: str) -> None:
    request = httpx.Request("GET", "https://h/x", headers={"Authorization": auth})
    text = RequestView(request)._repr_mimebundle_()["text/plain"]
    assert "Authorization: Bearer ***" in text
    assert auth.strip() not in text.replace("Bearer ***", "")


def test_request_view_text_body_and_no_body() -> None:
    text_request = httpx.Request(
        "PUT", "https://h/x", content=b"a=1", headers={"Content-Type": "text/plain"}
    )
    assert RequestView(text_request)._repr_mimebundle_()["text/plain"].endswith("\n\na=1")
    bare = RequestView(httpx.Request("GET", "https://h/x"))._repr_mimebundle_(
        include={"text/plain"}
    )
    assert bare == {"text/plain": "GET https://h/x\nHost: h"}


def test_table_columns_are_the_union_in_order_seen_and_capped() -> None:
    rows = [{"a": 1}, {"b": 2, "a": 3}, {f"c{i}": i for i in range(150)}]
    forms = bundle(ResponseView(response(json_body=rows), table=True, display_limit=2))
    header = forms["text/plain"].splitlines()[1].split()
    assert header == ["a", "b"]  # the third row is not shown, nor are its columns
    wide = bundle(ResponseView(response(json_body=rows), table=True))["text/plain"]
    assert wide.splitlines()[1].split()[:4] == ["a", "b", "c0", "c1"]
    assert "Only the first 100 columns are shown." in wide


def test_a_huge_key_is_cut_as_a_huge_value_is() -> None:
    # a 20 MB key was printed whole in the tree (values are cut at 1,000 characters)
    body = {"k" * 2_000_000: 1, "small": {"k" * 5_000: 2}}
    request = httpx.Request("GET", "https://api.example.com/x")
    bundle = ResponseView(httpx.Response(200, json=body, request=request))._repr_mimebundle_()
    for form in ("text/plain", "text/html"):
        assert len(bundle[form]) < 20_000, form
        assert "(2,000,000 chars)" in bundle[form], form
