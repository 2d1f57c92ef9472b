"""Hostile text for the fuzz tests: control characters, escape sequences, bidi overrides,
placeholders, JSON and HTTP pieces, and a secret that must never come out."""

from __future__ import annotations

from hypothesis import strategies as st

SECRET = "Zfz-S3cr3t/+=&<>%-never-shown"
CONTROLS = ["\x1b]52;c;aGk=\x07", "\x1b]0;t\x07", "\x1b[2J", "\u202e", "\x9b", "\x85", "\x00", "\r"]
PIECES = [
    "{{", "}}", "{{x}}", "{{item}}", "{{a.b}}", "{{a[0]}}", '{{d["k"]}}', "{{$guid}}", "{{ }}",
    "{", "}", "[", "]", '"', "\\", ":", ",", "\n", "\r\n", " ", "\t", "#", "###", "@v = 1",
    "GET ", "POST ", "PATCH ", "/usage-metering/v1/meters", "?a=1", "&b=2", "Content-Type: ",
    "application/json", "X-A: b", "HTTP/1.1", "null", "1e999", "NaN", "-0", "9" * 50, "é", "\ufeff",
    "--each", "--save", "-o", "--table", "--columns", "--timeout", "--profile", "-H", "'", "=",
    "--dry-run", "--rate", "--concurrency", "--max-bytes", "--", "~", "..", "%2e%2e", SECRET,
    "\udc80", "\ud800",  # lone surrogates: a str may hold them, no codec writes them
    *CONTROLS,
]  # fmt: skip

pieces = st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=30).map("".join)
hostile_text = st.one_of(st.text(max_size=200), pieces)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=20,
)
