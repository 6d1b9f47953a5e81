"""``pc.hyperopt`` trials per second: one process, ``jobs=2``, a two-worker Dask LocalCluster.

    python benchmarks/hyperopt.py              # 10 pairs x 1500 candles, 60 epochs per mode
    python benchmarks/hyperopt.py --quick      # 3 pairs x 500 candles, 20 epochs

The docs' ConsumerStrategy (``hyperopt_strategies.py``) hyperopts ``buy_rsi`` (the ``buy``
space) with ``SharpeHyperOptLoss`` on the producer frames of the docs' ProducerStrategy over the
synthetic market, as ``{pair: frame}`` (in memory: no recording to read). Each epoch is a full
``pc.backtest`` (strategy and simulation). ``jobs=2`` includes starting its two worker processes
(what a user waits for); the ``client`` mode uses a LocalCluster started before the clock.

With ``--freqtrade`` (and the oracle venv, see ``scripts/oracle_venv.sh``) it also times
Freqtrade's own hyperopt (``_ft_hyperopt.py``, in that venv) on the equivalent non-consumer
strategy (the docs' ProducerStrategy indicators with the ConsumerStrategy's entry rule) over the
same candles, one job, and prints the ratio of epochs per second (ours in one process over
Freqtrade's, both including data preparation).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "interop" / "oracle"))

import hyperopt_strategies as strategies  # noqa: E402

import producerconsumer as pc  # noqa: E402

SETTINGS: dict[str, Any] = {
    "stake_amount": 100,
    "max_open_trades": 5,
    "stake_currency": "USDT",
    "dry_run_wallet": 10_000,
    "fee": 0.001,
}


def study(data: dict[str, Any], epochs: int, **mode: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = pc.hyperopt(
        strategies.ConsumerStrategy,
        data,
        spaces=("buy",),
        epochs=epochs,
        loss="SharpeHyperOptLoss",
        seed=1,
        progress=False,
        **mode,
        **SETTINGS,
    )
    return time.perf_counter() - started, result


def report(name: str, epochs: int, seconds: float, result: Any) -> None:
    failed = int((result.trials["state"] != "COMPLETE").sum())
    duplicates = int(result.trials["duplicate_of"].notna().sum())
    evaluated = epochs - duplicates
    print(
        f"| {name} | {epochs} | {seconds:.2f} | {epochs / seconds:.1f} | "
        f"{evaluated / seconds:.1f} | {duplicates} | {failed} | "
        f"{result.best_params['buy'] if result.best_params else None} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--freqtrade", action="store_true", help="also time Freqtrade's hyperopt")
    args = parser.parse_args()
    pairs, candles, epochs = (3, 500, 20) if args.quick else (10, 1500, 60)
    epochs = args.epochs or epochs
    data = strategies.producer_frames(pairs, candles)
    from producerconsumer.backtest import backtest

    one = backtest(strategies.ConsumerStrategy, data, **SETTINGS)
    print(
        f"{pairs} pairs x {candles} candles; one backtest: {len(one.trades)} trades, "
        f"timings {one.timings}; {os.cpu_count()} cores (shared: times are noisy)\n"
    )
    print(
        "| mode | epochs | seconds | epochs/s | backtests/s | repeated points (reused) "
        "| failed | best |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rates: dict[str, float] = {}
    seconds, result = study(data, epochs)
    report("one process", epochs, seconds, result)
    rates["one process"] = epochs / seconds
    seconds, result = study(data, epochs, jobs=2)
    report("jobs=2 (incl. worker start)", epochs, seconds, result)
    rates["jobs=2"] = epochs / seconds

    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        seconds, result = study(data, epochs, client=client)
        report("LocalCluster, 2 workers", epochs, seconds, result)
        rates["LocalCluster"] = epochs / seconds
    if args.freqtrade:
        freqtrade(pairs, candles, epochs, rates)
    return 0


def freqtrade(pairs: int, candles: int, epochs: int, rates: dict[str, float]) -> None:
    from locate import find_oracle_python

    python, where = find_oracle_python()
    if python is None:
        print(f"\nno Freqtrade oracle venv ({where}): Freqtrade's side left out")
        return
    done = subprocess.run(
        [str(python), str(HERE / "_ft_hyperopt.py"), str(pairs), str(candles), str(epochs)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
        check=True,
        timeout=1800,
    )
    ft = json.loads(done.stdout.strip().splitlines()[-1])
    per_second = epochs / ft["total_seconds"]
    print(
        f"| Freqtrade hyperopt, -j 1 | {epochs} | {ft['total_seconds']:.2f} | {per_second:.1f} "
        f"| {ft['saved_epochs'] / ft['loop_seconds']:.1f} (loop only) "
        f"| {ft['skipped_duplicates']} (skipped) | 0 | {ft['best']} |"
    )
    print()
    for mode, rate in rates.items():
        print(f"ours ({mode}) / Freqtrade (-j 1): {rate / per_second:.1f}x epochs per second")


if __name__ == "__main__":
    sys.exit(main())
