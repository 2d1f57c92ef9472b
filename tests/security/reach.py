"""Walk every object reachable from some roots and report where a secret or a token lies.

Written apart from ue-magic's own scrubbing code on purpose: the forms of a secret are computed
here again, so a form the package forgets is still searched for.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import html
import json
import os
import re
import sys
import types
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, quote_plus

# what the walk does not go into: code and the interpreter's own tables, not what a session made
_OPAQUE = (types.ModuleType, type, types.CodeType, types.BuiltinFunctionType)


def secret_forms(secret: str) -> list[bytes]:
    """The secret as is and in either case; URL-encoded (form and path, hex in either case, all
    in lower case, in part, from Latin-1); JSON-escaped (as needed, every character as \\uXXXX,
    as Go and PHP write it); HTML-escaped (named, numeric references for every character or for
    the others than letters and digits); NFD; Python's repr of the text and of its bytes; without
    its non-ASCII characters; in hex; in base64 (both alphabets), alone and inside a longer base64
    text (the part that does not depend on what is around it, at each alignment); each of those
    as a repr of bytes shows it (httpcore's DEBUG records)."""
    raw = secret.encode()
    path = quote(secret, safe="")
    forms = {
        raw,
        secret.upper().encode(),
        secret.lower().encode(),
        quote_plus(secret).encode(),
        path.encode(),
        path.lower().encode(),
        re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), path).encode(),
        quote(secret, safe="/+=&").encode(),
        json.dumps(secret)[1:-1].encode(),
        "".join(f"\\u{ord(ch):04x}" for ch in secret).encode(),
        html.escape(secret).encode(),
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        *(_escaped(secret)),
    }
    for shift in (1, 2):  # base64(prefix + secret): all but the groups that mix in the prefix
        middle = base64.b64encode(b"P" * shift + raw)[4 : 4 * ((shift + len(raw)) // 3)]
        if len(middle) >= 8:
            forms |= {middle, middle.replace(b"+", b"-").replace(b"/", b"_")}
    forms |= {repr(form)[2:-1].encode() for form in forms}  # as a log record shows bytes
    return sorted(forms)


def _escaped(secret: str) -> set[bytes]:
    """What PHP, Go, HTML, Python's repr and httpx's reason phrase make of it."""
    json_text = json.dumps(secret)[1:-1]
    go = json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    texts = {
        go,
        json_text.replace("/", "\\/"),  # PHP
        "".join(f"&#{ord(ch)};" for ch in secret),
        "".join(f"&#x{ord(ch):x};" for ch in secret),
        "".join(ch if ch.isalnum() else f"&#{ord(ch)};" for ch in secret),
        unicodedata.normalize("NFD", secret),
        repr(secret)[1:-1],
        repr(secret.encode())[2:-1],
    }
    ascii_only = secret.encode("ascii", "ignore").decode()
    if len(ascii_only) >= 8:
        texts.add(ascii_only)
    with contextlib.suppress(UnicodeEncodeError):
        texts.add(quote(secret, safe="", encoding="latin-1"))
    return {text.encode() for text in texts}


_TESTS = str(Path(__file__).resolve().parents[1]) + "/"


def _skipped_ids() -> set[int]:
    """Module namespaces and the process environment: reachable from anything, not a session's."""
    skipped = {id(vars(module)) for module in list(sys.modules.values()) if module is not None}
    skipped |= {id(os.environ), id(getattr(os.environ, "_data", None)), id(sys.modules)}
    return skipped


def find(
    roots: Mapping[str, object],
    needles: Mapping[str, Iterable[bytes]],
    allowed: tuple[type, ...],
    limit: int = 3_000_000,
) -> tuple[list[str], Counter[str]]:
    """``'root -> Type -> ... : what'`` for each str/bytes holding a needle, and how many objects
    of each type were walked.

    Objects of the ``allowed`` types (the holders a secret or token may live in) are not gone
    into. Frames are walked without their callers (``f_back``): the test's own frames are not
    the session's.
    """
    wanted = [(name, form) for name, forms in needles.items() for form in forms if form]
    skipped = _skipped_ids()
    seen: set[int] = set(skipped)
    parent: dict[int, tuple[int | None, str]] = {}
    queue: deque[object] = deque()
    keep_alive: list[object] = []
    for name, root in roots.items():
        if id(root) not in seen:
            seen.add(id(root))
            parent[id(root)] = (None, name)
            queue.append(root)
    found: list[str] = []
    walked: Counter[str] = Counter()
    while queue and walked.total() < limit:
        obj = queue.popleft()
        keep_alive.append(obj)
        walked[type(obj).__name__] += 1
        if isinstance(obj, (str, bytes, bytearray)):
            data = obj.encode("utf-8", "replace") if isinstance(obj, str) else bytes(obj)
            for what, form in wanted:
                if form in data:
                    found.append(f"{_path(parent, id(obj))}: {what}")
                    break
            continue
        if isinstance(obj, (*_OPAQUE, *allowed)):
            continue
        if isinstance(obj, types.FrameType) and obj.f_code.co_filename.startswith(_TESTS):
            continue  # a test's own frame: its locals are the test's (3.10's gc shows them)
        referents = gc.get_referents(obj)
        if isinstance(obj, types.FrameType):
            referents = [r for r in referents if r is not obj.f_back]
        for ref in referents:
            if id(ref) in seen:
                continue
            seen.add(id(ref))
            parent[id(ref)] = (id(obj), type(obj).__name__)
            queue.append(ref)
    return found, walked


def _path(parent: Mapping[int, tuple[int | None, str]], key: int) -> str:
    steps = []
    current: int | None = key
    while current is not None and len(steps) < 40:
        up, name = parent[current]
        steps.append(name)
        current = up
    return " -> ".join(reversed(steps))
