"""``pc.backtest`` against Freqtrade 2026.9's own ``Backtesting``, trade for trade.

The differential test imports Freqtrade, so it runs inside the oracle venv: this test starts
``<oracle python> -m pytest tests/interop/oracle_tests/test_backtest_parity.py`` with
``PYTHONPATH=<repo>`` (1000 generated scenarios by default, see that file) and shows its output
if it fails. Run it alone with ``-m oracle -k backtest``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

ORACLE_TESTS = Path(__file__).resolve().parent / "oracle_tests"
DIFFERENTIAL_TIMEOUT = 600  # the scenarios stop at PC_BACKTEST_BUDGET (420 s) at the latest

pytestmark = [pytest.mark.oracle, pytest.mark.slow]


def test_backtest_matches_freqtrade(oracle_python: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [
        str(oracle_python),
        "-m",
        "pytest",
        str(ORACLE_TESTS / "test_backtest_parity.py"),
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-c",
        str(ORACLE_TESTS / "pytest.ini"),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=DIFFERENTIAL_TIMEOUT,
            env=env,
            cwd=str(ORACLE_TESTS),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the differential run took over {DIFFERENTIAL_TIMEOUT} s:\n{exc.stdout}")
    output = f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    assert " passed" in done.stdout and "skipped" not in done.stdout, output
    # the scenario count and seeds, for the report (pytest -rP shows it)
    print(next((line for line in done.stdout.splitlines() if "trades compared" in line), ""))
