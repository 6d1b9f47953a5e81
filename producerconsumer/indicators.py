"""Technical indicators in pure pandas/numpy: no TA-Lib needed.

The moving averages and RSI reproduce TA-Lib's algorithms (default compatibility mode, no
unstable period): the same lookback (leading NaN) and, after it, the same values to within
floating-point rounding. ``typical_price``, ``bollinger_bands``, ``crossed_above`` and
``crossed_below`` follow the semantics of qtpylib, the helper library Freqtrade strategies use.

Every function takes a :class:`pandas.Series` (or DataFrame with OHLC columns where noted) and
returns results aligned to the input's index, so they can be assigned straight to a dataframe
column as in a Freqtrade strategy::

    df["rsi"] = rsi(df["close"], 14)
    df["tema"] = tema(df["close"], 9)
    bands = bollinger_bands(typical_price(df), window=20, stds=2)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "bollinger_bands",
    "crossed_above",
    "crossed_below",
    "ema",
    "rsi",
    "sma",
    "tema",
    "typical_price",
]


def _check_period(period: int, minimum: int) -> int:
    if isinstance(period, bool) or int(period) != period or period < minimum:
        raise ValueError(f"period must be an integer >= {minimum}, got {period!r}")
    return int(period)


def _as_float(series: pd.Series) -> pd.Series:
    return pd.Series(np.asarray(series, dtype="float64"), index=series.index, name=series.name)


def _seeded_smoothing(values: pd.Series, seed_pos: int, seed: float, alpha: float) -> pd.Series:
    """``y[seed_pos] = seed``, then ``y[t] = y[t-1] + alpha * (x[t] - y[t-1])``; NaN before.

    This is TA-Lib's recursive smoothing (EMA and Wilder's RSI average both use it), written as
    an ``ewm(adjust=False)`` over the tail whose first value is replaced by the seed, so it runs
    vectorised instead of in a Python loop.
    """
    out = np.full(len(values), np.nan)
    tail = values.to_numpy(dtype="float64", copy=True)[seed_pos:]
    if len(tail):
        tail[0] = seed
        out[seed_pos:] = pd.Series(tail).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return pd.Series(out, index=values.index)


def sma(series: pd.Series, period: int = 30) -> pd.Series:
    """Simple moving average, like ``talib.SMA``: NaN for the first ``period - 1`` rows."""
    period = _check_period(period, 1)
    return _as_float(series).rolling(period, min_periods=period).mean()


def ema(series: pd.Series, period: int = 30) -> pd.Series:
    """Exponential moving average, like ``talib.EMA``.

    ``k = 2 / (period + 1)``; the first value is the simple average of the first ``period``
    valid values (TA-Lib's seed, unlike pandas' ``ewm``), so the first ``period - 1`` rows are
    NaN. Leading NaN in the input are skipped, as TA-Lib does, which lets EMAs be chained
    (see :func:`tema`).
    """
    period = _check_period(period, 1)
    values = _as_float(series)
    valid = np.flatnonzero(values.notna().to_numpy())
    if len(valid) == 0 or len(values) - valid[0] < period:
        return pd.Series(np.nan, index=values.index, dtype="float64")
    start = int(valid[0])
    seed_pos = start + period - 1
    seed = float(values.iloc[start : seed_pos + 1].mean())
    return _seeded_smoothing(values, seed_pos, seed, 2.0 / (period + 1))


def tema(series: pd.Series, period: int = 30) -> pd.Series:
    """Triple exponential moving average, like ``talib.TEMA``: ``3*e1 - 3*e2 + e3``.

    ``e2`` is the EMA of ``e1`` and ``e3`` the EMA of ``e2``, each seeded after the previous one's
    lookback, so the first ``3 * (period - 1)`` rows are NaN.
    """
    e1 = ema(series, period)
    e2 = ema(e1, period)
    e3 = ema(e2, period)
    return 3 * e1 - 3 * e2 + e3


def rsi(series: pd.Series, period: int = 14) -> pd.Series:
    """Relative strength index with Wilder's smoothing, like ``talib.RSI``.

    Average gain and loss start as the simple means of the first ``period`` changes and are then
    smoothed with ``alpha = 1 / period``; the first ``period`` rows are NaN. Where both averages
    are (almost) zero, TA-Lib reports 0, and so does this.
    """
    period = _check_period(period, 2)
    values = _as_float(series)
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    valid = np.flatnonzero(values.notna().to_numpy())
    if len(valid) == 0 or len(values) - valid[0] <= period:
        return out
    # Like TA-Lib's wrapper, leading NaN are skipped: the first change is after the first value.
    first = int(valid[0]) + period
    change = values.diff()
    gain = change.clip(lower=0.0)
    loss = (-change).clip(lower=0.0)
    seed_gain = float(gain.iloc[first - period + 1 : first + 1].mean())
    seed_loss = float(loss.iloc[first - period + 1 : first + 1].mean())
    avg_gain = _seeded_smoothing(gain, first, seed_gain, 1 / period)
    avg_loss = _seeded_smoothing(loss, first, seed_loss, 1 / period)
    total = avg_gain + avg_loss
    # TA-Lib's TA_IS_ZERO threshold: a flat market gives 0 rather than a division blow-up.
    result = (100.0 * avg_gain / total).where(total.abs() >= 1e-8, 0.0)
    out.iloc[first:] = result.iloc[first:]
    return out


def typical_price(bars: pd.DataFrame) -> pd.Series:
    """``(high + low + close) / 3`` of an OHLC dataframe, as qtpylib computes it."""
    return (bars["high"] + bars["low"] + bars["close"]) / 3.0


def bollinger_bands(series: pd.Series, window: int = 20, stds: float = 2) -> pd.DataFrame:
    """Bollinger bands as qtpylib computes them: a DataFrame with ``upper``, ``mid``, ``lower``.

    ``mid`` is the rolling mean and the bands are ``mid ± stds * rolling std``, both with
    ``min_periods=1`` and pandas' default sample standard deviation (``ddof=1``). So ``mid`` is
    defined from the first row, and the bands from the second.
    """
    window = _check_period(window, 1)
    rolling = series.rolling(window=window, min_periods=1)
    mid = rolling.mean()
    std = rolling.std()
    return pd.DataFrame(
        {"upper": mid + std * stds, "mid": mid, "lower": mid - std * stds}, index=series.index
    )


def _as_series(other: pd.Series | float, like: pd.Series) -> pd.Series:
    if isinstance(other, pd.Series):
        return other
    # A scalar (or array) threshold becomes a series so that ``shift`` gives the same threshold.
    return pd.Series(other, index=like.index)


def crossed_above(series1: pd.Series, series2: pd.Series | float) -> pd.Series:
    """True where ``series1`` goes above ``series2``: ``s1 > s2`` now and ``s1 <= s2`` before.

    ``series2`` may be a number (a fixed threshold, e.g. RSI 30). Comparisons with NaN are
    False, so the first row and every row touching a NaN are False (qtpylib semantics).
    """
    other = _as_series(series2, series1)
    return (series1 > other) & (series1.shift(1) <= other.shift(1))


def crossed_below(series1: pd.Series, series2: pd.Series | float) -> pd.Series:
    """True where ``series1`` goes below ``series2``: ``s1 < s2`` now and ``s1 >= s2`` before."""
    other = _as_series(series2, series1)
    return (series1 < other) & (series1.shift(1) >= other.shift(1))
