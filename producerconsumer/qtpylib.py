"""qtpylib's indicator helpers, as Freqtrade strategies call them, in plain pandas/numpy.

Freqtrade strategies conventionally do ``import freqtrade.vendor.qtpylib.indicators as qtpylib``
(now ``from technical import qtpylib``) and call ``qtpylib.crossed_above``,
``qtpylib.bollinger_bands`` and friends. This module reproduces those functions' results, so a
strategy can switch its import to ``from producerconsumer.strategy import qtpylib`` unchanged::

    from producerconsumer.strategy import qtpylib

    bands = qtpylib.bollinger_bands(qtpylib.typical_price(df), window=20, stds=2)
    df["bb_middleband"] = bands["mid"]
    entry = qtpylib.crossed_above(df["rsi"], 30)

Beware: qtpylib's ``sma`` / ``ema`` are *not* TA-Lib's. ``sma`` is a rolling mean and ``ema`` is
pandas' ``ewm(span=window, min_periods=window)`` (adjusted weights, no SMA seed), with a default
window of 200. For TA-Lib's ``SMA`` / ``EMA`` / ``RSI`` / ``TEMA`` use
:mod:`producerconsumer.indicators`.

Rolling means and standard deviations with full windows are computed over numpy windows, as
qtpylib does (its results differ from pandas' ``rolling`` in the last bits), so values match
qtpylib's exactly, not only approximately. Deliberate differences: nothing is attached to pandas
objects (qtpylib monkey-patches ``Series.crossed_above`` etc.), ``heikinashi`` works on any
index (qtpylib needs a 0-based one), numpy-array inputs come back as Series, and ``vwap`` raises,
as in Freqtrade's copy, because a whole-series VWAP looks ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .indicators import bollinger_bands, crossed_above, crossed_below, typical_price

__all__ = [
    "atr",
    "bollinger_bands",
    "crossed",
    "crossed_above",
    "crossed_below",
    "ema",
    "heikinashi",
    "hma",
    "hull_moving_average",
    "keltner_channel",
    "log_returns",
    "macd",
    "mid_price",
    "returns",
    "roc",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_vwap",
    "rolling_weighted_mean",
    "sma",
    "true_range",
    "typical_price",
    "vwap",
    "wma",
    "zscore",
]

SeriesLike: TypeAlias = pd.Series | np.ndarray
Reducer: TypeAlias = Callable[[np.ndarray], np.ndarray]


def _series(data: SeriesLike) -> pd.Series:
    return data if isinstance(data, pd.Series) else pd.Series(np.asarray(data))


def _full_windows(values: np.ndarray, window: int, reduce: Reducer) -> np.ndarray:
    """``reduce`` over every full window, NaN before the first; numpy's own reductions, so the
    rounding is qtpylib's (it reduces the same strided windows)."""
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        out[window - 1 :] = reduce(sliding_window_view(values, window))
    return out


def _mean(windows: np.ndarray) -> np.ndarray:
    return np.mean(windows, axis=-1)


def _std(windows: np.ndarray) -> np.ndarray:
    return np.std(windows, axis=-1, ddof=1)


def _rolling(
    series: SeriesLike, window: int, min_periods: int | None, reduce: Reducer, method: str
) -> pd.Series:
    data = _series(series)
    min_periods = window if min_periods is None else min_periods
    # qtpylib's fast path (numpy windows) applies only with full windows and a longer input;
    # everything else goes through pandas' rolling, whose last bits can differ.
    if min_periods == window and len(data) > window:
        values = np.asarray(data, dtype="float64")
        return pd.Series(_full_windows(values, window, reduce), index=data.index)
    rolling = data.rolling(window=window, min_periods=min_periods)
    return getattr(rolling, method)()


def rolling_mean(
    series: SeriesLike, window: int = 200, min_periods: int | None = None
) -> pd.Series:
    """Mean of the last ``window`` values (``min_periods`` defaults to ``window``)."""
    return _rolling(series, window, min_periods, _mean, "mean")


