"""The magic line, split into words and parsed into frozen options, without IPython.

One grammar for every magic line: words are separated by whitespace; ``"..."`` and ``'...'``
quote text (the quotes are removed; nothing inside is special but a placeholder, not even a
backslash); and a ``{{ ... }}`` placeholder is part of its word whatever it holds (spaces,
quotes, brackets), outside quotes and inside, so ``{{ rows[0]["id"] }}`` reaches the cell
language as written. A backslash is kept as it is
(``\\{{`` is the cell language's literal ``{{``).

``split_line`` takes a fast path (``str.split``) when the line holds no quote and no brace,
which is where the two agree by construction; the tests run a table of lines through both.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import RequestSyntaxError

__all__ = [
    "Arguments",
    "parse_line",
    "shell_words",
    "split_line",
    "unknown_option_message",
    "word_columns",
    "word_spans",
]

_SPECIAL = re.compile(r"[\"'{]")


def split_line(line: str) -> tuple[str, ...]:
    """The words of a magic line; a quick ``str.split`` when nothing needs the full grammar.

    Raises ``RequestSyntaxError`` (line 0) for an unclosed quote.
    """
    if _SPECIAL.search(line) is None:
        return tuple(line.split())
    return shell_words(line)


# The pieces of a line: whitespace, a placeholder's opening, a quote, and runs of anything else.
_PIECE = re.compile(r"""(?P<space>\s+)|(?P<open>\{\{)|(?P<quote>["'])|(?P<text>[^\s"'{]+|\{)""")


def word_columns(line: str) -> tuple[tuple[str, int], ...]:
    """Each word of ``line`` (as ``shell_words`` gives it) with the 1-based column it starts at
    (after an opening quote: the text, not the quote), so that an error about a word can point
    into the whole magic line."""
    return tuple((w, s + 1 + (line[s : s + 1] in "\"'")) for w, s, _ in word_spans(line))


def shell_words(line: str) -> tuple[str, ...]:
    """The full grammar: whitespace, quotes and ``{{ }}`` placeholders (see the module doc).

    A placeholder runs from ``{{`` to the next ``}}``, as in the cell language, inside quotes
    too: ``-H "X-Id: {{ rows[0]["id"] }}"`` is one word. The error for an unclosed quote
    gives its column but not the line: a line of ``%ue_login`` might hold a secret.
    """
    spans, open_quote = _scan(line)
    if open_quote is not None:
        raise RequestSyntaxError(
            f"this {line[open_quote]} quote is not closed; close it, or quote the word with the"
            " other kind of quote.",
            0,
            open_quote + 1,
        )
    return tuple(word for word, _, _ in spans)


def word_spans(line: str) -> tuple[tuple[str, int, int], ...]:
    """Each word of ``line`` as (text, start, end): the text as ``shell_words`` gives it, the
    offsets (0-based, end exclusive) as written. A quote left open runs to the end of the line,
    as a line being typed has it (completion reads those); ``shell_words`` refuses it."""
    return tuple(_scan(line)[0])


def _scan(line: str) -> tuple[list[tuple[str, int, int]], int | None]:
    """The words with their offsets, and the offset of a quote left open (None: all closed)."""
    spans: list[tuple[str, int, int]] = []
    word: list[str] | None = None  # the word being read; None between words
    begun = 0  # where it began
    quote, opened = "", 0  # the open quote and its offset; "" outside quotes
    closes = True  # False once no "}}" is left: later "{{" are plain text
    pos = 0
    while pos < len(line):
        match = _PIECE.match(line, pos)
        assert match is not None  # the pattern matches every character
        kind, piece, pos = match.lastgroup, match.group(), match.end()
        if kind == "open" and closes:
            close = line.find("}}", pos)
            closes = close >= 0
            if closes:
                piece, pos = line[match.start() : close + 2], close + 2
        if kind == "space" and not quote:
            if word is not None:
                spans.append(("".join(word), begun, match.start()))
                word = None
            continue
        if word is None:
            word, begun = [], match.start()
        if kind == "quote" and not quote:
            quote, opened = piece, match.start()
        elif kind == "quote" and piece == quote:
            quote = ""
        else:
            word.append(piece)
    if word is not None:
        spans.append(("".join(word), begun, len(line)))
    return spans, (opened if quote else None)


class Arguments:
    """Parsed options, read-only: attributes as on argparse's ``Namespace`` (``args.output``),
    lists frozen into tuples, so a cached result cannot be changed by the call that uses it.
    ``vars(args)`` gives them as a dict. Reading an attribute is as quick as on a Namespace.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        self.__dict__.update(frozen)

    if TYPE_CHECKING:  # the attributes are the parser's destinations

        def __getattr__(self, name: str) -> Any: ...

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Arguments are read-only; {name} cannot be set.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Arguments are read-only; {name} cannot be deleted.")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Arguments) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"Arguments({vars(self)!r})"


_OPTION_SHAPE = re.compile(r"--?[A-Za-z][\w-]*")


def unknown_option_message(
    parser: argparse.ArgumentParser, error: str, magic: str, echo: bool = True
) -> str:
    """argparse's "unrecognized arguments: ..." as one sentence that names the first unknown
    option and the closest known one. ``echo=False`` (``%ue_login``) never repeats a typed
    word, since it might be a secret; only a known option name is suggested."""
    import difflib

    words = error.partition("unrecognized arguments:")[2].split()
    known = [o for action in parser._actions for o in action.option_strings]
    option = next((w for w in words if _OPTION_SHAPE.fullmatch(w.partition("=")[0])), None)
    help_hint = f"%{magic}? for the options."
    if option is None:
        if not echo or not words:
            return f"Unknown words on the magic line; see {help_hint}"
        return (
            f"Unknown words on the magic line: {' '.join(words)}. A magic line takes no Python "
            f"after it: put that on a line of its own. See {help_hint}"
        )
    name = option.partition("=")[0]
    close = difflib.get_close_matches(name, [k for k in known if k.startswith("--")], n=1)
    close = close or difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    said = f"Unknown option {name}" if echo else "Unknown option"
    if close:
        return f"{said}; did you mean {close[0]}? See {help_hint}"
    return f"{said}; see {help_hint}"


def parse_line(
    parser: argparse.ArgumentParser,
    line: str,
    numbers: Mapping[str, tuple[str, str]] | None = None,
) -> Arguments:
    """Split ``line`` with ``split_line`` and parse the words with ``parser``.

    The parser's own errors pass through (IPython's magic_arguments parser raises UsageError),
    but for a number option's, which say what the option needs (``number_needed``, with
    ``numbers``: what each number option takes and an example).
    """
    try:
        return Arguments(vars(parser.parse_args(list(split_line(line)))))
    except Exception as error:
        message = number_needed(str(error), numbers) or _value_of_a_flag(str(error))
        if message is None:
            raise
        raise type(error)(message) from None


_FLAG_VALUE = re.compile(r"argument ([\w/-]+): ignored explicit argument (.*)", re.DOTALL)


def _value_of_a_flag(error: str) -> str | None:
    """argparse's "argument -q/--quiet: ignored explicit argument ';'" (from ``-q; print(x)``)
    as what it means; None for any other error."""
    found = _FLAG_VALUE.search(error)
    if found is None:
        return None
    flag = found.group(1)  # as argparse names it: -q/--quiet
    return (
        f"{flag} takes no value, but {found.group(2)} follows it. A magic line takes no Python "
        "after it: put that on a line of its own."
    )


_BAD_NUMBER = re.compile(r"argument (--[\w-]+): invalid (int|float) value: (.*)", re.DOTALL)


def number_needed(error: str, numbers: Mapping[str, tuple[str, str]] | None = None) -> str | None:
    """argparse's "argument --rate: invalid float value: 'abc'" as "--rate needs requests a
    second, such as 50, not 'abc'."; None for any other error."""
    found = _BAD_NUMBER.fullmatch(error.strip())
    if found is None:
        return None
    option, kind, value = found.groups()
    what, example = (numbers or {}).get(
        option, ("a whole number" if kind == "int" else "a number", "1")
    )
    return f"{option} needs {what}, such as {example}, not {value}."
