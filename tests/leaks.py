"""Search written files for secrets: the one check every secret-safety test ends with."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def files_under(*roots: Path) -> list[Path]:
    """Every file under the roots (a file root counts as itself)."""
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(p for p in sorted(root.rglob("*")) if p.is_file())
    return found


def leaks(paths: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """'file: what' for every secret found in a file's bytes (also as a prefix of 16+ chars)."""
    needles = [s for s in secrets if s]
    found = []
    for path in paths:
        data = path.read_bytes()
        for secret in needles:
            probe = secret if len(secret) < 32 else secret[:32]
            if probe.encode() in data:
                found.append(f"{path}: {secret[:6]}…")
    return found
