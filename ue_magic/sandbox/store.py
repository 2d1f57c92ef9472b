"""In-memory meter types and meters, safe to touch from the server thread and a test thread.

Stored records are never mutated once published: an update stores a new dict. So a list answer
can be serialised outside the lock from a snapshot of references. Meters, the big lists, are
also kept JSON-encoded, so listing 80,000 of them is a join of bytes, not a json.dumps.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import metering
from .errors import ConflictError, NotFoundError, ValidationError
from .schedule import next_reset
from .timefmt import format_ts, parse_ts, utcnow
from .validate import (
    METER_EDITABLE,
    Fields,
    merge_patch,
    meter_fields,
    meter_type_fields,
    meter_update_fields,
)

Record = dict[str, Any]
_INHERITED = ("unit", "aggregation", "capacity", "thresholds", "resetSchedule", "timezone")


class Store:
    def __init__(self, account_id: str, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.account_id = account_id
        self._clock = clock
        self._lock = threading.Lock()
        self._types: dict[str, Record] = {}
        self._meters: dict[str, Record] = {}
        self._meter_json: dict[str, bytes] = {}  # meter id -> its JSON, in creation order
        self._meters_by_type: dict[str, dict[str, bytes]] = {}
        self._meter_keys: set[tuple[str, str, str]] = set()
        self._refs: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._next_due: datetime | None = None  # the earliest periodEnd of any meter
        self._metered: set[str] = set()  # meters that had a usage record in this period

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Where "now" comes from (resets happen when it passes a meter's periodEnd)."""
        with self._lock:
            self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    # meter types

    def create_type(self, body: object) -> Record:
        fields = meter_type_fields(body)
        now = format_ts(self._clock())
        record = {"id": str(uuid.uuid4()), "accountId": self.account_id, **fields}
        record.update(activeFrom=fields["activeFrom"] or now, createdAt=now, updatedAt=now)
        with self._lock:
            self._claim_ref(record["externalRef"], record["id"])
            self._types[record["id"]] = record
            self._meters_by_type[record["id"]] = {}
            return self._public_type(record)

    def list_types(self, name: str | None = None) -> list[Record]:
        with self._lock:
            self._roll()
            return [
                self._public_type(t)
                for t in self._types.values()
                if name is None or t["name"] == name
            ]

    def get_type(self, type_id: str) -> Record:
        with self._lock:
            self._roll()
            return self._public_type(self._type(type_id))

    def replace_type(self, type_id: str, body: object) -> Record:
        return self._update_type(type_id, lambda _current: body)

    def patch_type(self, type_id: str, patch: object) -> Record:
        if not isinstance(patch, dict):
            raise ValidationError("body", "body must be a JSON object")
        return self._update_type(type_id, lambda current: merge_patch(current, patch))

    def _update_type(self, type_id: str, new_body: Callable[[Fields], object]) -> Record:
        with self._lock:
            current = self._type(type_id)
            editable = {k: v for k, v in current.items() if k not in _READ_ONLY}
            fields = meter_type_fields(new_body(editable))
            record = {**current, **fields, "updatedAt": format_ts(self._clock())}
            record["activeFrom"] = fields["activeFrom"] or current["createdAt"]
            if record["externalRef"] != current["externalRef"]:
                self._claim_ref(record["externalRef"], type_id)
                self._refs.pop(current["externalRef"], None)
            self._types[type_id] = record
            return self._public_type(record)

    def delete_type(self, type_id: str) -> None:
        with self._lock:
            self._roll()
            record = self._type(type_id)
            count = len(self._meters_by_type[type_id])
            if count:
                raise ConflictError(
                    f"meter type {type_id} still has {count} meters; delete them first", field="id"
                )
            del self._types[type_id], self._meters_by_type[type_id]
            self._refs.pop(record["externalRef"], None)

    def _type(self, type_id: str) -> Record:
        record = self._types.get(type_id)
        if record is None:
            raise NotFoundError(f"meter type {type_id} not found")
        return record

    def _public_type(self, record: Record) -> Record:
        return {**record, "numberOfMeters": len(self._meters_by_type[record["id"]])}

    def _claim_ref(self, ref: str | None, type_id: str) -> None:
        if ref is None:
            return
        owner = self._refs.get(ref)
        if owner is not None and owner != type_id:
            raise ConflictError(f"externalRef {ref!r} is already used", field="externalRef")
        self._refs[ref] = type_id

    # meters

    def create_meter(self, body: object) -> Record:
        fields = meter_fields(body)
        with self._lock:
            meter_type = self._types.get(fields["meterTypeId"])
            if meter_type is None:
                raise ValidationError("meterTypeId", "meterTypeId is not an existing meter type")
            key = (meter_type["id"], fields["userId"], fields["meterKey"])
            if key in self._meter_keys:
                raise ConflictError(
                    "a meter with this meterTypeId, userId and meterKey exists", field="meterKey"
                )
            meter = self._new_meter(meter_type, fields, self._clock())
            self._add_meter(meter, key)
            self._note_due(meter)
            return meter

    def list_meters_json(
        self,
        meter_type_id: str | None = None,
        meter_key: str | None = None,
        user_id: str | None = None,
    ) -> list[bytes]:
        """The JSON of each meter that matches every filter given, in creation order."""
        with self._lock:
            self._roll()
            if meter_type_id is None:
                chosen = self._meter_json
            else:
                chosen = self._meters_by_type.get(meter_type_id, {})
            if meter_key is None and user_id is None:
                return list(chosen.values())
            return [
                encoded
                for meter_id, encoded in chosen.items()
                if (meter_key is None or self._meters[meter_id]["meterKey"] == meter_key)
                and (user_id is None or self._meters[meter_id]["userId"] == user_id)
            ]

    def get_meter(self, meter_id: str) -> Record:
        with self._lock:
            self._roll()
            return self._meter(meter_id)

    def replace_meter(self, meter_id: str, body: object) -> Record:
        """PUT: capacity and thresholds, which the meter inherited from its type, stay as they are
        when the body leaves them out (a body that only sets deleteOnReset must not drop them)."""

        def full(current: Fields) -> object:
            if not isinstance(body, dict):
                return body
            return {"capacity": current["capacity"], "thresholds": current["thresholds"], **body}

        return self._update_meter(meter_id, full)

    def patch_meter(self, meter_id: str, patch: object) -> Record:
        if not isinstance(patch, dict):
            raise ValidationError("body", "body must be a JSON object")
        return self._update_meter(meter_id, lambda current: merge_patch(current, patch))

    def _update_meter(self, meter_id: str, new_body: Callable[[Fields], object]) -> Record:
        with self._lock:
            self._roll()
            current = self._meter(meter_id)
            body = new_body({k: current[k] for k in METER_EDITABLE})
            if (
                isinstance(body, dict)
                and body.get("meterTypeId", current["meterTypeId"]) != (current["meterTypeId"])
            ):
                raise ValidationError("meterTypeId", "a meter cannot move to another meter type")
            fields = meter_update_fields(body)
            fields["thresholds"] = metering.keep_reached(
                current["thresholds"], current["capacity"], fields["thresholds"], fields["capacity"]
            )
            old_key = (current["meterTypeId"], current["userId"], current["meterKey"])
            new_key = (current["meterTypeId"], fields["userId"], fields["meterKey"])
            if new_key != old_key and new_key in self._meter_keys:
                raise ConflictError(
                    "a meter with this meterTypeId, userId and meterKey exists", field="meterKey"
                )
            meter = {**current, **fields, "updatedAt": format_ts(self._clock())}
            self._meter_keys.discard(old_key)
            self._add_meter(meter, new_key)
            return meter

    def record_usage(self, usages: list[metering.Usage]) -> dict[str, Any]:
        """Applies usage records in order, as the Meter processor would; answers what happened:
        `applied` and `skipped` counts (a record that matched no meter, or came late) and the
        meters it changed, as they are now."""
        applied = skipped = 0
        changed: dict[str, Record] = {}
        with self._lock:
            now = self._clock()
            self._roll(now)
            self._check_values(usages)  # all or nothing: a bad record must not leave half a batch
            for usage in usages:
                at = usage.timestamp or now
                targets = self._usage_targets(usage)
                if not targets:
                    skipped += 1
                for meter_id in targets:
                    meter = self._roll_one(self._meters[meter_id], max(at, now))
                    if meter is None or at < parse_ts(meter["periodStart"]):
                        skipped += 1
                        continue
                    first = meter_id not in self._metered
                    meter = metering.apply(meter, usage, at, first)
                    self._metered.add(meter_id)
                    self._store_meter(meter)
                    changed[meter_id] = meter
                    applied += 1
            changed = {k: v for k, v in changed.items() if k in self._meters}
        return {"applied": applied, "skipped": skipped, "meters": list(changed.values())}

    def _check_values(self, usages: list[metering.Usage]) -> None:
        for index, usage in enumerate(usages):
            if usage.value is not None:
                continue
            for meter_id in self._usage_targets(usage):
                kind = self._meters[meter_id]["aggregation"]["type"]
                if kind != "increment":
                    where = f"records[{index}].value"
                    raise ValidationError(
                        where, f"{where}: a record for a {kind} meter needs a value"
                    )

    def _usage_targets(self, usage: metering.Usage) -> list[str]:
        if usage.meter_id is not None:
            meter = self._meters.get(usage.meter_id)
            found = [] if meter is None else [usage.meter_id]
        else:
            found = [
                meter_id
                for meter_id, meter in self._meters.items()
                if meter["meterKey"] == usage.meter_key and meter["userId"] == usage.user_id
            ]
        if usage.meter_type_id is not None:
            found = [m for m in found if self._meters[m]["meterTypeId"] == usage.meter_type_id]
        if usage.category is not None:
            found = [m for m in found if self._category_of(self._meters[m]) == usage.category]
        return found

    def _category_of(self, meter: Record) -> str:
        category: str = self._types[meter["meterTypeId"]]["category"]
        return category

    def _roll(self, now: datetime | None = None) -> None:
        """Resets every meter whose period has ended (cheap when none has)."""
        now = now or self._clock()
        if self._next_due is None or now < self._next_due:
            return
        self._next_due = None
        for meter in list(self._meters.values()):
            self._roll_one(meter, now)

    def _roll_one(self, meter: Record, now: datetime) -> Record | None:
        after = metering.reset(meter, now)
        if after is meter:
            self._note_due(meter)
            return meter
        self._metered.discard(meter["id"])
        if after is None:
            self._remove_meter(meter["id"])
        else:
            self._store_meter(after)
        return after

    def _note_due(self, meter: Record) -> None:
        if meter["periodEnd"] is not None:
            end = parse_ts(meter["periodEnd"])
            if self._next_due is None or end < self._next_due:
                self._next_due = end

    def _store_meter(self, meter: Record) -> None:
        encoded = json.dumps(meter, separators=(",", ":")).encode()
        self._meters[meter["id"]] = meter
        self._meter_json[meter["id"]] = encoded
        self._meters_by_type[meter["meterTypeId"]][meter["id"]] = encoded
        self._note_due(meter)

    def delete_meter(self, meter_id: str) -> None:
        with self._lock:
            self._roll()
            self._meter(meter_id)
            self._remove_meter(meter_id)

    def _remove_meter(self, meter_id: str) -> None:
        meter = self._meters.pop(meter_id)
        del self._meter_json[meter_id], self._meters_by_type[meter["meterTypeId"]][meter_id]
        self._meter_keys.discard((meter["meterTypeId"], meter["userId"], meter["meterKey"]))
        self._metered.discard(meter_id)

    def seed_meters(self, n: int, meter_type_id: str | None = None) -> str:
        """Adds `n` meters quickly (benchmarks); makes a meter type when none is given."""
        if n < 0:
            raise ValueError("n must not be negative")
        if meter_type_id is None:
            meter_type_id = self.create_type(_seed_type(next(self._seq)))["id"]
        with self._lock:
            meter_type = self._type(meter_type_id)
            template = self._new_meter(meter_type, _SEED_FIELDS, self._clock())
            self._note_due(template)
            encode = _splicer(template, ("id", "userId", "meterKey"))
            for _ in range(n):
                number = next(self._seq)
                meter_id, user, key = str(uuid.uuid4()), f"user-{number % 1000}", f"seed-{number}"
                meter = {**template, "id": meter_id, "userId": user, "meterKey": key}
                self._add_meter(meter, (meter_type_id, user, key), encode(meter_id, user, key))
        return meter_type_id

    def clear(self) -> None:
        with self._lock:
            for mapping in (self._types, self._meters, self._meter_json, self._meters_by_type):
                mapping.clear()
            self._refs.clear()
            self._meter_keys.clear()
            self._metered.clear()
            self._next_due = None

    def _meter(self, meter_id: str) -> Record:
        meter = self._meters.get(meter_id)
        if meter is None:
            raise NotFoundError(f"meter {meter_id} not found")
        return meter

    def _add_meter(
        self, meter: Record, key: tuple[str, str, str], encoded: bytes | None = None
    ) -> None:
        if encoded is None:
            encoded = json.dumps(meter, separators=(",", ":")).encode()
        self._meters[meter["id"]] = meter
        self._meter_json[meter["id"]] = encoded
        self._meters_by_type[meter["meterTypeId"]][meter["id"]] = encoded
        self._meter_keys.add(key)

    @staticmethod
    def _new_meter(meter_type: Record, fields: Fields, now: datetime) -> Record:
        schedule = meter_type["resetSchedule"]
        period_end = next_reset(schedule, meter_type["timezone"], now) if schedule else None
        stamp = format_ts(now)
        return {
            "id": str(uuid.uuid4()),
            "meterTypeId": meter_type["id"],
            "meterTypeName": meter_type["name"],
            "userId": fields["userId"],
            "meterKey": fields["meterKey"],
            "value": 0,
            **{name: meter_type[name] for name in _INHERITED},
            "periodStart": stamp,
            "periodEnd": format_ts(period_end) if period_end else None,
            "customFields": fields["customFields"],
            "deleteOnReset": fields["deleteOnReset"],
            "createdAt": stamp,
            "updatedAt": stamp,
        }


