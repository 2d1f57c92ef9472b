"""`ue-sandbox --env-file PATH`: the UE_* lines go into PATH, its other lines stay, and a file
that points at a real account is refused (named) and left as it was."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from tests.sandbox.test_sandbox_cli import ENV_KEYS, Cli, cli_factory, run  # noqa: F401
from ue_magic.sandbox.__main__ import main
from ue_magic.sandbox.server import bind_socket

REAL = "UE_API_URL=https://api.digitalroute.io/\nUE_CLIENT_ID=real\nUE_CLIENT_SECRET=s3cret\n"


def test_env_file_gets_the_lines_and_keeps_the_others(
    cli_factory: list[Cli],  # noqa: F811
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# my settings\nOTHER=kept\nUE_CLIENT_ID=old-sandbox\nUE_API_URL=http://127.0.0.1:1/\n"
    )
    cli = run(cli_factory, "--port", "0", "--env-file", str(env_file))
    written = dotenv_values(env_file)
    assert written["OTHER"] == "kept" and "# my settings" in env_file.read_text()
    assert written["UE_CLIENT_ID"] != "old-sandbox"
    assert env_file.read_text().count("UE_CLIENT_ID=") == 1
    assert {k for k in written if k.startswith("UE_")} == set(ENV_KEYS)
    token = httpx.post(
        str(written["UE_TOKEN_URL"]),
        data={
            "grant_type": "client_credentials",
            "client_id": written["UE_CLIENT_ID"],
            "client_secret": written["UE_CLIENT_SECRET"],
            "audience": written["UE_AUDIENCE"],
        },
        timeout=10,
    )
    assert token.status_code == 200
    assert "wrote its settings into" in cli.stop()


def test_a_second_run_replaces_the_first_runs_header_and_adds_no_blank_lines(
    cli_factory: list[Cli],  # noqa: F811
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OTHER=kept\n")
    run(cli_factory, "--port", "0", "--env-file", str(env_file)).stop()
    first = env_file.read_text()
    run(cli_factory, "--port", "0", "--env-file", str(env_file)).stop()
    second = env_file.read_text()
    assert second.count("# ue-sandbox at ") == 1  # the header of a process now gone is dropped
    assert second.count("\n") == first.count("\n")  # no blank line more
    assert second.startswith("OTHER=kept\n\n# ue-sandbox at ")


@pytest.mark.parametrize(
    "text",
    [
        REAL,
        "UE_CLIENT_ID=real\nUE_CLIENT_SECRET=s3cret\n",  # no URL: the default region
        # the API through a local proxy, the token from the region's real endpoint (break21)
        "UE_REGION=us\nUE_CLIENT_ID=real\nUE_CLIENT_SECRET=s3cret\nUE_API_URL=http://127.0.0.1:9/\n",
        # a key set twice: the real line first, a loopback one last
        "UE_TOKEN_URL=https://auth.example.com/t\nUE_CLIENT_SECRET=s3cret\n"
        "UE_TOKEN_URL=http://127.0.0.1:9/t\n",
    ],
    ids=["real-url", "secret-for-default-region", "secret-for-a-region", "key-set-twice"],
)
def test_a_real_accounts_file_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(text)
    assert main(["--port", "0", "--env-file", str(env_file)]) == 2
    err = capsys.readouterr().err
    assert str(env_file) in err and "real account" in err and "not replaced" in err
    assert "s3cret" not in err
    assert env_file.read_text() == text


def test_a_busy_port_leaves_the_env_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OTHER=kept\n")
    busy = bind_socket("127.0.0.1", 0)
    try:
        assert main(["--port", str(busy.getsockname()[1]), "--env-file", str(env_file)]) == 1
    finally:
        busy.close()
    assert "--port 0" in capsys.readouterr().err
    assert env_file.read_text() == "OTHER=kept\n"


def test_the_docs_never_redirect_into_env() -> None:
    root = Path(__file__).parents[2]
    for page in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        text = page.read_text()
        assert "> .env" not in text and ">.env" not in text, page
    assert "ue-sandbox --env-file .env" in (root / "docs" / "guide" / "sandbox.md").read_text()


def test_what_is_not_a_sandbox_setting_is_kept_as_written(
    cli_factory: list[Cli],  # noqa: F811
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    # CRLF endings, a quoted value over several lines with a line that looks like a setting
    text = 'A=1\r\nNOTE="first\nUE_API_URL=http://127.0.0.1:1/\nlast"\r\nUE_CLIENT_ID=old\r\n'
    env_file.write_bytes(text.encode())
    run(cli_factory, "--port", "0", "--env-file", str(env_file)).stop()
    written = env_file.read_bytes().decode()
    assert written.startswith('A=1\r\nNOTE="first\nUE_API_URL=http://127.0.0.1:1/\nlast"\r\n')
    assert dotenv_values(env_file)["NOTE"] == "first\nUE_API_URL=http://127.0.0.1:1/\nlast"
    assert "UE_CLIENT_ID=old" not in written and written.count("UE_CLIENT_ID=") == 1
    assert written.replace("\r\n", "").count("\n") == 2  # only the value's own line breaks


def test_a_link_is_written_through_to_its_file(
    cli_factory: list[Cli],  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "secrets").mkdir()
    real = tmp_path / "secrets" / "sandbox.env"
    real.write_text("OTHER=kept\n")
    link = tmp_path / ".env"
    link.symlink_to(real)
    run(cli_factory, "--port", "0", "--env-file", str(link)).stop()
    assert link.is_symlink() and dotenv_values(real)["OTHER"] == "kept"
    assert "UE_CLIENT_SECRET" in dotenv_values(real)


@pytest.mark.parametrize("kind", ["fifo", "folder-missing", "read-only", "empty-name"])
def test_what_cannot_be_written_safely_is_refused_before_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    target = tmp_path / ".env"
    if kind == "fifo":
        os.mkfifo(target)  # reading it would wait for a writer forever
    elif kind == "folder-missing":
        target = tmp_path / "nowhere" / ".env"
    elif kind == "read-only":
        target.write_text("OTHER=kept\n")
        target.chmod(0o444)
    name = "" if kind == "empty-name" else str(target)
    assert main(["--port", "0", "--env-file", name]) == 2
    err = capsys.readouterr().err
    expected = {
        "fifo": "is not a regular file",
        "folder-missing": f"the folder {tmp_path / 'nowhere'} does not exist",
        "read-only": "is read-only",
        "empty-name": "--env-file needs a file name",
    }[kind]
    assert expected in err and "[Errno" not in err  # said, not an OSError on a temporary name
    assert not list(tmp_path.glob(".*.env.*"))  # no temporary file left
    if kind == "read-only":
        assert target.read_text() == "OTHER=kept\n"
