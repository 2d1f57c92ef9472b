"""Answers as pandas DataFrames: ``--df``, the ``dataframe`` setting and ``BulkResult.to_frame``.

The rows are the answer's list of objects, found as ``--table`` finds it (the answer itself, or
the list in ``{"meters": [...]}``); nested objects become dotted columns (``aggregation.type``,
by ``pandas.json_normalize``), in the order of the answer's keys (an object with an ``id`` is one
record, not a list); lists stay whole in their cells;
a column becomes pandas datetimes (UTC) where the API description declares it ``format:
date-time`` or where every value is an RFC 3339 date-time with its offset (an id-like column,
a number or a date alone never is), all in microseconds. A literal key with a dot that a nested
field's name would equal keeps its value as ``a.b (key)``; of several lists of objects, the rows
are the first, and a note says so. pandas is the ``explore`` extra, imported here on first use
only, so ``%load_ext`` never pays for it. Pure: no IPython.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

from .._extras import missing_extra
from ..errors import UsageEngineError
from .table import find_records

__all__ = ["answer_value", "as_frame", "bulk_frame", "pandas", "records_of"]

_ORDER_ROWS = 1000  # rows whose keys set the order of the columns
_NAMED = 12  # keys or columns named in a message
# RFC 3339 date-time: a date, a time and an offset (without one, the time's zone is unknown)
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
# an id-like column (id, meterId, meter_id, aggregation.id): its text stays as it is
_ID = re.compile(r"(?:^|[._])[Ii][Dd]$|[a-z]Id$|ID$")
# the columns of a bulk frame that are the run's own, not the answer's
RUN_COLUMNS = ("outcome", "status", "why")

Declared = Callable[[str | None], Collection[str]]  # list key -> fields declared date-time


def pandas(needed_by: str = "--df") -> Any:
    """The pandas module, or UsageEngineError: one sentence that names the extra and the command
    that installs it where ue-magic is installed (an index, a checkout, a wheel)."""
    try:
        import pandas as pd
    except ImportError:
        raise UsageEngineError(missing_extra("explore", needed_by, "pandas")) from None
    return pd


def records_of(body: Any) -> tuple[str | None, list[Any]] | None:
    """The list of objects in ``body``, as ``--table`` finds it, with its key (None: the body
    itself); an empty list counts too (no rows). None if there is none, and for an object with
    an ``id``: that is one record (a meter type), whose lists (its thresholds) are not the
    answer's list."""
    if isinstance(body, dict) and "id" in body:
        return None
    found = find_records(body, sys.maxsize)  # every row an object, not only those shown
    if found is not None:
        return found
    if isinstance(body, list) and not body:
        return None, body
    if isinstance(body, dict):
        for key, value in islice(body.items(), 1000):
            if isinstance(value, list) and not value:
                return str(key), value
    return None


def what_it_is(body: Any) -> str:
    """A few words on an answer that holds no list of objects."""
    if body is None:
        return "an empty body"
    if isinstance(body, dict):
        if not body:
            return "an empty object"
        keys = ", ".join(map(str, islice(body, _NAMED)))
        return f"an object with the keys {keys}{', …' if len(body) > _NAMED else ''}"
    if isinstance(body, list):
        kinds = sorted({_kind(value) for value in islice(body, 1000)})
        return f"a list of {len(body):,} values ({', '.join(kinds)}), not all objects"
    if isinstance(body, str):
        return f"text ({len(body):,} characters)"
    if isinstance(body, (bytes, bytearray)):
        return f"{len(body):,} bytes of binary data"
    return f"the JSON value {json.dumps(body, default=str)}"


def _kind(value: Any) -> str:
    kinds = {dict: "objects", list: "lists", str: "strings", bool: "booleans"}
    if value is None:
        return "nulls"
    return kinds.get(type(value), "numbers" if isinstance(value, (int, float)) else "values")


