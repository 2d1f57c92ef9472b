"""``ue-sandbox --env-file PATH``: the sandbox's ``UE_*`` lines written into a ``.env`` file.

Never ``ue-sandbox > .env``: the shell empties the file before the sandbox starts, so a real
secret in it is lost (and a sandbox that cannot start leaves it empty). Here the file's other
lines are kept, and settings that point at a real account (a URL not on loopback, or a secret
with no URL, which means the default region) are not replaced: the file is named and left as
it was.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
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


def _settings(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    return {k: v or "" for k, v in dotenv_values(path).items()}


def check_env_file(path: Path) -> None:
    """Raise EnvFileError when ``path`` holds settings of a real account (or cannot be read)."""
    if not path.exists():
        return
    try:
        settings = _settings(path)
    except (OSError, UnicodeDecodeError) as error:
        raise EnvFileError(f"cannot read {path}: {error}") from None
    for key in URL_KEYS:
        value = settings.get(key, "")
        if value and not _is_loopback(value):
            raise EnvFileError(
                f"{path} points at a real account ({key}={value}); not replaced. Give another "
                "file (--env-file .env.sandbox), or remove those settings first."
            )
    if settings.get("UE_CLIENT_SECRET") and not any(settings.get(k) for k in URL_KEYS):
        raise EnvFileError(
            f"{path} holds UE_CLIENT_SECRET for the default region (a real account); not "
            "replaced. Give another file (--env-file .env.sandbox), or remove it first."
        )


def write_env_file(path: Path, env: Mapping[str, str], header: str) -> None:
    """Replace the lines of ``path`` that set a key of ``env`` (others are kept, in order), then
    add ``header`` (comment lines) and ``env``'s lines. Written whole, then renamed into place.
    The header an earlier run wrote goes with its settings (it names a process now gone)."""
    check_env_file(path)
    kept: list[str] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            found = _SETTING.match(line)
            ours = _OWN_HEADER.match(line) if found is None else found.group(1) in env
            if not ours:
                kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    lines = [
        *kept,
        "" if kept else None,
        header.rstrip("\n"),
        *(f"{k}={v}" for k, v in env.items()),
    ]
    text = "\n".join(line for line in lines if line is not None) + "\n"
    folder = path.resolve().parent
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
