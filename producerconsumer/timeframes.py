"""Timeframe arithmetic, with Freqtrade's (ccxt's) meaning of timeframe strings.

``1M`` counts as 30 days and ``1y`` as 365 days wherever a fixed length is needed, as in
Freqtrade; candle counting between dates (:func:`candles_between`) uses calendar months and years
instead, so monthly and yearly producers work.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pandas as pd

__all__ = [
    "candles_between",
    "timeframe_to_minutes",
    "timeframe_to_msecs",
    "timeframe_to_seconds",
    "timeframe_to_timedelta",
]

_UNIT_SECONDS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "M": 2592000,
    "y": 31536000,
}
_TIMEFRAME = re.compile(r"^(\d+)([smhdwMy])$")


def _parse(timeframe: str) -> tuple[int, str]:
    match = _TIMEFRAME.match(timeframe) if isinstance(timeframe, str) else None
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"invalid timeframe {timeframe!r}: expected a number and a unit from "
            "s, m, h, d, w, M, y (e.g. '5m', '1h', '1M')"
        )
    return int(match.group(1)), match.group(2)


def timeframe_to_seconds(timeframe: str) -> int:
    """Seconds in one candle (``1M`` = 30 days, ``1y`` = 365 days, as ccxt counts)."""
    amount, unit = _parse(timeframe)
    return amount * _UNIT_SECONDS[unit]


def timeframe_to_minutes(timeframe: str) -> int:
    """Minutes in one candle."""
    return timeframe_to_seconds(timeframe) // 60


def timeframe_to_msecs(timeframe: str) -> int:
    """Milliseconds in one candle."""
    return timeframe_to_seconds(timeframe) * 1000


def timeframe_to_timedelta(timeframe: str) -> timedelta:
    """One candle as a :class:`~datetime.timedelta`."""
    return timedelta(seconds=timeframe_to_seconds(timeframe))


def _as_utc(value: datetime | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)


def candles_between(
    earlier: datetime | pd.Timestamp, later: datetime | pd.Timestamp, timeframe: str
) -> float:
    """How many candles ``later`` is after ``earlier`` (1.0 = the next candle).

    Months and years are counted on the calendar, so the gap between two monthly candles is
    exactly 1 whatever the month lengths (Freqtrade's consumer raises on ``1M`` here).
    """
    amount, unit = _parse(timeframe)
    start, end = _as_utc(earlier), _as_utc(later)
    if unit in ("M", "y"):
        months = (end.year - start.year) * 12 + (end.month - start.month)
        anchor = start + pd.DateOffset(months=months)
        rest = (end - anchor) / pd.Timedelta(days=31)
        per_candle = amount * (12 if unit == "y" else 1)
        return (months + rest) / per_candle
    return (end - start) / pd.Timedelta(seconds=amount * _UNIT_SECONDS[unit])