def as_frame(
    body: Any,
    *,
    columns: Sequence[str] | None = None,
    declared: Declared | None = None,
    strict: bool = True,
    needed_by: str = "--df",
) -> tuple[Any, list[str]]:
    """The DataFrame of ``body``'s list of objects, and notes to show (columns no row has).

    ``columns``: those columns, in this order (a name with dotted columns under it, such as
    ``aggregation``, picks them all); ``declared(key)``: the fields the API description
    declares date-time. A body without a list of objects raises UsageEngineError that says what
    it is (``strict``, as ``--df``), or comes back as it is (``strict=False``, as the setting).
    """
    found = records_of(body)
    if found is None:
        if not strict:
            return body, []
        raise UsageEngineError(
            f"--df needs a list of objects (the answer, or a list in it, as --table finds it), "
            f"but this answer is {what_it_is(body)}: nothing was converted, and the answer is in "
            "_ue."
        )
    key, records = found
    pd = pandas(needed_by)
    notes: list[str] = _other_lists(body, key)
    frame = flatten(pd, records, notes)
    if columns:
        frame, notes = _pick(frame, columns)
    names = set(declared(key)) if declared is not None else set()
    return _safe(_with_datetimes(pd, frame, names)), notes


def answer_value(
    body: Any,
    options: Any,
    method: str,
    path: str,
    description: Any = None,
) -> tuple[Any, list[str]]:
    """What ``-o`` and the returned value hold for a call's answer when ``options.frames``:
    the DataFrame (``--df``: or an error), or, with the setting alone, ``body`` unchanged when
    it holds no list of objects. ``description``: an ``openapi.Description`` or None."""
    declared = None
    if description is not None:
        from .openapi import date_time_fields

        def declared(key: str | None) -> Collection[str]:
            return date_time_fields(description, method, path, key)

    return as_frame(
        body,
        columns=options.columns,
        declared=declared,
        strict=options.df,
        needed_by="--df" if options.df else "UsageEngineMagics.dataframe = True",
    )


def _other_lists(body: Any, key: str | None) -> list[str]:
    """A note when the answer holds more than one list of objects: which one the rows are."""
    if key is None or not isinstance(body, dict):
        return []
    others = [str(k) for k, v in islice(body.items(), 1000) if str(k) != key and _objects(v)]
    if not others:
        return []
    names = ", ".join(f"`{name}`" for name in others[:_NAMED])
    return [
        f"The answer has more than one list of objects: the rows are `{key}` (the first); "
        f"not {names}. For another: pd.json_normalize(_ue.json()[{others[0]!r}])."
    ]


