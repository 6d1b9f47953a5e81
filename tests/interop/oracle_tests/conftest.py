"""Hypothesis profiles for the in-oracle differential tests (see ``test_merge_parity.py``)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "database": None,  # no .hypothesis directory in the repo; every run is fresh
    "print_blob": True,  # a failure prints the blob that reproduces it
}
# test_merge_parity: 10 000 generated merges (the timeframe tests fix their own counts).
settings.register_profile("parity", max_examples=10_000, **_COMMON)
settings.register_profile("quick", max_examples=300, **_COMMON)
