"""The reference pages are made from the code; these tests make sure they name all of it."""

from __future__ import annotations

import re
from pathlib import Path

from ue_magic.ipython.magics import UsageEngineMagics

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_magic_has_a_section_in_the_magics_reference() -> None:
    page = (DOCS / "reference" / "magics.md").read_text(encoding="utf-8")
    listed = re.findall(r"^```\{ue-magic\} (\w+)$", page, flags=re.MULTILINE)
    magics = set(UsageEngineMagics.magics["line"]) | set(UsageEngineMagics.magics["cell"])
    assert sorted(listed) == sorted(magics)


def test_every_public_name_is_in_the_python_reference() -> None:
    import ue_magic

    page = (DOCS / "reference" / "python.md").read_text(encoding="utf-8")
    import ue_magic.errors

    documented = set(re.findall(r"^\.\. auto(?:class|function):: ue_magic\.(\w+)$", page, re.M))
    # The exceptions, also public from ue_magic, are documented by the errors module's section.
    assert re.search(r"^\.\. automodule:: ue_magic\.errors$", page, re.M)
    errors = {name for name in ue_magic.__all__ if name in vars(ue_magic.errors)}
    assert documented | errors == set(ue_magic.__all__)
