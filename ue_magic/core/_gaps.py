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
from collections.abc import Iterator

__all__ = ["MIN_SKELETON", "may_have_constructs", "skeleton", "skeleton_spans"]

MIN_SKELETON = 12  # characters: a spelling with fewer letters and digits is only found whole

_WRAP = r"[ \t\r\n]{0,4}"  # a line break (and indentation) where a text was wrapped
_BACKSLASHES = r"(?<!\\)\\+"  # a run of backslashes, from its start (a repr doubles them)
_ESCAPE = r"(?:[uU][0-9A-Fa-f]{4}|[xX][0-9A-Fa-f]{2}|U[0-9A-Fa-f]{8}|[0-7]{1,3}|[A-Za-z])"
_AMPERSAND = rf"(?:&|{_BACKSLASHES}[uU]0026|%26)"
_OPEN = rf"(?:<|{_BACKSLASHES}[uU]003[cC]|%3[cC]|&lt;|&#0*60;|&#[xX]0*3[cC];)"
_CLOSE = rf"(?:>|{_BACKSLASHES}[uU]003[eE]|%3[eE]|&gt;|&#0*62;|&#[xX]0*3[eE];)"
_CONSTRUCT = "|".join(
    [
        rf"{_OPEN}[/!?]?[A-Za-z][^<>\n]{{0,64}}?{_CLOSE}",  # a tag: <br>, </p>, \u003cbr\u003e
        rf"{_AMPERSAND}(?:#[0-9]{{1,7}}|#[xX][0-9A-Fa-f]{{1,6}}|[A-Za-z][A-Za-z0-9]{{1,31}});",
        # %20, %2520 (encoded twice), and one that a wrapped line splits (%\n3D)
        rf"%(?:{_WRAP}2{_WRAP}5)*{_WRAP}[0-9A-Fa-f]{_WRAP}[0-9A-Fa-f]",
        rf"{_BACKSLASHES}{_ESCAPE}",  # \n \u2028 \x0b \012, and \\n in a repr
        r"\x1b(?:\[[0-9;?]{0,32}[ -/]{0,4}[@-~]|\][^\x07\x1b]{0,256}(?:\x07|\x1b\\)?)",
    ]
)
_CONSTRUCTS = re.compile(_CONSTRUCT)
_CONSTRUCTS_BYTES = re.compile(_CONSTRUCT.encode("ascii"))
_STARTS = re.compile(r"[\\%&<\x1b]")
_STARTS_BYTES = re.compile(rb"[\\%&<\x1b]")
_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_NOT_ALNUM = bytes(b for b in range(256) if b not in _ALNUM)
_RUN = re.compile(r"[A-Za-z0-9]+")


def may_have_constructs(text: str | bytes) -> bool:
    """Whether ``text`` holds a character a construct starts with (a quick test)."""
    starts = _STARTS_BYTES if isinstance(text, bytes) else _STARTS
    return starts.search(text) is not None  # type: ignore[arg-type]


def skeleton(text: str | bytes) -> bytes:
    """The letters and digits of ``text`` (ASCII), lower-cased, constructs taken out whole."""
    if isinstance(text, str):
        if may_have_constructs(text):
            text = _CONSTRUCTS.sub("", text)
        data = text.encode("ascii", "ignore")
    else:
        data = _CONSTRUCTS_BYTES.sub(b"", text) if may_have_constructs(text) else text
    return data.translate(None, _NOT_ALNUM).lower()


def skeleton_spans(text: str, found: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """Where in ``text`` each skeleton of ``found`` is, from its first character to its last:
    ``[(start, end), ...]`` in order, overlapping ones merged."""
    whole = skeleton(text).decode("ascii")
    wanted: list[tuple[int, int]] = []
    for each in found:
        start = whole.find(each.decode("ascii"))
        while start != -1:
            wanted.append((start, start + len(each)))
            start = whole.find(each.decode("ascii"), start + 1)
    wanted.sort()
    return _merge([(_at(text, start), _at(text, end - 1) + 1) for start, end in wanted])


def _at(text: str, index: int) -> int:
    """The place in ``text`` of the skeleton's character ``index``."""
    count = 0
    for run_start, run_end in _runs(text):
        if count + run_end - run_start > index:
            return run_start + index - count
        count += run_end - run_start
    return len(text)


def _runs(text: str) -> Iterator[tuple[int, int]]:
    """The runs of letters and digits of ``text`` that are not inside a construct."""
    constructs = [m.span() for m in _CONSTRUCTS.finditer(text)] if may_have_constructs(text) else []
    at = 0
    for start, end in [*constructs, (len(text), len(text))]:
        for run in _RUN.finditer(text, at, start):
            yield run.span()
        at = max(at, end)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
