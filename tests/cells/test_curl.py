"""--curl: the command parses in a shell, sends the same request, and never holds a secret."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import httpx
import pytest

from ue_magic.cells.curl import curl_command, token_fetch_comment

TOKEN = "eyJhbGciOiJSUzI1NiJ9.real-token.sig"
BASE = "https://api.digitalroute.io/"


def built(method: str, path: str, **kw: object) -> httpx.Request:
    """A request as the client builds it: default headers included, the token on it."""
    client = httpx.Client(base_url=BASE, headers={"Authorization": f"Bearer {TOKEN}"})
    return client.build_request(method, path, **kw)  # type: ignore[arg-type]


def words(command: str) -> list[str]:
    """What the shell passes to curl (line continuations removed first, as bash does)."""
    return shlex.split(command.replace("\\\n", ""), comments=True)


def test_post_with_json_body() -> None:
    request = built(
        "POST",
        "usage-metering/v1/meters",
        params={"q": "it's & $HOME"},
        json={"name": "O'Brien $(rm -rf /) `x`", "n": 1},
        headers={"X-Trace": "a b"},
    )
    command = curl_command(request)
    assert words(command) == [
        "curl",
        "-X",
        "POST",
        "https://api.digitalroute.io/usage-metering/v1/meters?q=it%27s+%26+%24HOME",
        "-H",
        "X-Trace: a b",
        "-H",
        "Content-Type: application/json",
        "-H",
        "Authorization: Bearer $UE_TOKEN",
        "--data-raw",
        request.content.decode(),
    ]
    assert TOKEN not in command
    assert '-H "Authorization: Bearer $UE_TOKEN"' in command
    assert all(line.endswith(" \\") for line in command.splitlines()[:-1])


def test_skipped_headers() -> None:
    command = curl_command(built("GET", "x", headers={"Accept": "application/json"}))
    lowered = command.lower()
    for name in ("host:", "user-agent:", "accept-encoding:", "connection:", "content-length:"):
        assert name not in lowered
    assert "-H 'Accept: application/json'" in command
    assert "*/*" not in command
    assert "--data" not in command


def test_head_uses_dash_i() -> None:
    assert curl_command(built("HEAD", "x")).startswith("curl -I https://api.digitalroute.io/x")


def test_binary_body_goes_through_a_file() -> None:
    command = curl_command(built("PUT", "x", content=b"\xff\xfe"))
    assert command.startswith("# Save the 2-byte body as body.bin first.\n")
    assert words(command)[-2:] == ["--data-binary", "@body.bin"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_runs_it_with_the_token_from_the_environment() -> None:
    body = {"text": "line1\nline2 'quoted' \"double\" $HOME \\ ☃"}
    command = curl_command(built("PATCH", "usage-metering/v1/meter-types/a%2Fb", json=body))
    script = 'curl() { printf "%s\\n--\\n" "$@"; }\n' + command
    assert subprocess.run(["bash", "-n", "-c", script], check=False).returncode == 0
    out = subprocess.run(
        ["bash", "-c", script],
        env={"UE_TOKEN": "from-env", "HOME": "/home/x", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    args = out.split("\n--\n")[:-1]
    assert args[:3] == [
        "-X",
        "PATCH",
        "https://api.digitalroute.io/usage-metering/v1/meter-types/a%2Fb",
    ]
    assert "Authorization: Bearer from-env" in args
    assert args[-1] == built("PATCH", "x", json=body).content.decode()


def test_token_fetch_comment_never_holds_the_secret() -> None:
    comment = token_fetch_comment(
        "https://api.digitalroute.io/authentication/v1/oauth/token", "my-client", BASE
    )
    lines = comment.splitlines()
    assert all(line.startswith("#") for line in lines)
    assert "read -rs UE_CLIENT_SECRET" in comment
    assert "--data-urlencode client_id=my-client" in comment
    assert f"--data-urlencode audience={BASE}" in comment
    assert "client_secret@-" in comment
    assert "jq -r .access_token" in comment
    assert "UE_TOKEN=" in comment


def test_token_fetch_comment_keeps_odd_settings_inside_the_comment() -> None:
    comment = token_fetch_comment("https://h/t", "id'\nrm -rf /", "https://a/")
    assert all(line.startswith("#") for line in comment.splitlines())
    assert "'client_id=id'\"'\"' rm -rf /'" in comment


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_token_fetch_commands_parse_in_bash() -> None:
    comment = token_fetch_comment("https://h/t", "my client", "https://a/")
    script = "\n".join(
        line.removeprefix("#").removeprefix("   ") for line in comment.splitlines()[2:]
    )
    assert subprocess.run(["bash", "-n", "-c", script], check=False).returncode == 0


def test_token_fetch_comment_prose_fits_80_columns() -> None:
    comment = token_fetch_comment("https://api.digitalroute.io/x", "id", "https://a/")
    prose = [line for line in comment.splitlines() if not line.startswith("#  ")]
    assert prose and all(len(line) <= 80 for line in prose)


ESC = "\x1b]52;c;SGFja2Vk\x07"  # OSC 52: writes the reader's clipboard


def test_settings_with_control_characters_are_escaped_as_bash_reads_them() -> None:
    comment = token_fetch_comment("https://h/t" + ESC, "cid" + ESC, "https://a/" + ESC)
    assert not any(c in comment for c in ("\x1b", "\x07"))
    assert "$'client_id=cid\\x1b]52;c;SGFja2Vk\\x07'" in comment
    assert "$'audience=https://a/\\x1b]52;c;SGFja2Vk\\x07'" in comment
    if shutil.which("bash") is not None:  # the escaped word is the setting again when run
        word = next(w for w in comment.split() if w.startswith("$'client_id="))
        run = subprocess.run(
            ["bash", "-c", f"printf %s {word}"], capture_output=True, check=True, text=True
        )
        assert run.stdout == "client_id=cid" + ESC


def test_the_curl_cell_prints_no_setting_raw(capsys: pytest.CaptureFixture[str]) -> None:
    from ue_magic import Credentials, UsageEngineClient
    from ue_magic.cells.call import CallOptions, call_once
    from ue_magic.cells.request import compile_request

    credentials = Credentials(
        client_id="cid" + ESC, client_secret="secret-for-tests", region="eu",
        audience=BASE + ESC, api_url=BASE, token_url=BASE + "oauth/token",
    )  # fmt: skip

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("--curl sends nothing")

    with UsageEngineClient(credentials, transport=httpx.MockTransport(refuse)) as ue:
        call_once({}, ue, compile_request("GET /x\n"), CallOptions(curl=True), show=print)
    printed = capsys.readouterr().out
    assert "client_id=cid\\x1b]52" in printed and "curl -X GET" in printed
    assert not any(c in printed for c in ("\x1b", "\x07"))
