"""Plain Python, no IPython: the docs' "From Python" example, and errors that say why."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from ue_magic import Credentials, UsageEngineClient
from ue_magic.sandbox import Sandbox

# The docs' "From Python" example (docs/guide/python.md), read from the page: the two cannot drift.
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "python.md"


def _first_python_block(markdown: str) -> str:
    """The text of the page's first ```python fence."""
    after = markdown.split("```python\n", 1)[1]
    return after.split("```", 1)[0]


DOCS_EXAMPLE = _first_python_block(GUIDE.read_text(encoding="utf-8"))


def test_docs_example_works_against_the_sandbox(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.reset(data=True)
    (tmp_path / ".env").write_text(sandbox.env_lines())
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("UE_")]:
        monkeypatch.delenv(name)
    scope: dict[str, Any] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(DOCS_EXAMPLE, str(GUIDE), "exec"), scope)
    assert [t["name"] for t in scope["types"]["meterTypes"]] == ["from-python"]
    assert "requests=3" in out.getvalue() and "token_requests=1" in out.getvalue()
    assert sandbox.counters()["by_route"]["POST /usage-metering/v1/meters"] == 1


def test_raise_for_status_says_what_the_api_said(sandbox_env: dict[str, str]) -> None:
    with UsageEngineClient(Credentials.from_env(environ=sandbox_env)) as ue:
        answer = ue.post(
            "usage-metering/v1/meters", json={"userId": "u1", "meterKey": "k", "meterTypeId": "..."}
        )
        with pytest.raises(httpx.HTTPStatusError) as raised:
            answer.raise_for_status()
    message = str(raised.value)
    assert message.startswith(f"{answer.status_code} {answer.reason_phrase} from POST ")
    api_message = answer.json()["message"]
    assert api_message and message.endswith(f": {api_message}")
    assert raised.value.response is answer
    assert "mozilla" not in message


def test_raise_for_status_on_success_returns_the_response(sandbox_env: dict[str, str]) -> None:
    with UsageEngineClient(Credentials.from_env(environ=sandbox_env)) as ue:
        answer = ue.get("usage-metering/v1/meter-types")
        assert answer.raise_for_status() is answer
        assert isinstance(answer, httpx.Response)