def rolling_std(series: SeriesLike, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Sample standard deviation (``ddof=1``) of the last ``window`` values."""
    return _rolling(series, window, min_periods, _std, "std")


def rolling_min(series: SeriesLike, window: int = 14, min_periods: int | None = None) -> pd.Series:
    """Minimum of the last ``window`` values."""
    data = _series(series)
    return data.rolling(window, min_periods=window if min_periods is None else min_periods).min()


def rolling_max(series: SeriesLike, window: int = 14, min_periods: int | None = None) -> pd.Series:
    """Maximum of the last ``window`` values."""
    data = _series(series)
    return data.rolling(window, min_periods=window if min_periods is None else min_periods).max()


def rolling_weighted_mean(
    series: SeriesLike, window: float = 200, min_periods: int | None = None
) -> pd.Series:
    """pandas' ``ewm(span=window, min_periods=...)`` mean (adjusted weights), as qtpylib."""
    data = _series(series)
    periods = window if min_periods is None else min_periods
    return data.ewm(span=window, min_periods=int(periods)).mean()


def sma(series: SeriesLike, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """qtpylib's ``sma``: :func:`rolling_mean` (not TA-Lib's SMA; see the module docstring)."""
    return rolling_mean(series, window, min_periods)


def wma(series: SeriesLike, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """qtpylib's ``wma``: :func:`rolling_weighted_mean`."""
    return rolling_weighted_mean(series, window, min_periods)


# qtpylib attaches its "ema" to pandas objects as the weighted mean; keep that meaning.
ema = wma


def hull_moving_average(
    series: SeriesLike, window: int = 200, min_periods: int | None = None
) -> pd.Series:
    """qtpylib's Hull moving average: ``wma(2*wma(x, n/2) - wma(x, n), sqrt(n))``."""
    periods = window if min_periods is None else min_periods
    fast = rolling_weighted_mean(series, window / 2, periods)
    slow = rolling_weighted_mean(series, window, periods)
    return rolling_weighted_mean(2 * fast - slow, float(np.sqrt(window)), periods)


def hma(series: SeriesLike, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Alias of :func:`hull_moving_average`."""
    return hull_moving_average(series, window, min_periods)


def crossed(
    series1: SeriesLike,
    series2: SeriesLike | float,
    direction: Literal["above", "below"] | None = None,
) -> pd.Series:
    """True where ``series1`` crosses ``series2`` (either way if ``direction`` is None).

    >>> crossed(pd.Series([1.0, 3.0, 1.0]), 2).tolist()
    [False, True, True]
    """
    first = _series(series1)
    second = pd.Series(series2, index=first.index) if isinstance(series2, np.ndarray) else series2
    if direction == "above":
        return crossed_above(first, second)
    if direction == "below":
        return crossed_below(first, second)
    if direction is not None:
        raise ValueError(f"direction must be 'above', 'below' or None, got {direction!r}")
    return crossed_above(first, second) | crossed_below(first, second)


def mid_price(bars: pd.DataFrame) -> pd.Series:
    """``(high + low) / 2``."""
    return (bars["high"] + bars["low"]) / 2.0


def true_range(bars: pd.DataFrame) -> pd.Series:
    """The largest of high-low, |high - previous close| and |low - previous close|.

    The first row has no previous close, so it is high-low.
    """
    previous = bars["close"].shift(1)
    ranges = pd.DataFrame(
        {
            "hl": bars["high"] - bars["low"],
            "hc": (bars["high"] - previous).abs(),
            "lc": (bars["low"] - previous).abs(),
        }
    )
    return ranges.max(axis=1)


def atr(bars: pd.DataFrame, window: int = 14, exp: bool = False) -> pd.Series:
    """Average true range: rolling mean of :func:`true_range` (``exp=True``: weighted mean)."""
    ranges = true_range(bars)
    return rolling_weighted_mean(ranges, window) if exp else rolling_mean(ranges, window)


def keltner_channel(bars: pd.DataFrame, window: int = 14, atrs: float = 2) -> pd.DataFrame:
    """``mid`` = rolling mean of the typical price, bands ``mid ± atrs * atr(window)``."""
    mid = rolling_mean(typical_price(bars), window)
    width = atr(bars, window) * atrs
    return pd.DataFrame(
        {
            "upper": (mid + width).to_numpy(),
            "mid": mid.to_numpy(),
            "lower": (mid - width).to_numpy(),
        },
        index=bars.index,
    )


def heikinashi(bars: pd.DataFrame) -> pd.DataFrame:
    """Heikin-Ashi candles: a DataFrame with ``open``, ``high``, ``low``, ``close``.

    ``close`` is the OHLC mean; ``open`` starts at ``(open + close) / 2`` of the first bar and is
    then the mean of the previous Heikin-Ashi open and close.
    """
    close = (bars["open"] + bars["high"] + bars["low"] + bars["close"]) / 4
    closes = close.to_numpy(dtype="float64")
    opens = np.empty(len(closes))
    if len(closes):
        # A plain loop: the recursion is inherently sequential, and this keeps qtpylib's exact
        # arithmetic (including how a NaN propagates) at ~1 µs per row.
        value = (float(bars["open"].iloc[0]) + float(bars["close"].iloc[0])) / 2
        opens[0] = value
        for i in range(1, len(closes)):
            value = (value + closes[i - 1]) / 2
            opens[i] = value
    open_ = pd.Series(opens, index=bars.index)
    high = pd.concat([bars["high"], open_, close], axis=1).max(axis=1)
    low = pd.concat([bars["low"], open_, close], axis=1).min(axis=1)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=bars.index)


def vwap(bars: pd.DataFrame) -> pd.Series:
    """Refused, as in Freqtrade: a VWAP over the whole series uses future candles."""
    raise ValueError(
        "qtpylib.vwap averages over the whole series, so every row sees future candles "
        "(lookahead bias); use qtpylib.rolling_vwap(bars, window) instead"
    )


def rolling_vwap(
    bars: pd.DataFrame, window: int = 200, min_periods: int | None = None
) -> pd.Series:
    """Volume-weighted typical price over the last ``window`` candles.

    Where the window's volume is 0 the previous value is carried forward.
    """
    periods = window if min_periods is None else min_periods
    price = (bars["high"] + bars["low"] + bars["close"]) / 3
    volume = bars["volume"]
    weighted = (volume * price).rolling(window=window, min_periods=periods).sum()
    total = volume.rolling(window=window, min_periods=periods).sum()
    return (weighted / total).replace([np.inf, -np.inf], np.nan).ffill()


def macd(series: pd.Series, fast: int = 3, slow: int = 10, smooth: int = 16) -> pd.DataFrame:
    """qtpylib's MACD on weighted means: ``macd``, ``signal`` and ``histogram`` columns."""
    line = rolling_weighted_mean(series, fast) - rolling_weighted_mean(series, slow)
    signal = rolling_weighted_mean(line, smooth)
    return pd.DataFrame(
        {
            "macd": line.to_numpy(),
            "signal": signal.to_numpy(),
            "histogram": (line - signal).to_numpy(),
        },
        index=series.index,
    )


def returns(series: pd.Series) -> pd.Series:
    """Simple returns ``x[t] / x[t-1] - 1``; infinities become NaN."""
    return (series / series.shift(1) - 1).replace([np.inf, -np.inf], np.nan)


def log_returns(series: pd.Series) -> pd.Series:
    """Log returns ``log(x[t] / x[t-1])``; infinities become NaN."""
    # A zero or negative price is expected to give NaN here, not a RuntimeWarning.
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(series / series.shift(1))
    return pd.Series(logs).replace([np.inf, -np.inf], np.nan)


def roc(series: pd.Series, window: int = 14) -> pd.Series:
    """Rate of change over ``window`` rows: ``(x[t] - x[t-w]) / x[t-w]``."""
    before = series.shift(window)
    return (series - before) / before


def zscore(bars: pd.DataFrame, window: int = 20, stds: float = 1, col: str = "close") -> pd.Series:
    """``(x - rolling mean) / (rolling std * stds)`` of ``bars[col]`` over full windows."""
    values = np.asarray(bars[col], dtype="float64")
    mean = _full_windows(values, window, _mean)
    std = _full_windows(values, window, _std)
    return (bars[col] - mean) / (std * stds)
