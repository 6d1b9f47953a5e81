"""What every benchmark shares: paths, timing, percentiles, formatting, the machine line and
where the Freqtrade oracle's Python is.

Standard library only: the decode, merge and update benchmarks import it inside the Freqtrade
oracle venv as well as in ours. Importing it puts ``tests/interop/oracle`` on ``sys.path``, for
the interop harness's standard-library helpers (``locate``, ``lineproto``).
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ORACLE_DIR = REPO / "tests" / "interop" / "oracle"

if str(ORACLE_DIR) not in sys.path:
    sys.path.insert(0, str(ORACLE_DIR))

from locate import find_oracle_python  # noqa: E402  (the one rule, shared with the tests)

__all__ = [
    "DASH",
    "HERE",
    "ORACLE_DIR",
    "REPO",
    "find_oracle_python",
    "fmt_mib",
    "fmt_ms",
    "fmt_s",
    "fmt_us",
    "machine",
    "median",
    "median_ms",
    "percentile",
    "ratio",
]

# --- timing


def median_ms(functions: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """The median wall time of each function over ``repeats`` calls, in milliseconds.

    Each function is called once untimed first (warm-up). The timed calls alternate between the
    functions, so that other load on the machine slows all of them alike, and run with the
    garbage collector off (a collection would land on whichever call happens to trigger it).
    """
    for function in functions:
        function()
    times: list[list[float]] = [[] for _ in functions]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for function, spent in zip(functions, times, strict=True):
                started = time.perf_counter()
                function()
                spent.append(time.perf_counter() - started)
    finally:
        if gc_was_enabled:
            gc.enable()
    return [statistics.median(spent) * 1e3 for spent in times]


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values that are not ``None`` (``None`` if there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile: the smallest value with ``p`` % of the values at or
    below it."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- formatting (``None``: not measured, shown as a dash)

DASH = "—"


def fmt_s(seconds: float | None, digits: int = 2) -> str:
    return DASH if seconds is None else f"{seconds:.{digits}f} s"


def fmt_ms(seconds: float | None, digits: int = 2) -> str:
    return DASH if seconds is None else f"{seconds * 1e3:.{digits}f} ms"


def fmt_us(seconds: float | None) -> str:
    return DASH if seconds is None else f"{seconds * 1e6:,.0f} µs"


def fmt_mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"


def ratio(ours: float | None, theirs: float | None, digits: int = 1, faster: bool = False) -> str:
    """``theirs / ours`` as ``"2.5x"``; with ``faster``, ``"2.5x faster"`` or, when ``theirs``
    takes less time than ``ours``, ``"1.3x slower"``. A dash if either is missing or ``ours``
    is not positive."""
    if ours is None or theirs is None or ours <= 0 or (faster and theirs <= 0):
        return DASH
    value = theirs / ours
    if not faster:
        return f"{value:.{digits}f}x"
    if value >= 1:
        return f"{value:.{digits}f}x faster"
    return f"{1 / value:.{digits}f}x slower"


# --- the machine


def machine() -> str:
    """One line naming the machine: CPU, logical CPUs, memory, OS, Python."""
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
