"""--each over a real socket against the neutral limiter server (``tests/limits/server.py``, not
the sandbox): every item stored once, and a limit the answers state is read, so 429s stay rare.
Shares of the limit are measured in ``benchmarks/bench_limits.py``, not asserted here."""

from __future__ import annotations

import pytest

from ..limits.run import bulk_run, neutral_server


@pytest.mark.parametrize(
    ("kind", "retry_after", "headers"),
    [
        ("bucket", "whole", "x"),
        ("fixed", "whole", "ietf"),
        ("sliding", "fraction", "none"),
        ("bucket", "none", "none"),
    ],
)
def test_every_item_is_stored_once_whatever_the_limiter(
    kind: str, retry_after: str, headers: str
) -> None:
    with neutral_server(kind, 200, 10, retry_after, headers) as base:
        run = bulk_run(base, 300, 16, 200)
    assert (run.failures, run.not_sent, run.duplicates, run.stored) == (0, 0, 0, 300), run
    if headers != "none":
        assert run.refused <= 300 * 0.02, run  # the stated limit was read: few refusals
