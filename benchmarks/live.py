"""Live benchmarks over loopback sockets: initial sync, live latency, scale.

    python benchmarks/live.py                   # + Freqtrade 2026.9 if the oracle venv is found
    python benchmarks/live.py --no-freqtrade    # ours only
    python benchmarks/live.py --demo            # initial sync against pc.DemoProducer itself

Prints one markdown section (an intro line, a table ``workload | ours | Freqtrade | ratio``,
notes). Every producer is ``benchmarks/_producer_proc.py`` in a process of its own, serving
messages encoded once at its start: serving costs only the socket writes. The same producer
process serves both consumers, one after the other. The workloads, each in a module of its own
(the processes they share: ``live_procs.py``):

1. ``live_sync.py``: initial sync, 100 pairs x 1500 candles (the docs' ProducerStrategy frames,
   15 columns), ``pc.Consumer`` against Freqtrade's ``ExternalMessageConsumer`` +
   ``DataProvider``; medians of 3 runs each, a fresh process per run.
2. ``live_latency.py``: live latency, one-row ``analyzed_df`` broadcasts for each of 100 pairs,
   one at a time, paced or in one burst, from the producer's write to the row stored.
3. ``live_scale.py``: 3 producer processes x 300 pairs x 1500 candles into one ``pc.Consumer``:
   time until ready, memory against the stored frames' size, CPU while idle.

Freqtrade's Python is found as the tests find it (``tests/interop/oracle/locate.py``:
``$PC_ORACLE_PYTHON``, else ``.oracle-venv``). No timing is asserted: these are measurements.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import live_latency
import live_scale
import live_sync
import pandas as pd
from _common import DASH, find_oracle_python, fmt_mib, machine
from live_latency import Latency
from live_procs import PACKAGE_ROOT, Producer, Row, start_producer
from live_scale import ScaleResult
from live_sync import SyncResult

PAIRS = 100
CANDLES = 1500
RUNS = 3
ROUNDS = 10  # per latency mode
GAP_MS = 5.0
SCALE_PRODUCERS = 3
SCALE_PAIRS = 300
IDLE_SECONDS = 5.0


@dataclass
class Options:
    pairs: int = PAIRS
    candles: int = CANDLES
    runs: int = RUNS
    rounds: int = ROUNDS
    gap_ms: float = GAP_MS
    with_scale: bool = True
    scale_producers: int = SCALE_PRODUCERS
    scale_pairs: int = SCALE_PAIRS
    idle_seconds: float = IDLE_SECONDS
    with_freqtrade: bool = True
    demo: bool = False


@dataclass
class Results:
    options: Options
    producer: Producer | None = None
    ours_sync: SyncResult | None = None
    ft_sync: SyncResult | None = None
    ours_latency: dict[str, Latency] = field(default_factory=dict)
    ft_latency: dict[str, Latency] = field(default_factory=dict)
    scale: ScaleResult | None = None
    freqtrade_note: str = ""
    bare: list[float] = field(default_factory=list)


def run(options: Options) -> Results:
    results = Results(options)
    oracle: Path | None = None
    if options.with_freqtrade:
        oracle, why = find_oracle_python()
        if oracle is None:
            results.freqtrade_note = f"Freqtrade not measured: {why}."
    with tempfile.TemporaryDirectory(prefix="pc-live-") as tmp:
        workdir = Path(tmp)
        if options.demo:
            return _run_demo(options, results, oracle, workdir)
        rounds = options.rounds * len(live_latency.MODES)
        producer = start_producer(workdir, options.pairs, options.candles, rounds)
        results.producer = producer
        try:
            results.ours_sync = live_sync.our_sync(producer, workdir, options.runs)
            results.ours_latency = live_latency.our_latency(
                producer, options.rounds, options.gap_ms
            )
            if oracle is not None:
                results.ft_sync, kept = live_sync.freqtrade_sync(
                    producer, oracle, workdir, options.runs, keep_last=True
                )
                if kept is not None:
                    try:
                        results.ft_latency = live_latency.freqtrade_latency(
                            producer, kept, options.rounds, options.gap_ms
                        )
                    finally:
                        kept.close()
        finally:
            producer.close()
        if options.with_scale:
            results.scale = live_scale.scale(
                workdir,
                producers=options.scale_producers,
                pairs=options.scale_pairs,
                candles=options.candles,
                idle_seconds=options.idle_seconds,
            )
    return results


def _run_demo(options: Options, results: Results, oracle: Path | None, workdir: Path) -> Results:
    """``--demo``: initial sync only, against this package's own ``DemoProducer``."""
    producer = start_producer(workdir, options.pairs, options.candles, 0, demo=True)
    results.producer = producer
    try:
        results.bare = live_sync.bare_receive(producer, options.runs)
        results.ours_sync = live_sync.our_sync(producer, workdir, options.runs)
        if oracle is not None:
            results.ft_sync, _ = live_sync.freqtrade_sync(producer, oracle, workdir, options.runs)
    finally:
        producer.close()
    return results


