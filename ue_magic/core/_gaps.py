"""A secret that a server echoes with something between its characters, found by its skeleton.

A server that wraps, spaces, marks up or re-encodes what it echoes puts things between the
characters of a secret: line breaks and indentation, any whitespace or invisible character, NUL
(UTF-16), ``<br>``, ``</p><p>``, ``&nbsp;``, ``%20``, ``\\u003cbr\\u003e``, terminal colours. Rather
than a list of such gaps, the search compares skeletons: a text's skeleton is its ASCII letters
and digits, lower-cased, read as a decoder would: an escape or reference that stands for an ASCII
letter or digit (``%5A``, ``%255A``, ``&#90;``, ``&#x5a;``, ``\\x5a``, ``\\u005a``, octal ``\\132``)
is that character, and every other construct is taken out whole (a percent-escape, also of
``%25``; a backslash escape; an HTML character reference, also with an escaped ``&``; an HTML
tag, with its attributes or not, also with escaped brackets; a terminal escape sequence). The
second reading takes nothing out (a construct may swallow a secret's first letters, and a token
in a tag's ``href`` is found there). A secret's spelling whose skeleton has ``MIN_SKELETON``
characters or more is looked for as a skeleton in the text's skeletons, and masked in the text
from its first character to its last.

Every pattern here runs in time linear in the text (bounded repeats, a tag's attributes at most
256 characters, and a backslash run is matched from its start only), so a hostile text cannot
make the search slow; places in the text are found only for the hits, a block at a time.
"""

from __future__ import annotations

import re

__all__ = ["MIN_SKELETON", "may_have_constructs", "plain_skeleton", "skeleton", "skeleton_spans"]

MIN_SKELETON = 12  # characters: a spelling with fewer letters and digits is only found whole

