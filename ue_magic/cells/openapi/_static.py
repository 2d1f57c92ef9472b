"""Reading a user's object for completion without running any of its code.

``getattr``, ``dir()``, ``object.__dir__`` and even ``inspect.getattr_static`` look up
``__dict__`` through the object, which runs a property named ``__dict__`` or, on a ``__slots__``
object, its ``__getattr__``. Here the instance dict is read through the C-level descriptor that
``type`` made for it, class dicts through ``type``'s own, and slots through their member
descriptors: no descriptor, ``__getattr__``, ``__dir__``, ``__class__`` or ``.get`` of the user's
runs.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

__all__ = ["MISSING", "attribute", "attribute_names", "is_routine"]

MISSING: Any = object()
_CLASS_DICT = type.__dict__["__dict__"]  # type's own: a mappingproxy, no metaclass code
_CLASS_MRO = type.__dict__["__mro__"]
_ROUTINES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
    classmethod,
    staticmethod,
)


def _classes(value: object) -> Iterator[Any]:
    """The class dicts of ``type(value)``'s MRO (``type()``: the real class, not ``__class__``)."""
    for klass in _CLASS_MRO.__get__(type(value)):
        yield _CLASS_DICT.__get__(klass)


def _instance_dict(value: object) -> dict[str, Any]:
    """The object's own ``__dict__`` through the getset descriptor ``type`` made, {} if none."""
    for namespace in _classes(value):
        found = namespace.get("__dict__")
        if type(found) is types.GetSetDescriptorType:
            try:
                own = found.__get__(value)
            except (AttributeError, TypeError):
                return {}
            return own if type(own) is dict else {}
    return {}


def attribute(value: object, name: str) -> Any:
    """``value.name`` when it is data the object holds (its own ``__dict__`` or a slot), else
    ``MISSING``: a property, ``__getattr__`` or any other descriptor is never run."""
    own = _instance_dict(value)
    if name in own:
        return own[name]
    for namespace in _classes(value):
        found = namespace.get(name, MISSING)
        if found is MISSING:
            continue
        if type(found) is types.MemberDescriptorType:  # a __slots__ entry: read in C
            try:
                return found.__get__(value)
            except AttributeError:  # declared, never set
                return MISSING
        return MISSING
    return MISSING


def attribute_names(value: object) -> list[str]:
    """The names of the object's own attributes, its slots and its class's attributes."""
    names = dict.fromkeys(key for key in _instance_dict(value) if type(key) is str)
    for namespace in _classes(value):
        for key in namespace:
            if type(key) is str:
                names[key] = None
    return list(names)


def is_routine(value: object, name: str) -> bool:
    """Whether ``value.name`` is a method or function (found statically, see ``attribute``)."""
    own = _instance_dict(value)
    if name in own:
        return type(own[name]) in _ROUTINES
    for namespace in _classes(value):
        found = namespace.get(name, MISSING)
        if found is not MISSING:
            return type(found) in _ROUTINES
    return False
