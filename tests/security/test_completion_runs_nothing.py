"""Completing ``{{name.`` reads attributes statically: a ``__slots__`` object's ``__getattr__``,
a property named ``__dict__``, a ``__class__`` property and a non-dict ``Mapping``'s ``.get``
never run, yet the data the object holds is still offered."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from tests.openapi.test_complete_namespace import completions

RAN: list[str] = []


class Slotted:
    __slots__ = ("a", "unset")

    def __init__(self) -> None:
        self.a = {"inner": 1}

    def __getattr__(self, name: str) -> Any:
        RAN.append(f"__getattr__({name})")
        raise AttributeError(name)


class WeirdDict:
    def __init__(self) -> None:
        self.b = {"deep": 2}

    @property  # type: ignore[misc]
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        RAN.append("property __dict__")
        return {"b": {"deep": 2}}

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        RAN.append("property __class__")
        return dict


class LoudMapping(Mapping[str, Any]):
    keys_seen: ClassVar[list[str]] = []

    def __getitem__(self, key: str) -> Any:
        RAN.append("__getitem__")
        return {"x": 1}

    def get(self, key: str, default: Any = None) -> Any:
        RAN.append(".get")
        return {"x": 1}

    def __iter__(self) -> Iterator[str]:
        RAN.append("__iter__")
        return iter(["m"])

    def __len__(self) -> int:
        RAN.append("__len__")
        return 1


def test_completion_runs_no_getattr_no_dict_property_no_mapping_get(ip: Any) -> None:
    RAN.clear()
    ip.user_ns.update(sl=Slotted(), wp=WeirdDict(), lm=LoudMapping(), box={"lm": LoudMapping()})
    slot_names = completions(ip, "%ue_call GET /x/{{sl.")
    inside_slot = completions(ip, "%ue_call GET /x/{{sl.a.")
    completions(ip, "%ue_call GET /x/{{sl.unset.")
    completions(ip, "%ue_call GET /x/{{wp.b.")
    completions(ip, "%ue_call GET /x/{{wp.")
    completions(ip, "%ue_call GET /x/{{lm.m.")
    completions(ip, "%ue_call GET /x/{{lm.")
    completions(ip, "%ue_call GET /x/{{box.lm.x.")
    assert RAN == []
    assert "a" in slot_names  # a slot's value is data: it is offered and stepped into
    assert inside_slot == ["inner"]
