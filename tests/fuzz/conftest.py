"""Hypothesis profiles for the fuzz tests: ``make test`` runs a short derandomized (fixed-seed)
run; ``make fuzz`` (``UE_FUZZ=long``) a long random one. Every example has a time budget
(``deadline``): past it, Hypothesis reports the input as a failure."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

_COMMON = {
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # each input: far more than any should take, even on a busy shared machine
    "deadline": timedelta(seconds=5),
}
settings.register_profile("short", derandomize=True, max_examples=40, database=None, **_COMMON)
settings.register_profile("long", max_examples=4000, database=None, **_COMMON)
settings.load_profile("long" if os.environ.get("UE_FUZZ") == "long" else "short")
