"""The floors of pyproject.toml's direct dependencies, for `make test-oldest`.

    python scripts/floors.py            # "name==floor" per direct dependency (constraints)
    python scripts/floors.py --check    # exit 1 unless each installed version is its floor

Direct dependencies are the runtime ones and those of the user-facing extras (`name>=floor`); an
extra that names ue-magic itself is skipped. Standard library only: it runs before anything is
installed (tomllib from Python 3.11; on 3.10 the lines are read with a small pattern).
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
FLOOR = re.compile(r'^\s*"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([0-9][0-9.]*)"')


def floors(text: str) -> dict[str, str]:
    """{distribution name: floor version} from [project] dependencies and optional-dependencies."""
    found: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        header = re.match(r"^\[([^\]]+)\]", line)
        if header:
            section = header.group(1)
            continue
        if section not in ("project", "project.optional-dependencies"):
            continue
        match = FLOOR.match(line)
        if match and match.group(1).lower() != "ue-magic":
            found[match.group(1)] = match.group(2)
    return found


def _same(installed: str, floor: str) -> bool:
    """8.12 is met by 8.12.0: compare release parts, the floor's missing ones as zeros."""
    have = [int(p) for p in re.findall(r"\d+", installed)[:3]]
    want = [int(p) for p in floor.split(".")]
    want += [0] * (len(have) - len(want))
    return have[: len(want)] == want


def main(argv: list[str]) -> int:
    wanted = floors(PYPROJECT.read_text(encoding="utf-8"))
    if "--check" not in argv:
        print("\n".join(f"{name}=={version}" for name, version in wanted.items()))
        return 0
    wrong = []
    for name, floor in wanted.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        ok = installed != "not installed" and _same(installed, floor)
        print(f"{'ok ' if ok else 'NOT'} {name} {installed} (floor {floor})")
        if not ok:
            wrong.append(name)
    if wrong:
        print(f"not at their floors: {', '.join(wrong)}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
