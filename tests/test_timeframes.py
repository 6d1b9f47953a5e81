from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from producerconsumer.timeframes import (
    candles_between,
    timeframe_to_floor_freq,
    timeframe_to_minutes,
    timeframe_to_msecs,
    timeframe_to_next_date,
    timeframe_to_prev_date,
    timeframe_to_resample_freq,
    timeframe_to_seconds,
)


@pytest.mark.parametrize(
    ("timeframe", "minutes"),
    [
        ("1m", 1),
        ("5m", 5),
        ("1h", 60),
        ("4h", 240),
        ("1d", 1440),
        ("1w", 10080),
        ("1M", 43200),
        ("1y", 525600),
    ],
)
def test_minutes_as_ccxt(timeframe, minutes):
    assert timeframe_to_minutes(timeframe) == minutes
    assert timeframe_to_seconds(timeframe) == minutes * 60
    assert timeframe_to_msecs(timeframe) == minutes * 60_000


@pytest.mark.parametrize("bad", ["", "5", "m", "0m", "5x", "1.5h", None])
def test_invalid_timeframe(bad):
    with pytest.raises(ValueError, match="invalid timeframe"):
        timeframe_to_seconds(bad)


def test_candles_between_fixed_and_calendar():
    t = pd.Timestamp("2024-01-01 00:00", tz="UTC")
    assert candles_between(t, t + pd.Timedelta(minutes=5), "5m") == 1
    assert candles_between(t, t + pd.Timedelta(minutes=20), "5m") == 4
    assert candles_between(t, t, "5m") == 0
    assert candles_between(t, t - pd.Timedelta(minutes=10), "5m") == -2
    # calendar months: February is one candle after January whatever its length
    assert candles_between(t, pd.Timestamp("2024-02-01", tz="UTC"), "1M") == 1
    assert (
        candles_between(
            pd.Timestamp("2024-02-01", tz="UTC"), pd.Timestamp("2024-03-01", tz="UTC"), "1M"
        )
        == 1
    )
    assert candles_between(t, pd.Timestamp("2024-04-01", tz="UTC"), "1M") == 3
    assert candles_between(t, pd.Timestamp("2025-01-01", tz="UTC"), "1y") == 1
    assert candles_between(datetime(2024, 1, 1), datetime(2024, 1, 1, 1, tzinfo=UTC), "1h") == 1


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timeframe", "date", "prev", "next_"),
    [
        ("5m", utc(2024, 3, 1, 10, 7, 30), utc(2024, 3, 1, 10, 5), utc(2024, 3, 1, 10, 10)),
        # a candle open date is its own previous date; "next" is always later
        ("5m", utc(2024, 3, 1, 10, 5), utc(2024, 3, 1, 10, 5), utc(2024, 3, 1, 10, 10)),
        ("1h", utc(2024, 3, 1, 10, 59, 59), utc(2024, 3, 1, 10), utc(2024, 3, 1, 11)),
        ("4h", utc(2024, 3, 1, 10), utc(2024, 3, 1, 8), utc(2024, 3, 1, 12)),
        ("1d", utc(2024, 2, 29, 23), utc(2024, 2, 29), utc(2024, 3, 1)),
        ("3d", utc(2024, 3, 1), utc(2024, 2, 29), utc(2024, 3, 3)),  # days since the epoch
        # weeks start on Monday (2024-02-26 and 2024-03-04 are Mondays)
        ("1w", utc(2024, 3, 1, 12), utc(2024, 2, 26), utc(2024, 3, 4)),
        ("1w", utc(2024, 3, 4), utc(2024, 3, 4), utc(2024, 3, 11)),
        # months and years on the calendar, not 30 / 365 days
        ("1M", utc(2024, 2, 29, 12), utc(2024, 2, 1), utc(2024, 3, 1)),
        ("1M", utc(2024, 12, 31), utc(2024, 12, 1), utc(2025, 1, 1)),
        ("3M", utc(2024, 5, 15), utc(2024, 4, 1), utc(2024, 7, 1)),
        ("1y", utc(2024, 7, 1), utc(2024, 1, 1), utc(2025, 1, 1)),
    ],
)
def test_prev_and_next_date(timeframe, date, prev, next_):
    assert timeframe_to_prev_date(timeframe, date) == prev
    assert timeframe_to_next_date(timeframe, date) == next_
    assert timeframe_to_prev_date(timeframe, date).tzinfo is not None


def test_prev_and_next_date_accept_timestamps_and_other_zones():
    berlin = pd.Timestamp("2024-03-01 11:07", tz="Europe/Berlin")  # 10:07 UTC
    assert timeframe_to_prev_date("5m", berlin) == utc(2024, 3, 1, 10, 5)
    assert timeframe_to_next_date("1h", berlin) == utc(2024, 3, 1, 11)


def test_prev_and_next_date_default_to_now():
    now = datetime.now(UTC)
    prev = timeframe_to_prev_date("1m")
    assert prev <= datetime.now(UTC) and now - prev < timedelta(minutes=1, seconds=5)
    assert timeframe_to_next_date("1m") > now


@pytest.mark.parametrize(
    ("timeframe", "resample", "floor"),
    [
        ("1s", "1s", "1s"),
        ("1m", "60s", "1s"),
        ("5m", "300s", "1min"),
        ("1h", "3600s", "1min"),
        ("1d", "86400s", "1min"),
        ("1w", "1W-MON", "1min"),
        ("1M", "1MS", "1min"),
        ("3M", "3MS", "1min"),
        ("1y", "1YS", "1min"),
        ("2y", "2y", "1min"),
    ],
)
def test_pandas_frequencies(timeframe, resample, floor):
    assert timeframe_to_resample_freq(timeframe) == resample
    assert timeframe_to_floor_freq(timeframe) == floor


def test_resample_frequency_groups_into_candles():
    dates = pd.date_range("2024-01-29", periods=21, freq="1D", tz="UTC")
    weekly = pd.Series(1, index=dates).resample(timeframe_to_resample_freq("1w"), label="left")
    starts = list(weekly.sum().index)
    assert all(start.weekday() == 0 for start in starts)  # weeks start on Monday
    monthly = pd.Series(1, index=dates).resample(timeframe_to_resample_freq("1M")).sum()
    assert list(monthly.index.day) == [1, 1]
