"""Run the benchmarks and print one markdown report (issue 7; work in progress).

    python benchmarks/run.py                      # ours, in this venv
    PC_ORACLE_PYTHON=.oracle-venv/bin/python python benchmarks/run.py   # also Freqtrade's paths

Sections: decode and merge (``benchmarks/decode.py``, ``benchmarks/merge.py``; with the oracle
they run inside it, where Freqtrade's own functions are timed in the same process and their
outputs checked equal to ours), then the live paths measured here over loopback sockets: initial
sync of 100 pairs x 1500 candles from the demo producer until ``wait_ready`` returns, and live
latency (a one-row broadcast for each of 100 pairs until visible in ``get_producer_df``, p50/p99).
Freqtrade's consumer on the sync and the remaining workloads of the issue are not here yet.
No timing is asserted anywhere: these are measurements.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import producerconsumer as pc

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def run_script(name: str) -> str:
    """Run another benchmark script, inside the oracle venv when there is one."""
    python = os.environ.get("PC_ORACLE_PYTHON") or sys.executable
    env = os.environ | {"PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [python, str(HERE / name)], capture_output=True, text=True, env=env, timeout=600
    )
    if result.returncode:
        return f"{name} failed:\n```\n{result.stderr[-2000:]}\n```"
    return result.stdout.strip()


def sync_and_latency(pairs: int = 100, candles: int = 1500, rounds: int = 5) -> str:
    names = [f"P{i:03d}/USDT" for i in range(pairs)]
    with pc.DemoProducer(pairs=names, candles=candles, tick=None) as producer:
        config = {"producers": [producer.producer_config()]}
        started = time.perf_counter()
        with pc.Consumer(config) as consumer:
            consumer.wait_ready(timeout=600)
            sync = time.perf_counter() - started
            latencies: list[float] = []
            arrived: dict[str, float] = {}
            consumer.updated += lambda u: arrived.setdefault(u.key.pair, time.perf_counter())
            for _ in range(rounds):
                arrived.clear()
                sent = time.perf_counter()
                producer.advance(1)
                consumer.wait_until(lambda: len(arrived) == pairs, 60)
                latencies += [t - sent for t in arrived.values()]
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000
    return (
        "| live workload | result |\n|---|---:|\n"
        f"| initial sync, {pairs} pairs x {candles} candles (demo producer, loopback) "
        f"| {sync:.2f} s |\n"
        f"| broadcast -> stored, {pairs} pairs x {rounds} rounds: p50 | {p50:.2f} ms |\n"
        f"| same, p99 | {p99:.2f} ms |\n\n"
        "Latency is measured from the producer's `advance()` call (which analyses every pair) to "
        "the consumer's `updated` event, so it includes the producer's own work."
    )


def main() -> int:
    print(f"# producerconsumer benchmarks\n\nmachine: {platform.platform()}, {os.cpu_count()} cpus")
    print(f"python {platform.python_version()}\n")
    for name in ("decode.py", "merge.py"):
        print(f"## {name}\n\n{run_script(name)}\n")
    print(f"## live paths\n\n{sync_and_latency()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
