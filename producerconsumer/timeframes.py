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
    "timeframe_to_floor_freq",
    "timeframe_to_minutes",
    "timeframe_to_msecs",
    "timeframe_to_next_date",
    "timeframe_to_prev_date",
    "timeframe_to_resample_freq",
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


def timeframe_to_resample_freq(timeframe: str) -> str:
    """The pandas frequency that resamples candles into ``timeframe``, as Freqtrade's helper of
    the same name: ``"<seconds>s"`` for fixed lengths up to a week, ``"1W-MON"`` for weeks (they
    start on Monday), ``"<n>MS"`` for months (from the 1st), ``"1YS"`` for ``1y`` and the
    timeframe itself for longer ones."""
    if timeframe == "1y":
        return "1YS"
    seconds = timeframe_to_seconds(timeframe)
    minutes = seconds // 60
    # Freqtrade's thresholds, in ccxt minutes: a week is 10080, a month 43200, a year 525600.
    if 10000 < minutes < 43200:
        return "1W-MON"
    if 43200 <= minutes < 525600:
        return f"{timeframe}S"
    if minutes > 43200:
        return timeframe
    return f"{seconds}s"


def timeframe_to_floor_freq(timeframe: str) -> str:
    """The pandas frequency Freqtrade floors dates to for ``timeframe``: ``"1s"`` for timeframes
    of a minute or less, else ``"1min"``."""
    return "1s" if timeframe_to_minutes(timeframe) <= 1 else "1min"


def timeframe_to_prev_date(timeframe: str, date: datetime | None = None) -> datetime:
    """The open date of the candle that contains ``date`` (default: now), in UTC.

    A candle open date is returned unchanged. As in Freqtrade (via ccxt): weeks start on Monday
    (counted from 1970-01-05), months and years on the calendar, other timeframes are multiples
    of their length since the epoch. A naive ``date`` is read as local time, like
    :meth:`datetime.timestamp` does.
    """
    return _round_date(timeframe, date, up=False)


def timeframe_to_next_date(timeframe: str, date: datetime | None = None) -> datetime:
    """The open date of the candle after the one that contains ``date`` (default: now), in UTC.

    Always strictly later than ``date``: a candle open date gives the next candle's.
    """
    return _round_date(timeframe, date, up=True)


_EPOCH_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)


def _round_date(timeframe: str, date: datetime | None, *, up: bool) -> datetime:
    amount, unit = _parse(timeframe)
    if date is None:
        date = datetime.now(UTC)
    # Whole milliseconds, truncated as Freqtrade's ``dt_ts`` does (sub-ms parts never matter:
    # the shortest timeframe is a second).
    msecs = int(date.timestamp() * 1000)
    if unit in ("w", "M", "y"):
        moment = datetime.fromtimestamp(msecs / 1000, UTC)
        if unit == "w":
            weeks = (moment - _EPOCH_MONDAY).days // 7 // amount * amount + (amount if up else 0)
            start = _EPOCH_MONDAY + timedelta(weeks=weeks)
        elif unit == "M":
            months = (moment.year * 12 + moment.month - 1) // amount * amount
            months += amount if up else 0
            start = datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)
        else:
            start = datetime(
                moment.year // amount * amount + (amount if up else 0), 1, 1, tzinfo=UTC
            )
        return start
    step = amount * _UNIT_SECONDS[unit] * 1000
    rounded = msecs - msecs % step + (step if up else 0)
    return datetime.fromtimestamp(rounded // 1000, UTC)


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
