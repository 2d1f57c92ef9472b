"""The skeleton search (``_gaps``): a text's skeleton is the same read as text or as bytes, and a
secret split by any mix of gaps is found and masked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ue_magic.core._forms import Needles, scrub, scrub_bytes, secret_forms
from ue_magic.core._gaps import skeleton

SECRET = "s3cr3t-ZZSECRETZZ-abcdef"
GAP_PIECES = [
    " ",
    "\t",
    "\n  ",
    "\r\n",
    "=\n",
    "\u2028",
    "\x85",
    "\u200b",
    "<br>",
    "&#10;",
    "\\n",
    "%20",
    "\x00",
    "\x1b[0m",
    "</p><p>",
    "\\u003cbr\\u003e",
    "&lt;br&gt;",
    "\n> ",
]
TEXT_PIECES = ["a", "=", "&", "<", "\\", "%", "é", " ", "\n", "&#", "<b", "=\r"]


@given(st.lists(st.sampled_from(TEXT_PIECES + GAP_PIECES + ["%2", "\\u00", "&#x"]), max_size=40))
def test_a_skeleton_is_the_same_read_as_text_or_as_bytes(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert skeleton(text) == skeleton(text.encode("utf-8"))


@given(st.lists(st.integers(0, len(SECRET)), max_size=4), st.lists(st.sampled_from(GAP_PIECES)))
def test_a_secret_split_by_any_gaps_is_found_and_masked(cuts: list[int], gaps: list[str]) -> None:
    pieces, at = [], 0
    for cut, gap in zip(sorted(cuts), gaps, strict=False):  # the shorter list decides
        pieces += [SECRET[at:cut], gap]
        at = cut
    text = "said: " + "".join(pieces) + SECRET[at:] + " end"
    assert Needles(secret_forms(SECRET)).in_bytes(text.encode("utf-8"))
    masked = scrub(text, *secret_forms(SECRET))
    assert masked.startswith("said: ") and masked.endswith(" end") and "***" in masked
    left = masked[len("said: ") : -len(" end")].replace("***", "")
    for gap in sorted(GAP_PIECES, key=len, reverse=True):  # a gap before or after the mask
        left = left.replace(gap, "")
    assert left == ""


SPACED = "Abc+def/ghi=jkl~mno&pqr secret"  # a secret with a space of its own


@given(
    st.sampled_from([SECRET, SPACED]),
    st.lists(st.sampled_from(TEXT_PIECES + GAP_PIECES + ["+", "%20", "%2B", "ZZ"]), max_size=12),
    st.integers(0, 3),
)
def test_the_search_finds_what_the_mask_masks(secret: str, noise: list[str], spelling: int) -> None:
    """Whatever the text, ``Needles.in_bytes`` says yes exactly when ``scrub_bytes`` masks."""
    forms = secret_forms(secret)
    spelled = sorted(forms, key=len)[spelling % len(forms)]
    half = len(noise) // 2
    data = ("".join(noise[:half]) + spelled + "".join(noise[half:])).encode("utf-8")
    masked = scrub_bytes(data, forms)
    assert Needles(forms).in_bytes(data) == (masked != data)
    assert Needles(forms).in_bytes(data)  # the spelling itself is always found
