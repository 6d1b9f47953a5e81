"""``pc.backtest`` against Freqtrade 2026.9's ``Backtesting``, same strategy, same data.

    python benchmarks/backtest.py            # 100 pairs x 1500 candles and 10 pairs x 50 000
    python benchmarks/backtest.py --quick    # 20 x 1500 and 2 x 20 000

The strategy is a moving-average cross with an RSI filter (``BenchRules`` in
``tests/interop/oracle_tests/backtest_scenarios.py``), computed with pandas by the same code on
both sides; ROI table, stoploss, fee, 5 open trades, stake 100 of 10 000. Freqtrade runs in the
oracle venv (a subprocess, its exchange patched offline as in the differential tests); its times
exclude loading and ``Backtesting`` start-up. Compared:

* whole: our ``pc.backtest`` call vs Freqtrade's price ticks from the candles (what
  ``Backtesting.load_bt_data`` computes after reading the files), its analysis
  (``advise_all_indicators`` and the entry/exit signals) and its backtest loop; Freqtrade's
  file reading, start-up and report are left out;
* simulation: ``result.timings["simulation"]`` vs Freqtrade's loop alone.

The trades must be identical (pair, dates, rates, amount, exit reason), else it exits 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "tests" / "interop" / "oracle_tests"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(SCENARIOS))
sys.path.insert(0, str(REPO / "tests" / "interop" / "oracle"))

from locate import find_oracle_python  # noqa: E402


def ours(pairs: int, rows: int) -> tuple[dict[str, float], list[list[object]]]:
    import backtest_scenarios as scenarios

    import producerconsumer as pc
    from producerconsumer.strategy import IStrategy

    scenario = scenarios.make_bench(pairs, rows)
    strategy = type("Bench", (scenarios.BenchRules, IStrategy), {"timeframe": "5m"})()
    frames = scenario["frames"]
    started = time.perf_counter()
    result = pc.backtest(
        strategy, frames, stake_currency="USDT", timeframe="5m", **scenario["settings"]
    )
    total = time.perf_counter() - started
    assert not result.errors, result.errors
    keys = [
        "pair",
        "open_timestamp",
        "close_timestamp",
        "open_rate",
        "close_rate",
        "amount",
        "exit_reason",
    ]
    trades = result.trades[keys].values.tolist() if len(result.trades) else []
    return {"total": total, **result.timings}, trades


def freqtrade(python: Path, pairs: int, rows: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [str(python), str(SCENARIOS / "backtest_scenarios.py"), "--bench", str(pairs), str(rows)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(SCENARIOS),
        timeout=3600,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("@@ "):
            return json.loads(line[3:])
    raise RuntimeError(f"the Freqtrade side failed:\n{done.stdout}\n{done.stderr}")


def same(a: list[list[object]], b: list[list[object]]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) and isinstance(v, float):
                if not math.isclose(u, v, rel_tol=1e-9):
                    return False
            elif u != v:
                return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    python, why = find_oracle_python()
    if python is None:
        print(why)
        return 2
    cases = [(20, 1500), (2, 20_000)] if args.quick else [(100, 1500), (10, 50_000)]
    failed = False
    print(
        "| pairs x candles | trades | pc.backtest s | Freqtrade s | whole x "
        "| simulation s | FT loop s | simulation x |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for pairs, rows in cases:
        timings, trades = ours(pairs, rows)
        ft = freqtrade(python, pairs, rows)
        ft_t = ft["timings"]
        assert isinstance(ft_t, dict)
        equal = same(trades, ft["trades"])  # type: ignore[arg-type]
        failed |= not equal
        print(
            f"| {pairs} x {rows} | {len(trades)}{'' if equal else ' DIFFER'} | "
            f"{timings['total']:.2f} | {ft_t['total']:.2f} | "
            f"{ft_t['total'] / timings['total']:.1f} | "
            f"{timings['simulation']:.2f} | {ft_t['loop']:.2f} | "
            f"{ft_t['loop'] / timings['simulation']:.1f} |",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
