"""``ue-sandbox --env-file PATH``: the sandbox's ``UE_*`` lines written into a ``.env`` file.

Never ``ue-sandbox > .env``: the shell empties the file before the sandbox starts, so a real
secret in it is lost (and a sandbox that cannot start leaves it empty). Here the file's other
lines are kept, and settings that point at a real account (a URL not on loopback, or a secret
with no URL, which means the default region) are not replaced: the file is named and left as
it was.
"""

from __future__ import annotations

import io
import ipaddress
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["EnvFileError", "check_env_file", "write_env_file"]

URL_KEYS = ("UE_API_URL", "UE_AUDIENCE", "UE_TOKEN_URL")
_SETTING = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


class EnvFileError(Exception):
    """The file cannot or must not be written (the message names it and says why)."""


_OWN_HEADER = re.compile(r"# ue-sandbox at .*; written by --env-file$")


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_env_file(path: Path) -> None:
    """Raise EnvFileError when ``path`` cannot be written safely: it holds settings of a real
    account (in any of its lines), it is not a regular file (a FIFO, a device), it is read-only,
    or its folder does not exist. A symbolic link is written through, to the file it names."""
    if str(path) in ("", "."):
        raise EnvFileError("--env-file needs a file name (--env-file .env.sandbox)")
    target = path.resolve()
    if not target.parent.is_dir():
        raise EnvFileError(f"cannot write {path}: the folder {target.parent} does not exist")
    if not path.exists():
        return
    if not target.is_file():
        raise EnvFileError(f"{path} is not a regular file; not replaced. Give a file's path.")
    if not target.stat().st_mode & 0o222:
        raise EnvFileError(f"{path} is read-only; not replaced. Give another file.")
    try:
        bindings = _bindings(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise EnvFileError(f"cannot read {path}: {error}") from None
    for binding in bindings:  # every line: a key set twice counts in both
        key, value = binding.key, binding.value or ""
        if key in URL_KEYS and value and not _is_loopback(value):
            raise EnvFileError(
                f"{path} points at a real account ({key}={value}); not replaced. Give another "
                "file (--env-file .env.sandbox), or remove those settings first."
            )
    settings = {b.key: b.value or "" for b in bindings if b.key is not None}
    if settings.get("UE_CLIENT_SECRET"):
        # where that secret goes: the token URL, or one made from the audience or the region
        goes = settings.get("UE_TOKEN_URL") or settings.get("UE_AUDIENCE")
        if not goes or not _is_loopback(goes):
            region = settings.get("UE_REGION") or "the default region"
            raise EnvFileError(
                f"{path} holds UE_CLIENT_SECRET for a real account (with no loopback "
                f"UE_TOKEN_URL or UE_AUDIENCE it goes to {region}'s token URL); not replaced. "
                "Give another file (--env-file .env.sandbox), or remove it first."
            )


def _bindings(text: str) -> list[Any]:
    """python-dotenv's reading of a .env text, one binding per setting or comment, each with
    its original text (a quoted value may span lines; the line endings are the file's)."""
    from dotenv.parser import parse_stream

    return list(parse_stream(io.StringIO(text)))


def write_env_file(path: Path, env: Mapping[str, str], header: str) -> None:
    """Replace the lines of ``path`` that set a key of ``env`` (others are kept, in order, with
    the file's line endings), then add ``header`` (comment lines) and ``env``'s lines. Written
    whole, then renamed into place (through a symbolic link, to the file it names). The header
    an earlier run wrote goes with its settings (it names a process now gone)."""
    check_env_file(path)
    target = path.resolve()
    kept: list[str] = []
    newline = "\n"
    if path.exists():
        with open(target, encoding="utf-8", newline="") as stream:  # its line endings as they are
            text = stream.read()
        newline = "\r\n" if "\r\n" in text else "\n"
        for binding in _bindings(text):
            ours = binding.key in env if binding.key is not None else False
            ours = ours or _OWN_HEADER.match(binding.original.string.strip()) is not None
            if not ours:
                kept.append(binding.original.string)
    body = "".join(kept).rstrip()
    lines = [body + newline if body else None, header.rstrip("\n")]
    lines += [f"{k}={v}" for k, v in env.items()]
    text = newline.join(line for line in lines if line is not None) + newline
    folder = target.parent
    mode = target.stat().st_mode & 0o777 if path.exists() else 0o600
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
