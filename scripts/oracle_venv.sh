#!/usr/bin/env bash
# Create (once) the Freqtrade oracle virtualenv used by tests/interop, and print its python.
#
#   PC_ORACLE_PYTHON="$(scripts/oracle_venv.sh)" && export PC_ORACLE_PYTHON
#
# The venv lives at ${PC_ORACLE_VENV:-<repo>/.oracle-venv}. Freqtrade (GPLv3) is only ever
# run there, as a separate process; it is never imported by our package or its test process.
# Idempotent: a marker file records a finished install of exactly this pin and the test tools,
# so a second call only prints the path. All progress goes to stderr; stdout is the python path
# alone.
set -euo pipefail

# With the hyperopt extra (optuna, scikit-learn, ...): tests/interop/oracle_tests compare
# pc.hyperopt's losses, spaces and parameter file with Freqtrade's hyperopt.
FREQTRADE_PIN="freqtrade[hyperopt]==2026.9"
# The differential tests (tests/interop/oracle_tests) run pytest + hypothesis inside this venv.
TEST_TOOLS=("pytest>=8" "hypothesis>=6.100")
# What the marker records: changing it (e.g. adding a tool) updates existing venvs on next call.
INSTALL_ID="$FREQTRADE_PIN pytest hypothesis"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PC_ORACLE_VENV:-$repo/.oracle-venv}"
python_bin="$venv/bin/python"
marker="$venv/.pc-oracle-installed"
base_python="${PC_ORACLE_BASE_PYTHON:-python3}"

if [[ -x "$python_bin" && -f "$marker" && "$(cat "$marker")" == "$INSTALL_ID" ]]; then
    echo "$python_bin"
    exit 0
fi

echo "oracle_venv: installing $FREQTRADE_PIN into $venv (about 1-2 minutes)" >&2
if [[ ! -x "$python_bin" ]]; then
    "$base_python" -m venv "$venv" >&2
fi
rm -f "$marker"
"$python_bin" -m pip install --disable-pip-version-check --quiet "$FREQTRADE_PIN" "${TEST_TOOLS[@]}" >&2
# Fail here, not in the tests, if the install is unusable.
"$python_bin" - >&2 <<'EOF'
import freqtrade, hypothesis, orjson, pandas, pytest, rapidjson, uvicorn, websockets
from freqtrade.rpc.api_server.api_ws import router
from freqtrade.rpc.external_message_consumer import ExternalMessageConsumer
from freqtrade.optimize.hyperopt_loss.hyperopt_loss_sharpe import SharpeHyperOptLoss
import optuna
print(f"oracle_venv: freqtrade {freqtrade.__version__}, pandas {pandas.__version__}, "
      f"websockets {websockets.__version__}")
EOF
echo "$INSTALL_ID" >"$marker"
echo "$python_bin"
