"""The spellings in which a server may echo a secret or a token, and masking them all.

A server echoes what it was sent: URL-encoded (upper- or lower-case hex, from UTF-8 or Latin-1,
whole or in part), JSON-escaped (as Python, Go or PHP write it), HTML-escaped (named or numeric
references), in NFC or NFD, without its non-ASCII characters (httpx's reason phrase), in a
Python ``repr`` (a log record shows bytes so), in hex, in base64 alone or inside a longer base64
text (``Bearer <token>``, a whole form body). ``secret_forms`` lists the base texts (the value,
NFC and NFD, every character as an HTML reference, its hex, its base64 at each alignment, HTTP
Basic's ``client_id:secret``); ``scrub``
matches each with a pattern in which every character outside ``[A-Za-z0-9]`` may also be
written %XX, ``\\xXX``, ``\\uXXXX``, ``\\/``, ``&amp;``, ``&#38;`` or ``&#x26;``, every backslash
doubled any number of times (a repr of a repr), letters in either case. This is the one list:
the log filter, the kept answers and the token endpoint's errors all use it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import itertools
import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote, quote_plus

from ._gaps import MIN_SKELETON, may_have_constructs, plain_skeleton, skeleton, skeleton_spans

__all__ = ["Needles", "scrub", "scrub_bytes", "secret_forms"]

_REFERENCES = re.compile(r"(?:&#x?[0-9a-f]+;)+", re.IGNORECASE)  # every character as &#NN;
_TO_URLSAFE = str.maketrans("+/", "-_")
_MASK = "***"
_LETTER = re.compile("[A-Za-z0-9]")


@functools.lru_cache(maxsize=64)  # each answer is masked with its token's forms: once per token
def secret_forms(secret: str, client_id: str = "") -> tuple[str, ...]:
    """The base texts a secret (or a token) can be echoed as, longest first, so each is masked
    whole; ``scrub`` also finds each escaped (URL, JSON, HTML) and in either case."""
    if not secret:
        return ()
    try:
        raw = secret.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (typed or pasted): it cannot be sent, only shown
        return (secret,)
    sent = {secret, quote_plus(secret), quote(secret, safe="")}  # as given, and as a form sends it
    forms = sent | {json.dumps(secret)[1:-1], "".join(f"\\u{ord(ch):04x}" for ch in secret)}
    forms |= {html.escape(secret), raw.hex()}
    normal = {unicodedata.normalize(kind, secret) for kind in ("NFC", "NFD")}
    # httpx reads a reason phrase as ASCII and drops the rest (its INFO line shows it so)
    ascii_only = {text.encode("ascii", "ignore").decode() for text in normal}
    forms |= normal | {text for text in ascii_only if len(text) >= 8}  # short: too common
    forms |= {
        "".join(f"&#{ord(ch)};" for ch in secret),
        "".join(f"&#x{ord(ch):x};" for ch in secret),
    }
    with contextlib.suppress(UnicodeEncodeError):  # read as Latin-1, sent back URL-encoded
        forms.add(quote(secret, safe="", encoding="latin-1"))
    for text in sent:
        forms |= _base64_forms(text.encode("utf-8"))
    if client_id:
        with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate in the id: never sent
            forms |= _base64_forms(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode())
            forms |= _base64_forms(f"{client_id}:{secret}".encode())
    return tuple(sorted(forms, key=len, reverse=True))


def _base64_forms(raw: bytes) -> set[str]:
    """``raw`` in base64, whole and as the part of a longer base64 text that does not depend on
    what is around it, for each of the three alignments; both alphabets."""
    whole = base64.b64encode(raw).decode()
    forms = {whole, whole.rstrip("=")}
    for shift in (0, 1, 2):
        shifted = base64.b64encode(bytes(shift) + raw).decode()
        middle = shifted[4 if shift else 0 : 4 * ((shift + len(raw)) // 3)]
        if len(middle) >= 8:
            forms.add(middle)
    return forms | {form.translate(_TO_URLSAFE) for form in forms}


def scrub(text: str, *secrets: str) -> str:
    """Remove secrets (or tokens) from text a server or library produced, in case it echoes them.

    A secret of 8 characters or more is removed wherever it appears, escaped or not (see the
    module's docstring); a shorter one only as a whole word and as written, so that a secret
    "s" does not turn "server_error" into "***erver_error". Give ``secret_forms(...)`` to remove
    the encoded forms of a client secret too.
    """
    lowered = text.lower()
    found = tuple(s for s in _long(secrets) if _anchored(_anchors(s), lowered))
    if found:
        text = _pattern(found).sub(_MASK, text)
    bones = _skeletons(_long(secrets))
    if bones:  # split by what a server puts between characters (``_gaps``)
        plain = plain_skeleton(text)
        whole = skeleton(text) if may_have_constructs(text) else plain  # most texts: read once
        hits = tuple(bone for bone in bones if bone in whole or bone in plain)
        if hits:
            text = _masked(text, skeleton_spans(text, hits, (whole, plain)))
    for secret in secrets:
        if secret and len(secret) < 8:
            text = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", _MASK, text)
    return text


def _mask_like(span: str) -> str:
    """``***`` written as ``span`` is: one character a byte, or with NULs between (a span runs
    from a letter or digit to one, so ``***`` with the same gaps keeps the alignment)."""
    if "\0" not in span:
        return _MASK
    places = [m.start() for m in _LETTER.finditer(span, 0, 64)]
    width = min((b - a for a, b in itertools.pairwise(places)), default=1)
    return ("\0" * (width - 1)).join("***")


@functools.lru_cache(maxsize=256)
def _skeletons(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    """The skeletons (``_gaps``) of the secrets' spellings that are long enough to look for,
    longest first, each once."""
    bones = {skeleton(secret) for secret in secrets if secret}
    # digits alone (the hex of a short numeric secret) are too common: found only whole
    wanted = (b for b in bones if len(b) >= MIN_SKELETON and not b.isdigit())
    return tuple(sorted(wanted, key=len, reverse=True))


def _in_either(data: bytes, bones: tuple[bytes, ...]) -> bool:
    """Whether a reading of ``data`` (``_gaps``: constructs out, or not) holds one of ``bones``
    (longest first). The plain reading is the longer one (taking constructs out only shortens
    it), and the same as the other when ``data`` has no construct: most texts read once, and
    only for the bones that fit."""
    plain = plain_skeleton(data)
    fitting = _fitting(bones, len(plain))
    if not fitting:
        return False
    if any(bone in plain for bone in fitting):
        return True
    if not may_have_constructs(data):
        return False
    whole = skeleton(data)
    return any(bone in whole for bone in fitting)


def _fitting(bones: tuple[bytes, ...], size: int) -> tuple[bytes, ...]:
    """``bones`` (longest first) from the first that a skeleton of ``size`` can hold."""
    for at, bone in enumerate(bones):
        if len(bone) <= size:
            return bones[at:]
    return ()


def _fewest(bones: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """``bones`` without those that hold another (a text holds one if it holds the other)."""
    return tuple(b for b in bones if not any(o != b and o in b for o in bones))


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span masked as ``***``; in UTF-16 or UTF-32 read byte by byte (a span
    holding NUL), as ``***`` in that width, so that the text still decodes."""
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], _mask_like(text[start:end])]
        at = end
    return "".join([*out, text[at:]])


