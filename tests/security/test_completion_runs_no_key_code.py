"""Completing ``{{name.`` runs none of the user's code through keys and classes (break8 M2):
a dict key that is a ``str`` subclass (its ``startswith``, ``isidentifier``, ``__eq__``), a key
whose hash equals the typed name's (its ``__eq__``), a metaclass ``__subclasscheck__`` reached
through the ``Mapping`` check, a metaclass property named ``__name__`` (``--each``)."""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from ue_magic.cells.openapi import CompletionContext, complete

RAN: list[str] = []


class Sly(str):
    __hash__ = str.__hash__

    def startswith(self, *args: Any) -> bool:  # type: ignore[override]
        RAN.append("startswith")
        return True

    def isidentifier(self) -> bool:
        RAN.append("isidentifier")
        return True

    def __eq__(self, other: object) -> bool:
        RAN.append("Sly.__eq__")
        return str.__eq__(self, other)  # type: ignore[operator]


class SameHash:
    """A key whose hash is a name's: a lookup of that name compares it (``__eq__``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        RAN.append("SameHash.__eq__")
        return False


class LoudMeta(ABCMeta):
    def __subclasscheck__(cls, sub: type) -> bool:
        RAN.append("__subclasscheck__")
        return False


class OwnMapping(Mapping[str, Any], metaclass=LoudMeta):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class NameMeta(type):
    @property
    def __name__(cls) -> str:  # type: ignore[override]
        RAN.append("metaclass __name__")
        return "DataFrame"

    @property
    def __module__(cls) -> str:  # type: ignore[override]
        RAN.append("metaclass __module__")
        return "pandas"


class Odd(metaclass=NameMeta):
    pass


class Bare:
    pass


class Plain:
    def __init__(self) -> None:
        self.shown = 1


def offered(text: str, namespace: dict[str, Any]) -> list[str]:
    options = {"ue_call": {"--each": True}}
    context = CompletionContext(lambda profile: None, namespace=namespace, options=options)
    found = complete(text, len(text), context)
    return [c.text for c in found.candidates] if found else []


def namespace() -> dict[str, Any]:
    assert OwnMapping  # a Mapping subclass with a loud metaclass exists while completing
    odd = Odd()
    odd.shown = 2  # type: ignore[attr-defined]
    own = Bare()
    own.__dict__[Sly("sneaky")] = 1
    own.__dict__[SameHash("shown")] = 2  # type: ignore[index]
    own.shown = 1  # type: ignore[attr-defined]  # after the colliding key: a lookup meets it
    return {
        "d_str": {Sly("alpha"): 1, "gamma": {"x": 1}, Sly("inner"): 3},
        "d_hash": {SameHash("inner"): 0, "inner": {"x": 1}},
        "plain": Plain(),
        "odd": odd,
        "own": own,
        "rows": [odd],
        Sly("sly_name"): 1,
    }


BODY = '%%ue_call POST /x\n{"a": "{{'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BODY + "d_str.", ["gamma"]),  # a str subclass key is not offered
        (BODY + "d_str.gamma.", ["x"]),
        (BODY + "d_str.inner.", []),  # nor stepped into
        (BODY + "d_hash.inner.", ["x"]),  # found without comparing the other key
        (BODY + "plain.", ["shown"]),
        (BODY + "odd.", ["shown"]),
        (BODY + "own.", ["shown"]),
        (BODY + "own.shown.", ["denominator", "imag", "numerator", "real"]),  # an int's
        (BODY + "s", []),
        ('%%ue_call POST /x --each rows\n{"a": "{{item.', ["shown"]),
        ("%%ue_call POST /x --each r", ["rows"]),
        ("%%ue_call POST /x --each o", []),
    ],
)
def test_keys_and_classes_run_no_user_code(text: str, expected: list[str]) -> None:
    names = namespace()  # building it compares keys: that is the test's own code
    RAN.clear()
    assert offered(text, names) == expected
    assert RAN == []
