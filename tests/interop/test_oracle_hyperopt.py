"""``producerconsumer.hyperopt`` against Freqtrade 2026.9's hyperopt (losses, spaces, sampled
values, the parameter file read back by Freqtrade's strategy loading).

The differential tests import Freqtrade, so they run inside the oracle venv (which needs
Freqtrade's ``hyperopt`` extra: ``scripts/oracle_venv.sh`` installs it): this test starts
``<oracle python> -m pytest tests/interop/oracle_tests/test_hyperopt_parity.py`` with
``PYTHONPATH=<repo>`` and shows its output if it fails. Run it alone with
``-m oracle -k hyperopt``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_oracle_pytest

DIFFERENTIAL_TIMEOUT = 600  # about 1-2 minutes on two busy cores

pytestmark = pytest.mark.oracle


@pytest.mark.slow
@pytest.mark.differential
def test_hyperopt_losses_spaces_and_parameter_file_match_freqtrade(oracle_python: Path) -> None:
    run_oracle_pytest(
        oracle_python,
        ["test_hyperopt_parity.py"],
        "--hypothesis-show-statistics",
        "-W",
        "ignore::UserWarning",  # optuna: a step that does not divide a generated range
        timeout=DIFFERENTIAL_TIMEOUT,
        hints={
            "No module named 'optuna'": "the oracle venv lacks Freqtrade's hyperopt extra: "
            "rerun scripts/oracle_venv.sh"
        },
    )
