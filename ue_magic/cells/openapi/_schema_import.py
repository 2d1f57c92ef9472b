"""Importing jsonschema without building a grammar for a format the body checks never use.

``import jsonschema`` registers its format checkers, and with ``rfc3987-syntax`` installed
(JupyterLab brings it: jupyter-events needs ``jsonschema[format-nongpl]``) that means building
Earley parsers for RFC 3987 at import: over a second of CPU, nine tenths of the import, which
the first checked body used to pay. The body checks pass no format checker, so they never need
it. While jsonschema is imported here, ``rfc3987_syntax`` is a stand-in whose functions load
the real module at their first call: jsonschema's ``iri`` checks behave as before, for every
user in the process; only the grammar is built when first used, not at import.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

# module -> the functions jsonschema takes from it with ``from module import name``
DEFERRED: dict[str, tuple[str, ...]] = {"rfc3987_syntax": ("is_valid_syntax",)}
_importing = threading.Lock()


def import_jsonschema() -> types.ModuleType:
    """``jsonschema``, imported once with the modules of ``DEFERRED`` loaded at first use.

    Safe from any thread: an import under way in another thread is waited for (by Python's
    own per-module import lock), never seen half done. Raises ImportError when jsonschema is
    not installed.
    """
    if "jsonschema" not in sys.modules:
        with _importing:
            if "jsonschema" not in sys.modules:
                _import_deferring()
    import jsonschema
    import jsonschema.exceptions
    import jsonschema.validators  # what the checks use, imported here once

    return jsonschema


def _import_deferring() -> None:
    stand_ins = {}
    for name, functions in DEFERRED.items():
        spec = _spec(name) if name not in sys.modules else None
        if spec is not None:
            stand_ins[name] = _stand_in(spec, functions)
    sys.modules.update(stand_ins)
    try:
        import jsonschema  # noqa: F401
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:  # a later import gets the real module
                del sys.modules[name]


def _spec(name: str) -> Any:
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _stand_in(spec: Any, functions: tuple[str, ...]) -> types.ModuleType:
    """A module that stands for the one of ``spec``, with its import attributes (``__path__``,
    ``__file__``: an import's own look-ups load nothing) but not run: its ``functions`` load the
    real module when first called; any other attribute loads it at once."""
    name = spec.name
    module = importlib.util.module_from_spec(spec)  # made, not executed
    real: list[types.ModuleType] = []
    loading = threading.Lock()

    def load() -> types.ModuleType:
        with loading:
            if not real:
                if sys.modules.get(name) is module:
                    del sys.modules[name]
                real.append(importlib.import_module(name))
        return real[0]

    def deferred(function: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(load(), function)(*args, **kwargs)

        call.__name__ = call.__qualname__ = function
        return call

    for function in functions:
        setattr(module, function, deferred(function))
    module.__getattr__ = lambda attribute: getattr(load(), attribute)  # type: ignore[method-assign]
    return module
