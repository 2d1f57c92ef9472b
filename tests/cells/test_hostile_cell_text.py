"""Cells, ``.http`` files and Tab text built to make the parser work without end (issue 22, the
outside review's f01 and f10-f12): a long run of blanks inside a line, many ``{{``, blank lines
or placeholders, ``@variables`` that multiply. Each finishes within a generous bound (a guard
against a hang, not a timing claim); file variables that would grow past their budget are
refused naming the variable, and nothing is sent."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ue_magic.cells.request import RequestSyntaxError, compile_call, compile_request, parse_request
from ue_magic.cells.request._variables import GROWTH_LIMIT, expand_file_variables
from ue_magic.sandbox import Sandbox

METERS = "/usage-metering/v1/meters"
TYPES = "/usage-metering/v1/meter-types"
HANG = 10.0  # seconds: each input took 3 s to minutes before, and milliseconds now
N = 60_000  # blanks, braces or lines in one input
ESCAPES = "\\{{" * N  # a literal {{, written N times
JSON_ESCAPES = "\\\\{{" * N  # the same inside a JSON string
pytestmark = pytest.mark.timeout(300)


def within(work: Any, seconds: float = HANG) -> Any:
    started = time.monotonic()
    result = work()
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    return result


def shown(captured: Any) -> str:
    """What a --dry-run showed (its text/plain)."""
    return "".join(o.data["text/plain"] for o in captured.outputs)


def sent(sandbox: Sandbox) -> int:
    return int(sandbox.counters()["api_requests"])


def bomb(levels: int, tail: list[str]) -> str:
    """``@v0 = xxxxxxxxxx`` then ``@vi = {{v(i-1)}}`` sixteen times: 10 * 16**levels chars."""
    lines = ["@v0 = xxxxxxxxxx"]
    lines += [f"@v{i} = " + f"{{{{v{i - 1}}}}}" * 16 for i in range(1, levels + 1)]
    return "\n".join([*lines, "### stranger", *tail]) + "\n"


@pytest.mark.parametrize(
    "tail",
    [
        [f"GET {METERS}?q={{{{v7}}}}"],
        [f"POST {METERS}", "Content-Type: text/plain", "", "{{v7}}"],
    ],
    ids=["url", "body"],
)
def test_file_variables_that_multiply_are_refused_naming_the_variable(
    shell: Any, sandbox: Sandbox, tmp_path: Path, tail: list[str]
) -> None:
    path = tmp_path / "stranger.http"
    path.write_text(bomb(7, tail), encoding="utf-8")  # 815 bytes asking for 2.7 GB
    with capture_output(), pytest.raises(UsageError) as raised:
        within(lambda: shell.run_line_magic("ue_call", f"--file {path}"))
    message = str(raised.value)
    assert "@v5 expands to over 4 MB" in message.splitlines()[0]
    assert "Line 6" in message  # where @v5 is defined
    assert sent(sandbox) == 0


def test_file_variables_under_the_budget_still_expand() -> None:
    size = GROWTH_LIMIT // 3  # @b once, then its use once: under the budget together
    cell = f"@a = {'x' * 1000}\n@b = " + "{{a}}" * (size // 1000) + f"\nGET {METERS}?q={{{{b}}}}\n"
    assert "x" * (size // 1000 * 1000) in within(lambda: expand_file_variables(cell))


def test_the_budget_counts_every_use_in_the_cell() -> None:
    value = "x" * (GROWTH_LIMIT // 8)
    body = "{{a}}" * 9  # each use alone is small; together over the budget
    cell = f"@a = {value}\nPOST {METERS}\nContent-Type: text/plain\n\n{body}\n"
    with pytest.raises(RequestSyntaxError, match=r"@a expands to over") as raised:
        within(lambda: expand_file_variables(cell))
    assert raised.value.line == 1


@pytest.mark.parametrize("blank", [" ", "\t"])
def test_a_long_run_of_blanks_in_a_variable_line(shell: Any, blank: str) -> None:
    cell = f"@v = x{blank * N}y\nPOST {TYPES}\nContent-Type: text/plain\n\n{{{{v}}}}\n"
    with capture_output() as out:
        within(lambda: shell.run_cell_magic("ue_call", "--dry-run", cell))
    assert shown(out).startswith("Not sent (--dry-run).")


def test_a_long_run_of_blanks_in_a_request_name(shell: Any, tmp_path: Path) -> None:
    path = tmp_path / "stranger.http"
    path.write_text(
        f"### one\n# @name a{' ' * N}b\nGET {METERS}\n### two\nGET {TYPES}\n", encoding="utf-8"
    )
    with capture_output() as out:
        within(lambda: shell.run_line_magic("ue_call", f"--file {path} --name two --dry-run"))
    assert TYPES in shown(out)


@pytest.mark.parametrize(
    "cell",
    [
        f"GET {METERS}\nX-Note: a{' ' * N}b\n",
        f'POST {TYPES}\n\n{{"name": "{JSON_ESCAPES}", "unit": "u"}}\n',
        f"POST {TYPES}\nContent-Type: text/plain\n\n{ESCAPES}\n",
        f"POST {TYPES}\nContent-Type: text/plain\n\n{'{{' * N}\n",
        f"POST {TYPES}\nContent-Type: text/plain\n\nstart{chr(10) * N}end\n",
        f"POST {TYPES}\nContent-Type: text/plain\n\nstart{' ' + chr(10) * N}end\n",
    ],
    ids=[
        "header",
        "json-escapes",
        "text-escapes",
        "text-open",
        "blank-lines",
        "blank-spaces",
    ],
)
def test_long_runs_in_a_cell(shell: Any, cell: str) -> None:
    # refused or not (a space in the path, an unclosed {{): what counts is that it ends
    with capture_output(), contextlib.suppress(UsageError):
        within(lambda: shell.run_cell_magic("ue_call", "--dry-run --no-validate", cell))


def test_a_long_run_of_blanks_before_the_http_version() -> None:
    template = within(lambda: compile_request(f"GET {METERS}{' ' * N}HTTP/1.1\n"))
    assert template.render({}).path == METERS
    with pytest.raises(RequestSyntaxError, match="the path has a space"):
        within(lambda: compile_request(f"GET {METERS}{' ' * N}HTTP/1.1x\n"))


def test_a_long_run_of_blanks_in_a_header_on_the_magic_line(shell: Any) -> None:
    line = f"--dry-run -H 'X-Note: a{' ' * N}b' GET {METERS}"
    with capture_output() as out:
        within(lambda: shell.run_line_magic("ue_call", line))
    assert "X-Note" in shown(out)


def test_a_form_body_with_long_runs_of_blanks() -> None:
    body = f"a = 1{' ' * N}x &{' ' * N}b{' ' * N}= 2"
    cell = f"POST /x\nContent-Type: application/x-www-form-urlencoded\n\n{body}"
    sent_body = within(lambda: parse_request(cell, {}).body)
    assert sent_body is not None and sent_body.startswith(b"a=1%20") and sent_body.endswith(b"&b=2")


def test_many_placeholders_in_a_body() -> None:
    cell = f"POST /x\nContent-Type: text/plain\n\n{'{{a}}' * (N * 2)}\n"
    sent_body = within(lambda: parse_request(cell, {"a": "z"}).body)
    assert sent_body == b"z" * (N * 2)


def test_trailing_blank_lines_are_dropped_from_a_long_cell() -> None:
    cell = f"POST /x\nContent-Type: text/plain\n\nstart{chr(10) * N}end" + "\n \t" * N
    template = within(lambda: compile_call("", (), cell, ()))
    assert template.render({}).body == b"start" + b"\n" * N + b"end"


def completions(ip: Any, text: str) -> list[str]:
    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


@pytest.mark.parametrize(
    "text",
    [
        f"%ue_call GET {METERS}/{{{{a." + ".  " * 30 + "!",
        f"%ue_call GET {METERS}/{{{{a" + ".  " * 30 + "-",
        f"%%ue_call\n@v = x{' ' * N}y\nGET /usage-metering/v1/me",
    ],
    ids=["dots", "dots-after-name", "variable-line"],
)
def test_tab_ends_on_text_that_backtracked(ip: Any, text: str) -> None:
    ip.user_ns["a"] = {"b": 1}
    assert not any(within(lambda: completions(ip, text)))  # nothing to offer, and it ends


def test_tab_still_offers_keys_after_blanks_around_dots(ip: Any) -> None:
    ip.user_ns["a"] = {"bee": 1}
    assert "bee" in within(lambda: completions(ip, f"%ue_call GET {METERS}/{{{{ a .  b"))