def _objects(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def flatten(pd: Any, records: Sequence[Any], notes: list[str] | None = None) -> Any:
    """``json_normalize``'d records, the columns in the order of the records' own keys (nested
    ones where their parent was, not at the end). A literal key with a dot whose column a
    nested field's would also be (``{"a.b": 1, "a": {"b": 2}}``) becomes ``a.b (key)``, with a
    note in ``notes``: both values are kept."""
    if not records:
        return pd.DataFrame(index=pd.RangeIndex(0))
    # flattened with a separator no key holds, so a literal "a.b" and a nested a -> b stay apart
    frame = pd.json_normalize(list(records), sep=_SEP)
    order: dict[str, int] = {}
    for row in islice(records, _ORDER_ROWS):
        for name in row:
            order.setdefault(str(name), len(order))
    paths = [str(c) for c in frame.columns]
    ordered = sorted(  # stable sort, by the top-level key
        range(len(paths)), key=lambda i: order.get(paths[i].split(_SEP, 1)[0], len(order))
    )
    if ordered != sorted(ordered):
        frame = frame.iloc[:, ordered].copy()
        paths = [paths[i] for i in ordered]
    frame.columns = _dotted(paths, notes if notes is not None else [])
    return frame


_SEP = "\x00"  # between nested keys while flattening (a key holding NUL is all but unheard of)
_KEY_MARK = " (key)"  # after a literal dotted key whose column a nested field's would be


def _dotted(paths: Sequence[str], notes: list[str]) -> list[str]:
    """The dotted column names of flattened ``paths``; a path with a literal dot whose name a
    nested path also has gets `` (key)`` after it, and a note."""
    names = [path.replace(_SEP, ".") for path in paths]
    if not any("." in path for path in paths):  # no literal dot: no clash (most answers)
        return names
    counts = Counter(names)
    for i, path in enumerate(paths):
        if counts[names[i]] > 1 and "." in path:
            notes.append(
                f"The key `{names[i]}` has the same dotted name as a nested field: its column is "
                f"`{names[i]}{_KEY_MARK}`, the nested field's `{names[i]}`."
            )
            names[i] += _KEY_MARK
    return names


def _pick(frame: Any, columns: Sequence[str]) -> tuple[Any, list[str]]:
    chosen: list[str] = []
    missing: list[str] = []
    for name in columns:
        under = [c for c in frame.columns if c.startswith(name + ".")]
        if name in frame.columns or not under:
            chosen.append(name)
            if name not in frame.columns:
                missing.append(name)
        else:
            chosen += under
    notes = []
    if missing and len(frame):
        names = ", ".join(f"`{n}`" for n in missing)
        has = ", ".join(map(str, frame.columns[:_NAMED]))
        more = ", …" if len(frame.columns) > _NAMED else ""
        notes.append(f"No row has {names}: an empty column. The rows have: {has}{more}.")
    return frame.reindex(columns=list(dict.fromkeys(chosen))), notes


def _with_datetimes(pd: Any, frame: Any, declared: Collection[str]) -> Any:
    """Columns declared date-time, or whose every value is an RFC 3339 date-time (an id-like
    column aside), as UTC datetimes in microseconds (one unit, nulls alone too); a column
    whose values do not all parse is left as it is, never half-converted."""
    for position, column in enumerate(frame.columns):  # by position: names may repeat
        series = frame.iloc[:, position]
        if column in declared or (not _ID.search(str(column)) and _all_stamps(pd, series)):
            try:
                converted = pd.to_datetime(series, utc=True, format="ISO8601").dt.as_unit("us")
            except (ValueError, TypeError, OverflowError):
                continue
            frame.isetitem(position, converted)
    return frame


def _all_stamps(pd: Any, series: Any) -> bool:
    """Is every value (nulls aside, at least one) an RFC 3339 date-time string? The first
    value decides most columns; the rest are checked vectorised."""
    types = pd.api.types
    if not (types.is_object_dtype(series) or types.is_string_dtype(series)):
        return False
    values = series.dropna()
    if values.empty:
        return False
    first = values.iloc[0]
    if not isinstance(first, str) or _STAMP.fullmatch(first) is None:
        return False
    if types.infer_dtype(values, skipna=True) != "string":
        return False
    return bool(values.str.fullmatch(_STAMP.pattern).all())


def bulk_frame(result: Any) -> Any:
    """One row per item of an ``--each`` run (a ``BulkResult``: its ``items``, ``fields`` and
    ``outcomes()``), in input order (the index is the item's).

    Columns: the item (``item``), or the fields the template used (``item.user``), or a dict
    item's fields when the template used it whole; ``outcome`` (ok, failed, not sent),
    ``status`` (None when there was no answer), ``why`` (for an item without an answer: why);
    then the fields of each body (an ok answer's, when the run kept them: with ``-o`` or
    ``--df``; a failure's error body). A body field named like one of those gets ``body.``
    before its name. Raises UsageEngineError naming the extra when pandas is missing.
    """
    pd = pandas("to_frame()")
    rows = list(result.outcomes())
    items = _item_frame(pd, result.items, result.fields)
    run = pd.DataFrame(
        {
            "outcome": [row[0] for row in rows],
            "status": pd.array([row[1] for row in rows], dtype="Int64"),
            "why": pd.Series([row[2] for row in rows], dtype=object),  # None, not NaN
        }
    )
    bodies = [row[3] for row in rows]
    answers = flatten(pd, [body if isinstance(body, Mapping) else {} for body in bodies])
    if any(body is not None and not isinstance(body, Mapping) for body in bodies):
        answers["body"] = [None if isinstance(body, Mapping) else body for body in bodies]
    ours = {*items.columns, *RUN_COLUMNS}
    answers = answers.rename(columns={c: f"body.{c}" for c in answers.columns if c in ours})
    answers = _with_datetimes(pd, answers, ())
    return _safe(pd.concat([items, run, answers], axis=1))


def _safe(frame: Any) -> Any:
    """The frame shown with the server's control characters escaped (``answer_frame``)."""
    from .answer_frame import shown_safely

    return shown_safely(frame)


def _item_frame(pd: Any, items: Sequence[Any], fields: Iterable[str | int]) -> Any:
    fields = list(fields)
    if fields:
        return pd.DataFrame(
            {_item_column(key): [_field(item, key) for item in items] for key in fields},
            index=pd.RangeIndex(len(items)),
        )
    if items and all(isinstance(item, Mapping) for item in items):
        flat = flatten(pd, items)
        return flat.rename(columns={c: f"item.{c}" for c in flat.columns})
    return pd.DataFrame({"item": pd.Series(list(items), dtype=object)})


def _item_column(key: str | int) -> str:
    return f"item[{key}]" if isinstance(key, int) else f"item.{key}"


def _field(item: Any, key: str | int) -> Any:
    try:
        return item[key]
    except (KeyError, IndexError, TypeError):
        return getattr(item, str(key), None)
