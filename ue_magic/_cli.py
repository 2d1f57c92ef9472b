"""Console scripts: start only after checking that their extra is installed, so a user without it
reads one sentence that names it instead of a ``ModuleNotFoundError`` traceback."""

from __future__ import annotations

import sys

from ._extras import extra_missing


def sandbox() -> int:
    """``ue-sandbox``: the sandbox's command line (``ue_magic.sandbox.__main__``)."""
    try:
        from .sandbox.__main__ import main
    except ImportError as error:
        missing = extra_missing("sandbox", "ue-sandbox", error)
        if missing is None:
            raise
        print(missing, file=sys.stderr)
        return 1
    return main()
