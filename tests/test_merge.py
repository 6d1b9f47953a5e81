"""``merge_informative_pair``: hand-written cases pinning Freqtrade 2026.9's behaviour (protocol
reference, section 6), on pandas 2.2 and 3.x. The exhaustive comparison with Freqtrade itself is
the differential test in ``tests/interop/oracle_tests``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from producerconsumer.merge import merge_informative_pair

NaN = np.nan
NaT = pd.NaT


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def candles(start: str, rows: int, freq: str, **columns: object) -> pd.DataFrame:
    dates = pd.date_range(start, periods=rows, freq=freq, tz="UTC")
    return pd.DataFrame({"date": dates, **columns})


def ohlcv(start: str, rows: int, freq: str) -> pd.DataFrame:
    values = np.arange(rows, dtype=float)
    return candles(start, rows, freq, open=values, high=values + 1, low=values - 1, close=values)


# --- the worked example of section 6


@pytest.fixture
def worked_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    base = candles("2024-01-01 00:00", 8, "15min", close=np.arange(100.0, 108.0))
    informative = pd.DataFrame(
        {
            "date": [ts("2023-12-31 23:00"), ts("2024-01-01 00:00"), ts("2024-01-01 01:00")],
            "close": [10.0, 11.0, 12.0],
            "rsi": [50.0, NaN, 70.0],
        }
    )
    return base, informative


def test_worked_example(worked_example):
    base, informative = worked_example
    base_before, informative_before = base.copy(), informative.copy()
    result = merge_informative_pair(base, informative, "15m", "1h")
    prev, first, second = ts("2023-12-31 23:00"), ts("2024-01-01 00:00"), ts("2024-01-01 01:00")
    expected = pd.DataFrame(
        {
            "date": base["date"],
            "close": np.arange(100.0, 108.0),
            # 00:00-00:30: leading fill from the 23:00 candle (2025.12+); it closed at 00:00
            "date_1h": [prev] * 3 + [first] * 4 + [second],
            "close_1h": [10.0] * 3 + [11.0] * 4 + [12.0],
            # 00:45-01:30: the 00:00 candle's genuine NaN is kept, not filled from 23:00
            "rsi_1h": [50.0] * 3 + [NaN] * 4 + [70.0],
        }
    )
    pd.testing.assert_frame_equal(result, expected, check_exact=True)
    pd.testing.assert_frame_equal(base, base_before)  # the inputs are not modified
    pd.testing.assert_frame_equal(informative, informative_before)


def test_worked_example_without_ffill(worked_example):
    base, informative = worked_example
    result = merge_informative_pair(base, informative, "15m", "1h", ffill=False)
    assert result["close_1h"].tolist()[3] == 11.0 and result["close_1h"].tolist()[7] == 12.0
    filled = result["date_1h"].notna().tolist()
    assert filled == [False, False, False, True, False, False, False, True]  # 00:45 and 01:45


def test_worked_example_suffix(worked_example):
    base, informative = worked_example
    result = merge_informative_pair(
        base, informative, "15m", "1h", append_timeframe=False, suffix="prod"
    )
    assert list(result.columns) == ["date", "close", "date_prod", "close_prod", "rsi_prod"]
    assert result["close_prod"].tolist() == [10.0] * 3 + [11.0] * 4 + [12.0]


def test_no_renaming_gives_pandas_suffixes(worked_example):
    base, informative = worked_example
    result = merge_informative_pair(base, informative, "15m", "1h", append_timeframe=False)
    assert list(result.columns) == ["date_x", "close_x", "date_y", "close_y", "rsi"]
    # the leading fill goes by column name, so only the non-clashing column is filled
    assert result["close_y"].isna().tolist()[:3] == [True] * 3
    assert result["rsi"].tolist()[:3] == [50.0] * 3


# --- Freqtrade's own test cases (test_strategy_helpers.py), re-derived


def test_merge_informative_pair():
    base = ohlcv("2022-01-01 00:00", 100, "15min")
    informative = ohlcv("2022-01-01 00:00", 25, "1h")
    result = merge_informative_pair(base, informative, "15m", "1h", ffill=True)
    assert list(result.columns) == [
        *("date", "open", "high", "low", "close"),
        *("date_1h", "open_1h", "high_1h", "low_1h", "close_1h"),
    ]
    assert len(result) == len(base)
    # nothing earlier to fill from: the first 3 rows are NaT, then the 00:00 candle at 00:45
    assert result["date_1h"].isna().tolist()[:4] == [True, True, True, False]
    assert result.loc[3, "date_1h"] == informative.loc[0, "date"]
    assert result.loc[4, "date_1h"] == informative.loc[0, "date"]
    assert result.loc[7, "date_1h"] == informative.loc[1, "date"]

    result = merge_informative_pair(base, informative, "15m", "1h", ffill=False)
    # only every 4th row (xx:45) is filled
    assert result["date_1h"].notna().tolist() == [i % 4 == 3 for i in range(100)]


def test_merge_informative_pair_weekly():
    base = ohlcv("2022-11-14 00:00", 1200, "1h")
    informative = ohlcv("2022-11-14 00:00", 10, "1W-MON")
    result = merge_informative_pair(base, informative, "1h", "1w", ffill=True)
    # the week of Monday 2022-12-19 closes on Monday 2022-12-26: its last hour is Sunday 23:00
    row = result.index[result["date"] == ts("2022-12-25 23:00")][0]
    assert result.loc[row, "date_1w"] == ts("2022-12-19")
    assert result.loc[row - 1, "date_1w"] == ts("2022-12-12")


def test_merge_informative_pair_monthly():
    base = ohlcv("2022-11-14 00:00", 3000, "1h")
    informative = ohlcv("2022-01-01", 17, "MS")
    result = merge_informative_pair(base, informative, "1h", "1M", ffill=True)
    # calendar months (MonthBegin): December 2022 has 31 days, 1M counts 30 for its length
    row = result.index[result["date"] == ts("2022-12-31 23:00")][0]
    assert result.loc[row, "date_1M"] == ts("2022-12-01")
    assert result.loc[row - 1, "date_1M"] == ts("2022-11-01")
    row = result.index[result["date"] == ts("2023-02-28 23:00")][0]
    assert result.loc[row, "date_1M"] == ts("2023-02-01")
    assert result.loc[row - 1, "date_1M"] == ts("2023-01-01")


def test_merge_informative_pair_same():
    base = ohlcv("2022-01-01 00:00", 100, "15min")
    informative = ohlcv("2022-01-01 00:00", 100, "15min")
    result = merge_informative_pair(base, informative, "15m", "15m", ffill=True)
    assert len(result) == len(base)
    # same timeframe: no shift, each row gets its own candle
    assert (result["date"] == result["date_15m"]).all()
    assert (result["close"] == result["close_15m"]).all()


def test_merge_informative_pair_lower():
    base = ohlcv("2022-01-01 00:00", 100, "1h")
    informative = ohlcv("2022-01-01 00:00", 100, "15min")
    message = (
        "Tried to merge a faster timeframe to a slower timeframe.This would create new rows, "
        "and can throw off your regular indicators."
    )
    with pytest.raises(ValueError) as raised:
        merge_informative_pair(base, informative, "1h", "15m", ffill=True)
    assert str(raised.value) == message  # no space after "timeframe.", as in Freqtrade


def test_merge_informative_pair_empty():
    base = ohlcv("2022-01-01 00:00", 100, "1h")
    informative = pd.DataFrame(columns=base.columns).astype(base.dtypes)
    result = merge_informative_pair(base, informative, "1h", "2h", ffill=True)
    assert result["date"].equals(base["date"])
    assert list(result.columns) == [
        *("date", "open", "high", "low", "close"),
        *("date_2h", "open_2h", "high_2h", "low_2h", "close_2h"),
    ]
    for column in ("open_2h", "high_2h", "low_2h", "close_2h"):
        assert result[column].isna().all()
    assert result["date_2h"].isna().all()


def test_merge_informative_pair_suffix():
    base = ohlcv("2022-01-01 00:00", 100, "15min")
    informative = ohlcv("2022-01-01 00:00", 25, "1h")
    result = merge_informative_pair(
        base, informative, "15m", "1h", append_timeframe=False, suffix="suf"
    )
    assert list(result.columns) == [
        *("date", "open", "high", "low", "close"),
        *("date_suf", "open_suf", "high_suf", "low_suf", "close_suf"),
    ]


def test_merge_informative_pair_suffix_append_timeframe():
    base = ohlcv("2022-01-01 00:00", 100, "15min")
    informative = ohlcv("2022-01-01 00:00", 25, "1h")
    with pytest.raises(ValueError) as raised:
        merge_informative_pair(base, informative, "15m", "1h", suffix="suf")
    assert str(raised.value) == "You can not specify `append_timeframe` as True and a `suffix`."


def test_faster_timeframe_is_checked_before_suffix():
    base = ohlcv("2022-01-01 00:00", 10, "1h")
    with pytest.raises(ValueError, match="faster timeframe"):
        merge_informative_pair(base, base, "1h", "5m", suffix="suf")


def test_missing_date_columns_raise_key_error():
    base = ohlcv("2022-01-01 00:00", 10, "1h")
    with pytest.raises(KeyError):
        merge_informative_pair(base, base, "1h", "4h", date_column="open_time")
    with pytest.raises(KeyError):
        merge_informative_pair(base.rename(columns={"date": "time"}), base, "1h", "4h")


# --- consumer-style use: the producer's frame at the same timeframe


@pytest.fixture
def producer_one_candle_behind() -> tuple[pd.DataFrame, pd.DataFrame]:
    own = ohlcv("2024-01-01 00:00", 6, "5min")
    producer = ohlcv("2024-01-01 00:00", 5, "5min")
    producer["enter_long"] = [NaN, NaN, NaN, NaN, 1.0]
    producer["enter_tag"] = ["", "", "", "", "breakout"]
    return own, producer


def test_consumer_style_ffill_repeats_the_last_signal(producer_one_candle_behind):
    own, producer = producer_one_candle_behind
    result = merge_informative_pair(
        own, producer, "5m", "5m", ffill=True, append_timeframe=False, suffix="default"
    )
    assert list(result.columns)[-3:] == ["close_default", "enter_long_default", "enter_tag_default"]
    # the newest own candle inherits the producer's previous row, its signal included
    assert result["enter_long_default"].tolist()[-2:] == [1.0, 1.0]
    assert result["date_default"].iloc[-1] == producer["date"].iloc[-1]
    assert result["enter_tag_default"].iloc[-1] == "breakout"


def test_consumer_style_without_ffill_leaves_the_new_candle_empty(producer_one_candle_behind):
    own, producer = producer_one_candle_behind
    result = merge_informative_pair(
        own, producer, "5m", "5m", ffill=False, append_timeframe=False, suffix="default"
    )
    assert result["enter_long_default"].iloc[-2] == 1.0
    assert np.isnan(result["enter_long_default"].iloc[-1])
    assert pd.isna(result["date_default"].iloc[-1])
    assert pd.isna(result["enter_tag_default"].iloc[-1])


# --- behaviours found by running Freqtrade (see the differential test)


def test_ffill_sorts_by_date_and_duplicates_multiply_rows():
    dates = [ts("2024-01-01 00:15"), ts("2024-01-01 00:00"), ts("2024-01-01 00:30")]
    base = pd.DataFrame({"date": [*dates, dates[0]], "x": [0, 1, 2, 3]})
    informative = pd.DataFrame(
        {"date": [dates[0], dates[1], dates[0]], "y": [1, 2, 3], "flag": [True, False, True]}
    )
    result = merge_informative_pair(base, informative, "15m", "15m")
    # an ordered join: rows sorted by date (stable), each 00:15 base row once per 00:15 candle,
    # the 00:30 row repeats the whole last matched row; dtypes kept (no NaN was needed)
    assert result["x"].tolist() == [1, 0, 0, 3, 3, 2]
    assert result["y_15m"].tolist() == [2, 1, 3, 1, 3, 3]
    assert result["y_15m"].dtype == np.int64 and result["flag_15m"].dtype == bool

    result = merge_informative_pair(base, informative, "15m", "15m", ffill=False)
    # a plain left join keeps the base order; the unmatched row turns int to float, bool to object
    assert result["x"].tolist() == [0, 0, 1, 2, 3, 3]
    assert result["y_15m"].tolist()[:3] == [1.0, 3.0, 2.0]
    assert np.isnan(result["y_15m"].iloc[3])
    assert result["y_15m"].dtype == np.float64 and result["flag_15m"].dtype == object


def test_unmatched_informative_candles_are_skipped():
    # ffill carries matched rows only: a candle whose key no base date equals is never seen
    base = candles("2024-01-01 00:00", 6, "30min", close=np.arange(6.0))
    informative = candles("2024-01-01 00:00", 3, "1h", close=[1.0, 2.0, 3.0])
    result = merge_informative_pair(base, informative, "5m", "1h")
    # keys are xx:55; no 30-minute base date equals one, so nothing matches and nothing is filled
    assert result["close_1h"].isna().all()


def test_single_row_result_gets_no_leading_fill():
    base = candles("2024-01-01 00:00", 1, "15min", close=[1.0])
    informative = candles("2023-12-31 22:00", 3, "1h", close=[1.0, 2.0, 3.0])
    result = merge_informative_pair(base, informative, "15m", "1h")
    assert np.isnan(result["close_1h"].iloc[0])  # Freqtrade's fill needs more than one row


def test_tz_naive_against_aware_is_pandas_error():
    base = candles("2024-01-01", 3, "15min", close=[1.0, 2.0, 3.0])
    informative = base.assign(date=base["date"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="You are trying to merge on datetime64"):
        merge_informative_pair(base, informative, "15m", "15m")


def test_other_time_zones_compare_as_instants():
    base = candles("2024-01-01 00:00", 4, "1h", close=np.arange(4.0))
    informative = base.assign(date=base["date"].dt.tz_convert("Europe/Berlin"))
    result = merge_informative_pair(base, informative, "1h", "1h", ffill=False)
    assert result["close_1h"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert str(result["date_1h"].dt.tz) == "Europe/Berlin"


@pytest.mark.parametrize("ffill", [True, False])
def test_pandas_route_agrees_with_the_fast_route(worked_example, ffill):
    # a non-string column name sends the merge through pandas' merge; results must not differ
    base, informative = worked_example
    fast = merge_informative_pair(base.assign(seven=7.0), informative, "15m", "1h", ffill=ffill)
    slow = merge_informative_pair(
        base.assign(**{"7": 7.0}).rename(columns={"7": 7}), informative, "15m", "1h", ffill=ffill
    )
    pd.testing.assert_frame_equal(slow.rename(columns={7: "seven"}), fast, check_exact=True)


def test_date_units_may_differ():
    base = candles("2024-01-01 00:00", 8, "15min", close=np.arange(8.0))
    informative = candles("2023-12-31 23:00", 3, "1h", close=[1.0, 2.0, 3.0])
    informative["date"] = informative["date"].dt.as_unit("s")
    base["date"] = base["date"].dt.as_unit("ns")
    result = merge_informative_pair(base, informative, "15m", "1h")
    assert result["close_1h"].tolist() == [1.0] * 3 + [2.0] * 4 + [3.0]
    assert result["date_1h"].dt.unit == "s"
