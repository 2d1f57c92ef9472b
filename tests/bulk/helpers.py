"""Shared checks of the bulk tests."""

from __future__ import annotations

from ue_magic.cells.bulk import BulkResult


def assert_counts(result: BulkResult) -> None:
    """Every item is exactly one of ok, failed or not sent."""
    ok, failed, not_sent = result.ok, [f.index for f in result.failed], result.not_sent
    assert len(ok) + len(failed) + len(not_sent) == result.total
    assert len(set(ok) | set(failed) | set(not_sent)) == result.total
    assert result.sent == len(ok) + len(failed)
