"""Shared test helpers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "data"  # frames captured from Freqtrade 2026.9


@pytest.fixture
def samples() -> Path:
    """The captured Freqtrade 2026.9 wire frames (``tests/data``, see its README)."""
    return SAMPLES


@pytest.fixture
def python3_kernelspec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``python3`` kernelspec running this interpreter (found through ``JUPYTER_PATH``)."""
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return tmp_path