def scrub_bytes(data: bytes, secrets: tuple[str, ...]) -> bytes:
    """``data`` as ``scrub`` masks text (its raw bytes read as Latin-1, the secrets as UTF-8
    bytes); the same object when nothing was masked."""
    lowered = data.lower()
    if not any(_anchored(_byte_anchors(s), lowered) for s in secrets if s):
        bones = _skeletons(_long(secrets))  # a secret split by what is put between characters
        if not bones or not _in_either(data, bones):
            return data
    as_bytes = (_as_latin1(s) for s in secrets if s)
    text = data.decode("latin-1")
    masked = scrub(text, *as_bytes)
    return data if masked == text else masked.encode("latin-1")


def _long(secrets: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True))


_SHORT = 512  # bytes: a text this short is ruled out by one search (``Needles._any_first``)
_REMEMBERED = 1024  # bytes: a text this short found to hold no secret is remembered so
_REMEMBER_MOST = 64  # texts: then forgotten all at once


class Needles:
    """``secrets`` (``secret_forms`` of one or more values) made ready to be looked for in many
    byte texts: their anchors grouped, so a text that holds none costs a few substring tests."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        # found with things between characters; a skeleton holding another is found with it
        self._bones = _fewest(_skeletons(_long(secrets)))
        groups: dict[tuple[bytes, ...], list[str]] = {}
        for form in _long(secrets):
            groups.setdefault(_byte_anchors(form), []).append(_as_latin1(form))
        self._groups = tuple((anchors, tuple(forms)) for anchors, forms in groups.items())
        firsts: dict[bytes, list[int]] = {}
        for n, (anchors, _) in enumerate(self._groups):
            firsts.setdefault(anchors[0], []).append(n)
        self._firsts = tuple((first, tuple(ns)) for first, ns in firsts.items())
        # one search for any first anchor: quicker than a test each on a short text (a URL
        # and headers, a small answer), slower on a long one (the engine tries each in turn)
        self._any_first = re.compile(b"|".join(re.escape(first) for first in firsts))
        # short texts that hold none, as the headers every request and answer repeat (the same
        # host, agent, token): found in them once; never a text that holds one
        self._clean: dict[bytes, None] = {}

    def __bool__(self) -> bool:
        return bool(self._groups)

    def in_bytes(self, data: bytes) -> bool:
        """Whether ``data`` (read as Latin-1, the secrets as UTF-8) holds one of the secrets,
        also with anything between its characters that a server puts there (``_gaps``)."""
        short = len(data) <= _REMEMBERED and type(data) is bytes
        if short and data in self._clean:
            return False
        found = self._in(data) or (bool(self._bones) and _in_either(data, self._bones))
        if short and not found:
            if len(self._clean) >= _REMEMBER_MOST:
                self._clean.clear()  # one step, safe with other threads (a dict's is atomic)
            self._clean[data] = None
        return found

    def _in(self, data: bytes) -> bool:
        lowered = data.lower()
        if len(lowered) < _SHORT and self._any_first.search(lowered) is None:
            return False
        hits = [ns for first, ns in self._firsts if first in lowered]  # most texts: none
        if not hits:
            return False
        found = tuple(
            form
            for anchors, forms in (self._groups[n] for ns in hits for n in ns)
            if _anchored(anchors, lowered)
            for form in forms
        )
        return bool(found) and _pattern(found).search(data.decode("latin-1")) is not None


def _as_latin1(secret: str) -> str:
    return secret.encode("utf-8", "replace").decode("latin-1")


def _anchored(anchors: tuple[Any, ...], lowered: Any) -> bool:
    return all(anchor in lowered for anchor in anchors)


@functools.lru_cache(maxsize=4096)
def _anchors(form: str) -> tuple[str, ...]:
    """The longest runs (up to three) of ``form`` that every escaped spelling holds as is (but
    for case): a cheap test that rules most texts out before the pattern runs."""
    if _REFERENCES.fullmatch(form):  # its runs are numbers that any answer holds: take it whole
        return (form[:48].lower(),)  # (so only as written, as servers write it, is it masked)
    runs = sorted(set(re.split(r"[^A-Za-z0-9]+", form)), key=len, reverse=True)
    return tuple(run.lower() for run in runs[:3] if run) or ("",)


@functools.lru_cache(maxsize=4096)
def _byte_anchors(form: str) -> tuple[bytes, ...]:
    return tuple(a.encode("utf-8", "replace") for a in _anchors(form))


@functools.lru_cache(maxsize=64)
def _pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_form_pattern(form) for form in forms), re.IGNORECASE)


def _form_pattern(form: str) -> str:
    return "".join(_char_pattern(ch) for ch in form)


@functools.lru_cache(maxsize=1024)
def _char_pattern(ch: str) -> str:
    if ch.isascii() and ch.isalnum():
        return re.escape(ch)
    try:
        encoded = ch.encode("utf-8")
    except UnicodeEncodeError:
        return re.escape(ch)
    code = ord(ch)
    texts = {
        ch,
        "".join(f"%{byte:02x}" for byte in encoded),  # URL-encoded
        "".join(f"\\x{byte:02x}" for byte in encoded),  # a repr of bytes
        json.dumps(ch)[1:-1],  # as Python and PHP escape it (a surrogate pair past U+FFFF)
        f"\\u{code:04x}",  # as Go escapes & < >, and any JSON may
        html.escape(ch),
    }
    if code < 128 and not ch.isalnum():
        texts.add("\\" + ch)  # \/ (PHP), \" (JSON), \' (repr)
    if code < 256:
        texts |= {f"%{code:02x}", f"\\x{code:02x}"}  # from Latin-1; a repr of text
    if code > 0xFFFF:
        texts.add(f"\\U{code:08x}")
    if ch == " ":
        texts.add("+")
    if ch == "'":
        texts.add("&apos;")
    pieces = {"".join(r"\\+" if c == "\\" else re.escape(c) for c in text) for text in texts}
    pieces |= {rf"&\#0*{code};", rf"&\#x0*{code:x};"}  # HTML numeric references
    return "(?:" + "|".join(sorted(pieces, key=len, reverse=True)) + ")"
