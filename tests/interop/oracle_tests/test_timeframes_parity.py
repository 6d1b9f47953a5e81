"""Differential test, run INSIDE the Freqtrade oracle venv: our timeframe helpers against
Freqtrade 2026.9's (``freqtrade.exchange``) on generated dates and every timeframe unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import freqtrade.exchange as ft
from hypothesis import given, settings
from hypothesis import strategies as st

import producerconsumer.timeframes as ours

TIMEFRAMES = [
    *("1s", "30s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h"),
    *("1d", "3d", "1w", "2w", "1M", "3M", "1y", "2y"),
]
DATES = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=500)
@given(st.sampled_from(TIMEFRAMES), DATES)
def test_prev_and_next_date(timeframe: str, date: datetime) -> None:
    assert ours.timeframe_to_prev_date(timeframe, date) == ft.timeframe_to_prev_date(
        timeframe, date
    )
    assert ours.timeframe_to_next_date(timeframe, date) == ft.timeframe_to_next_date(
        timeframe, date
    )


@settings(max_examples=500)
@given(st.sampled_from(TIMEFRAMES), DATES)
def test_candle_open_dates_are_fixed_points(timeframe: str, date: datetime) -> None:
    start = ft.timeframe_to_prev_date(timeframe, date)
    assert ours.timeframe_to_prev_date(timeframe, start) == start
    assert ours.timeframe_to_next_date(timeframe, start) == ft.timeframe_to_next_date(
        timeframe, start
    )
    just_before = start - timedelta(milliseconds=1)
    assert ours.timeframe_to_prev_date(timeframe, just_before) == ft.timeframe_to_prev_date(
        timeframe, just_before
    )


def test_conversions() -> None:
    for timeframe in TIMEFRAMES:
        assert ours.timeframe_to_seconds(timeframe) == ft.timeframe_to_seconds(timeframe)
        assert ours.timeframe_to_minutes(timeframe) == ft.timeframe_to_minutes(timeframe)
        assert ours.timeframe_to_msecs(timeframe) == ft.timeframe_to_msecs(timeframe)
        assert ours.timeframe_to_resample_freq(timeframe) == ft.timeframe_to_resample_freq(
            timeframe
        )
        assert ours.timeframe_to_floor_freq(timeframe) == ft.timeframe_to_floor_freq(timeframe)


def test_now_by_default() -> None:
    before = ft.timeframe_to_prev_date("1m")
    assert ours.timeframe_to_prev_date("1m") in (before, before + timedelta(minutes=1))
    assert ours.timeframe_to_next_date("1m") > datetime.now(UTC)
