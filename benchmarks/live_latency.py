"""Live workload 2, latency: from a producer's write to the row stored by the consumer.

The producer writes a one-row ``analyzed_df`` for each pair, as a Freqtrade producer broadcasts
after analysing each pair: one at a time, paced (``gap_ms`` apart) or in one burst (see
:data:`MODES`). Each latency runs from just before the producer's write to the moment the
consumer has stored the row (ours: the ``updated`` event, which fires after the store; Freqtrade:
right after ``DataProvider._replace_external_df``). Both consumers are synced already: ours in
this process, Freqtrade's the one its sync workload kept.

Run by ``live.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from _common import fmt_ms, percentile, ratio
from live_procs import COMMAND_TIMEOUT, SYNC_TIMEOUT, LineProcess, ProcessError, Producer, Row

import producerconsumer as pc
from producerconsumer.store import FrameUpdate

#: How the rows of a round are written: one at a time (the next only once the previous one is
#: stored: the cost of one message, no queueing), paced (``gap_ms`` apart, as a producer's
#: per-pair analysis spaces its broadcasts), or in one burst (later pairs queue behind earlier
#: ones: the consumer's throughput shows).
MODES = ("one at a time", "paced", "burst")

#: ``wait_stored(pairs, date_ms)``: wait until the consumer stored those pairs' rows ending with
#: that candle; returns when it stored each.
WaitStored = Callable[[list[str], int], dict[str, float]]


@dataclass
class Latency:
    mode: str
    samples: list[float]  # seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)


def plan(rounds: int) -> list[str]:
    """The mode of each round, every mode ``rounds`` times (round numbers index the producer's
    pre-encoded candles, so a consumer sees consecutive candles)."""
    return [mode for mode in MODES for _ in range(rounds)]


def _broadcast_round(
    producer: Producer, number: int, mode: str, gap_ms: float, wait_stored: WaitStored
) -> list[float]:
    """Write round ``number`` in ``mode``; return the latencies."""
    pairs = producer.pairs
    date_ms = producer.round_dates_ms[number]
    if mode == "one at a time":
        samples = []
        for index, pair in enumerate(pairs):
            sent = float(producer.process.request("send", round=number, pair=index)["sent"])
            samples.append(wait_stored([pair], date_ms)[pair] - sent)
        return samples
    reply = producer.broadcast(number, gap_ms if mode == "paced" else 0.0)
    stored = wait_stored(pairs, date_ms)
    return [stored[p] - t for p, t in zip(pairs, reply["sent"], strict=True)]


def _rounds(
    producer: Producer, rounds: int, gap_ms: float, wait_stored: WaitStored
) -> dict[str, Latency]:
    results = {mode: Latency(mode, []) for mode in MODES}
    for number, mode in enumerate(plan(rounds)):
        results[mode].samples += _broadcast_round(producer, number, mode, gap_ms, wait_stored)
    return results


def our_latency(producer: Producer, rounds: int, gap_ms: float) -> dict[str, Latency]:
    """Rounds of one-row broadcasts into a synced ``pc.Consumer`` in this process."""
    arrived: dict[tuple[str, int], float] = {}
    unexpected: list[FrameUpdate] = []

    with pc.Consumer({"producers": [producer.config()]}) as consumer:

        def on_update(update: FrameUpdate) -> None:
            now = time.perf_counter()  # first thing: the row is in the store already
            if update.action == "append" and update.rows == 1:
                stored = consumer.store.entry(update.producer, update.key)
                assert stored is not None
                last = int(stored.frame["date"].iloc[-1].value // 1_000_000)
                arrived.setdefault((update.key.pair, last), now)
            else:
                unexpected.append(update)

        def wait_stored(pairs: list[str], date_ms: int) -> dict[str, float]:
            keys = [(pair, date_ms) for pair in pairs]
            consumer.wait_until(lambda: all(k in arrived for k in keys), COMMAND_TIMEOUT)
            return {pair: arrived[(pair, date_ms)] for pair in pairs}

        consumer.wait_ready(timeout=SYNC_TIMEOUT, progress=False)
        consumer.updated += on_update
        results = _rounds(producer, rounds, gap_ms, wait_stored)
        consumer.updated -= on_update
    if unexpected:
        raise RuntimeError(f"updates other than one-row appends: {unexpected[:3]}")
    return results


def freqtrade_latency(
    producer: Producer, process: LineProcess, rounds: int, gap_ms: float
) -> dict[str, Latency]:
    """The same rounds into a synced Freqtrade consumer (a row counts as stored when
    ``_replace_external_df`` returned)."""

    def wait_stored(pairs: list[str], date_ms: int) -> dict[str, float]:
        reply = process.request("stored", date_ms=date_ms, pairs=pairs, timeout=COMMAND_TIMEOUT)
        if not reply["done"]:
            raise ProcessError(f"Freqtrade stored {len(reply['times'])} of {len(pairs)} rows")
        return {pair: float(t) for pair, t in reply["times"].items()}

    return _rounds(producer, rounds, gap_ms, wait_stored)


# --- report


def rows(
    ours: dict[str, Latency], theirs: dict[str, Latency], pairs: int, gap_ms: float
) -> list[Row]:
    """The table rows (p50 and p99 per mode): workload, ours, Freqtrade, ratio."""
    out: list[Row] = []
    labels = {"paced": f"paced, {gap_ms:g} ms apart", "burst": "one burst per round"}
    for mode in MODES:
        mine, other = ours.get(mode), theirs.get(mode)
        if mine is None:
            continue
        rounds = len(mine.samples) // max(1, pairs)
        for stat in ("p50", "p99"):
            a = getattr(mine, stat)
            b = getattr(other, stat) if other else None
            label = labels.get(mode, mode)
            out.append(
                (
                    f"live latency, {pairs} pairs x {rounds} rounds, {label}: {stat}",
                    fmt_ms(a),
                    fmt_ms(b),
                    ratio(a, b),
                )
            )
    return out


def notes(gap_ms: float) -> list[str]:
    return [
        "Latency: from just before the producer writes a one-row `analyzed_df` to the moment "
        "the consumer stored it (ours: the `updated` handler; Freqtrade: after "
        "`_replace_external_df`), over `perf_counter` (CLOCK_MONOTONIC, checked to be one "
        "clock across the processes). One at a time: the next row is written once the "
        "previous one is stored (the cost of one message); paced: a row per pair every "
        f"{gap_ms:g} ms, as per-pair analysis spaces a producer's broadcasts; burst: "
        "all pairs back to back, so later pairs queue behind earlier ones."
    ]
