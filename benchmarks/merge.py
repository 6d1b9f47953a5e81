"""Time ``merge_informative_pair`` against Freqtrade's, on 10 000 base x 2 000 informative rows.

Run ``python benchmarks/merge.py`` (any dev venv) for our timings, or with the Freqtrade oracle
venv to also time ``freqtrade.strategy.merge_informative_pair`` and check that both results are
exactly equal::

    PYTHONPATH=. .oracle-venv/bin/python benchmarks/merge.py

Prints a markdown table of median times over repeats and their ratio.
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from _common import median_ms, ratio
from pandas.testing import assert_frame_equal

from producerconsumer.merge import merge_informative_pair

try:
    from freqtrade.strategy import merge_informative_pair as ft_merge_informative_pair
except ImportError:
    ft_merge_informative_pair = None

# (name, base timeframe, informative timeframe, pandas frequencies, keyword arguments)
PAIRS: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    ("5m / 1h", "5m", "1h", "5min", "1h", {}),
    ("1h / 4h", "1h", "4h", "1h", "4h", {}),
    ("1h / 1d", "1h", "1d", "1h", "1D", {}),
    ("1d / 1M", "1d", "1M", "1D", "MS", {}),
    (
        "5m / 5m consumer",
        "5m",
        "5m",
        "5min",
        "5min",
        {"append_timeframe": False, "suffix": "default"},
    ),
    (
        "5m / 5m consumer, ffill=False",
        "5m",
        "5m",
        "5min",
        "5min",
        {"append_timeframe": False, "suffix": "default", "ffill": False},
    ),
]


def analyzed_frame(dates: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """OHLCV plus indicators with NaN warm-up, 1/NaN signals and a tag column."""
    rng = np.random.default_rng(seed)
    rows = len(dates)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, rows)))
    frame = pd.DataFrame(
        {
            "date": dates,
            "open": close * (1 + rng.normal(0, 0.001, rows)),
            "high": close * 1.002,
            "low": close * 0.998,
            "close": close,
            "volume": rng.uniform(0, 50, rows),
        }
    )
    for i in range(8):
        frame[f"ind{i}"] = pd.Series(rng.normal(size=rows)).where(np.arange(rows) >= 20 + i)
    frame["enter_long"] = np.where(rng.random(rows) < 0.1, 1.0, np.nan)
    frame["enter_tag"] = np.where(rng.random(rows) < 0.1, "breakout", "")
    return frame


def frames(base_freq: str, inf_freq: str, rows: int, inf_rows: int) -> tuple[Any, Any]:
    """A base frame and an informative frame that starts earlier and overlaps it."""
    base_dates = pd.date_range("2000-01-03", periods=rows, freq=base_freq, tz="UTC")
    inf_end = base_dates[-1].floor("D")
    inf_dates = pd.date_range(end=inf_end, periods=inf_rows, freq=inf_freq, tz="UTC")
    if inf_freq == base_freq:  # consumer style: the producer is one candle behind
        inf_dates = base_dates[-inf_rows - 1 : -1]
    return analyzed_frame(base_dates, 1), analyzed_frame(inf_dates, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--inf-rows", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    print(f"pandas {pd.__version__}, {args.rows} base rows x {args.inf_rows} informative rows")
    print()
    if ft_merge_informative_pair is None:
        print("| pair | ours (ms) |")
        print("|---|---:|")
    else:
        print("| pair | ours (ms) | Freqtrade (ms) | Freqtrade / ours | equal |")
        print("|---|---:|---:|---:|---|")
    for name, tf, tf_inf, freq, freq_inf, options in PAIRS:
        base, informative = frames(freq, freq_inf, args.rows, args.inf_rows)
        call = (base, informative, tf, tf_inf)
        functions = [partial(merge_informative_pair, *call, **options)]
        if ft_merge_informative_pair is None:
            (ours,) = median_ms(functions, args.repeats)
            print(f"| {name} | {ours:.2f} |")
            continue
        functions.append(partial(ft_merge_informative_pair, *call, **options))
        ours, theirs = median_ms(functions, args.repeats)
        try:
            assert_frame_equal(
                merge_informative_pair(*call, **options),
                ft_merge_informative_pair(*call, **options),
                check_exact=True,
            )
            equal = "yes"
        except AssertionError as exc:
            equal = f"NO: {str(exc).splitlines()[0]}"
        print(f"| {name} | {ours:.2f} | {theirs:.2f} | {ratio(ours, theirs, digits=2)} | {equal} |")


if __name__ == "__main__":
    main()
