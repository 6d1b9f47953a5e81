from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from producerconsumer.timeframes import (
    candles_between,
    timeframe_to_minutes,
    timeframe_to_msecs,
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
