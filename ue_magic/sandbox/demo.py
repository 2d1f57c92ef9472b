"""Demo data for a fresh sandbox (`ue-sandbox --demo-data`, `start(demo_data=True)`): a few
meter types in the shapes of DigitalRoute's examples, a few hundred meters, and usage for them
(recorded as the sandbox starts), so that values and thresholds look like a service in use.
Seeded: the same every time."""

from __future__ import annotations

import random
from typing import Any

from .metering import Usage
from .store import Store

MONTHLY = {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"}
DEMO_TYPES: list[dict[str, Any]] = [
    {
        "name": "API Calls",
        "description": "API requests per customer and month",
        "unit": "calls",
        "category": "API Counts",
        "aggregation": {"type": "sum"},
        "resetSchedule": MONTHLY,
        "timezone": "Etc/UTC",
        "capacity": 10000,
        "thresholds": [
            {"name": "90 percent", "capacityPercentage": 90, "customFields": {}},
            {"name": "hard limit", "absoluteValue": 10000, "customFields": {}},
        ],
    },
    {
        "name": "Pay-Per-Print",
        "description": "Sheets printed per printer",
        "unit": "sheets",
        "category": "Printing",
        "aggregation": {"type": "sum"},
        "resetSchedule": {**MONTHLY, "day": "L", "hour": "23", "minute": "59"},
        "timezone": "Europe/Stockholm",
        "capacity": 5000,
        "thresholds": [
            {"name": "EMAIL_MAINTENANCE", "capacityPercentage": 90,
             "customFields": {"action": "EMAIL_MAINTENANCE"}},
        ],
    },
    {
        "name": "Logins",
        "description": "Sign-ins per user and day",
        "unit": "logins",
        "category": "DEFAULT",
        "aggregation": {"type": "increment"},
        "resetSchedule": {**MONTHLY, "day": "*"},
        "timezone": "Etc/UTC",
    },
    {
        "name": "Peak storage",
        "description": "Largest storage in use this month",
        "unit": "GB",
        "category": "Storage",
        "aggregation": {"type": "maximum"},
        "resetSchedule": MONTHLY,
        "timezone": "Etc/UTC",
        "capacity": 500,
        "thresholds": [{"name": "quota", "absoluteValue": 500, "customFields": {}}],
    },
]  # fmt: skip
USERS_PER_TYPE = 75
DEMO_METER_KEY = "demo"


def load_demo_data(store: Store, seed: int = 13) -> dict[str, int]:
    """Adds the demo types, meters and usage to `store`; returns how many of each."""
    rng = random.Random(seed)
    meters = records = 0
    for body in DEMO_TYPES:
        meter_type = store.create_type(body)
        usages: list[Usage] = []
        for number in range(1, USERS_PER_TYPE + 1):
            user = f"customer-{number:03d}"
            store.create_meter(
                {"userId": user, "meterKey": DEMO_METER_KEY, "meterTypeId": meter_type["id"],
                 "customFields": {"plan": rng.choice(["free", "standard", "enterprise"])}}
            )  # fmt: skip
            meters += 1
            for _ in range(rng.randint(0, 6)):
                usages.append(_usage(rng, user, meter_type))
        records += len(usages)
        store.record_usage(usages)
    return {"meterTypes": len(DEMO_TYPES), "meters": meters, "usageRecords": records}


def _usage(rng: random.Random, user: str, meter_type: dict[str, Any]) -> Usage:
    capacity = meter_type.get("capacity") or 100
    value = round(rng.uniform(0, capacity / 4), 1)
    return Usage(
        value=value,
        timestamp=None,
        user_id=user,
        meter_key=DEMO_METER_KEY,
        meter_type_id=meter_type["id"],
    )
