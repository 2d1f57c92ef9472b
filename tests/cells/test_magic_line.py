"""The magic line: one grammar, a fast path that agrees with it, frozen parsed options."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.magic_arguments import parse_argstring

from ue_magic.cells.call_options import numbers_needed
from ue_magic.cells.magic_line import Arguments, parse_line, shell_words, split_line, word_spans
from ue_magic.errors import RequestSyntaxError, UsageEngineError
from ue_magic.ipython.magics import UsageEngineMagics

T = "/usage-metering/v1/meter-types"

# (line, words): each line goes through the full grammar and through split_line (%ue_call uses it).
LINES = [
    ("", ()),
    ("   ", ()),
    (f"GET {T}", ("GET", T)),
    (f"  GET\t{T}  -q ", ("GET", T, "-q")),
    (f"GET {T} -o out -q", ("GET", T, "-o", "out", "-q")),
    (f"GET {T} --each ids -o results", ("GET", T, "--each", "ids", "-o", "results")),
    (f"GET {T}/{{{{id}}}}", ("GET", f"{T}/{{{{id}}}}")),
    (f"GET {T}/{{{{ id }}}}", ("GET", f"{T}/{{{{ id }}}}")),
    (f"GET {T}/{{{{ t.id }}}} -q", ("GET", f"{T}/{{{{ t.id }}}}", "-q")),
    (f'GET {T}/{{{{ rows[0]["id"] }}}}', ("GET", f'{T}/{{{{ rows[0]["id"] }}}}')),
    (f"GET {T}/{{{{ rows[0]['id'] }}}}", ("GET", f"{T}/{{{{ rows[0]['id'] }}}}")),
    (f'GET {T}/{{{{rows[0]["id"]}}}}', ("GET", f'{T}/{{{{rows[0]["id"]}}}}')),
    (f"GET {T}/{{{{ a }}}}/x/{{{{ b }}}}", ("GET", f"{T}/{{{{ a }}}}/x/{{{{ b }}}}")),
    (f'GET {T} -H "X-Trace: a:b:c"', ("GET", T, "-H", "X-Trace: a:b:c")),
    (f"GET {T} -H 'X-Trace: a b'", ("GET", T, "-H", "X-Trace: a b")),
    (f"GET {T} -H X-Trace:plain", ("GET", T, "-H", "X-Trace:plain")),
    (
        f'GET {T} -H "X-A: 1" -H "X-B: {{{{ v }}}}"',
        ("GET", T, "-H", "X-A: 1", "-H", "X-B: {{ v }}"),
    ),
    (f"""POST {T} -H 'X-J: {{"a": 1}}'""", ("POST", T, "-H", 'X-J: {"a": 1}')),
    (f'GET {T} -H "X-Q: it\'s"', ("GET", T, "-H", "X-Q: it's")),
    (f'GET {T} -H X-A:"b c"', ("GET", T, "-H", "X-A:b c")),
    (f'GET {T} -o ""', ("GET", T, "-o", "")),
    (f"GET {T}/a\\{{{{b", ("GET", f"{T}/a\\{{{{b")),  # \{{ stays for the cell language
    (f"GET {T}/{{{{ unclosed", ("GET", f"{T}/{{{{", "unclosed")),  # the cell language says why
    (f"GET {T}?q={{x}}", ("GET", f"{T}?q={{x}}")),
    ("--profile staging --timeout 2.5", ("--profile", "staging", "--timeout", "2.5")),
    # a placeholder inside quotes is whole too, so its own quotes do not end the quoted word
    (
        f'GET {T} -H "X-Id: {{{{ rows[0]["id"] }}}}"',
        ("GET", T, "-H", 'X-Id: {{ rows[0]["id"] }}'),
    ),
    (
        f"GET {T} -H 'X-Id: {{{{ rows[0]['id'] }}}}'",
        ("GET", T, "-H", "X-Id: {{ rows[0]['id'] }}"),
    ),
    (f'GET "{T}/{{{{ d["a b"] }}}}" -q', ("GET", f'{T}/{{{{ d["a b"] }}}}', "-q")),
    (
        f'GET {T} -H "X: {{{{ a }}}} and {{{{ b["k"] }}}}"',
        ("GET", T, "-H", 'X: {{ a }} and {{ b["k"] }}'),
    ),
    (f'GET {T} -H "X: {{{{ no close"', ("GET", T, "-H", "X: {{ no close")),
]


@pytest.mark.parametrize(("line", "words"), LINES)
def test_both_paths_split_the_line_alike(line: str, words: tuple[str, ...]) -> None:
    assert shell_words(line) == words
    assert split_line(line) == words


@pytest.mark.parametrize(("line", "words"), LINES)
def test_str_split_agrees_wherever_it_is_taken(line: str, words: tuple[str, ...]) -> None:
    if not any(c in line for c in "\"'{"):
        assert tuple(line.split()) == words


@given(st.text(alphabet=st.characters(blacklist_characters="\"'{")))
def test_str_split_agrees_with_the_grammar_on_any_plain_line(line: str) -> None:
    assert split_line(line) == shell_words(line) == tuple(line.split())


@given(st.lists(st.text(alphabet=string.ascii_letters + ":/-_ {}[]\".'", min_size=1), max_size=5))
def test_a_quoted_word_comes_back_whole(parts: list[str]) -> None:
    # a "{{" left open in one word would take the quotes up to the next word's "}}"
    words = [p for p in parts if "'" not in p and "{{" not in re.sub(r"\{\{.*?\}\}", "", p)]
    line = " ".join(f"'{w}'" for w in words)
    assert shell_words(line) == tuple(words)


@pytest.mark.parametrize(
    ("line", "column"), [('GET /x -H "X-A: 1', 11), ("-o 'out", 4), ("a'b", 2)]
)
def test_an_unclosed_quote_is_a_syntax_error_without_the_line(line: str, column: int) -> None:
    with pytest.raises(RequestSyntaxError) as info:
        split_line(line)
    assert isinstance(info.value, UsageEngineError)
    assert (info.value.line, info.value.column) == (0, column)
    assert "not closed" in str(info.value) and line not in str(info.value)


# -- parsed options ---------------------------------------------------------------------------


def call_parser() -> Any:
    return UsageEngineMagics.ue_call.parser


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f'GET {T}/{{{{ rows[0]["id"] }}}} -q',
            {"request_line": ("GET", f'{T}/{{{{ rows[0]["id"] }}}}'), "quiet": True},
        ),
        (
            f'POST {T} -H "X-A: b:c" -H "X-B: {{{{ v }}}}" -o out',
            {"request_line": ("POST", T), "header": ("X-A: b:c", "X-B: {{ v }}"), "output": "out"},
        ),
        (
            f"GET {T}/{{{{ item }}}} --each ids --concurrency 8 -o results",
            {"each": "ids", "concurrency": 8, "output": "results", "header": ()},
        ),
        ("", {"request_line": (), "header": (), "output": None, "quiet": False}),
    ],
)
def test_ue_call_options(line: str, expected: dict[str, Any]) -> None:
    args = parse_line(call_parser(), line)
    assert {name: getattr(args, name) for name in expected} == expected


@pytest.mark.parametrize(
    "line",
    [
        f"GET {T} -q",
        f'GET {T} -H "X-A: b:c" -o out',
        f"GET {T} -H 'X-A: b c' --each ids",
        f"GET {T} --timeout 2 --retry 3 --no-raise --table",
        f'PUT {T}/1 -H "X-J: {{}}"',
    ],
)
def test_options_are_those_ipython_parses_where_it_splits_the_same(line: str) -> None:
    """Lines without {{ }} or quotes inside a word: the same options as IPython's own parser."""
    ours = parse_line(call_parser(), line)
    theirs = vars(parse_argstring(UsageEngineMagics.ue_call, line))
    unquoted = {
        k: [w.strip("\"'") for w in v] if isinstance(v, list) else v for k, v in theirs.items()
    }
    assert vars(ours) == {k: tuple(v) if isinstance(v, list) else v for k, v in unquoted.items()}


