"""Live benchmarks of issue 7 over loopback sockets: initial sync, live latency, scale.

    python benchmarks/live.py                                         # ours only
    PC_ORACLE_PYTHON=/tmp/oracle/venv/bin/python python benchmarks/live.py   # + Freqtrade 2026.9

Prints one markdown section (an intro line, a table ``workload | ours | Freqtrade | ratio``,
notes). Every producer is ``benchmarks/_producer_proc.py`` in a process of its own (so its CPU
never shares a GIL with a consumer), serving messages encoded once at its start: serving costs
only the socket writes. The same producer process serves both consumers, one after the other.

1. Initial sync, 100 pairs x 1500 candles (the docs' ProducerStrategy frames, 15 columns):
   ``pc.Consumer`` from ``start()`` until ``wait_ready()`` returns, each run in a fresh process
   (plus a second sync in the same process: warm); Freqtrade's real ``ExternalMessageConsumer`` +
   ``DataProvider`` (the interop harness's ``tests/interop/oracle/ft_consumer.py``, in the oracle
   venv, a fresh process per run) from constructing it until the last frame is stored. Medians of
   3 runs each. Freqtrade's consumer sends its three initial requests 0.5 s apart (the
   ``send_throttle`` of its channel), so its ``analyzed_df`` request leaves about 1.0 s after it
   connects; a second row therefore starts both clocks when that request reaches the producer.
2. Live latency: the producer writes a one-row ``analyzed_df`` for each of 100 pairs, as a
   Freqtrade producer broadcasts after analysing each pair: one at a time, paced (``GAP_MS``
   apart) or in one burst (see :data:`MODES`); each latency runs from just before the
   producer's write to the moment the consumer has stored the row (ours: the ``updated`` event,
   which fires after the store; Freqtrade: right after ``DataProvider._replace_external_df``).
3. Scale: 3 producer processes x 300 pairs x 1500 candles into one ``pc.Consumer`` (in a fresh
   process): time until ``wait_ready``, resident memory growth against the stored frames' size,
   CPU use while no message arrives.

Times across processes are ``time.perf_counter()``: on Linux that is ``CLOCK_MONOTONIC``, one
clock for the whole machine (seconds since boot), so a time taken in one process can be
subtracted from one taken in another. :func:`check_shared_clock` verifies this for every process
it talks to. No timing is asserted: these are measurements.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import producerconsumer as pc
from producerconsumer import _loop
from producerconsumer.store import FrameUpdate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "interop" / "oracle"))
import lineproto

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ORACLE_DIR = REPO / "tests" / "interop" / "oracle"
PRODUCER_SCRIPT = HERE / "_producer_proc.py"
#: Where the measured ``producerconsumer`` comes from; helper processes import the same one.
PACKAGE_ROOT = Path(pc.__file__).resolve().parents[1]
TOKEN = "live-benchmark-token"

PAIRS = 100
CANDLES = 1500
RUNS = 3
ROUNDS = 10  # per latency mode
GAP_MS = 5.0
SCALE_PRODUCERS = 3
SCALE_PAIRS = 300
IDLE_SECONDS = 5.0
SYNC_TIMEOUT = 120.0
START_TIMEOUT = 300.0  # a producer building 300 pairs next to two others, on 2 cores
COMMAND_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

# --- processes speaking "@@ {json}" lines


class LineProcess(lineproto.LineProcess):
    """A helper process (a producer, Freqtrade's consumer) on the oracle harness's protocol."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], workdir: Path) -> None:
        super().__init__(
            name, argv, env, workdir, start_timeout=START_TIMEOUT, stop_timeout=STOP_TIMEOUT
        )

    def request(
        self, cmd: str, reply_timeout: float = COMMAND_TIMEOUT, **fields: Any
    ) -> dict[str, Any]:
        return super().request(cmd, reply_timeout, **fields)

    def __enter__(self) -> LineProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _env(*paths: Path) -> dict[str, str]:
    """This environment with ``paths`` first on PYTHONPATH."""
    entries = [str(p) for p in paths]
    if os.environ.get("PYTHONPATH"):
        entries.append(os.environ["PYTHONPATH"])
    return os.environ | {"PYTHONPATH": os.pathsep.join(entries), "PYTHONUNBUFFERED": "1"}


def check_shared_clock(process: LineProcess) -> None:
    """Verify that ``process``'s ``perf_counter`` is ours: same clock, same origin.

    CPython's ``perf_counter`` is ``clock_gettime(CLOCK_MONOTONIC)`` on Linux, and
    CLOCK_MONOTONIC counts from boot for every process, so differences across processes are
    meaningful. Checked by asking the process for its clock between two readings of ours.
    """
    implementation = time.get_clock_info("perf_counter").implementation
    if "CLOCK_MONOTONIC" not in implementation:
        raise RuntimeError(
            f"perf_counter is {implementation}, not CLOCK_MONOTONIC: cross-process times would "
            "be meaningless on this platform"
        )
    before = time.perf_counter()
    theirs = float(process.request("clock")["now"])
    after = time.perf_counter()
    if not before <= theirs <= after:
        raise RuntimeError(
            f"{process.name}'s perf_counter {theirs} is not between ours {before} and {after}"
        )


# --- producers


@dataclass
class Producer:
    """One ``_producer_proc.py`` process."""

    process: LineProcess
    port: int
    pairs: list[str]
    candles: int
    round_dates_ms: list[int]
    full_bytes: int
    build_seconds: float
    encode_seconds: float

    def config(self, name: str = "default") -> dict[str, Any]:
        """An entry for ``external_message_consumer.producers``."""
        return {"name": name, "host": "127.0.0.1", "port": self.port, "ws_token": TOKEN}

    def connections(self) -> list[dict[str, Any]]:
        return list(self.process.request("conns")["conns"])

    def broadcast(self, round_number: int, gap_ms: float) -> dict[str, Any]:
        return self.process.request("broadcast", round=round_number, gap_ms=gap_ms)

    def close(self) -> None:
        self.process.close()


def spawn_producer(
    workdir: Path, pairs: int, candles: int, rounds: int, seed: int = 0
) -> LineProcess:
    argv = [sys.executable, str(PRODUCER_SCRIPT), "--pairs", str(pairs)]
    argv += ["--candles", str(candles), "--rounds", str(rounds), "--seed", str(seed)]
    argv += ["--token", TOKEN]
    return LineProcess(f"producer-{seed}", argv, _env(PACKAGE_ROOT), workdir)


def producer_ready(process: LineProcess) -> Producer:
    event = process.wait_event("listening")
    check_shared_clock(process)
    return Producer(
        process=process,
        port=int(event["port"]),
        pairs=list(event["pairs"]),
        candles=int(event["candles"]),
        round_dates_ms=list(event["round_dates_ms"]),
        full_bytes=int(event["full_bytes"]),
        build_seconds=float(event["build_seconds"]),
        encode_seconds=float(event["encode_seconds"]),
    )


def start_producer(workdir: Path, pairs: int, candles: int, rounds: int, seed: int = 0) -> Producer:
    process = spawn_producer(workdir, pairs, candles, rounds, seed)
    try:
        return producer_ready(process)
    except BaseException:
        process.close()
        raise


def _connection_in(
    producer: Producer, start: float, end: float | None = None
) -> dict[str, Any] | None:
    """The producer's record of the connection opened between ``start`` and ``end``."""
    for record in producer.connections():
        if record["opened"] >= start and (end is None or record["opened"] <= end):
            return record
    return None


# --- Freqtrade's consumer (inside the oracle venv)

#: Runs in the oracle venv with ``tests/interop/oracle`` on the path: the interop harness's
#: ``ft_consumer.Consumer`` (the real ExternalMessageConsumer and DataProvider), whose
#: DataProvider also notes, under its lock, when each frame is stored. ``ft_consumer.py``'s own
#: ``wait`` re-checks every pair (a ``get_producer_df`` copy each) on every store, O(pairs^2) work
#: holding the DataProvider's lock; timing it would charge that to Freqtrade, so ``synced`` and
#: ``stored`` wait on an O(1) condition instead, and ``wait`` then confirms the result.
FT_DRIVER = r"""
import argparse
import json
import logging
import os
import sys
import time
from typing import Any

import ft_consumer
import lineproto
import pandas as pd
from freqtrade import __version__ as freqtrade_version


class TimedDataProvider(ft_consumer.ObservedDataProvider):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.whitelist_at: float | None = None
        self.first_store: dict[str, float] = {}  # pair -> when its first frame was stored
        # last candle (ms) -> {pair: when a frame ending with that candle was stored}
        self.by_date: dict[int, dict[str, float]] = {}

    def _set_producer_pairs(self, pairlist: list[str], producer_name: str = "default") -> None:
        with self.changed:
            super()._set_producer_pairs(pairlist, producer_name)
            if self.whitelist_at is None:
                self.whitelist_at = time.perf_counter()

    def _replace_external_df(
        self, pair: str, dataframe: pd.DataFrame, *args: Any, **kwargs: Any
    ) -> None:
        with self.changed:  # a re-entrant lock: the parent takes it too, and notifies
            super()._replace_external_df(pair, dataframe, *args, **kwargs)
            now = time.perf_counter()
            self.first_store.setdefault(pair, now)
            last = int(dataframe["date"].iloc[-1].value // 1_000_000)
            self.by_date.setdefault(last, {}).setdefault(pair, now)


spec = json.loads(sys.argv[1])
args = argparse.Namespace(
    host="127.0.0.1", port=spec["port"], token=spec["token"], name="default",
    timeframe="5m", candle_type="spot", wait_timeout=30, sleep_time=1,
)
lineproto.setup_logging()
ft_consumer.ObservedDataProvider = TimedDataProvider  # what ft_consumer.Consumer builds
t_start = time.perf_counter()
consumer = ft_consumer.Consumer(args)  # the ExternalMessageConsumer connects from here on
dp: TimedDataProvider = consumer.dp
lineproto.emit({"event": "started", "t_start": t_start, "freqtrade": freqtrade_version})


def clock(request: dict[str, Any]) -> dict[str, Any]:
    return {"now": time.perf_counter()}


def synced(request: dict[str, Any]) -> dict[str, Any]:
    n = int(request["n"])
    with dp.changed:
        done = dp.changed.wait_for(
            lambda: dp.whitelist_at is not None and len(dp.first_store) >= n,
            float(request["timeout"]),
        )
        t_synced = max([dp.whitelist_at or 0.0, *dp.first_store.values()])
    check = consumer.wait({"timeout": 10, "pairs": request["pairs"]})  # the harness's check
    return {
        "synced": bool(done), "verified": check["synced"], "t_start": t_start,
        "t_whitelist": dp.whitelist_at, "t_synced": t_synced, "stores": dp.stores,
    }


def stored(request: dict[str, Any]) -> dict[str, Any]:
    date, pairs = int(request["date_ms"]), list(request["pairs"])

    def arrived() -> bool:
        times = dp.by_date.get(date, {})
        return all(p in times for p in pairs)

    with dp.changed:
        done = dp.changed.wait_for(arrived, float(request["timeout"]))
        times = dp.by_date.get(date, {})
        return {"done": bool(done), "times": {p: times[p] for p in pairs if p in times}}


quit_done = False


def quit_once(request: dict[str, Any]) -> dict[str, Any]:
    global quit_done
    if quit_done:
        return {}
    quit_done = True
    return consumer.quit(request)


try:
    lineproto.serve({"clock": clock, "synced": synced, "stored": stored, "quit": quit_once})
finally:
    if not quit_done:
        consumer.quit({})
    logging.shutdown()
    os._exit(0)  # the ExternalMessageConsumer's thread is not a daemon
"""


def spawn_freqtrade(oracle_python: Path, producer: Producer, workdir: Path) -> LineProcess:
    spec = json.dumps({"port": producer.port, "token": TOKEN})
    argv = [str(oracle_python), "-c", FT_DRIVER, spec]
    return LineProcess("freqtrade-consumer", argv, _env(ORACLE_DIR), workdir)


# --- workload 1: initial sync


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
    conn = _connection_in(producer, t_start, t_ready)
    if conn is None:
        return SyncRun(t_ready - t_start, None, None, harness)
    request = conn["analyzed_request"]
    return SyncRun(
        t_ready - t_start,
        None if request is None else t_ready - request,
        conn["opened"] - t_start,
        harness,
    )


def our_sync(producer: Producer, workdir: Path, runs: int = RUNS) -> SyncResult:
    """``pc.Consumer`` syncs: each run a fresh process (imports not timed) syncing twice."""
    result = SyncResult()
    for _ in range(runs):
        spec = {"producers": [producer.config()], "repeats": 2, "candles": producer.candles}
        out = run_worker("sync", spec, workdir)
        first, second = out["runs"]
        for run, bucket in ((first, result.cold), (second, result.warm)):
            if run["frames"] != len(producer.pairs) or run["rows"] != [producer.candles]:
                raise RuntimeError(f"our consumer stored something unexpected: {run}")
            bucket.append(_run_from_times(producer, run["t_start"], run["t_ready"]))
    return result


def freqtrade_sync(
    producer: Producer,
    oracle_python: Path,
    workdir: Path,
    runs: int = RUNS,
    keep_last: bool = False,
) -> tuple[SyncResult, LineProcess | None]:
    """Freqtrade's consumer syncs, a fresh process per run; optionally keep the last one."""
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
                raise lineproto.ProcessError(f"Freqtrade's consumer did not sync: {reply}")
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


# --- workload 2: live latency

#: How the rows of a round are written: one at a time (the next only once the previous one is
#: stored: the cost of one message, no queueing), paced (``gap_ms`` apart, as a producer's
#: per-pair analysis spaces its broadcasts), or in one burst (later pairs queue behind earlier
#: ones: the consumer's throughput shows).
MODES = ("one at a time", "paced", "burst")


@dataclass
class Latency:
    mode: str
    samples: list[float]  # seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def _plan(rounds: int) -> list[str]:
    """The mode of each round, every mode ``rounds`` times (round numbers index the producer's
    pre-encoded candles, so a consumer sees consecutive candles)."""
    return [mode for mode in MODES for _ in range(rounds)]


def _broadcast_round(
    producer: Producer,
    number: int,
    mode: str,
    gap_ms: float,
    wait_stored: Callable[[list[str], int], dict[str, float]],
) -> list[float]:
    """Write round ``number`` in ``mode``; ``wait_stored(pairs, date_ms)`` waits until the
    consumer stored those pairs' rows and returns when it stored each. Returns the latencies."""
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


def our_latency(
    producer: Producer, rounds: int = ROUNDS, gap_ms: float = GAP_MS
) -> dict[str, Latency]:
    """Rounds of one-row broadcasts into a synced ``pc.Consumer`` in this process."""
    arrived: dict[tuple[str, int], float] = {}
    unexpected: list[FrameUpdate] = []

    def on_update(update: FrameUpdate) -> None:
        now = time.perf_counter()  # first thing: the row is in the store already
        if update.action == "append" and update.rows == 1:
            stored = consumer.store.entry(update.producer, update.key)
            assert stored is not None
            last = int(stored.frame["date"].iloc[-1].value // 1_000_000)
            arrived.setdefault((update.key.pair, last), now)
        else:
            unexpected.append(update)

    results = {mode: Latency(mode, []) for mode in MODES}
    with pc.Consumer({"producers": [producer.config()]}) as consumer:
        consumer.wait_ready(timeout=SYNC_TIMEOUT, progress=False)
        consumer.updated += on_update

        def wait_stored(pairs: list[str], date_ms: int) -> dict[str, float]:
            keys = [(pair, date_ms) for pair in pairs]
            consumer.wait_until(lambda: all(k in arrived for k in keys), COMMAND_TIMEOUT)
            return {pair: arrived[(pair, date_ms)] for pair in pairs}

        for number, mode in enumerate(_plan(rounds)):
            results[mode].samples += _broadcast_round(producer, number, mode, gap_ms, wait_stored)
        consumer.updated -= on_update
    if unexpected:
        raise RuntimeError(f"updates other than one-row appends: {unexpected[:3]}")
    return results


def freqtrade_latency(
    producer: Producer, process: LineProcess, rounds: int = ROUNDS, gap_ms: float = GAP_MS
) -> dict[str, Latency]:
    """The same rounds into a synced Freqtrade consumer (a row counts as stored when
    ``_replace_external_df`` returned)."""

    def wait_stored(pairs: list[str], date_ms: int) -> dict[str, float]:
        reply = process.request("stored", date_ms=date_ms, pairs=pairs, timeout=COMMAND_TIMEOUT)
        if not reply["done"]:
            raise lineproto.ProcessError(
                f"Freqtrade stored {len(reply['times'])} of {len(pairs)} rows"
            )
        return {pair: float(t) for pair, t in reply["times"].items()}

    results = {mode: Latency(mode, []) for mode in MODES}
    for number, mode in enumerate(_plan(rounds)):
        results[mode].samples += _broadcast_round(producer, number, mode, gap_ms, wait_stored)
    return results


# --- workload 3: scale


@dataclass
class ScaleResult:
    producers: int
    pairs: int
    candles: int
    seconds: float
    frames: int
    raw_bytes: int
    rss_before: int
    rss_ready: int
    rss_trimmed: int | None
    idle_cpu_seconds: float
    idle_wall_seconds: float
    idle_messages: int

    @property
    def growth(self) -> int:
        return self.rss_ready - self.rss_before

    @property
    def idle_percent(self) -> float:
        return 100 * self.idle_cpu_seconds / self.idle_wall_seconds


def scale(
    workdir: Path,
    producers: int = SCALE_PRODUCERS,
    pairs: int = SCALE_PAIRS,
    candles: int = CANDLES,
    idle_seconds: float = IDLE_SECONDS,
) -> ScaleResult:
    """Several producer processes into one ``pc.Consumer`` in a fresh process."""
    processes = [spawn_producer(workdir, pairs, candles, 0, seed) for seed in range(producers)]
    try:
        started = [producer_ready(process) for process in processes]
        spec = {
            "producers": [p.config(f"producer{i}") for i, p in enumerate(started)],
            "idle_seconds": idle_seconds,
        }
        out = run_worker("scale", spec, workdir)
    finally:
        for process in processes:
            process.close()
    return ScaleResult(producers=producers, pairs=pairs, candles=candles, **out)


# --- workers: fresh processes of this script


def run_worker(kind: str, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, json.dumps(spec)]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=_env(PACKAGE_ROOT),
        cwd=str(workdir),
        timeout=SYNC_TIMEOUT + 120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(lineproto.PREFIX)]
    if done.returncode or not lines:
        raise lineproto.ProcessError(
            f"worker {kind} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1][len(lineproto.PREFIX) :])
    return result


def _stored_frames(consumer: pc.Consumer) -> list[pd.DataFrame]:
    frames = []
    for name in consumer.store.producers():
        for key in consumer.store.keys(name):
            stored = consumer.store.entry(name, key)
            if stored is not None:
                frames.append(stored.frame)
    return frames


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
            frames = _stored_frames(consumer)
        finally:
            consumer.stop()
        rows = sorted({len(frame) for frame in frames})
        runs.append({"t_start": t_start, "t_ready": t_ready, "frames": len(frames), "rows": rows})
        del consumer, frames
    return {"runs": runs}


def rss_bytes() -> int:
    """VmRSS of this process, from /proc/self/status."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _malloc_trim() -> bool:
    """Give glibc's free heap pages back to the system (False where that is not glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    libc.malloc_trim(0)
    return True


def scale_worker(spec: dict[str, Any]) -> dict[str, Any]:
    consumer = pc.Consumer({"producers": spec["producers"]})
    _loop.get_loop()  # the background thread exists before the baseline: not frame memory
    gc.collect()
    rss_before = rss_bytes()
    t_start = time.perf_counter()
    consumer.start()
    try:
        consumer.wait_ready(timeout=SYNC_TIMEOUT, progress=False)
        seconds = time.perf_counter() - t_start
        gc.collect()
        rss_ready = rss_bytes()
        frames = _stored_frames(consumer)
        raw = int(sum(frame.memory_usage(deep=True).sum() for frame in frames))
        count = len(frames)
        del frames
        # Idle: connected, synced, no message arriving. Reads the whole process's CPU time
        # (the loop thread included) over a window in which this thread only sleeps.
        messages = sum(status.messages for status in consumer.status().values())
        cpu, wall = time.process_time(), time.perf_counter()
        time.sleep(float(spec["idle_seconds"]))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        idle_messages = sum(s.messages for s in consumer.status().values()) - messages
        gc.collect()
        rss_trimmed = rss_bytes() if _malloc_trim() else None
    finally:
        consumer.stop()
    return {
        "seconds": seconds,
        "frames": count,
        "raw_bytes": raw,
        "rss_before": rss_before,
        "rss_ready": rss_ready,
        "rss_trimmed": rss_trimmed,
        "idle_cpu_seconds": cpu,
        "idle_wall_seconds": wall,
        "idle_messages": idle_messages,
    }


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "sync": sync_worker,
    "scale": scale_worker,
}


# --- report


@dataclass
class Results:
    pairs: int
    candles: int
    producer: Producer | None = None
    ours_sync: SyncResult | None = None
    ft_sync: SyncResult | None = None
    ours_latency: dict[str, Latency] = field(default_factory=dict)
    ft_latency: dict[str, Latency] = field(default_factory=dict)
    scale: ScaleResult | None = None
    freqtrade_note: str = ""
    gap_ms: float = GAP_MS
    runs: int = RUNS


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.2f} ms"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or ours <= 0:
        return "—"
    return f"{theirs / ours:.1f}x"


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def report(results: Results) -> str:
    n, c = results.pairs, results.candles
    rows: list[tuple[str, str, str, str]] = []
    ours, ft = results.ours_sync, results.ft_sync
    if ours is not None:
        ours_cold = _median([r.seconds for r in ours.cold])
        ft_cold = _median([r.seconds for r in ft.cold]) if ft else None
        rows.append(
            (
                f"initial sync, {n} pairs x {c} candles: start -> ready (fresh process)",
                _seconds(ours_cold),
                _seconds(ft_cold),
                _ratio(ours_cold, ft_cold),
            )
        )
        ours_req = _median([r.from_request for r in ours.cold])
        ft_req = _median([r.from_request for r in ft.cold]) if ft else None
        rows.append(
            (
                "same, from the `analyzed_df` request reaching the producer -> ready",
                _seconds(ours_req),
                _seconds(ft_req),
                _ratio(ours_req, ft_req),
            )
        )
        rows.append(
            (
                "same, start -> ready, second sync in the same process (warm)",
                _seconds(_median([r.seconds for r in ours.warm])),
                "—",
                "—",
            )
        )
    for mode, label in (
        ("one at a time", "one at a time"),
        ("paced", f"paced, {results.gap_ms:g} ms apart"),
        ("burst", "one burst per round"),
    ):
        mine, theirs = results.ours_latency.get(mode), results.ft_latency.get(mode)
        if mine is None:
            continue
        rounds = len(mine.samples) // max(1, n)
        for stat in ("p50", "p99"):
            a = getattr(mine, stat)
            b = getattr(theirs, stat) if theirs else None
            rows.append(
                (
                    f"live latency, {n} pairs x {rounds} rounds, {label}: {stat}",
                    _ms(a),
                    _ms(b),
                    _ratio(a, b),
                )
            )
    s = results.scale
    if s is not None:
        what = f"{s.producers} producers x {s.pairs} pairs x {s.candles} candles"
        rows.append((f"scale, {what}: start -> ready", _seconds(s.seconds), "—", "—"))
        rows.append(
            (
                f"scale: RSS growth / stored frames' size ({s.frames} frames)",
                f"{s.growth / s.raw_bytes:.2f}x ({_mib(s.growth)} / {_mib(s.raw_bytes)})",
                "—",
                "—",
            )
        )
        if s.rss_trimmed is not None:
            trimmed = s.rss_trimmed - s.rss_before
            rows.append(
                (
                    "scale: same, after `gc.collect()` + `malloc_trim(0)`",
                    f"{trimmed / s.raw_bytes:.2f}x ({_mib(trimmed)})",
                    "—",
                    "—",
                )
            )
        rows.append(
            (
                f"scale: CPU while idle ({s.idle_wall_seconds:.0f} s, no messages)",
                f"{s.idle_percent:.2f} % of a core",
                "—",
                "—",
            )
        )

    out = [
        f"Live paths over loopback (`benchmarks/live.py`): medians of {results.runs} runs per "
        "side, each producer a separate process serving pre-encoded messages; "
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
        f"machine: {platform.platform()}, {os.cpu_count()} cpus, python "
        f"{platform.python_version()}, pandas {pd.__version__}, producerconsumer from "
        f"`{PACKAGE_ROOT}`; other load on the machine shows up in these numbers.",
    ]
    producer = results.producer
    if producer is not None:
        notes.append(
            f"The {len(producer.pairs)}-pair producer sends {_mib(producer.full_bytes)} of "
            f"`analyzed_df` replies for a sync (15-column frames of the docs' ProducerStrategy on "
            f"the demo's synthetic market; built in {producer.build_seconds:.1f} s and encoded "
            f"once in {producer.encode_seconds:.1f} s at its start, not timed). permessage-deflate "
            "is off: a uvicorn producer would compress, at extra cost on both ends."
        )
    ft = results.ft_sync
    if ft is not None and ft.cold:
        connect = _median([r.connect for r in ft.cold])
        request = [r.seconds - r.from_request for r in ft.cold if r.from_request is not None]
        notes.append(
            "Freqtrade's consumer sends subscribe, whitelist and analyzed_df 0.5 s apart (its "
            "channel's `send_throttle=0.5`), so its full-history request reaches the producer "
            f"{_median(request) or 0:.2f} s after start (connect: {connect or 0:.3f} s); that wait "
            "is part of what its user waits for, and excluded in the second row. Its harness "
            "start-up (interpreter + Freqtrade imports, before the clock starts) took "
            f"{_median([r.harness for r in ft.cold]) or 0:.1f} s per run, not counted. Its time "
            "ends when the DataProvider stored the last frame (measured in its process), ours "
            "when `wait_ready` returned in the caller's thread."
        )
    notes.append(results.freqtrade_note)
    if results.ours_latency:
        notes.append(
            "Latency: from just before the producer writes a one-row `analyzed_df` to the moment "
            "the consumer stored it (ours: the `updated` handler; Freqtrade: after "
            "`_replace_external_df`), over `perf_counter` (CLOCK_MONOTONIC, checked to be one "
            "clock across the processes). One at a time: the next row is written once the "
            "previous one is stored (the cost of one message); paced: a row per pair every "
            f"{results.gap_ms:g} ms, as per-pair analysis spaces a producer's broadcasts; burst: "
            "all pairs back to back, so later pairs queue behind earlier ones."
        )
    if results.scale is not None:
        notes.append(
            "Scale memory: VmRSS after `gc.collect()`, before connecting and once ready, against "
            "the sum of `DataFrame.memory_usage(deep=True)` over the stored frames; RSS also "
            "holds what decoding allocated transiently and the allocator kept (the trimmed row "
            "shows how much of it glibc can return). Idle CPU: the process's CPU time (all "
            "threads) over a window with no messages."
        )
    return [f"* {note}" for note in notes if note]


