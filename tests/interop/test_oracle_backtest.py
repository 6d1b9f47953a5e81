"""``pc.backtest`` against Freqtrade 2026.9's own ``Backtesting``, trade for trade, and its
metrics against Freqtrade's statistics.

The differential test imports Freqtrade, so it runs inside the oracle venv:
``oracle_tests/test_backtest_parity.py`` (1000 generated scenarios by default, the metrics
compared on every fifth; see that file) through
:func:`~tests.interop.conftest.run_oracle_pytest`. Run it alone with ``-m oracle -k backtest``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_oracle_pytest

DIFFERENTIAL_TIMEOUT = 600  # the scenarios stop at PC_BACKTEST_BUDGET (420 s) at the latest

pytestmark = [pytest.mark.oracle, pytest.mark.slow, pytest.mark.differential]


def test_backtest_matches_freqtrade(oracle_python: Path) -> None:
    output = run_oracle_pytest(
        oracle_python, ["test_backtest_parity.py"], "-s", timeout=DIFFERENTIAL_TIMEOUT
    )
    # the scenario count and seeds, for the report (pytest -rP shows it)
    print(next((line for line in output.splitlines() if "trades compared" in line), ""))
