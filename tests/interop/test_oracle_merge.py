"""``merge_informative_pair`` and the timeframe helpers against Freqtrade 2026.9's own.

The differential tests import Freqtrade, so they run inside the oracle venv: this test starts
``<oracle python> -m pytest tests/interop/oracle_tests`` with ``PYTHONPATH=<repo>`` and the
``parity`` hypothesis profile (10 000 generated merges plus the timeframe cases), and shows its
output if it fails. Run it alone with ``-m oracle -k merge``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

ORACLE_TESTS = Path(__file__).resolve().parent / "oracle_tests"
DIFFERENTIAL_TIMEOUT = 600  # normally about 2-3 minutes on two cores

pytestmark = [pytest.mark.oracle, pytest.mark.slow]


def test_merge_and_timeframes_match_freqtrade(oracle_python: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [
        str(oracle_python),
        "-m",
        "pytest",
        str(ORACLE_TESTS),
        "-q",
        "-p",
        "no:cacheprovider",
        # Its own ini: rootdir and confcutdir there, so our conftests stay out of that venv.
        "-c",
        str(ORACLE_TESTS / "pytest.ini"),
        "--hypothesis-profile=parity",
        "--hypothesis-show-statistics",
        # the backtest differential test has its own runner (test_oracle_backtest.py)
        "--ignore",
        str(ORACLE_TESTS / "test_backtest_parity.py"),
        # the hyperopt differential test has its own runner (test_oracle_hyperopt.py)
        "--ignore",
        str(ORACLE_TESTS / "test_hyperopt_parity.py"),
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
