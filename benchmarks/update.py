"""Time storing one new candle per pair, 100 pairs x 1500 stored rows, against Freqtrade's store.

Ours is ``FrameStore.apply``, what the connection calls for every ``analyzed_df`` message
(``Connection._on_frame``); Freqtrade's is ``DataProvider._add_external_df``, what its
``ExternalMessageConsumer`` calls, on a ``DataProvider(config, None)`` pre-filled with
``_replace_external_df``. Both are timed from a decoded one-row frame to stored, and again
including the decode of the one-row ``__value__`` string (ours ``decode_dataframe``, Freqtrade's
``freqtrade.misc.json_to_dataframe``); websocket and outer-message JSON are not included.

Run ``python benchmarks/update.py`` (any dev venv) for ours, or in the Freqtrade oracle venv to
time Freqtrade's too and check that, after every round, both store exactly the same frames::

    PYTHONPATH=. .oracle-venv/bin/python benchmarks/update.py

``--profile`` prints where our store path spends its time instead. Prints markdown.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from _common import fmt_ms, fmt_us, percentile, ratio
from decode import producer_frame  # benchmarks/decode.py: the same realistic analyzed frame
from pandas.testing import assert_frame_equal

from producerconsumer.store import FrameStore
from producerconsumer.wire.frames import decode_dataframe, encode_dataframe
from producerconsumer.wire.messages import AnalyzedFrame, FrameKey

try:
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.enums import CandleType, RunMode
    from freqtrade.misc import json_to_dataframe
except ImportError:
    DataProvider = None

PRODUCER = "default"
TIMEFRAME = "5m"
STEP = timedelta(minutes=5)
STORED_ROWS = 1500


@dataclass
class StorePath:
    """One way of storing updates, timed per update and per round of all pairs."""

    name: str
    store_one: Callable[[int, int], None]  # (round, pair index)
    per_update: list[float] = field(default_factory=list)
    per_round: list[float] = field(default_factory=list)

    def run_round(self, round_: int, pairs: int, record: bool) -> None:
        store_one, perf = self.store_one, time.perf_counter
        times: list[float] = []
        started = perf()
        for index in range(pairs):
            before = perf()
            store_one(round_, index)
            times.append(perf() - before)
        elapsed = perf() - started
        if record:
            self.per_update += times
            self.per_round.append(elapsed)


class Workload:
    """100 pairs with 1500 analyzed rows stored, then one new row per pair per round.

    Each row is sent as a Freqtrade producer sends a broadcast: ``tail(1)`` of its frame
    (index label 1499), encoded as ``__value__``. Every path has its own store; the 1500-row
    frames they start from are shared (neither store mutates a stored frame). The one-row frames
    are decoded up front, separately for each store-only path.
    """

    def __init__(self, pairs: int, columns: int, rounds: int) -> None:
        self.pairs = [f"P{i:03d}/USDT" for i in range(pairs)]
        self.keys = [FrameKey(pair, TIMEFRAME, "spot") for pair in self.pairs]
        self.initial: list[pd.DataFrame] = []
        self.texts: list[list[str]] = [[] for _ in range(rounds)]  # [round][pair]
        start = datetime(2026, 1, 1, tzinfo=UTC)
        self.initial_analyzed = start + STEP * STORED_ROWS
        self.analyzed = [self.initial_analyzed + STEP * (r + 1) for r in range(rounds)]
        for index in range(pairs):
            frame = producer_frame(STORED_ROWS + rounds, columns, seed=index)
            self.initial.append(decode_dataframe(encode_dataframe(frame.iloc[:STORED_ROWS])))
            for r in range(rounds):
                row = frame.iloc[[STORED_ROWS + r]]
                row.index = [STORED_ROWS - 1]
                self.texts[r].append(encode_dataframe(row))

    def decoded(self, decode: Callable[[str], pd.DataFrame]) -> list[list[pd.DataFrame]]:
        return [[decode(text) for text in texts] for texts in self.texts]


def ours(work: Workload, include_decode: bool) -> tuple[StorePath, FrameStore]:
    store = FrameStore()
    for key, frame in zip(work.keys, work.initial, strict=True):
        update = store.apply(PRODUCER, AnalyzedFrame(key, frame, work.initial_analyzed))
        assert update.action == "replace" and update.stored_rows == STORED_ROWS
    keys, analyzed, apply = work.keys, work.analyzed, store.apply
    if include_decode:
        texts = work.texts

        def store_one(round_: int, index: int) -> None:
            frame = decode_dataframe(texts[round_][index])
            apply(PRODUCER, AnalyzedFrame(keys[index], frame, analyzed[round_]))

        name = "ours: decode_dataframe + FrameStore.apply"
    else:
        frames = work.decoded(decode_dataframe)

        def store_one(round_: int, index: int) -> None:
            apply(PRODUCER, AnalyzedFrame(keys[index], frames[round_][index], analyzed[round_]))

        name = "ours: FrameStore.apply"
    return StorePath(name, store_one), store


def freqtrades(work: Workload, include_decode: bool) -> tuple[StorePath, Any]:
    candle_type = CandleType.from_string("spot")
    config = {
        "runmode": RunMode.DRY_RUN,
        "dry_run": True,
        "timeframe": TIMEFRAME,
        "candle_type_def": candle_type,
        "external_message_consumer": {"enabled": True, "producers": [{"name": PRODUCER}]},
    }
    dp = DataProvider(config, None)
    for pair, frame in zip(work.pairs, work.initial, strict=True):
        dp._replace_external_df(
            pair, frame, work.initial_analyzed, TIMEFRAME, candle_type, PRODUCER
        )
    pairs, analyzed, add = work.pairs, work.analyzed, dp._add_external_df
    if include_decode:
        texts = work.texts

        def store_one(round_: int, index: int) -> None:
            frame = json_to_dataframe(texts[round_][index])
            add(pairs[index], frame, analyzed[round_], TIMEFRAME, candle_type, PRODUCER)

        name = "freqtrade: json_to_dataframe + _add_external_df"
    else:
        # Decoded by ours (json_to_dataframe is ~10 ms a row): checked equal on the first round.
        frames = work.decoded(decode_dataframe)
        for text, frame in zip(work.texts[0], frames[0], strict=True):
            assert_frame_equal(json_to_dataframe(text), frame, check_exact=True)

        def store_one(round_: int, index: int) -> None:
            add(
                pairs[index],
                frames[round_][index],
                analyzed[round_],
                TIMEFRAME,
                candle_type,
                PRODUCER,
            )

        name = "freqtrade: DataProvider._add_external_df"
    return StorePath(name, store_one), dp


def check_equal(
    work: Workload, stores: list[FrameStore], providers: list[Any], rounds: int
) -> None:
    """Every store holds the same frame per pair: the last STORED_ROWS rows, index 0..n-1."""
    last = work.analyzed[rounds - 1]
    for index, (pair, key) in enumerate(zip(work.pairs, work.keys, strict=True)):
        first = stores[0].entry(PRODUCER, key)
        assert first is not None and first.last_analyzed == last
        expected = first.frame
        assert len(expected) == STORED_ROWS and expected.index.equals(pd.RangeIndex(STORED_ROWS))
        if index == 0:
            last_date = work.initial[0]["date"].iloc[-1] + pd.Timedelta(STEP * rounds)
            assert expected["date"].iloc[-1] == last_date
        for store in stores[1:]:
            other = store.entry(PRODUCER, key)
            assert other is not None and other.last_analyzed == last
            assert_frame_equal(other.frame, expected, check_exact=True)
        for dp in providers:
            frame, analyzed = dp.get_producer_df(pair, TIMEFRAME, key.candle_type, PRODUCER)
            assert analyzed == last
            assert_frame_equal(frame, expected, check_exact=True)


def run_rounds(paths: list[StorePath], pairs: int, rounds: int, warmup: int) -> None:
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for round_ in range(rounds):
            shift = round_ % len(paths)  # rotate the order: no path always runs first
            for path in paths[shift:] + paths[:shift]:
                path.run_round(round_, pairs, record=round_ >= warmup)
    finally:
        if gc_was_enabled:
            gc.enable()


def profile(work: Workload, rounds: int) -> None:
    path, _ = ours(work, include_decode=False)
    profiler = cProfile.Profile()
    profiler.enable()
    for round_ in range(rounds):
        path.run_round(round_, len(work.pairs), record=False)
    profiler.disable()
    print(f"cProfile of {rounds} rounds x {len(work.pairs)} updates through FrameStore.apply:\n")
    print("```")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(25)
    print("```")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=12, help="timed rounds (one row per pair)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--profile", action="store_true", help="profile our path, no timing")
    args = parser.parse_args()
    total = args.warmup + args.rounds

    work = Workload(args.pairs, args.columns, total)
    if args.profile:
        profile(work, total)
        return 0
    with_freqtrade = DataProvider is not None
    ours_store, store = ours(work, include_decode=False)
    ours_decode, store_decode = ours(work, include_decode=True)
    paths, stores, providers = [ours_store, ours_decode], [store, store_decode], []
    if with_freqtrade:
        ft_store, dp = freqtrades(work, include_decode=False)
        ft_decode, dp_decode = freqtrades(work, include_decode=True)
        paths += [ft_store, ft_decode]
        providers += [dp, dp_decode]
    run_rounds(paths, args.pairs, total, args.warmup)
    check_equal(work, stores, providers, total)

    print(
        f"pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}, "
        "freqtrade " + ("importable" if with_freqtrade else "not importable")
    )
    print()
    print(
        f"Workload: {args.pairs} pairs x {STORED_ROWS} stored rows x {args.columns} columns; "
        f"each round stores one new {TIMEFRAME} candle per pair (a one-row broadcast, "
        f"appended, capped at {STORED_ROWS}); {args.rounds} timed rounds after {args.warmup} "
        "warm-up; medians (p90) over every update / every round."
    )
    print()
    header = "| path | per update | per update p90 | per round of all pairs |"
    rule = "|---|---:|---:|---:|"
    if with_freqtrade:
        header += " ours vs freqtrade |"
        rule += "---:|"
    print(header)
    print(rule)
    versus = {ours_store.name: 2, ours_decode.name: 3}
    for path in paths:
        row = (
            f"| {path.name} | {fmt_us(statistics.median(path.per_update))} "
            f"| {fmt_us(percentile(path.per_update, 90))} "
            f"| {fmt_ms(statistics.median(path.per_round), digits=1)} |"
        )
        if with_freqtrade:
            other = versus.get(path.name)
            if other is None:
                row += " |"
            else:
                ours_s = statistics.median(path.per_update)
                theirs_s = statistics.median(paths[other].per_update)
                row += f" {ratio(ours_s, theirs_s, faster=True)} |"
        print(row)
    print()
    print(
        "Equality: after the last round every store holds the same frame for every pair "
        "(assert_frame_equal, check_exact=True, index 0..1499, same last_analyzed)"
        + (", ours == Freqtrade's DataProvider.get_producer_df." if with_freqtrade else ".")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
