"""The `ue-sandbox` command: run as a real subprocess, read its .env lines, use them, stop it."""

from __future__ import annotations

import io
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from ue_magic.sandbox.__main__ import main
from ue_magic.sandbox.server import bind_socket

ENV_KEYS = ["UE_CLIENT_ID", "UE_CLIENT_SECRET", "UE_AUDIENCE", "UE_TOKEN_URL", "UE_API_URL"]


def free_port() -> int:
    sock = bind_socket("127.0.0.1", 0)
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def command() -> list[str]:
    """The installed console script when there is one, else `python -m ue_magic.sandbox`."""
    script = Path(sys.executable).with_name("ue-sandbox")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ue_magic.sandbox"]


class Cli:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*command(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.stdout = self._read_until_env()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _read_until_env(self) -> str:
        text = ""
        while not all(f"{key}=" in text for key in ENV_KEYS):
            line = self._lines.get(timeout=30)
            if line is None:
                raise AssertionError(f"ue-sandbox exited early: {self.stop()}")
            text += line
        return text

    def stop(self, sig: int = signal.SIGTERM) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        _, stderr = self.proc.communicate(timeout=30)
        return stderr


@pytest.fixture
def cli_factory() -> Iterator[list[Cli]]:
    started: list[Cli] = []
    yield started
    for cli in started:
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.wait(timeout=10)


def run(started: list[Cli], *args: str) -> Cli:
    cli = Cli(*args)
    started.append(cli)
    return cli


def fetch_token(env: dict[str, str | None]) -> httpx.Response:
    fields = {
        "grant_type": "client_credentials",
        "client_id": env["UE_CLIENT_ID"],
        "client_secret": env["UE_CLIENT_SECRET"],
        "audience": env["UE_AUDIENCE"],
    }
    return httpx.post(str(env["UE_TOKEN_URL"]), data=fields, verify=False, timeout=10)


def test_cli_prints_env_lines_that_work(cli_factory: list[Cli]) -> None:
    port = free_port()
    cli = run(cli_factory, "--port", str(port))
    env = dotenv_values(stream=io.StringIO(cli.stdout))
    base = f"http://127.0.0.1:{port}/"
    assert list(env) == ENV_KEYS
    assert env["UE_AUDIENCE"] == env["UE_API_URL"] == base
    assert env["UE_TOKEN_URL"] == base + "authentication/v1/oauth/token"
    assert len(env["UE_CLIENT_SECRET"] or "") >= 32  # random when not given
    token = fetch_token(env)
    assert token.status_code == 200 and token.json()["expires_in"] == 3600
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    listed = httpx.get(base + "usage-metering/v1/meter-types", headers=headers, verify=False)
    assert listed.json() == {"meterTypes": []}
    assert f"kill {cli.proc.pid}`" in cli.stdout  # how to stop one started with `&`
    stderr = cli.stop(signal.SIGTERM)
    assert cli.proc.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in stderr
    assert str(env["UE_CLIENT_SECRET"]) not in stderr


def test_cli_options(cli_factory: list[Cli]) -> None:
    cli = run(
        cli_factory,
        "--port", "0",
        "--host", "127.0.0.1",
        "--token-ttl", "90",
        "--client-id", "cli-client",
        "--client-secret", "cli-secret",
        "--scopes", "read:meter_types read:meters",
        "--page-size", "2",
        "--latency", "0",
        "--quiet",
    )  # fmt: skip
    env = dotenv_values(stream=io.StringIO(cli.stdout))
    assert (env["UE_CLIENT_ID"], env["UE_CLIENT_SECRET"]) == ("cli-client", "cli-secret")
    assert env["UE_AUDIENCE"] != "http://127.0.0.1:0/"  # port 0 prints the real port
    body = fetch_token(env).json()
    assert body["expires_in"] == 90
    assert body["scope"] == "read:meter_types read:meters"
    with httpx.Client(
        base_url=str(env["UE_API_URL"]),
        headers={"Authorization": f"Bearer {body['access_token']}"},
        verify=False,
    ) as api:
        assert api.post("usage-metering/v1/meter-types", json={}).status_code == 403
        seeded = api.post("_sandbox/seed", json={"n": 3}).json()["meterTypeId"]
        page = api.get("usage-metering/v1/meters", params={"meterTypeId": seeded}).json()
        assert len(page["meters"]) == 2 and "nextPageToken" in page
    stderr = cli.stop(signal.SIGINT)
    assert cli.proc.returncode in (0, 130)
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "70000"],
        ["--port", "http"],
        ["--token-ttl", "0"],
        ["--page-size", "0"],
        ["--page-size", "1001"],
        ["--latency", "-1"],
        ["--latency", "nan"],
        ["--token-rate", "fast"],
        ["--token-rate", "10/0"],
        ["--api-rate", "-2"],
        ["--unknown"],
    ],
)
def test_cli_refuses_bad_options(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert "usage: ue-sandbox" in capsys.readouterr().err


def test_cli_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    busy = bind_socket("127.0.0.1", 0)
    try:
        assert main(["--port", str(busy.getsockname()[1])]) == 1
    finally:
        busy.close()
    captured = capsys.readouterr()
    assert "cannot listen" in captured.err
    assert "--port 0 takes a free port" in captured.err  # what to do about it
    assert captured.out == ""


def test_stdout_redirected_to_env_holds_only_env_lines(tmp_path: Path) -> None:
    """`ue-sandbox > .env &`: the log (access lines too) goes to stderr, the file stays a .env
    that python-dotenv reads without a complaint."""
    env_file, log_file = tmp_path / ".env", tmp_path / "sandbox.log"
    line = " ".join(shlex.quote(part) for part in command())
    script = (
        f"{line} --port 0 > {shlex.quote(str(env_file))} 2> {shlex.quote(str(log_file))} & echo $!"
    )
    pid = int(
        subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    )
    try:
        deadline = time.monotonic() + 30
        while "UE_API_URL=" not in (env_file.read_text() if env_file.exists() else ""):
            assert time.monotonic() < deadline, log_file.read_text()
            time.sleep(0.05)
        env = dotenv_values(env_file)
        assert fetch_token(env).status_code == 200
        httpx.get(str(env["UE_API_URL"]) + "usage-metering/v1/meters", timeout=10)  # a 401, logged
        deadline = time.monotonic() + 10
        while "GET /usage-metering/v1/meters" not in log_file.read_text():
            assert time.monotonic() < deadline, log_file.read_text()
            time.sleep(0.05)
    finally:
        os.kill(pid, signal.SIGTERM)
    lines = env_file.read_text().splitlines()
    assert lines and all(re.fullmatch(r"#.*|UE_[A-Z_]+=\S+", text) for text in lines), lines
    assert "POST /authentication/v1/oauth/token" in log_file.read_text()


def test_cli_rates_and_demo_data(cli_factory: list[Cli]) -> None:
    cli = run(cli_factory, "--port", "0", "--token-rate", "0", "--api-rate", "0.2/2", "--demo-data")
    env = dotenv_values(stream=io.StringIO(cli.stdout))
    tokens = [fetch_token(env) for _ in range(8)]  # no token limit
    assert {t.status_code for t in tokens} == {200}
    headers = {"Authorization": f"Bearer {tokens[0].json()['access_token']}"}
    with httpx.Client(base_url=str(env["UE_API_URL"]), headers=headers, timeout=10) as api:
        answers = [api.get("usage-metering/v1/meters") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"].isdigit()
    assert len(answers[0].json()["meters"]) >= 200  # the demo data
    cli.stop(signal.SIGTERM)


def test_cli_limits_tokens_by_default(cli_factory: list[Cli]) -> None:
    cli = run(cli_factory, "--port", "0", "--quiet")
    env = dotenv_values(stream=io.StringIO(cli.stdout))
    rates = httpx.post(str(env["UE_API_URL"]) + "_sandbox/rates", json={}, timeout=10)
    assert rates.json() == {"token": "10/5", "api": None}
    slow = run(cli_factory, "--port", "0", "--quiet", "--token-rate", "0.2/5")
    slow_env = dotenv_values(stream=io.StringIO(slow.stdout))
    assert [fetch_token(slow_env).status_code for _ in range(6)] == [200] * 5 + [429]
    cli.stop(signal.SIGTERM)
    slow.stop(signal.SIGTERM)
