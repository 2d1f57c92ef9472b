"""Each ``%ue_call`` option, declared once: its flags, its help line, how argparse reads it, the
``CallOptions`` field it fills (and the setting that fills it when not given), its check, and
whether ``--each`` can take it.

``CALL_OPTIONS`` is data: the magic builds its parser from it, ``CallOptions`` reads and checks
its fields with it, and ``reference()`` writes the option table of the README and the docs.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._constants import MAX_CONCURRENCY, MAX_RETRIES, MAX_TIMEOUT

__all__ = ["CALL_OPTIONS", "MAX_RATE", "REQUEST_LINE", "Option", "numbers_needed", "reference"]

MAX_RATE = 100_000.0  # requests a second; more is a typo

Check = Callable[[Any], "str | None"]  # the field's value -> what is wrong with it, or None


@dataclass(frozen=True)
class Option:
    """One option of ``%ue_call``.

    ``field``: the ``CallOptions`` field; ``setting``: the ``UsageEngineMagics`` trait used
    when the option is not given; ``convert``: the parsed value -> the field's value;
    ``check``: the field's value -> an error message or None; ``needs``: what a number option
    takes and an example, for a bad number's error; ``each``: False when ``--each`` cannot be
    combined with it.
    """

    flags: tuple[str, ...]
    field: str
    help: str
    action: str | None = None  # "store_true", "append", or None (takes a value)
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    setting: str | None = None
    convert: Callable[[Any], Any] | None = None
    check: Check | None = None
    needs: tuple[str, str] | None = None
    each: bool = True

    @property
    def dest(self) -> str:
        """argparse's attribute for it: the long flag without dashes."""
        return self.flags[-1].lstrip("-").replace("-", "_")

    def argparse_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"help": self.help}
        if self.action is not None:
            kwargs["action"] = self.action
        if self.action == "append":
            kwargs["default"] = []
        if self.type is not None:
            kwargs["type"] = self.type
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        return kwargs

    def value(self, args: Any, settings: Any) -> Any:
        """This option's field value from parsed ``args`` and the magic's ``settings``."""
        value = getattr(args, self.dest)
        if value is None and self.setting is not None:
            value = getattr(settings, self.setting)
        return self.convert(value) if self.convert is not None else value


def _name(flag: str) -> Check:
    def check(value: Any) -> str | None:
        if value is not None and (not value.isidentifier() or keyword.iskeyword(value)):
            return f"{flag} needs a Python variable name, not {value!r}."
        return None

    return check