# --- main


def oracle_python() -> tuple[Path | None, str]:
    """``$PC_ORACLE_PYTHON`` if set and usable, with a note on why not otherwise."""
    value = os.environ.get("PC_ORACLE_PYTHON")
    if not value:
        return None, "Freqtrade's columns need `PC_ORACLE_PYTHON` (the oracle venv's python)."
    path = Path(value)
    if not path.exists():
        return None, f"`PC_ORACLE_PYTHON`={value} does not exist: Freqtrade not measured."
    return path, ""


def run(
    pairs: int = PAIRS,
    candles: int = CANDLES,
    runs: int = RUNS,
    rounds: int = ROUNDS,
    gap_ms: float = GAP_MS,
    with_scale: bool = True,
    with_freqtrade: bool = True,
) -> Results:
    results = Results(pairs, candles, gap_ms=gap_ms, runs=runs)
    oracle, results.freqtrade_note = oracle_python() if with_freqtrade else (None, "")
    with tempfile.TemporaryDirectory(prefix="pc-live-") as tmp:
        workdir = Path(tmp)
        producer = start_producer(workdir, pairs, candles, rounds * len(MODES))
        results.producer = producer
        try:
            results.ours_sync = our_sync(producer, workdir, runs)
            results.ours_latency = our_latency(producer, rounds, gap_ms)
            if oracle is not None:
                results.ft_sync, kept = freqtrade_sync(
                    producer, oracle, workdir, runs, keep_last=True
                )
                if kept is not None:
                    try:
                        results.ft_latency = freqtrade_latency(producer, kept, rounds, gap_ms)
                    finally:
                        kept.close()
        finally:
            producer.close()
        if with_scale:
            results.scale = scale(workdir, candles=candles)
    return results


def section(**options: Any) -> str:
    """Run the workloads (``options`` as for :func:`run`) and return the markdown report."""
    return report(run(**options))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--worker"]:
        result = WORKERS[args[1]](json.loads(args[2]))
        sys.stdout.write(lineproto.PREFIX + json.dumps(result) + "\n")
        sys.stdout.flush()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=PAIRS)
    parser.add_argument("--candles", type=int, default=CANDLES)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="per latency mode")
    parser.add_argument("--gap-ms", type=float, default=GAP_MS)
    parser.add_argument("--no-scale", action="store_true", help="skip the scale workload")
    parser.add_argument("--no-freqtrade", action="store_true", help="ours only")
    options = parser.parse_args(args)
    results = run(
        pairs=options.pairs,
        candles=options.candles,
        runs=options.runs,
        rounds=options.rounds,
        gap_ms=options.gap_ms,
        with_scale=not options.no_scale,
        with_freqtrade=not options.no_freqtrade,
    )
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