_WRAP = r"[ \t\r\n]{0,4}"  # a line break (and indentation) where a text was wrapped
_BACKSLASHES = r"(?<!\\)\\+"  # a run of backslashes, from its start (a repr doubles them)
_ESCAPE = r"(?:[uU][0-9A-Fa-f]{4}|[xX][0-9A-Fa-f]{2}|U[0-9A-Fa-f]{8}|[0-7]{1,3}|[A-Za-z])"
_AMPERSAND = rf"(?:&|{_BACKSLASHES}[uU]0026|%26)"
_OPEN = rf"(?:<|{_BACKSLASHES}[uU]003[cC]|%3[cC]|&lt;|&#0*60;|&#[xX]0*3[cC];)"
_CLOSE = rf"(?:>|{_BACKSLASHES}[uU]003[eE]|%3[eE]|&gt;|&#0*62;|&#[xX]0*3[eE];)"
# ESC as a JSON, Python, C, HTML or URL text writes it, or as a caret (^[), and C1's CSI
_ESC = (
    rf"(?:\x1b|\x9b|{_BACKSLASHES}(?:[uU]001[bB]|[xX]1[bB]|033|e)|%1[bB]"
    r"|&#0*27;|&#[xX]0*1[bB];|\^\[)"
)
_CSI = r"(?:\[|%5[bB])?[0-9;?]{0,32}[ -/]{0,4}[@-~]"  # a control sequence's body
_OSC = r"\][^\x07\x1b]{0,256}(?:\x07|\x1b\\)?"  # an operating system command's
# a tag's attributes: up to 256 characters, none that starts an escape or another tag (so each
# character is read by one tag at most, and a token in an href written with %20 or &#10; between
# its characters is found by the escapes taken out); a JSON-escaped quote allowed
_ATTRIBUTES = r"(?:[ \t\r\n](?:[^<>&%\\]|\\+\"){0,256})?"
_PERCENT_TWICE = rf"%(?:{_WRAP}2{_WRAP}5){{0,4}}{_WRAP}"  # %, also encoded again (%25, %2525)
_CONSTRUCT = "|".join(
    [
        # first: its ESC is also an escape or a reference, which would leave the rest (0m)
        rf"{_ESC}(?:{_OSC}|{_CSI})",
        # a tag, with its attributes or not (<br>, </p>, <span class="hl">, \u003cbr\u003e)
        rf"{_OPEN}/?[A-Za-z][A-Za-z0-9]{{0,9}}{_ATTRIBUTES}/?{_CLOSE}",
        rf"{_AMPERSAND}(?:#[0-9]{{1,7}}|#[xX][0-9A-Fa-f]{{1,6}}|[A-Za-z][A-Za-z0-9]{{1,31}});",
        # %20, %2520 (encoded twice), and one that a wrapped line splits (%\n3D)
        rf"{_PERCENT_TWICE}[0-9A-Fa-f]{_WRAP}[0-9A-Fa-f]",
        rf"{_BACKSLASHES}{_ESCAPE}",  # \n \u2028 \x0b \012, and \\n in a repr
        r"U\+[0-9A-Fa-f]{4}",  # U+000A, as a text names a character
    ]
)
# The constructs that stand for an ASCII letter or digit (a decoder reads them so): each is
# what _CONSTRUCT would take at that place, so reading it as its character changes no other.
_HEX = r"(?:3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa])"  # 0-9, A-Z, a-z in hex
_DECIMAL = r"(?:4[89]|5[0-7]|6[5-9]|[78][0-9]|9[07-9]|1[01][0-9]|12[0-2])"
_OCTAL = (  # as many digits as \\[0-7]{1,3} takes
    r"(?:(?:6[0-7]|7[01])(?![0-7])|0(?:6[0-7]|7[01])"
    r"|1(?:0[1-7]|[12][0-7]|3[0-2]|4[1-7]|[56][0-7]|7[0-2]))"
)
_LETTER = "|".join(
    [
        rf"{_AMPERSAND}#(?:(?=[0-9]{{1,7}};)0*{_DECIMAL}|[xX](?=[0-9A-Fa-f]{{1,6}};)0*{_HEX});",
        rf"{_PERCENT_TWICE}(?:3{_WRAP}[0-9]|[46]{_WRAP}[1-9A-Fa-f]|[57]{_WRAP}[0-9Aa])",
        rf"{_BACKSLASHES}(?:[uU]00{_HEX}|[xX]{_HEX}|{_OCTAL})",
        rf"U\+00{_HEX}",
    ]
)
# every construct starts with one of these: a quick test that skips most places
_FIRST = r"(?=[\\%&<\x1b\x9b^U])"
# one match: a letter's escape, or up to 64 other constructs in a row (a text of a million %20
# is read in few steps)
_READ = rf"{_FIRST}(?:(?P<letter>{_LETTER})|(?:(?!{_LETTER})(?:{_CONSTRUCT})){{1,64}})"
_READS = re.compile(_READ)
_READS_BYTES = re.compile(_READ.encode("ascii"))
# a text with no letter's escape (most) is read with no call for each match
# (more than those, never fewer; each branch starts with a character, so the engine skips
# to the places that hold one)
_LETTERS = re.compile(
    rf"&#|\\(?<!\\\\)\\*(?:[uU]0026#|[uU]00{_HEX}|[xX]{_HEX}|[0-7])"
    rf"|%(?:{_WRAP}2{_WRAP}5){{0,4}}{_WRAP}(?:2{_WRAP}6|3|[4-7])|U\+00{_HEX}"
)
_LETTERS_BYTES = re.compile(_LETTERS.pattern.encode("ascii"))
_OTHERS = re.compile(rf"{_FIRST}(?:{_CONSTRUCT}){{1,64}}")
_OTHERS_BYTES = re.compile(_OTHERS.pattern.encode("ascii"))
_STARTS = re.compile(r"[\\%&<\x1b\x9b]|U\+|\^\[")
_STARTERS = b"\\%&<\x1b\x9b"
# what a construct starts with, and the second characters of U+ and ^[
_NOT_STARTS = bytes(b for b in range(256) if b not in _STARTERS + b"+[")
_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_NOT_ALNUM = bytes(b for b in range(256) if b not in _ALNUM)
_RUN = re.compile(r"[A-Za-z0-9]+")
_BLOCK = 1 << 16  # characters: a long text is counted a block at a time


def may_have_constructs(text: str | bytes) -> bool:
    """Whether ``text`` holds a character a construct starts with (a quick test: for bytes,
    one deletion of every other byte, quicker than a search)."""
    if isinstance(text, str):
        return _STARTS.search(text) is not None
    found = text.translate(None, _NOT_STARTS)
    if not found:
        return False  # most texts
    return bool(found.translate(None, b"+[")) or b"U+" in text or b"^[" in text


def _letter_of(escape: str) -> str:
    """The letter or digit that one of ``_LETTER``'s escapes stands for."""
    written = re.sub(r"[ \t\r\n]", "", escape)
    if written.endswith(";"):  # a numeric reference, its & written or escaped
        number = written[written.rindex("#") + 1 : -1]
        return chr(int(number[1:], 16) if number[0] in "xX" else int(number))
    if written.startswith("%"):
        return chr(int(written[-2:], 16))
    if written.startswith("U+"):
        return chr(int(written[2:], 16))
    written = written.lstrip("\\")
    return chr(int(written[1:], 16) if written[0] in "uUxX" else int(written, 8))


