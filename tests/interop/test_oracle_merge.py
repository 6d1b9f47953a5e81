"""``merge_informative_pair`` and the timeframe helpers against Freqtrade 2026.9's own.

The differential tests import Freqtrade, so they run inside the oracle venv:
``oracle_tests/test_merge_parity.py`` and ``test_timeframes_parity.py`` with the ``parity``
hypothesis profile (10 000 generated merges plus the timeframe cases), through
:func:`~tests.interop.conftest.run_oracle_pytest`. Run it alone with ``-m oracle -k merge``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_oracle_pytest

DIFFERENTIAL_TIMEOUT = 600  # normally about 2-3 minutes on two cores

pytestmark = [pytest.mark.oracle, pytest.mark.slow, pytest.mark.differential]


def test_merge_and_timeframes_match_freqtrade(oracle_python: Path) -> None:
    run_oracle_pytest(
        oracle_python,
        ["test_merge_parity.py", "test_timeframes_parity.py"],
        "--hypothesis-profile=parity",
        "--hypothesis-show-statistics",
        timeout=DIFFERENTIAL_TIMEOUT,
    )