def test_parsed_options_are_frozen() -> None:
    args = parse_line(call_parser(), f'GET {T} -H "X-A: 1"')
    assert isinstance(args, Arguments) and args.header == ("X-A: 1",)
    with pytest.raises(AttributeError):
        args.output = "x"
    with pytest.raises(AttributeError):
        del args.header
    with pytest.raises(AttributeError):
        _ = args.no_such_option
    assert args == parse_line(call_parser(), f"GET {T} -H 'X-A: 1'")
    assert "X-A" in repr(args)


def test_a_bad_option_is_ipythons_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_line(call_parser(), f"GET {T} --no-such-option")


def test_word_spans_give_offsets_and_run_an_open_quote_to_the_end() -> None:
    """What completion reads: the words as %ue_call gets them, where they were typed."""
    line = 'GET /x -H "X: {{ a["k"] }}" -H "Acc'
    assert word_spans(line) == (
        ("GET", 0, 3),
        ("/x", 4, 6),
        ("-H", 7, 9),
        ('X: {{ a["k"] }}', 10, 27),
        ("-H", 28, 30),
        ("Acc", 31, 35),
    )
    assert tuple(w for w, _, _ in word_spans(line[:27])) == shell_words(line[:27])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--rate abc", "--rate needs requests a second, such as 50, not 'abc'."),
        ("--concurrency x", "--concurrency needs a whole number of requests, such as 8, not 'x'."),
        ("--timeout soon", "--timeout needs seconds, such as 30, not 'soon'."),
        ("--max-bytes lots", "--max-bytes needs a whole number of bytes, such as 1000000, not"),
        ("--retry 1.5", "--retry needs a whole number of retries, such as 3, not '1.5'."),
    ],
)
def test_a_bad_number_says_what_the_option_needs(option: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_line(call_parser(), f"GET {T} {option}", numbers_needed())
    assert str(raised.value).startswith(message)
    assert "invalid" not in str(raised.value)


def test_other_parser_errors_pass_through_unchanged() -> None:
    with pytest.raises(UsageError, match="expected one argument"):
        parse_line(call_parser(), f"GET {T} --columns")
