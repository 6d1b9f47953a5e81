"""The processes of the live benchmarks (``live.py``), shared by its workloads.

* producers: ``_producer_proc.py``, each in a process of its own (its CPU never shares a GIL
  with a consumer), serving messages encoded once at its start;
* Freqtrade's consumer: ``_ft_consumer_proc.py`` in the oracle venv;
* workers of ours: a workload module run as a fresh process (``run_worker``), so that imports
  and earlier runs do not weigh on what it measures.

All of them speak the interop harness's line protocol (``tests/interop/oracle/lineproto.py``).
Times across processes are ``time.perf_counter()``: on Linux that is ``CLOCK_MONOTONIC``, one
clock for the whole machine (seconds since boot), so a time taken in one process can be
subtracted from one taken in another. :func:`check_shared_clock` verifies this for every process
a benchmark talks to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common
import lineproto
import pandas as pd

import producerconsumer as pc

PRODUCER_SCRIPT = _common.HERE / "_producer_proc.py"
FT_CONSUMER_SCRIPT = _common.HERE / "_ft_consumer_proc.py"
#: Where the measured ``producerconsumer`` comes from; helper processes import the same one.
PACKAGE_ROOT = Path(pc.__file__).resolve().parents[1]
TOKEN = "live-benchmark-token"

SYNC_TIMEOUT = 120.0
START_TIMEOUT = 300.0  # a producer building 300 pairs next to two others, on 2 cores
COMMAND_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

Worker = Callable[[dict[str, Any]], dict[str, Any]]
ProcessError = lineproto.ProcessError
#: A row of ``live.py``'s table: workload, ours, Freqtrade, ratio.
Row = tuple[str, str, str, str]


class LineProcess(lineproto.LineProcess):
    """A helper process (a producer, Freqtrade's consumer) with the benchmarks' time limits."""

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


def env(*paths: Path) -> dict[str, str]:
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

    def connection_in(self, start: float, end: float | None = None) -> dict[str, Any] | None:
        """This producer's record of the connection opened between ``start`` and ``end``."""
        for record in self.connections():
            if record["opened"] >= start and (end is None or record["opened"] <= end):
                return record
        return None

    def broadcast(self, round_number: int, gap_ms: float) -> dict[str, Any]:
        return self.process.request("broadcast", round=round_number, gap_ms=gap_ms)

    def close(self) -> None:
        self.process.close()


def spawn_producer(
    workdir: Path, pairs: int, candles: int, rounds: int, seed: int = 0, demo: bool = False
) -> LineProcess:
    """Start a producer process; :func:`producer_ready` waits until it listens. ``demo``:
    ``pc.DemoProducer`` (no latency rounds) instead of the pre-encoding benchmark server."""
    argv = [sys.executable, str(PRODUCER_SCRIPT), "--pairs", str(pairs)]
    argv += ["--candles", str(candles), "--rounds", str(rounds), "--seed", str(seed)]
    argv += ["--token", TOKEN] + (["--demo"] if demo else [])
    return LineProcess(f"producer-{seed}", argv, env(PACKAGE_ROOT), workdir)


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


def start_producer(
    workdir: Path, pairs: int, candles: int, rounds: int, seed: int = 0, demo: bool = False
) -> Producer:
    process = spawn_producer(workdir, pairs, candles, rounds, seed, demo)
    try:
        return producer_ready(process)
    except BaseException:
        process.close()
        raise


# --- Freqtrade's consumer


def spawn_freqtrade(oracle_python: Path, producer: Producer, workdir: Path) -> LineProcess:
    """Start ``_ft_consumer_proc.py`` in the oracle venv, connecting to ``producer`` at once."""
    argv = [str(oracle_python), str(FT_CONSUMER_SCRIPT), "--port", str(producer.port)]
    argv += ["--token", TOKEN]
    return LineProcess("freqtrade-consumer", argv, env(_common.ORACLE_DIR), workdir)


# --- workers: a workload module in a fresh process


def run_worker(script: Path, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run ``script`` (whose main is :func:`worker_main`) on ``spec``; return its result."""
    argv = [sys.executable, str(script), json.dumps(spec)]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env(PACKAGE_ROOT),
        cwd=str(workdir),
        timeout=SYNC_TIMEOUT + 120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(lineproto.PREFIX)]
    if done.returncode or not lines:
        raise ProcessError(
            f"worker {script.name} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1][len(lineproto.PREFIX) :])
    return result


def worker_main(worker: Worker, argv: Sequence[str] | None = None) -> int:
    """The worker's side of :func:`run_worker`: ``worker(spec)`` written as one protocol line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: a worker takes one argument, its spec as JSON (see live.py)\n")
        return 2
    result = worker(json.loads(args[0]))
    sys.stdout.write(lineproto.PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


def stored_frames(consumer: pc.Consumer) -> list[pd.DataFrame]:
    """Every frame ``consumer`` holds."""
    frames = []
    for name in consumer.store.producers():
        for key in consumer.store.keys(name):
            stored = consumer.store.entry(name, key)
            if stored is not None:
                frames.append(stored.frame)
    return frames
