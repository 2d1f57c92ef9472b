"""Terminal and HTML escaping: whatever the text, nothing a terminal acts on comes out raw, a
one-line form stays one line, the HTML form holds no markup from the answer, and an answer's
views never show the token."""

from __future__ import annotations

import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import SECRET, hostile_text, json_values
from ue_magic.cells.render import RequestView, ResponseView
from ue_magic.core._kept import keep
from ue_magic.core._visible import visible

RAW = {*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u202e", "\u2066"} - {
    "\n",
    "\t",
}


def raw(text: str) -> set[str]:
    return {c for c in text if c in RAW}


@given(hostile_text)
def test_visible_leaves_nothing_raw(text: str) -> None:
    assert raw(visible(text)) == set()
    line = visible(text, one_line=True)
    assert raw(line) == set() and "\n" not in line and "\t" not in line
    assert visible(visible(text)) == visible(text) or "\\" in text  # stable on safe text


def _answer(body: bytes, content_type: str, status: int = 200) -> httpx.Response:
    headers = {"Authorization": "Bearer " + SECRET}
    request = httpx.Request("GET", "https://api.example.com/x", headers=headers)
    return httpx.Response(
        status, content=body, headers={"Content-Type": content_type}, request=request
    )


@given(
    json_values,
    st.sampled_from(["application/json", "text/plain", "application/json; charset=x-bad", ""]),
    st.booleans(),
    st.sampled_from([200, 400, 500]),
)
def test_every_view_of_an_answer_is_safe(
    value: object, content_type: str, table: bool, status: int
) -> None:
    if isinstance(value, str) and content_type.startswith("text/"):
        body = value.encode("utf-8", "surrogatepass")
    else:
        body = json.dumps(value).encode("utf-8", "surrogatepass")
    # as the client hands it over: the token masked wherever the answer echoes it
    view = ResponseView(keep(_answer(body, content_type, status), [SECRET]), table=table)
    bundle = view._repr_mimebundle_()
    for form in bundle.values():
        assert raw(form) == set()
        assert SECRET not in form
    assert (
        "<script" not in bundle["text/html"].lower()
        or "<script" not in body.decode("utf-8", "replace").lower()
    )


@given(hostile_text, hostile_text)
def test_a_dry_run_view_is_safe_and_masks_the_token(query: str, body: str) -> None:
    request = httpx.Request(
        "POST",
        "https://api.example.com/x",
        params={"q": query},
        headers={"Authorization": "Bearer " + SECRET},
        content=body.encode("utf-8", "surrogatepass"),
    )
    view = RequestView(request)
    for form in view._repr_mimebundle_().values():
        assert raw(form) == set()
        # the token in the Authorization header is never shown (the body is the user's own)
        assert SECRET not in form or SECRET in body


@given(hostile_text, hostile_text)
def test_the_spellings_of_any_secret_and_client_id_are_made_without_raising(
    secret: str, client_id: str
) -> None:
    # any text, lone surrogates included: a login whose id held one made every request of
    # every other login fail while it lived (its forms are made for each request's search)
    from ue_magic.core._forms import secret_forms

    forms = secret_forms(secret, client_id)
    assert (secret in forms) if secret else forms == ()