def _medians(runs: int) -> str:
    return "one run" if runs == 1 else f"medians of {runs} runs"


def report(results: Results) -> str:
    options = results.options
    n, c = options.pairs, options.candles
    rows: list[Row] = []
    if results.ours_sync is not None:
        rows += live_sync.rows(results.ours_sync, results.ft_sync, n, c)
    if results.bare:
        rows.append(
            (
                f"bare websockets client: {n} x {c} `analyzed_df` replies received",
                f"{sorted(results.bare)[len(results.bare) // 2]:.2f} s",
                DASH,
                DASH,
            )
        )
    rows += live_latency.rows(results.ours_latency, results.ft_latency, n, options.gap_ms)
    if results.scale is not None:
        rows += live_scale.rows(results.scale)
    served = (
        "this package's `DemoProducer` (replies encoded once per candle, warmed at its start)"
        if options.demo
        else "pre-encoded messages"
    )
    out = [
        f"Live paths over loopback (`benchmarks/live.py`): {_medians(options.runs)} per "
        f"side, each producer a separate process serving {served}; "
        "ratio = Freqtrade / ours.",
        "",
        "| workload | ours | Freqtrade | ratio |",
        "|---|---:|---:|---:|",
        *(f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in rows),
        "",
    ]
    out += _notes(results)
    return "\n".join(out)


def _notes(results: Results) -> list[str]:
    notes = [
        f"machine: {machine()}; pandas {pd.__version__}, producerconsumer from "
        f"`{PACKAGE_ROOT}`; other load on the machine shows up in these numbers.",
    ]
    producer = results.producer
    if producer is not None:
        notes.append(
            f"The {len(producer.pairs)}-pair producer sends {fmt_mib(producer.full_bytes)} of "
            f"`analyzed_df` replies for a sync (15-column frames of the docs' ProducerStrategy on "
            f"the demo's synthetic market; built in {producer.build_seconds:.1f} s and encoded "
            f"once in {producer.encode_seconds:.1f} s at its start, not timed). permessage-deflate "
            "is off: a uvicorn producer would compress, at extra cost on both ends."
        )
    notes += live_sync.notes(results.ft_sync)
    notes.append(results.freqtrade_note)
    if results.ours_latency:
        notes += live_latency.notes(results.options.gap_ms)
    if results.scale is not None:
        notes += live_scale.notes()
    return [f"* {note}" for note in notes if note]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=PAIRS)
    parser.add_argument("--candles", type=int, default=CANDLES)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="per latency mode")
    parser.add_argument("--gap-ms", type=float, default=GAP_MS)
    parser.add_argument("--no-scale", action="store_true", help="skip the scale workload")
    parser.add_argument("--scale-producers", type=int, default=SCALE_PRODUCERS)
    parser.add_argument("--scale-pairs", type=int, default=SCALE_PAIRS)
    parser.add_argument("--idle-seconds", type=float, default=IDLE_SECONDS)
    parser.add_argument("--no-freqtrade", action="store_true", help="ours only")
    parser.add_argument(
        "--demo", action="store_true", help="initial sync against pc.DemoProducer only"
    )
    args = parser.parse_args(argv)
    options = Options(
        pairs=args.pairs,
        candles=args.candles,
        runs=args.runs,
        rounds=args.rounds,
        gap_ms=args.gap_ms,
        with_scale=not args.no_scale,
        scale_producers=args.scale_producers,
        scale_pairs=args.scale_pairs,
        idle_seconds=args.idle_seconds,
        with_freqtrade=not args.no_freqtrade,
        demo=args.demo,
    )
    print(report(run(options)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
