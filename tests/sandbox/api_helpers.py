"""Helpers shared by the sandbox API tests: the example body, tokens, clients, records."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from ue_magic.sandbox import Sandbox

TYPES = "usage-metering/v1/meter-types"
METERS = "usage-metering/v1/meters"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
EXAMPLE_TYPE: dict[str, Any] = {
    "name": "api-calls",
    "description": "API calls per user",
    "unit": "calls",
    "category": "DEFAULT",
    "aggregation": {"type": "sum"},
    "resetSchedule": {"day": "1", "hour": "0", "minute": "0", "month": "*", "weekday": "*"},
    "timezone": "Etc/UTC",
    "capacity": 10000,
    "thresholds": [
        {"name": "90 percent", "capacityPercentage": 90, "customFields": {}},
        {"name": "hard limit", "absoluteValue": 10000, "customFields": {}},
    ],
}


def get_token(sb: Sandbox, client_id: str | None = None, secret: str | None = None) -> str:
    fields = {
        "grant_type": "client_credentials",
        "client_id": client_id or sb.client_id,
        "client_secret": secret or sb.client_secret,
        "audience": sb.base_url,
    }
    with httpx.Client(verify=False) as http:
        response = http.post(sb.token_url, data=fields)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def client_for(sb: Sandbox, token: str | None) -> httpx.Client:
    """verify=False: plain http on loopback, so skip loading CA certificates (25 ms a client)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=sb.base_url, headers=headers, timeout=10, verify=False)


def new_type(api: httpx.Client, **changes: Any) -> dict[str, Any]:
    body = {**EXAMPLE_TYPE, "name": f"t-{uuid.uuid4().hex[:8]}", **changes}
    response = api.post(TYPES, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def new_meter(api: httpx.Client, type_id: str, **changes: Any) -> dict[str, Any]:
    body = {"userId": "u-1", "meterKey": f"k-{uuid.uuid4().hex[:8]}", "meterTypeId": type_id}
    response = api.post(METERS, json={**body, **changes})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
