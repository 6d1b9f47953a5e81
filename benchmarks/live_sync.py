"""Live workload 1, initial sync: how long until a consumer holds every pair's history.

``pc.Consumer`` from ``start()`` until ``wait_ready()`` returns, each run in a fresh process of
this script (imports not timed), which then syncs a second time (warm). Freqtrade's real
``ExternalMessageConsumer`` + ``DataProvider`` (``_ft_consumer_proc.py`` in the oracle venv, a
fresh process per run) from constructing it until the last frame is stored. Freqtrade's consumer
sends its three initial requests 0.5 s apart (the ``send_throttle`` of its channel), so its
``analyzed_df`` request leaves about 1.0 s after it connects; a second row therefore starts both
clocks when that request reaches the producer.

Run by ``live.py``; ``python live_sync.py '<spec json>'`` is the fresh-process worker.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import DASH, fmt_s, median, ratio
from live_procs import (
    COMMAND_TIMEOUT,
    SYNC_TIMEOUT,
    TOKEN,
    LineProcess,
    ProcessError,
    Producer,
    Row,
    check_shared_clock,
    run_worker,
    spawn_freqtrade,
    stored_frames,
    worker_main,
)

import producerconsumer as pc


@dataclass
class SyncRun:
    seconds: float  # start -> ready
    from_request: float | None  # the analyzed_df request reached the producer -> ready
    connect: float | None  # start -> the producer accepted the connection
    harness: float | None = None  # process spawned -> consumer started (Freqtrade's imports)


@dataclass
class SyncResult:
    cold: list[SyncRun] = field(default_factory=list)
    warm: list[SyncRun] = field(default_factory=list)


def _run_from_times(
    producer: Producer, t_start: float, t_ready: float, harness: float | None = None
) -> SyncRun:
    conn = producer.connection_in(t_start, t_ready)
    if conn is None:
        return SyncRun(t_ready - t_start, None, None, harness)
    request = conn["analyzed_request"]
    return SyncRun(
        t_ready - t_start,
        None if request is None else t_ready - request,
        conn["opened"] - t_start,
        harness,
    )


def our_sync(producer: Producer, workdir: Path, runs: int) -> SyncResult:
    """``pc.Consumer`` syncs: each run a fresh process (imports not timed) syncing twice."""
    result = SyncResult()
    for _ in range(runs):
        spec = {"producers": [producer.config()], "repeats": 2}
        out = run_worker(Path(__file__).resolve(), spec, workdir)
        first, second = out["runs"]
        for run, bucket in ((first, result.cold), (second, result.warm)):
            if run["frames"] != len(producer.pairs) or run["rows"] != [producer.candles]:
                raise RuntimeError(f"our consumer stored something unexpected: {run}")
            bucket.append(_run_from_times(producer, run["t_start"], run["t_ready"]))
    return result


def bare_receive(producer: Producer, runs: int) -> list[float]:
    """A bare websockets client: connect, one all-pairs ``analyzed_df`` request, until every
    reply arrived (bytes only, nothing decoded); seconds per run."""
    from websockets.sync.client import connect

    from producerconsumer.wire import messages as wire

    url = f"ws://127.0.0.1:{producer.port}/api/v1/message/ws?token={TOKEN}"
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with connect(url, max_size=None) as ws:  # offers permessage-deflate, as clients do
            ws.send(wire.analyzed_df_request(wire.MAX_CANDLES))
            for _ in producer.pairs:
                ws.recv(timeout=SYNC_TIMEOUT)
        times.append(time.perf_counter() - started)
    return times


def sync_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Sync ``spec["repeats"]`` times in this process; the first is the cold one."""
    runs = []
    for _ in range(int(spec["repeats"])):
        consumer = pc.Consumer({"producers": spec["producers"]})
        gc.collect()
        t_start = time.perf_counter()
        consumer.start()
        try:
            consumer.wait_ready(timeout=SYNC_TIMEOUT, progress=False)
            t_ready = time.perf_counter()
            frames = stored_frames(consumer)
        finally:
            consumer.stop()
        rows = sorted({len(frame) for frame in frames})
        runs.append({"t_start": t_start, "t_ready": t_ready, "frames": len(frames), "rows": rows})
        del consumer, frames
    return {"runs": runs}


def freqtrade_sync(
    producer: Producer,
    oracle_python: Path,
    workdir: Path,
    runs: int,
    keep_last: bool = False,
) -> tuple[SyncResult, LineProcess | None]:
    """Freqtrade's consumer syncs, a fresh process per run; optionally keep the last one
    (synced and connected, for the latency workload)."""
    result = SyncResult()
    kept: LineProcess | None = None
    for number in range(runs):
        process = spawn_freqtrade(oracle_python, producer, workdir)
        try:
            started = process.wait_event("started")
            reply = process.request(
                "synced",
                reply_timeout=SYNC_TIMEOUT + COMMAND_TIMEOUT,
                n=len(producer.pairs),
                pairs=producer.pairs,
                timeout=SYNC_TIMEOUT,
            )
            if not (reply["synced"] and reply["verified"]):
                raise ProcessError(f"Freqtrade's consumer did not sync: {reply}")
            check_shared_clock(process)
            t_start = float(started["t_start"])
            harness = t_start - process.spawned
            result.cold.append(
                _run_from_times(producer, t_start, float(reply["t_synced"]), harness)
            )
        except BaseException:
            process.close()
            raise
        if keep_last and number == runs - 1:
            kept = process
        else:
            process.close()
    return result, kept


# --- report


def rows(ours: SyncResult, theirs: SyncResult | None, pairs: int, candles: int) -> list[Row]:
    """The table rows: workload, ours, Freqtrade, ratio."""
    ours_cold = median([r.seconds for r in ours.cold])
    ft_cold = median([r.seconds for r in theirs.cold]) if theirs else None
    ours_req = median([r.from_request for r in ours.cold])
    ft_req = median([r.from_request for r in theirs.cold]) if theirs else None
    return [
        (
            f"initial sync, {pairs} pairs x {candles} candles: start -> ready (fresh process)",
            fmt_s(ours_cold),
            fmt_s(ft_cold),
            ratio(ours_cold, ft_cold),
        ),
        (
            "same, from the `analyzed_df` request reaching the producer -> ready",
            fmt_s(ours_req),
            fmt_s(ft_req),
            ratio(ours_req, ft_req),
        ),
        (
            "same, start -> ready, second sync in the same process (warm)",
            fmt_s(median([r.seconds for r in ours.warm])),
            DASH,
            DASH,
        ),
    ]


def notes(theirs: SyncResult | None) -> list[str]:
    if theirs is None or not theirs.cold:
        return []
    connect = median([r.connect for r in theirs.cold])
    request = [r.seconds - r.from_request for r in theirs.cold if r.from_request is not None]
    harness = median([r.harness for r in theirs.cold])
    return [
        "Freqtrade's consumer sends subscribe, whitelist and analyzed_df 0.5 s apart (its "
        "channel's `send_throttle=0.5`), so its full-history request reaches the producer "
        f"{median(request) or 0:.2f} s after start (connect: {connect or 0:.3f} s); that wait "
        "is part of what its user waits for, and excluded in the second row. Its harness "
        "start-up (interpreter + Freqtrade imports, before the clock starts) took "
        f"{harness or 0:.1f} s per run, not counted. Its time ends when the DataProvider stored "
        "the last frame (measured in its process), ours when `wait_ready` returned in the "
        "caller's thread."
    ]


if __name__ == "__main__":
    raise SystemExit(worker_main(sync_worker))
