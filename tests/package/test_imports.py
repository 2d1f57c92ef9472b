"""The package's shape: what imports without IPython, and what ``ue_magic`` exports."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ue_magic

ROOT = Path(ue_magic.__file__).parent
# the IPython layer (the subpackage ue_magic.ipython): the only modules that may need IPython or
# ipywidgets to import
IPYTHON_LAYER = "ue_magic.ipython"
NEEDS_IPYTHON = {"ue_magic.ipython.magics", "ue_magic.ipython.widget", "ue_magic.ipython.completer"}

BLOCKER = """
import importlib.abc, sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("IPython", "ipywidgets"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, Blocker())
import importlib
failed = []
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed.append(f"{module}: {type(exc).__name__}: {exc}")
blocked = sorted(n for n in sys.modules if n.split(".")[0] in ("IPython", "ipywidgets"))
print("\\n".join(failed + [f"loaded {n}" for n in blocked]))
"""


def modules() -> list[str]:
    found = ["ue_magic"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="ue_magic."):
        found.append(info.name)
    return sorted(found)


def test_every_module_but_the_ipython_layer_imports_without_ipython() -> None:
    names = [name for name in modules() if not name.startswith(IPYTHON_LAYER + ".")]
    assert {
        "ue_magic.core._client",
        "ue_magic.core.token",
        "ue_magic.cells.progress",
        "ue_magic.core.pages",
    } <= set(names)
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER, *names],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_the_blocker_does_block() -> None:
    """The check above can fail: the IPython layer itself does not import with IPython blocked."""
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER, *sorted(NEEDS_IPYTHON)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT.parent,
    )
    assert "ue_magic.ipython.magics: ImportError" in done.stdout
    assert "ue_magic.ipython.widget: ImportError" in done.stdout


ERRORS = {
    "AnswerTooLargeError",
    "ApiConnectionError",
    "BodyCheckError",
    "ClientClosedError",
    "ConfigurationError",
    "DescriptionError",
    "HttpStatusError",
    "InvalidClientError",
    "MissingCredentialsError",
    "OriginError",
    "RequestSyntaxError",
    "SecretInRequestError",
    "TokenError",
    "TokenRateLimitedError",
    "TokenServerError",
    "UnknownNameError",
    "UsageEngineError",
}
PUBLIC_API = {
    *ERRORS,
    "Credentials",
    "Secret",
    "TokenInfo",
    "TokenManager",
    "UsageEngineClient",
    "client",
    "load_ipython_extension",
    "unload_ipython_extension",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(ue_magic.__all__) == PUBLIC_API
    assert len(ue_magic.__all__) == len(PUBLIC_API)
    for name in ue_magic.__all__:
        assert getattr(ue_magic, name) is not None, name


def test_the_exception_roof_is_importable_from_ue_magic() -> None:
    """``except ue_magic.UsageEngineError`` catches every error ue-magic raises; each error class
    of ``ue_magic.errors`` is exported, as httpx exports ``httpx.HTTPError``."""
    from ue_magic import HttpStatusError, UsageEngineError, errors

    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert defined == ERRORS
    assert issubclass(HttpStatusError, UsageEngineError)
    assert all(issubclass(getattr(ue_magic, name), UsageEngineError) for name in ERRORS)


def test_public_names_resolve_to_their_home_modules() -> None:
    assert ue_magic.UsageEngineClient.__module__ == "ue_magic.core._client"
    assert ue_magic.TokenManager.__module__ == "ue_magic.core.token"
    assert ue_magic.Credentials.__module__ == "ue_magic.core.credentials"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = ue_magic.nothing  # type: ignore[attr-defined]


def test_public_names_without_underscore_are_in_all() -> None:
    """A name a user could reach in ``ue_magic`` without an underscore is listed in __all__."""
    import types

    public = {
        name
        for name, value in vars(ue_magic).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    assert public <= PUBLIC_API


def test_dir_lists_the_public_api_with_the_lazy_names() -> None:
    """``dir(ue_magic)`` is what Tab offers after ``ue_magic.``: the lazy names are there, the
    module's typing helpers are not."""
    listed = set(dir(ue_magic))
    assert listed >= PUBLIC_API
    assert {"Credentials", "UsageEngineClient", "TokenManager"} <= listed
    assert not listed & {"Any", "TYPE_CHECKING", "annotations", "_LAZY"}


def test_tab_after_the_module_offers_the_lazy_names() -> None:
    from IPython.core.completer import IPCompleter, provisionalcompleter

    completer = IPCompleter(namespace={"ue_magic": ue_magic}, global_namespace={})
    with provisionalcompleter():
        offered = {c.text for c in completer.completions("ue_magic.Cre", 12)}
        typing_names = {c.text for c in completer.completions("ue_magic.An", 11)}
    assert "Credentials" in offered
    assert "Any" not in typing_names
