"""Run every benchmark and print one markdown report: ours beside Freqtrade's own code paths.

    python benchmarks/run.py                              # + Freqtrade if its venv is found
    python benchmarks/run.py --no-freqtrade               # ours only
    python benchmarks/run.py --only decode,update --out report.md
    python benchmarks/run.py --quick --out /tmp/smoke.md  # tiny sizes: does every section run?

Freqtrade's Python is found as the tests find it (``tests/interop/oracle/locate.py``):
``$PC_ORACLE_PYTHON`` if set, else ``.oracle-venv/bin/python`` (``scripts/oracle_venv.sh`` makes
it). Freqtrade is never imported into our environment: the sections that time Freqtrade's
functions (decode, merge, update) run as a whole inside that interpreter with our package on
``PYTHONPATH``, so both sides are timed in the same process and their outputs are checked equal
there; the live sections (initial sync, live latency, scale) drive Freqtrade's real consumer in
its own process over loopback, next to ours.

Sections (each script also runs on its own and states its workload):

* ``decode.py``  one ``analyzed_df`` frame / message, 1500 x 15 and x 100, vs Freqtrade and the
  ``orjson`` floor;
* ``merge.py``   ``merge_informative_pair``, 10 000 x 2 000 rows, several timeframe pairs;
* ``update.py``  one new candle per pair for 100 pairs with 1500 rows stored;
* ``live.py``    initial sync 100 x 1500 (ours vs Freqtrade's consumer), live latency p50/p99,
  scale 3 producers x 300 pairs x 1500 candles (sync, memory vs data, idle CPU); one module per
  workload (``live_sync.py``, ``live_latency.py``, ``live_scale.py``) over the processes of
  ``live_procs.py``: ``_producer_proc.py`` (our benchmark producer) and ``_ft_consumer_proc.py``
  (Freqtrade's consumer, timed, in its venv);
* ``live-demo``  ``live.py --demo``: the initial sync against this package's own
  ``DemoProducer`` (a bare websockets client, ours, Freqtrade's consumer);
* ``redraw.py``  Dashboard redraw at 1500 candles, image and ipympl backends.

``_common.py`` holds what they share: timing (``median_ms``), percentiles, formatting
(``ratio``, ``fmt_*``), the machine line and the oracle lookup. Nothing here asserts a time:
these are measurements, to be read with the machine line on top.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import HERE, REPO, find_oracle_python, machine


@dataclass(frozen=True)
class Section:
    script: str
    in_oracle: bool  # runs inside the Freqtrade venv when there is one
    limit: int  # seconds
    quick: str  # arguments for --quick: sizes small enough to check that it runs
    takes_oracle: bool = False  # finds Freqtrade itself; ``--no-freqtrade`` when there is none
    args: str = ""  # always passed


SECTIONS: dict[str, Section] = {
    "decode": Section("decode.py", True, 300, "--rows 200 --repeats 3"),
    "merge": Section("merge.py", True, 300, "--rows 1000 --inf-rows 200 --repeats 3"),
    "update": Section("update.py", True, 300, "--pairs 10 --rounds 2 --warmup 1"),
    "live": Section(
        "live.py",
        False,
        600,
        "--pairs 10 --candles 200 --runs 1 --rounds 2 "
        "--scale-producers 2 --scale-pairs 20 --idle-seconds 1",
        takes_oracle=True,
    ),
    "live-demo": Section(
        "live.py", False, 300, "--pairs 10 --candles 200 --runs 1", takes_oracle=True, args="--demo"
    ),
    "redraw": Section("redraw.py", False, 300, "--updates 3 --warmup 1"),
}


def versions(python: str | Path) -> str:
    code = (
        "import pandas, numpy, orjson, websockets; "
        "print(f'pandas {pandas.__version__}, numpy {numpy.__version__}, "
        "orjson {orjson.__version__}, websockets {websockets.__version__}', end='')\n"
        "try:\n import freqtrade; print(f', freqtrade {freqtrade.__version__}', end='')\n"
        "except ImportError: pass"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    return done.stdout.strip() or f"(could not read versions: {done.stderr.strip()[-200:]})"


def run_section(name: str, oracle: Path | None, quick: bool = False) -> str:
    section = SECTIONS[name]
    script, limit = section.script, section.limit
    python = str(oracle) if (section.in_oracle and oracle) else sys.executable
    env = os.environ | {"PYTHONPATH": str(REPO)}
    argv = [python, str(HERE / script), *section.args.split()]
    argv += section.quick.split() if quick else ()
    if section.takes_oracle:
        if oracle is None:
            argv.append("--no-freqtrade")
        else:
            env["PC_ORACLE_PYTHON"] = str(oracle)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
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
    where = "in the Freqtrade venv" if python == str(oracle) else "in this venv"
    return f"{done.stdout.strip()}\n\n_(`{script}`, {where}, {took:.0f} s)_"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="comma-separated sections: " + ", ".join(SECTIONS), default=""
    )
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument("--no-freqtrade", action="store_true", help="ours only")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, to check that every section runs (the figures mean nothing)",
    )
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    oracle: Path | None = None
    why = "not compared (--no-freqtrade)"
    if not args.no_freqtrade:
        oracle, why = find_oracle_python()
        if oracle is None and os.environ.get("PC_ORACLE_PYTHON"):
            parser.error(why)

    started = time.perf_counter()
    parts = [
        "# producerconsumer benchmarks",
        f"Machine: {machine()}.",
        f"Ours: {versions(sys.executable)}."
        + (f" Freqtrade venv: {versions(oracle)}." if oracle else f" Freqtrade: {why}."),
    ]
    print("\n\n".join(parts), flush=True)
    for name in chosen:
        section = f"## {name}\n\n{run_section(name, oracle, args.quick)}"
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
