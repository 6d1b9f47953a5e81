"""Live workload 3, scale: several producer processes into one ``pc.Consumer``.

The consumer runs in a fresh process of this script: time until ``wait_ready``, resident memory
growth against the stored frames' size, CPU use while no message arrives. Ours only (Freqtrade
has no counterpart to compare with here).

Run by ``live.py``; ``python live_scale.py '<spec json>'`` is the fresh-process worker.
"""

from __future__ import annotations

import ctypes
import gc
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import DASH, fmt_mib, fmt_s
from live_procs import (
    SYNC_TIMEOUT,
    Row,
    producer_ready,
    run_worker,
    spawn_producer,
    stored_frames,
    worker_main,
)

import producerconsumer as pc
from producerconsumer import _loop


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
    workdir: Path, producers: int, pairs: int, candles: int, idle_seconds: float
) -> ScaleResult:
    """Start ``producers`` producer processes of ``pairs`` x ``candles``; sync them into one
    ``pc.Consumer`` in a fresh process."""
    processes = [spawn_producer(workdir, pairs, candles, 0, seed) for seed in range(producers)]
    try:
        started = [producer_ready(process) for process in processes]
        spec = {
            "producers": [p.config(f"producer{i}") for i, p in enumerate(started)],
            "idle_seconds": idle_seconds,
        }
        out = run_worker(Path(__file__).resolve(), spec, workdir)
    finally:
        for process in processes:
            process.close()
    return ScaleResult(producers=producers, pairs=pairs, candles=candles, **out)


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
        frames = stored_frames(consumer)
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


# --- report


def rows(s: ScaleResult) -> list[Row]:
    """The table rows: workload, ours, and dashes for Freqtrade and the ratio."""
    what = f"{s.producers} producers x {s.pairs} pairs x {s.candles} candles"
    out: list[Row] = [
        (f"scale, {what}: start -> ready", fmt_s(s.seconds), DASH, DASH),
        (
            f"scale: RSS growth / stored frames' size ({s.frames} frames)",
            f"{s.growth / s.raw_bytes:.2f}x ({fmt_mib(s.growth)} / {fmt_mib(s.raw_bytes)})",
            DASH,
            DASH,
        ),
    ]
    if s.rss_trimmed is not None:
        trimmed = s.rss_trimmed - s.rss_before
        out.append(
            (
                "scale: same, after `gc.collect()` + `malloc_trim(0)`",
                f"{trimmed / s.raw_bytes:.2f}x ({fmt_mib(trimmed)})",
                DASH,
                DASH,
            )
        )
    out.append(
        (
            f"scale: CPU while idle ({s.idle_wall_seconds:.0f} s, no messages)",
            f"{s.idle_percent:.2f} % of a core",
            DASH,
            DASH,
        )
    )
    return out


def notes() -> list[str]:
    return [
        "Scale memory: VmRSS after `gc.collect()`, before connecting and once ready, against "
        "the sum of `DataFrame.memory_usage(deep=True)` over the stored frames; RSS also "
        "holds what decoding allocated transiently and the allocator kept (the trimmed row "
        "shows how much of it glibc can return). Idle CPU: the process's CPU time (all "
        "threads) over a window with no messages."
    ]


if __name__ == "__main__":
    raise SystemExit(worker_main(scale_worker))
