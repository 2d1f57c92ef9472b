"""Reading a user's object for completion without running any of its code.

``getattr``, ``dir()``, ``object.__dir__`` and even ``inspect.getattr_static`` look up
``__dict__`` through the object, which runs a property named ``__dict__`` or, on a ``__slots__``
object, its ``__getattr__``. Here the instance dict is read through the C-level descriptor that
``type`` made for it, class dicts through ``type``'s own, and slots through their member
descriptors: no descriptor, ``__getattr__``, ``__dir__``, ``__class__`` or ``.get`` of the user's
runs. Keys are never compared with a user's object either: a key that is a ``str`` subclass,
or whose hash equals the name's, would run its ``__eq__`` in a dict lookup; classes are matched
by identity in their MRO, never by ``issubclass`` on an ABC (a metaclass's
``__subclasscheck__``) nor by ``__name__`` (a metaclass property).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from itertools import repeat
from operator import is_
from typing import Any

__all__ = ["MISSING", "attribute", "attribute_names", "inherits", "is_routine", "lookup"]

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


def inherits(kind: type, base: type) -> bool:
    """Whether ``base`` is in ``kind``'s MRO (read through ``type``'s own descriptor; compared
    by identity): no metaclass ``__subclasscheck__``, ``__mro__`` or ``__eq__`` runs. A class
    only registered with an ABC is not counted."""
    return any(klass is base for klass in _CLASS_MRO.__get__(kind))


def lookup(mapping: Any, name: str, default: Any = MISSING) -> Any:
    """``mapping[name]`` (a ``dict``, of any subclass, or a class's mappingproxy), ``default``
    if absent, without running any key's code: when every key is exactly ``str`` (checked in
    C) the dict's own lookup compares only strings; otherwise the exact-``str`` keys are
    scanned (a ``str`` subclass or a key hashing like ``name`` would have its ``__eq__`` run)."""
    proxy = type(mapping) is types.MappingProxyType
    keys = mapping.keys() if proxy else dict.keys(mapping)
    if all(map(is_, map(type, keys), repeat(str))):
        return mapping.get(name, default) if proxy else dict.get(mapping, name, default)
    for key, found in mapping.items() if proxy else dict.items(mapping):
        if type(key) is str and key == name:
            return found
    return default


def _routine(kind: type) -> bool:
    # by identity: ``in`` on a tuple would run a user metaclass's ``__eq__``
    return any(kind is routine for routine in _ROUTINES)


def _classes(value: object) -> Iterator[Any]:
    """The class dicts of ``type(value)``'s MRO (``type()``: the real class, not ``__class__``)."""
    for klass in _CLASS_MRO.__get__(type(value)):
        yield _CLASS_DICT.__get__(klass)


def _instance_dict(value: object) -> dict[str, Any]:
    """The object's own ``__dict__`` through the getset descriptor ``type`` made, {} if none."""
    for namespace in _classes(value):
        found = lookup(namespace, "__dict__")
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
    found = lookup(_instance_dict(value), name)
    if found is not MISSING:
        return found
    for namespace in _classes(value):
        found = lookup(namespace, name)
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
    found = lookup(_instance_dict(value), name)
    if found is not MISSING:
        return _routine(type(found))
    for namespace in _classes(value):
        found = lookup(namespace, name)
        if found is not MISSING:
            return _routine(type(found))
    return False