def _between(low: float, high: float, message: str, low_open: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if value is None:
            return None
        above = value > low if low_open else value >= low
        return None if above and value <= high else message

    return check


def _columns(text: str | None) -> tuple[str, ...] | None:
    """``"id, name"`` -> ``("id", "name")``; an empty name is kept so that it is refused."""
    if text is None:
        return None
    return tuple(name.strip() for name in text.split(","))


def _check_columns(value: tuple[str, ...] | None) -> str | None:
    if value is not None and not all(value):
        return "--columns needs names separated by commas: --columns id,name."
    return None


REQUEST_LINE = Option(
    ("request_line",), "request_line", "e.g. GET /usage-metering/v1/meters", metavar="METHOD PATH"
)

CALL_OPTIONS: tuple[Option, ...] = (
    Option(
        ("-o", "--output"),
        "output",
        (
            "Store the decoded body in VAR (--each: one result per item). When the call "
            "raises, VAR keeps its value (the answer is in _ue, --each's in _ue_bulk.results); "
            "with --no-raise VAR gets it."
        ),
        metavar="VAR",
        check=_name("-o"),
    ),
    Option(("-q", "--quiet"), "quiet", "Show nothing (errors still raise).", "store_true"),
    Option(("--profile",), "profile", "Use this login.", metavar="NAME"),
    Option(
        ("-H", "--header"),
        "headers",
        "Add a header (repeatable; {{name}} works; replaces the cell's header of that name).",
        "append",
        metavar='"Name: value"',
        convert=tuple,
    ),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds for the whole answer.",
        type=float,
        metavar="S",
        setting="timeout",
        check=_between(
            0, MAX_TIMEOUT, f"--timeout needs seconds above 0 and at most {MAX_TIMEOUT}.", True
        ),
        needs=("seconds", "30"),
    ),
    Option(
        ("--max-bytes",),
        "max_bytes",
        "Most bytes of the answer.",
        type=int,
        metavar="N",
        setting="max_bytes",
        check=_between(1, float("inf"), "--max-bytes needs a count of bytes above 0."),
        needs=("a whole number of bytes", "1000000"),
    ),
    Option(("--table",), "table", "Show a list of objects as a table.", "store_true"),
    Option(("--raw",), "raw", "Show the body as text.", "store_true"),
    Option(("--dry-run",), "dry_run", "Show the request; send nothing.", "store_true", each=False),
    Option(
        ("--curl",),
        "curl",
        "Print an equivalent curl command; send nothing.",
        "store_true",
        each=False,
    ),
    Option(
        ("--retry",),
        "retry",
        "Retry up to N times, any method.",
        type=int,
        metavar="N",
        check=_between(0, MAX_RETRIES, f"--retry needs a count from 0 to {MAX_RETRIES}."),
        needs=("a whole number of retries", "3"),
    ),
    Option(("--no-raise",), "no_raise", "Do not raise on a 4xx or 5xx answer.", "store_true"),
    Option(
        ("--each",),
        "each",
        "Send once per item of VAR ({{item}}).",
        metavar="VAR",
        check=_name("--each"),
    ),
    Option(
        ("--concurrency",),
        "concurrency",
        "Requests in flight with --each.",
        type=int,
        metavar="N",
        setting="concurrency",
        check=_between(
            1, MAX_CONCURRENCY, f"--concurrency needs a count from 1 to {MAX_CONCURRENCY}."
        ),
        needs=("a whole number of requests", "8"),
    ),
    Option(
        ("--rate",),
        "rate",
        "At most N requests a second with --each.",
        type=float,
        metavar="N",
        check=_between(
            0, MAX_RATE, f"--rate needs requests a second above 0, at most {MAX_RATE:g}.", True
        ),
        needs=("requests a second", "50"),
    ),
    Option(
        ("--save",),
        "save",
        "Write the answer (JSON Lines with --each) to PATH.",
        metavar="PATH",
    ),
    Option(
        ("--all-pages",),
        "all_pages",
        "Follow next-page links of a list.",
        "store_true",
        each=False,
    ),
    Option(
        ("--columns",),
        "columns",
        "The table's columns, in order (implies --table); with --df, the DataFrame's.",
        metavar="A,B",
        convert=_columns,
        check=_check_columns,
    ),
    Option(
        ("--df",),
        "df",
        "The value is a pandas DataFrame of the list (with --each: a row per item).",
        "store_true",
    ),
    Option(
        ("--python",),
        "python",
        "Print the same request as Python code.",
        "store_true",
        each=False,
    ),
    Option(
        ("--no-validate",),
        "no_validate",
        "Do not check the body against the API.",
        "store_true",
    ),
    Option(("--file",), "file", "Send a request of this .http file.", metavar="PATH"),
    Option(
        ("--name",),
        "name",
        "The request of --file (# @name NAME or ### NAME).",
        metavar="NAME",
    ),
)


def numbers_needed() -> dict[str, tuple[str, str]]:
    """What each number option takes, for argparse's 'invalid float value' errors."""
    return {o.flags[-1]: o.needs for o in CALL_OPTIONS if o.needs is not None}


def reference() -> str:
    """The option table of the README and the docs, as Markdown."""
    rows = ["| option | what it does |", "| --- | --- |"]
    for option in CALL_OPTIONS:
        flags = ", ".join(f"`{flag}`" for flag in option.flags)
        also = "" if option.each else " (not with `--each`)"
        rows.append(f"| {flags} | {option.help}{also} |")
    return "\n".join(rows)
