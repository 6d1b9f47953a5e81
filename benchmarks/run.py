"""Run every benchmark and print one markdown report: ours beside Freqtrade's own code paths.

    python benchmarks/run.py                       # ours only (Freqtrade columns left out)
    PC_ORACLE_PYTHON=/path/to/freqtrade-venv/bin/python python benchmarks/run.py
    python benchmarks/run.py --only decode,update --out report.md

``PC_ORACLE_PYTHON`` names a Python with Freqtrade installed (``scripts/oracle_venv.sh`` makes
one; ``bash scripts/test.sh`` leaves it in ``.oracle-venv``). Freqtrade is never imported into
our environment: the sections that time Freqtrade's functions (decode, merge, update) run as a
whole inside that interpreter with our package on ``PYTHONPATH``, so both sides are timed in the
same process and their outputs are checked equal there; the live sections (initial sync, live
latency, scale) drive Freqtrade's real consumer in its own process over loopback, next to ours.

Sections (each script also runs on its own and states its workload):

* ``decode.py``  one ``analyzed_df`` frame / message, 1500 x 15 and x 100, vs Freqtrade and the
  ``orjson`` floor;
* ``merge.py``   ``merge_informative_pair``, 10 000 x 2 000 rows, several timeframe pairs;
* ``update.py``  one new candle per pair for 100 pairs with 1500 rows stored;
* ``live.py``    initial sync 100 x 1500 (ours vs Freqtrade's consumer), live latency p50/p99,
  scale 3 producers x 300 pairs x 1500 candles (sync, memory vs data, idle CPU);
* ``redraw.py``  Dashboard redraw at 1500 candles, image and ipympl backends.

Nothing here asserts a time: these are measurements, to be read with the machine line on top.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: (script, runs inside the Freqtrade venv when there is one, time limit in seconds)
SECTIONS: dict[str, tuple[str, bool, int]] = {
    "decode": ("decode.py", True, 300),
    "merge": ("merge.py", True, 300),
    "update": ("update.py", True, 300),
    "live": ("live.py", False, 600),
    "redraw": ("redraw.py", False, 300),
}


def machine() -> str:
    """One line naming the machine, for the report's header."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 2**20:.0f} GiB RAM"
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs{memory}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}"
    )


def versions(python: str) -> str:
    code = (
        "import pandas, numpy, orjson, websockets; "
        "print(f'pandas {pandas.__version__}, numpy {numpy.__version__}, "
        "orjson {orjson.__version__}, websockets {websockets.__version__}', end='')\n"
        "try:\n import freqtrade; print(f', freqtrade {freqtrade.__version__}', end='')\n"
        "except ImportError: pass"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    return done.stdout.strip() or f"(could not read versions: {done.stderr.strip()[-200:]})"


def run_section(name: str, oracle: str | None) -> str:
    script, in_oracle, limit = SECTIONS[name]
    python = oracle if (in_oracle and oracle) else sys.executable
    env = os.environ | {"PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [python, str(HERE / script)],
            capture_output=True,
            text=True,
            env=env,
            timeout=limit,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        return f"`{script}` did not finish within {limit} s."
    took = time.perf_counter() - started
    if done.returncode:
        return f"`{script}` failed (exit {done.returncode}):\n\n```\n{done.stderr[-3000:]}\n```"
    where = "in the Freqtrade venv" if python == oracle else "in this venv"
    return f"{done.stdout.strip()}\n\n_(`{script}`, {where}, {took:.0f} s)_"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="comma-separated sections: " + ", ".join(SECTIONS), default=""
    )
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    oracle = os.environ.get("PC_ORACLE_PYTHON") or None
    if oracle and not Path(oracle).exists():
        parser.error(f"PC_ORACLE_PYTHON={oracle} does not exist")

    started = time.perf_counter()
    parts = [
        "# producerconsumer benchmarks",
        f"Machine: {machine()}.",
        f"Ours: {versions(sys.executable)}."
        + (f" Freqtrade venv: {versions(oracle)}." if oracle else " Freqtrade: not compared."),
    ]
    print("\n\n".join(parts), flush=True)
    for name in chosen:
        section = f"## {name}\n\n{run_section(name, oracle)}"
        print(f"\n{section}", flush=True)
        parts.append(section)
    total = f"Total: {time.perf_counter() - started:.0f} s."
    print(f"\n{total}")
    parts.append(total)
    if args.out:
        args.out.write_text("\n\n".join(parts) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