def _read(match: re.Match[str]) -> str:
    return _letter_of(match.group()) if match.lastgroup else ""


def _read_bytes(match: re.Match[bytes]) -> bytes:
    return _letter_of(match.group().decode("latin-1")).encode() if match.lastgroup else b""


def skeleton(text: str | bytes) -> bytes:
    """The letters and digits of ``text`` (ASCII), lower-cased, as a decoder reads it: an escape
    or reference of a letter or digit is that character, every other construct taken out whole."""
    if isinstance(text, str):
        if may_have_constructs(text):
            letters = _LETTERS.search(text) is not None
            text = _READS.sub(_read, text) if letters else _OTHERS.sub("", text)
        data = text.encode("ascii", "ignore")
    elif may_have_constructs(text):
        letters = _LETTERS_BYTES.search(text) is not None
        data = _READS_BYTES.sub(_read_bytes, text) if letters else _OTHERS_BYTES.sub(b"", text)
    else:
        data = text
    return data.translate(None, _NOT_ALNUM).lower()


def plain_skeleton(text: str | bytes) -> bytes:
    """The letters and digits of ``text`` (ASCII), lower-cased, nothing taken out: the second
    reading, for a construct that swallowed a secret's first letters (``100%\n3f...`` read as
    ``%3F``, ``\\t`` before a token starting with ``t``)."""
    data = text.encode("ascii", "ignore") if isinstance(text, str) else text
    return data.translate(None, _NOT_ALNUM).lower()


def skeleton_spans(
    text: str, bones: tuple[bytes, ...], readings: tuple[bytes, bytes] | None = None
) -> list[tuple[int, int]]:
    """Where in ``text`` each of ``bones`` is, in either reading (``skeleton``,
    ``plain_skeleton``; given as ``readings`` if already made), from its first character to its
    last: ``[(start, end), ...]`` in order, overlapping ones merged. The bones are found in the
    skeletons; only then is the text walked, a block at a time, to the places of the hits'
    first and last characters (no map of every character), so a big text costs little more
    than reading it, however many echoes it holds."""
    whole, plain = readings or (skeleton(text), plain_skeleton(text))
    spans: list[tuple[int, int]] = []
    for reading, decoded in ((whole, True), (plain, False)):
        if not decoded and plain == whole and not may_have_constructs(text):
            break  # no construct: the same reading
        hits: list[tuple[int, int]] = []
        for bone in bones:
            start = reading.find(bone)
            while start != -1:
                hits.append((start, start + len(bone) - 1))
                start = reading.find(bone, start + len(bone))
        if hits:
            where = _places(text, sorted({n for hit in hits for n in hit}), decoded)
            spans += [(where[first][0], where[last][1]) for first, last in hits]
    return _merge(sorted(spans))


def _places(text: str, wanted: list[int], decoded: bool) -> dict[int, tuple[int, int]]:
    """For each of ``wanted`` (skeleton indexes, sorted), where in ``text`` the character it
    reads comes from: ``{index: (start, end)}``."""
    found: dict[int, tuple[int, int]] = {}
    count, at = 0, 0
    matches = _READS.finditer(text) if decoded and may_have_constructs(text) else iter(())
    for match in matches:
        start = match.start()
        if start > at:
            count = _in_plain(text, at, start, count, wanted, found)
        if match.lastgroup:  # a letter's escape: one character
            if len(found) < len(wanted) and wanted[len(found)] == count:
                found[count] = match.span()
            count += 1
        at = match.end()
        if len(found) == len(wanted):
            return found
    _in_plain(text, at, len(text), count, wanted, found)
    return found


def _in_plain(
    text: str,
    start: int,
    end: int,
    count: int,
    wanted: list[int],
    found: dict[int, tuple[int, int]],
) -> int:
    """Find the wanted indexes that fall in ``text[start:end]`` (no construct in it), whose
    first skeleton character is number ``count``; return the count after it."""
    for block in range(start, end, _BLOCK):
        stop = min(block + _BLOCK, end)
        size = len(text[block:stop].encode("ascii", "ignore").translate(None, _NOT_ALNUM))
        if len(found) < len(wanted) and wanted[len(found)] < count + size:
            for run in _RUN.finditer(text, block, stop):
                a, b = run.span()
                while len(found) < len(wanted) and wanted[len(found)] < count + b - a:
                    place = a + wanted[len(found)] - count
                    found[wanted[len(found)]] = (place, place + 1)
                count += b - a
        else:
            count += size
    return count


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
