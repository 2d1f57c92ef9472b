"""How much a schema ``pattern`` costs ``regex`` to compile, read before it is compiled.

Why: mrab-regex expands counted repeats when it compiles (``a{n}`` is n copies, and nested
counts multiply): ``^a{2147483647}$`` (16 characters) or ``^(((a{100}){100}){100}){10}$`` run
out of memory after seconds, in C code that holds the GIL, where no deadline reaches. Time
and memory follow the pattern's size once every count is expanded (a million copies: about
0.6 s and 300 MB) and, past some thousands of characters, its length. So a pattern is read
first: over ``MAX_LENGTH`` characters, or over ``MAX_SIZE`` once expanded, it is refused
(about 0.1 s of compiling at most), and the body goes out unchecked.

The reading errs on the large side: a repeat's least count multiplies what it repeats (the
rest of ``{m,n}`` is a loop, not copies); a character, class, escape, group and ``|`` count
one each. Where regex could read the groups otherwise than this reading (verbose mode's
comments, ``(?x)``; a ``[`` inside a class: a POSIX class or version 1's nested sets, which can
hold a ``)``), each repeat multiplies everything before it instead (``_flat_size``): no
parenthesis hidden there can make a repeat count less.
"""

from __future__ import annotations

import re

MAX_LENGTH = 10_000  # characters; 10,000 of the costliest kinds compile in about 0.07 s
MAX_SIZE = 100_000  # after expansion; a{100000}: about 0.06 s, 40 MB

_COUNT = re.compile(r"\{(\d*)(?:,\d*)?\}")  # {m}, {m,}, {,n}, {m,n}: what regex reads as a repeat
_FLAGS = re.compile(r"\?([a-zA-Z0-9]*)(?:-[a-zA-Z0-9]*)?[:)]")  # after "(": (?ix) (?x: (?-x:
# after "(": what makes a group of a kind or names it, (?: (?= (?<! (?P<name> (?i: ..., not counted
_HEADER = re.compile(r"\?(?:[:>=!|]|<[=!]|P?<\w+>|'\w+'|[a-zA-Z0-9]*(?:-[a-zA-Z0-9]*)?:)")
_BRACED = frozenset("NpP")  # \N{name}, \p{property}, \P{property}: braces that are no repeat


def refusal(pattern: str) -> str | None:
    """Why compiling ``pattern`` could run away (a phrase for a warning), or None."""
    if len(pattern) > MAX_LENGTH:
        return f"its pattern of {len(pattern):,} characters is over {MAX_LENGTH:,}"
    if expanded_size(pattern) > MAX_SIZE:
        return f"its pattern {_shown(pattern)} repeats to over {MAX_SIZE:,} elements"
    return None


def expanded_size(pattern: str) -> int:
    """The pattern's size with every counted repeat expanded, or more (a number over
    MAX_SIZE as soon as it is passed)."""
    stack = [0]  # the size so far of each open group, the pattern's own first
    last = 0  # the size of the element just read: what a repeat that follows repeats
    i, end = 0, len(pattern)
    while i < end:
        ch = pattern[i]
        if ch == "(":
            flags = _FLAGS.match(pattern, i + 1)
            if flags and "x" in flags.group(1):
                return _flat_size(pattern)
            if pattern.startswith("(?#", i):  # a comment: regex reads escapes in it
                i = _past(pattern, i + 3, ")")
                continue
            header = _HEADER.match(pattern, i + 1)
            stack.append(1)
            last, i = 0, header.end() if header else i + 1
            continue
        if ch == ")" and len(stack) > 1:
            last = stack.pop()
            stack[-1] += last
            i += 1
            continue
        count = _COUNT.match(pattern, i) if ch == "{" else None
        if count:
            least = _least(count.group(1))
            stack[-1] += last * (max(least, 1) - 1)
            last *= max(least, 1)
            i = count.end()
            if stack[-1] > MAX_SIZE:
                return stack[-1]
            continue
        if ch in "*+?":
            i += 1  # a loop over one copy (or a lazy/possessive mark): no bigger
            continue
        if ch == "\\":
            i += 2
            if pattern[i - 1 : i] in _BRACED and pattern.startswith("{", i):
                i = _past(pattern, i + 1, "}")
        elif ch == "[":
            i = _class_end(pattern, i)
            if i < 0:  # a "[" inside: regex may end the class elsewhere
                return _flat_size(pattern)
        else:
            i += 1
        last = 1
        stack[-1] += 1
    return sum(stack)  # groups left open (a broken pattern, which regex refuses) add up


def _past(pattern: str, i: int, close: str) -> int:
    """The index after the first ``close`` from ``i`` that no backslash escapes."""
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
        elif pattern[i] == close:
            return i + 1
        else:
            i += 1
    return len(pattern)


def _class_end(pattern: str, i: int) -> int:
    """The index after the class that opens at ``pattern[i] == "["`` (a ``]`` first in it is
    a member), or -1 when a ``[`` in it could open a POSIX class or a nested set."""
    i += 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1
    end = _past(pattern, i, "]")
    inside = pattern[i:end].replace("\\\\", "").replace("\\[", "")
    return -1 if "[" in inside else end


def _flat_size(pattern: str) -> int:
    """A bound that needs no reading of groups or classes: every repeat multiplies all that
    comes before it (at least what it truly repeats)."""
    total = 0
    i = 0
    while i < len(pattern):
        count = _COUNT.match(pattern, i) if pattern[i] == "{" else None
        if count:
            total *= max(_least(count.group(1)), 1)
            if total > MAX_SIZE:
                return total
            i = count.end()
            continue
        i += 2 if pattern[i] == "\\" else 1
        total += 1
    return total


def _least(digits: str) -> int:
    """A repeat's least count (``{,n}``: 0); a count of over 12 digits as 10**12."""
    return int(digits) if 0 < len(digits) <= 12 else (10**12 if digits else 0)


def _shown(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 40 else pattern[:39] + "…")
