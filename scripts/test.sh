#!/usr/bin/env bash
# Install everything and run the whole test suite, as CI does (`.ci/run` calls exactly this).
#
#   1. the Freqtrade 2026.9 oracle in its own virtualenv (scripts/oracle_venv.sh), for interop tests
#   2. the package with the newest pandas 3.x (and JupyterLab + Debian chromium for the browser
#      test): ruff, mypy (configured in pyproject.toml), then every test
#   3. the package with pandas 2.2: every test again but the browser one and the long
#      differential runs inside the Freqtrade oracle venv (marked differential)
#
# Needs only python3 (>= 3.11), the package registries and root for apt-get (chromium).
# Virtualenvs live in the repo (.venv-test*, .oracle-venv) and are reused on the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

quiet_pip() {
    # pip's notes about unreachable local mirrors are noise here; real errors still fail the run.
    "$@" 2>&1 | { grep -v -e "^WARNING: Location" -e "^$" || true; }
}

make_venv() {  # make_venv DIR [extra pip requirements...]
    local dir=$1
    shift
    [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"
    quiet_pip "$dir/bin/python" -m pip install -q -e ".[test,jupyter]" "$@"
}

echo "== oracle: Freqtrade 2026.9"
PC_ORACLE_PYTHON=$(bash scripts/oracle_venv.sh | tail -n 1)
export PC_ORACLE_PYTHON

echo "== pandas 3.x"
make_venv .venv-test "pandas>=3"
# JupyterLab + Debian chromium + Playwright for the real-browser test (tests/test_browser.py).
bash scripts/install_browser_deps.sh .venv-test 2>&1 | { grep -v -e "^WARNING: Location" || true; }
.venv-test/bin/python -c "import pandas; print('pandas', pandas.__version__)"
.venv-test/bin/ruff check .
.venv-test/bin/ruff format --check .
.venv-test/bin/mypy
.venv-test/bin/python -m pytest -q -p no:cacheprovider "$@"

echo "== pandas 2.2"
make_venv .venv-test-pd22 "pandas==2.2.*"
.venv-test-pd22/bin/python -c "import pandas; print('pandas', pandas.__version__)"
# The browser test and the long differential runs inside the oracle venv (marked differential:
# they exercise Freqtrade's pandas in its own venv, not ours) ran above; the rest again on
# pandas 2.2.
.venv-test-pd22/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/test_browser.py \
    -m "not differential" "$@"
