"""Where the Freqtrade oracle's Python is: the one rule shared by tests, benchmarks and scripts.

``$PC_ORACLE_PYTHON`` if set (it must exist), else ``<repo>/.oracle-venv/bin/python`` (what
``scripts/oracle_venv.sh`` makes). Nothing else is guessed. This module runs in our test
process, in benchmarks and in the oracle venv alike: standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO", "find_oracle_python"]

REPO = Path(__file__).resolve().parents[3]
ENV_VAR = "PC_ORACLE_PYTHON"


def find_oracle_python() -> tuple[Path | None, str]:
    """``(path, "")`` for a usable-looking oracle Python, or ``(None, why not)``.

    Only existence is checked here; callers that need Freqtrade to import probe it themselves.
    """
    value = os.environ.get(ENV_VAR)
    if value:
        path = Path(value)
        if path.exists():
            return path, ""
        return None, f"${ENV_VAR}={value} does not exist"
    default = REPO / ".oracle-venv" / "bin" / "python"
    if default.exists():
        return default, ""
    return None, (
        f"no Freqtrade oracle Python: ${ENV_VAR} is not set and {default} does not exist; "
        f"run `bash scripts/oracle_venv.sh` (it prints the path to export as {ENV_VAR})"
    )
