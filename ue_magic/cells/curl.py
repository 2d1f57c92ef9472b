"""``--curl``: the same request as a shell command that reads the token from ``$UE_TOKEN``.

The command is for pasting into bash or zsh. It never holds a token or a client secret: the
Authorization header is written with ``$UE_TOKEN`` in double quotes so the shell fills it in,
and ``token_fetch_comment`` shows how to get that token without the secret on a command line.
"""

from __future__ import annotations

import re
import shlex

import httpx

from ..core._visible import HIDDEN
from ..core.credentials import without_password

__all__ = ["curl_command", "token_fetch_comment"]

# Headers curl sets itself, or that must not be copied (the token, a stale length).
_SKIPPED = frozenset(
    {"authorization", "host", "content-length", "accept-encoding", "connection", "user-agent"}
)
_AUTH = '-H "Authorization: Bearer $UE_TOKEN"'


def curl_command(request: httpx.Request) -> str:
    """A multi-line curl command equivalent to ``request``; every argument is shell-quoted."""
    method = request.method.upper()
    verb = "-I" if method == "HEAD" else f"-X {shlex.quote(method)}"  # -X HEAD would hang
    args = [f"curl {verb} {shlex.quote(without_password(request.url))}"]
    for raw_name, raw_value in request.headers.raw:
        name = raw_name.decode("latin-1")
        value = raw_value.decode("latin-1")
        if name.lower() in _SKIPPED or (name.lower() == "accept" and value == "*/*"):
            continue
        args.append(f"-H {_quoted(f'{name}: {value}', 'latin-1')}")
    args.append(_AUTH)
    remarks: list[str] = []
    try:
        content = request.content
    except httpx.RequestNotRead:
        content = b""
        remarks.append("# The body is streamed and not shown: add it with --data-binary @FILE.")
    if content:
        try:
            args.append(f"--data-raw {_quoted(content.decode('utf-8'))}")
        except UnicodeDecodeError:
            remarks.append(f"# Save the {len(content):,}-byte body as body.bin first.")
            args.append("--data-binary @body.bin")
    return "\n".join([*remarks, " \\\n  ".join(args)])


def _quoted(text: str, encoding: str = "utf-8") -> str:
    """``text`` as one shell word. With a control character (ESC, BEL, a bidi override...) it
    is written ``$'...'`` with the character's bytes (in ``encoding``, as they are sent) as
    ``\\xHH``: the same bytes when run, and nothing raw for the terminal that shows it."""
    if all(found[0] in "\t\n" for found in HIDDEN.finditer(text)):
        return shlex.quote(text)  # tabs and line breaks are safe to show, and quoted as they are

    def escape(found: re.Match[str]) -> str:
        char = found[0]
        return char if char in "\t\n" else "".join(f"\\x{b:02x}" for b in char.encode(encoding))

    escaped = HIDDEN.sub(escape, text.replace("\\", "\\\\").replace("'", "\\'"))
    return f"$'{escaped}'"


def _one_line(value: str) -> str:
    """Settings land inside ``#`` comments: a newline there would end the comment."""
    return " ".join(value.split())


def token_fetch_comment(token_url: str, client_id: str, audience: str) -> str:
    """Comment lines that put a token into ``UE_TOKEN``; the secret is typed, never shown."""
    # a setting (a .env from someone else) may hold ESC or BEL: written $'\x1b', as the
    # command itself is, so the comment still runs and nothing raw reaches the terminal
    url = _quoted(_one_line(without_password(token_url)))
    client = _quoted(f"client_id={_one_line(client_id)}")
    aud = _quoted(f"audience={_one_line(audience)}")
    return "\n".join(
        [
            "# Get a token into UE_TOKEN first. The secret is read without echo and sent",
            "# on stdin: never on a command line, in the shell history or in this notebook.",
            "#   read -rs UE_CLIENT_SECRET",
            '#   export UE_TOKEN="$(printf \'%s\' "$UE_CLIENT_SECRET" | curl -sS --fail \\',
            f"#     {url} \\",
            "#     --data-urlencode grant_type=client_credentials \\",
            f"#     --data-urlencode {client} \\",
            f"#     --data-urlencode {aud} \\",
            '#     --data-urlencode client_secret@- | jq -r .access_token)"',
            "#   unset UE_CLIENT_SECRET",
        ]
    )
