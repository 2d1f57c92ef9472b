"""What a server may put inside an echo when it wraps or spaces it, so that a secret it splits
is still found: the search takes these gaps out of the text and out of the secret's spellings,
and masks across them.

A gap is any run of: whitespace (Unicode's, as ``str.isspace`` reads it: line and paragraph
separators, NEL, no-break spaces) and the zero-width characters that show nothing; the same
characters as UTF-8 bytes read as Latin-1 (how ``scrub_bytes`` reads a body); quoted-printable's
soft break (``=`` at the end of a line); an escape of one of them as JSON, Python or C write it
(``\\n``, ``\\u2028``, ``\\x0b``, with its backslash doubled any number of times); HTML's
``<br>`` and character references to one of them (``&#10;``, ``&#x2028;``, ``&NewLine;``).
"""

from __future__ import annotations

import re
import sys

__all__ = ["GAP", "GAP_BYTES", "bytes_without_gaps", "may_gap", "spaces_only", "without_gaps"]

# whitespace and zero-width characters: every ``str.isspace`` character, and those that show
# nothing (zero-width space, joiners, word joiner, BOM, soft hyphen)
_SPACES = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\xad"
_CHARACTERS = _SPACES + _INVISIBLE


def _any_case(text: str) -> str:
    """``text`` as a pattern matching its letters in either case (no inline flag: each branch
    then starts with a plain character class)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in text)


def _escaped(characters: str) -> str:
    """The escapes (JSON, Python, C, HTML) that stand for one of ``characters``, as a pattern."""
    codes = sorted({ord(ch) for ch in characters})
    hex4 = "|".join(_any_case(f"{c:04x}") for c in codes)
    hex2 = "|".join(_any_case(f"{c:02x}") for c in codes if c < 256)
    decimal = "|".join(str(c) for c in codes)
    hexadecimal = "|".join(_any_case(f"{c:x}") for c in codes)
    return (
        rf"\\+(?:[nrtfvNRTFV]|[uU](?:{hex4})|[xX](?:{hex2}))"
        rf"|&\#(?:0*(?:{decimal})|[xX]0*(?:{hexadecimal}));"
        r"|&(?:NewLine|Tab|nbsp|ZeroWidthSpace|shy);"
        rf"|<{_any_case('br')}[\t\n\r ]*/?>"
    )


def _as_latin1(characters: str) -> str:
    """Each non-ASCII character's UTF-8 bytes, read as Latin-1, as alternatives of a pattern."""
    return "|".join(
        re.escape(ch.encode("utf-8").decode("latin-1")) for ch in characters if ord(ch) > 0x7F
    )


_ONE = rf"=\r?\n|[{re.escape(_CHARACTERS)}]|{_as_latin1(_CHARACTERS)}|{_escaped(_CHARACTERS)}"
GAP = re.compile(f"(?:{_ONE})+")
# bytes: the ASCII ones and the UTF-8 sequences (read as Latin-1, one byte per character)
_ASCII = "".join(ch for ch in _CHARACTERS if ord(ch) < 0x80)
_ONE_BYTES = rf"=\r?\n|[{re.escape(_ASCII)}]|{_as_latin1(_CHARACTERS)}|{_escaped(_CHARACTERS)}"
GAP_BYTES = re.compile(f"(?:{_ONE_BYTES})+".encode("latin-1"))

# a character that a gap starts with (a cheap test before the pattern runs)
_HINT = re.compile(f"[{re.escape(_CHARACTERS)}\\\\&<=]")
_HINT_BYTES = re.compile(f"[{re.escape(_ASCII)}\\\\&<=\x80-\xff]".encode("latin-1"))


def may_gap(text: str | bytes) -> bool:
    """Whether ``text`` may hold a gap (no character a gap starts with: none)."""
    hint = _HINT_BYTES if isinstance(text, bytes) else _HINT
    return hint.search(text) is not None  # type: ignore[arg-type]


# the starts of what only the pattern takes out (a backslash, non-ASCII, and these), each
# searched alone: a pattern with a fixed first character is searched for quickly, one of
# several alternatives is tried at every position (four to nine times as slow)
_PATTERN_ONLY = (re.compile(rb"&[#NTnZs]"), re.compile(rb"<[bB]"), re.compile(rb"=[\r\n]"))
_ASCII_BYTES = _ASCII.encode("ascii")


def spaces_only(data: bytes) -> bytes | None:
    """``data`` without its gaps when each is one ASCII whitespace character (most texts: ASCII,
    no escapes), taken out by ``bytes.translate``; None when a gap may be more (the pattern's)."""
    if b"\\" in data or not data.isascii():
        return None
    if any(start.search(data) is not None for start in _PATTERN_ONLY):
        return None
    return data.translate(None, _ASCII_BYTES)


def bytes_without_gaps(data: bytes) -> bytes:
    """``data`` with every gap taken out (``GAP_BYTES``), by ``spaces_only`` where it can."""
    quick = spaces_only(data)
    return GAP_BYTES.sub(b"", data) if quick is None else quick


def without_gaps(text: str) -> str:
    """``text`` with every gap taken out (a secret's spelling, made comparable to a text whose
    gaps were taken out)."""
    return GAP.sub("", text)
