"""A secret that a server echoes with something between its characters, found by its skeleton.

A server that wraps, spaces, marks up or re-encodes what it echoes puts things between the
characters of a secret: line breaks and indentation, any whitespace or invisible character, NUL
(UTF-16), ``<br>``, ``</p><p>``, ``&nbsp;``, ``%20``, ``\\u003cbr\\u003e``, terminal colours. Rather
than a list of such gaps, the search compares skeletons: a text's skeleton is its ASCII letters
and digits, lower-cased, once every escape or markup construct is taken out whole (a
percent-escape, also of ``%25``; a backslash escape; an HTML character reference, also with an
escaped ``&``; an HTML tag, also with escaped brackets; a terminal escape sequence). A secret's
spelling whose skeleton has ``MIN_SKELETON`` characters or more is looked for as a skeleton in the
text's skeleton, and masked in the text from its first character to its last.

Every pattern here runs in time linear in the text (bounded repeats, and a backslash run is
matched from its start only), so a hostile text cannot make the search slow.
"""

from __future__ import annotations

import re
from array import array

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
_CONSTRUCT = "|".join(
    [
        # first: its ESC is also an escape or a reference, which would leave the rest (0m)
        rf"{_ESC}(?:{_OSC}|{_CSI})",
        # a tag with no attributes (<br>, </p>, <wbr/>, \u003cbr\u003e): one with attributes
        # is kept, letters and all (a token in its href is found as it is)
        rf"{_OPEN}/?[A-Za-z][A-Za-z0-9]{{0,9}}[ \t]*/?{_CLOSE}",
        rf"{_AMPERSAND}(?:#[0-9]{{1,7}}|#[xX][0-9A-Fa-f]{{1,6}}|[A-Za-z][A-Za-z0-9]{{1,31}});",
        # %20, %2520 (encoded twice), and one that a wrapped line splits (%\n3D)
        rf"%(?:{_WRAP}2{_WRAP}5)*{_WRAP}[0-9A-Fa-f]{_WRAP}[0-9A-Fa-f]",
        rf"{_BACKSLASHES}{_ESCAPE}",  # \n \u2028 \x0b \012, and \\n in a repr
        r"U\+[0-9A-Fa-f]{4}",  # U+000A, as a text names a character
    ]
)
_CONSTRUCTS = re.compile(_CONSTRUCT)
_CONSTRUCTS_BYTES = re.compile(_CONSTRUCT.encode("ascii"))
_STARTS = re.compile(r"[\\%&<\x1b\x9b]|U\+|\^\[")
_STARTERS = b"\\%&<\x1b\x9b"
# what a construct starts with, and the second characters of U+ and ^[
_NOT_STARTS = bytes(b for b in range(256) if b not in _STARTERS + b"+[")
_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_NOT_ALNUM = bytes(b for b in range(256) if b not in _ALNUM)
_RUN = re.compile(r"[A-Za-z0-9]+")


def may_have_constructs(text: str | bytes) -> bool:
    """Whether ``text`` holds a character a construct starts with (a quick test: for bytes,
    one deletion of every other byte, quicker than a search)."""
    if isinstance(text, str):
        return _STARTS.search(text) is not None
    found = text.translate(None, _NOT_STARTS)
    if not found:
        return False  # most texts
    return bool(found.translate(None, b"+[")) or b"U+" in text or b"^[" in text


def skeleton(text: str | bytes) -> bytes:
    """The letters and digits of ``text`` (ASCII), lower-cased, constructs taken out whole."""
    if isinstance(text, str):
        if may_have_constructs(text):
            text = _CONSTRUCTS.sub("", text)
        data = text.encode("ascii", "ignore")
    else:
        data = _CONSTRUCTS_BYTES.sub(b"", text) if may_have_constructs(text) else text
    return data.translate(None, _NOT_ALNUM).lower()


def plain_skeleton(text: str | bytes) -> bytes:
    """The letters and digits of ``text`` (ASCII), lower-cased, nothing taken out: the second
    reading, for a construct that swallowed a secret's first letters (``100%\n3f...`` read as
    ``%3F``, ``\\t`` before a token starting with ``t``)."""
    data = text.encode("ascii", "ignore") if isinstance(text, str) else text
    return data.translate(None, _NOT_ALNUM).lower()


def skeleton_spans(text: str, bones: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """Where in ``text`` each of ``bones`` is, in either reading (``skeleton``,
    ``plain_skeleton``), from its first character to its last: ``[(start, end), ...]`` in
    order, overlapping ones merged. One pass over the text per reading (a map of each skeleton
    character's place), so many echoes cost no more than one."""
    spans: list[tuple[int, int]] = []
    for constructs in (True, False):
        whole, places = _reading(text, constructs)
        for bone in bones:
            wanted = bone.decode("ascii")
            start = whole.find(wanted)
            while start != -1:
                spans.append((places[start], places[start + len(wanted) - 1] + 1))
                start = whole.find(wanted, start + len(wanted))
    return _merge(sorted(spans))


def _reading(text: str, constructs: bool) -> tuple[str, array[int]]:
    """A skeleton of ``text`` (constructs taken out or not) and each of its characters' place."""
    places: array[int] = array("q")
    pieces: list[str] = []
    cut = [m.span() for m in _CONSTRUCTS.finditer(text)] if constructs else []
    at = 0
    for start, end in [*cut, (len(text), len(text))]:
        for run in _RUN.finditer(text, at, start):
            pieces.append(run.group())
            places.extend(range(*run.span()))
        at = max(at, end)
    return "".join(pieces).lower(), places


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
