#!/usr/bin/env bash
# Install what tests/test_browser.py needs (idempotent; safe to call on every CI run):
#
#   bash scripts/install_browser_deps.sh [VENV]      # VENV defaults to .venv
#
#   1. Debian's chromium (apt-get) unless /usr/bin/chromium already exists (needs root);
#   2. jupyterlab, playwright and ipympl into VENV (pip skips what is already satisfied).
#
# Playwright drives /usr/bin/chromium through executable_path: `playwright install` (which
# downloads its own browsers) is never run.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}

if [[ ! -x /usr/bin/chromium ]]; then
    echo "install_browser_deps: installing Debian chromium (about 40 s, ~480 MB)" >&2
    if [[ $(id -u) -ne 0 ]]; then
        echo "install_browser_deps: /usr/bin/chromium is missing and this is not root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q chromium >&2
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "install_browser_deps: no virtualenv at $venv (create it and install .[test,jupyter] first)" >&2
    exit 1
fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q \
    "jupyterlab>=4.2" "playwright>=1.45" "ipympl>=0.9" >&2
"$venv/bin/python" -c "import jupyterlab, playwright; print('install_browser_deps: ok')" >&2
