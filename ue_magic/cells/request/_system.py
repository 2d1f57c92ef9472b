"""System variables as REST Client and httpyac spell them: ``{{$guid}}``, ``{{$randomInt 1 9}}``...

Each is computed when the request is rendered (so every ``--each`` item gets its own). Only the
ones below exist; ``$processEnv`` and ``$dotenv`` stay out on purpose: they would let a cell read
the environment, the client secret included, and send it.
"""

from __future__ import annotations

import datetime as dt
import random
import shlex
import uuid
from collections.abc import Callable
from email.utils import format_datetime

SUPPORTED = (
    "$guid",
    "$uuid",
    "$timestamp [offset unit]",
    "$isoTimestamp",
    "$randomInt min max",
    "$datetime iso8601|rfc1123 [offset unit]",
    "$localDatetime iso8601|rfc1123 [offset unit]",
)
_REFUSED = {
    "$processenv": "it would read the kernel's environment, where the client secret may be",
    "$dotenv": "it would read the .env file, where the client secret is",
}
#: offset units as REST Client writes them: y M w d h m s ms
_UNITS = {
    "y": dt.timedelta(days=365),
    "M": dt.timedelta(days=30),
    "w": dt.timedelta(weeks=1),
    "d": dt.timedelta(days=1),
    "h": dt.timedelta(hours=1),
    "m": dt.timedelta(minutes=1),
    "s": dt.timedelta(seconds=1),
    "ms": dt.timedelta(milliseconds=1),
}

SystemValue = Callable[[], object]


def system_variable(name: str, args_text: str) -> SystemValue:
    """The function that computes ``{{$name args}}``; ValueError (its message says what is
    wrong and what exists) for an unknown name or bad arguments."""
    try:
        args = shlex.split(args_text)
    except ValueError:
        raise ValueError(f"{name}: its arguments have an unclosed quote.") from None
    key = name.lower()
    if key in _REFUSED:
        raise ValueError(f"{name} is not supported: {_REFUSED[key]}. {_supported()}")
    if key in ("$guid", "$uuid"):
        _no_args(name, args)
        return lambda: str(uuid.uuid4())
    if key == "$isotimestamp":
        _no_args(name, args)
        return lambda: _now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if key == "$timestamp":
        offset = _offset(name, args)
        return lambda: int((_now() + offset).timestamp())
    if key == "$randomint":
        low, high = _bounds(name, args)
        return lambda: random.randrange(low, high)
    if key in ("$datetime", "$localdatetime"):
        if not args or args[0] not in ("iso8601", "rfc1123"):
            raise ValueError(
                f"{name} takes iso8601 or rfc1123 (custom formats are not supported),"
                f" then an optional offset such as 2 h. {_supported()}"
            )
        form, offset = args[0], _offset(name, args[1:])
        local = key == "$localdatetime"
        return lambda: _datetime(form, offset, local)
    raise ValueError(f"{name} is not a system variable ue-magic knows. {_supported()}")


def _supported() -> str:
    return "Supported: " + ", ".join("{{" + s + "}}" for s in SUPPORTED) + "."


def _no_args(name: str, args: list[str]) -> None:
    if args:
        raise ValueError(f"{name} takes no arguments. {_supported()}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _offset(name: str, args: list[str]) -> dt.timedelta:
    if not args:
        return dt.timedelta()
    if len(args) == 2 and args[1] in _UNITS:
        try:
            offset = int(args[0]) * _UNITS[args[1]]
            _now() + offset  # a date before year 1 or after 9999 cannot be written
            return offset
        except OverflowError:
            raise ValueError(
                f"{name}: an offset of {args[0]} {args[1]} leaves the years 1 to 9999; "
                "give a smaller one."
            ) from None
        except ValueError:
            pass
    raise ValueError(
        f"{name}: an offset is a whole number and a unit ({' '.join(_UNITS)}), such as -1 d."
    )


def _bounds(name: str, args: list[str]) -> tuple[int, int]:
    try:
        low, high = (int(a) for a in args)
    except ValueError:
        low = high = 0
    if len(args) != 2 or low >= high:
        raise ValueError(f"{name} takes min and max, whole numbers with min < max (1 100).")
    return low, high


def _datetime(form: str, offset: dt.timedelta, local: bool) -> str:
    moment = _now() + offset
    if local:
        moment = moment.astimezone()
    if form == "rfc1123":
        return format_datetime(moment, usegmt=not local)
    text = moment.isoformat(timespec="seconds")
    return text if local else text.replace("+00:00", "Z")
