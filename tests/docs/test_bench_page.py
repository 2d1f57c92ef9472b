"""`benchmarks/bench.py --readme` writes its table into the docs' benchmarks page; a page
without the markers is refused before anything is measured (a benchmark run takes minutes)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench.py"
PAGE = ROOT / "docs" / "guide" / "benchmarks.md"


def _load_bench() -> object:
    sys.path.insert(0, str(BENCH.parent))
    try:
        import bench  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(BENCH.parent))
    return bench


def test_the_default_page_is_the_docs_benchmarks_page_and_has_the_markers() -> None:
    bench = _load_bench()
    assert bench.BENCH_PAGE == PAGE  # type: ignore[attr-defined]
    text = PAGE.read_text(encoding="utf-8")
    assert text.index("<!-- bench -->") < text.index("<!-- /bench -->")


def test_write_replaces_only_the_table(tmp_path: Path) -> None:
    bench = _load_bench()
    page = tmp_path / "benchmarks.md"
    shutil.copy(PAGE, page)
    before = PAGE.read_text(encoding="utf-8")
    bench.write_readme(page, "| new | table |")  # type: ignore[attr-defined]
    after = page.read_text(encoding="utf-8")
    assert "<!-- bench -->\n| new | table |\n<!-- /bench -->" in after
    assert after.split("<!-- bench -->")[0] == before.split("<!-- bench -->")[0]
    assert after.split("<!-- /bench -->")[1] == before.split("<!-- /bench -->")[1]


def test_a_page_without_markers_is_refused_before_any_measuring() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--readme", str(ROOT / "README.md")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "has no <!-- bench --> marker: the table lives in" in done.stderr
    assert str(PAGE) in done.stderr
