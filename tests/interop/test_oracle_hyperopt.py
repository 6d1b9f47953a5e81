"""``producerconsumer.hyperopt`` against Freqtrade 2026.9's hyperopt (losses, spaces, sampled
values, the parameter file read back by Freqtrade's strategy loading).

The differential tests import Freqtrade, so they run inside the oracle venv (which needs
Freqtrade's ``hyperopt`` extra: ``scripts/oracle_venv.sh`` installs it): this test starts
``<oracle python> -m pytest tests/interop/oracle_tests/test_hyperopt_parity.py`` with
``PYTHONPATH=<repo>`` and shows its output if it fails. Run it alone with
``-m oracle -k hyperopt``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

PARITY = Path(__file__).resolve().parent / "oracle_tests" / "test_hyperopt_parity.py"
DIFFERENTIAL_TIMEOUT = 600  # about 1-2 minutes on two busy cores

pytestmark = pytest.mark.oracle


def test_hyperopt_losses_spaces_and_parameter_file_match_freqtrade(oracle_python: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [
        str(oracle_python),
        "-m",
        "pytest",
        str(PARITY),
        "-q",
        "-p",
        "no:cacheprovider",
        # Its own ini: rootdir and confcutdir there, so our conftests stay out of that venv.
        "-c",
        str(PARITY.parent / "pytest.ini"),
        "--hypothesis-show-statistics",
        "-W",
        "ignore::UserWarning",  # optuna: a step that does not divide a generated range
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=DIFFERENTIAL_TIMEOUT,
            env=env,
            cwd=str(PARITY.parent),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the differential run took over {DIFFERENTIAL_TIMEOUT} s:\n{exc.stdout}")
    output = f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}"
    if "No module named 'optuna'" in output:
        pytest.fail(
            "the oracle venv lacks Freqtrade's hyperopt extra: rerun scripts/oracle_venv.sh",
            pytrace=False,
        )
    assert done.returncode == 0, output
    assert " passed" in done.stdout and "skipped" not in done.stdout, output
