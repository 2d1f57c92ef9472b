"""Which characters must never reach the reader's screen raw: the one function every text
output of server or description words goes through (answers, errors, tables, %ue_api, the
bulk report, the login line)."""

from __future__ import annotations

import re

__all__ = ["HIDDEN", "visible"]

# Characters a terminal acts on instead of showing: C0 controls (ESC starts the sequences that
# change the title, clear the screen or write the clipboard with OSC 52), DEL, C1 controls (CSI
# and OSC have one-byte forms, U+009B and U+009D) and the bidi controls that reorder what is
# shown (U+202E shows "exe.txt" for "txt.exe"); and the Unicode line separators. Lone
# surrogates (U+D800 to U+DFFF: valid in JSON as "\\ud800", but no character) cannot be encoded
# as UTF-8 at all: a terminal's print or a kernel's message would fail and the answer be lost.
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_SURROGATES = range(0xD800, 0xE000)
_HIDDEN = (*range(0x20), 0x7F, *range(0x80, 0xA0), *_BIDI, 0x2028, 0x2029, *_SURROGATES)


def _shown(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_KEEP_LINES = {code: _shown(code) for code in _HIDDEN if code not in (0x09, 0x0A)}
_ONE_LINE = {**_KEEP_LINES, 0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_UNSAFE = re.compile(
    "["
    + "".join(re.escape(chr(code)) for code in _HIDDEN if code not in _SURROGATES)
    + "\ud800-\udfff]"
)

#: one character ``visible`` escapes; for code that must escape them its own way (a shell's
#: ``$'\\xHH'``, a Python literal) and stay correct when run
HIDDEN = _UNSAFE


def visible(text: str, one_line: bool = False) -> str:
    """``text`` safe to print: every control character shown as its escape (``\\x1b``,
    ``\\u202e``, a lone surrogate as ``\\ud800``), so an answer cannot move the cursor,
    retitle or clear the terminal, write the clipboard or reorder what is shown, nor fail to
    encode. Newlines and tabs are kept, unless ``one_line`` (an error message, a table cell),
    which shows them as ``\\n`` and ``\\t`` too."""
    if _UNSAFE.search(text) is None:
        return text
    return text.translate(_ONE_LINE if one_line else _KEEP_LINES)
