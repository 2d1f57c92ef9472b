"""An echo with one letter or digit written as an escape or a reference, and one marked up with
tags that carry attributes (issue 22, tenth attack): the skeleton reads an escape that stands
for an ASCII letter or digit as that character, and takes a tag out whole whatever its
attributes, so neither hides a secret or a token."""

from __future__ import annotations

import pytest

from ue_magic.core._forms import Needles, scrub, scrub_bytes, secret_forms
from ue_magic.core._gaps import skeleton

TOKEN = "tok.ZZTOKENZZ.0123456789abcdef"
SECRET = "s3cr3t-ZZSECRETZZ-abcdef"

LETTER_Z = ["%5A", "%5a", "%255A", "%25255A", "&#90;", "&#0090;", "&#x5a;", "&#X5A;",
            "\\x5a", "\\u005a", "\\u005A", "\\\\u005a", "\\132", "\\u0026#90;", "%26#x5a;",
            "U+005A"]  # fmt: skip


def one_escaped(value: str, at: int, escape: str) -> str:
    return value[:at] + escape + value[at + 1 :]


@pytest.mark.parametrize("escape", LETTER_Z)
@pytest.mark.parametrize(("value", "at"), [(TOKEN, 4), (SECRET, 7)])
def test_one_letter_written_as_an_escape_is_read_as_that_letter(
    value: str, at: int, escape: str
) -> None:
    assert value[at] == "Z"
    text = "got " + one_escaped(value, at, escape) + " end"
    assert Needles(secret_forms(value)).in_bytes(text.encode())
    assert scrub(text, *secret_forms(value)) == "got *** end"
    assert scrub_bytes(text.encode(), secret_forms(value)) == b"got *** end"


@pytest.mark.parametrize(
    ("escape", "where"),
    [("%{:02X}", "every"), ("\\x{:02x}", "every"), ("\\{:03o}", "every"), ("&#{};", "digit"),
     ("\\u{:04x}", "digit"), ("%25{:02x}", "digit")],
)  # fmt: skip
def test_escaped_digits_or_every_character_are_read_as_written(escape: str, where: str) -> None:
    def spell(ch: str) -> str:
        chosen = where == "every" or ch.isdigit()
        code = ord(ch)
        return escape.format(code) if chosen else ch

    text = "said " + "".join(spell(ch) for ch in TOKEN) + "."
    assert Needles(secret_forms(TOKEN)).in_bytes(text.encode())
    assert scrub(text, *secret_forms(TOKEN)) == "said ***."


def test_escapes_of_other_characters_are_still_taken_out_whole() -> None:
    # %20, \u00e9 (not ASCII), &#10; and \x2d stand for no letter or digit: out, not read
    assert skeleton("a%20b\\u00e9c&#10;d\\x2de") == b"abcde"
    assert skeleton("%41%2541\\x42\\103&#68;&#x45;") == b"aabcde"
    assert skeleton("\\601") == b""  # 0o601 is not ASCII: one escape, taken out
    assert skeleton("&#00000090;") == b"00000090"  # more digits than a reference has: text


@pytest.mark.parametrize(
    "tag",
    ['<span class="hl">', "<span class='hl' data-x=\"1\">", '<b style="color: red">',
     '<font color=#f00>', "&lt;span class=\"hl\"&gt;", '<a\nhref="#x" >', "<mark id=m1/>"],
)  # fmt: skip
def test_a_tag_with_attributes_between_characters_is_taken_out(tag: str) -> None:
    for value in (TOKEN, SECRET):
        text = f"x {value[:11]}{tag}{value[11:18]}</span>{value[18:]} y"
        assert Needles(secret_forms(value)).in_bytes(text.encode()), tag
        assert scrub(text, *secret_forms(value)) == "x *** y"


def test_a_token_inside_an_attribute_is_still_found() -> None:
    text = f'<a href="/cb?t={TOKEN}" class="link">go</a>'
    assert scrub(text, *secret_forms(TOKEN)) == '<a href="/cb?t=***" class="link">go</a>'
    spaced = f'<a href="/cb?t={TOKEN[:9]} {TOKEN[9:]}">go</a>'
    assert TOKEN[-8:] not in scrub(spaced, *secret_forms(TOKEN))
