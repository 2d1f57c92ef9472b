"""Why there is no description ("No API description for this login (<reason>)") shows a
description's words with escapes, on one line (break8 M1): the reason holds a ``$ref`` text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from tests.openapi.test_hostile_descriptions import doc, login_with, post_body

EVIL = "E\x1b]0;PWNED\x07\x1b[2J\u202e\x9b31m\nX"
RAW = ("\x1b", "\x07", "\u202e", "\x9b", "\n")
METERS = "/usage-metering/v1/meters"


@pytest.mark.parametrize(
    "description",
    [
        doc({METERS: post_body("#/components/schemas/X" + EVIL)}),
        doc({METERS: post_body("http://127.0.0.1:1/" + EVIL + ".json#/S")}),
    ],
    ids=["local-ref", "remote-ref"],
)
def test_the_reason_for_no_description_is_shown_with_escapes(
    ip: Any, tmp_path: Path, description: Any
) -> None:
    login_with(ip, tmp_path, description)
    with pytest.raises(UsageError, match="No API description for this login") as raised:
        ip.run_line_magic("ue_api", "")
    said = str(raised.value)
    assert "\\x1b]0;PWNED\\x07" in said
    assert not any(c in said for c in RAW)
