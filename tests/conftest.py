"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "samples"


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"reference samples not found at {SAMPLES} (../shared next to the repo)")
    return SAMPLES