_READ_ONLY = ("id", "accountId", "createdAt", "updatedAt", "numberOfMeters")
_SEED_FIELDS: Fields = {
    "userId": "",
    "meterKey": "",
    "customFields": {"plan": "standard"},
    "deleteOnReset": False,
}


def _seed_type(number: int) -> Record:
    return {
        "name": f"seed-{number}",
        "description": "meters made by seed_meters",
        "unit": "calls",
        "aggregation": {"type": "sum"},
        "resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"},
        "capacity": 10000,
        "thresholds": [{"name": "90 percent", "capacityPercentage": 90}],
    }


def _splicer(template: Record, names: tuple[str, ...]) -> Callable[..., bytes]:
    """Encodes `template` once, leaving holes for the values of `names` (plain ASCII strings
    that need no escaping): seeding 80,000 meters then costs a join each, not a json.dumps."""
    mark = uuid.uuid4().hex
    holes = {name: f"{mark}{i}" for i, name in enumerate(names)}
    text = json.dumps({**template, **holes}, separators=(",", ":"))
    pieces = [text]
    for hole in holes.values():
        pieces[-1:] = pieces[-1].split(hole)
    chunks = [piece.encode() for piece in pieces]

    def encode(*values: str) -> bytes:
        parts = [chunks[0]]
        for value, chunk in zip(values, chunks[1:], strict=True):
            parts += [value.encode(), chunk]
        return b"".join(parts)

    return encode
