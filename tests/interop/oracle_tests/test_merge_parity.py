"""Differential test, run INSIDE the Freqtrade oracle venv: our ``merge_informative_pair``
against Freqtrade 2026.9's on generated frames, compared exactly (values, dtypes, column names
and order, index), errors included (same type, same message).

Started by ``tests/interop/test_oracle_merge.py`` as
``<oracle python> -m pytest <this file> -c <this dir>/pytest.ini --hypothesis-profile=parity``
with ``PYTHONPATH=<repo>``; the main test run never collects it (it imports Freqtrade).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from freqtrade.strategy import merge_informative_pair as ft_merge
from hypothesis import given, settings
from hypothesis import strategies as st

from producerconsumer.merge import merge_informative_pair as our_merge

# Freqtrade's (ccxt's) timeframes from minutes to a year; "1M" is the calendar-month special case.
TIMEFRAMES = [
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
    "1y",
]
_FREQ = {"1w": "W-MON", "1M": "MS", "1y": "YS"}
ZONES = [None, "UTC", "Europe/Berlin"]
UNITS = ["s", "ms", "us", "ns"]


def _freq(timeframe: str) -> Any:
    """A pandas frequency for consecutive candles of ``timeframe``."""
    return _FREQ.get(timeframe) or pd.Timedelta(seconds=_seconds(timeframe))


def _seconds(timeframe: str) -> int:
    from freqtrade.exchange import timeframe_to_seconds

    return timeframe_to_seconds(timeframe)


# Candle open dates of the calendar timeframes (ns since the epoch), 2000-2049.
_CALENDAR = {
    tf: pd.date_range("2000-01-01", "2049-12-31", freq=freq).asi8
    for tf, freq in (("1M", "MS"), ("1y", "YS"))
}
_NAT_NS = np.iinfo(np.int64).min


def _candle_dates(timeframe: str, anchor: pd.Timestamp, shift: int, count: int) -> np.ndarray:
    """``count`` consecutive candle open dates (int64 ns) from ``shift`` candles after
    ``anchor`` (a candle open date of ``timeframe``)."""
    if timeframe in _CALENDAR:
        grid = _CALENDAR[timeframe]
        first = int(np.searchsorted(grid, anchor.value)) + shift
        return grid[first : first + count]
    step = _seconds(timeframe) * 1_000_000_000
    return anchor.value + (shift + np.arange(count, dtype=np.int64)) * step


def date_column(
    rng: np.random.Generator, timeframe: str, anchor: pd.Timestamp, tz: str | None, unit: str
) -> pd.Series:
    """Candle open dates for ``timeframe``: a run starting near ``anchor``, sometimes with gaps,
    duplicated, shuffled, misaligned or NaT dates."""
    rows = int(rng.choice([0, 1, 2, 3, 5, 8, 13, 30]))
    dates = _candle_dates(timeframe, anchor, int(rng.integers(-12, 13)), rows * 2)
    if rng.random() < 0.25:  # gaps
        dates = dates[rng.random(len(dates)) < 0.6]
    dates = dates[:rows]
    if rng.random() < 0.1:  # misaligned by a few minutes
        dates = dates + int(rng.integers(1, 60)) * 60_000_000_000
    if rng.random() < 0.12 and len(dates):  # duplicates
        for _ in range(int(rng.integers(1, 4))):
            copy = dates[rng.integers(0, len(dates))]
            dates = np.insert(dates, rng.integers(0, len(dates) + 1), copy)
    if rng.random() < 0.12:  # unsorted
        dates = rng.permutation(dates)
    if rng.random() < 0.05 and len(dates):  # a missing date
        dates = dates.copy()
        dates[rng.integers(0, len(dates))] = _NAT_NS
    index = pd.DatetimeIndex(dates.view("datetime64[ns]"))
    if tz is not None:
        index = index.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return pd.Series(index).dt.as_unit(unit)


def frame(
    rng: np.random.Generator, dates: pd.Series, date_name: str, extra: list[str]
) -> pd.DataFrame:
    """An analyzed-looking frame on ``dates``: prices with NaN warm-up or holes, and extra
    columns of the dtypes strategies produce."""
    rows = len(dates)
    nan_rate = rng.choice([0.0, 0.1, 0.5])

    def floats() -> np.ndarray:
        return np.where(rng.random(rows) < nan_rate, np.nan, rng.integers(0, 10_000, rows) / 7)

    data: dict[str, Any] = {date_name: dates, "close": floats()}
    for name in extra:
        kind = str(rng.choice(["float", "int", "bool", "str", "signal", "datetime"]))
        if kind == "float":
            data[name] = floats()
        elif kind == "int":
            data[name] = rng.integers(-5, 5, rows)
        elif kind == "bool":
            data[name] = rng.random(rows) < 0.5
        elif kind == "str":
            data[name] = [["", "a", "tag b", "x"][i] for i in rng.integers(0, 4, rows)]
        elif kind == "signal":  # 1/NaN entry signals, as strategies produce them
            data[name] = np.where(rng.random(rows) < 0.3, 1.0, np.nan)
        else:
            data[name] = dates.reset_index(drop=True)
    result = pd.DataFrame(data)
    if rng.random() < 0.1 and rows:  # a non-default index must not matter
        result.index = pd.RangeIndex(100, 100 + rows)
    return result


_SLOWER = {tf: [t for t in TIMEFRAMES if _seconds(t) >= _seconds(tf)] for tf in TIMEFRAMES}
_BASE_EXTRA = ["rsi", "volume", "enter_long", "tag"]
_INF_EXTRA = ["rsi", "ema", "enter_long", "tag", "close_1h"]


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for one call of ``merge_informative_pair``. Hypothesis draws the
    choices that matter (timeframes, zones, options); the frames' contents come from a numpy
    generator seeded by one draw, which keeps 10 000 cases within a few minutes."""
    timeframe = draw(st.sampled_from(TIMEFRAMES))
    faster_allowed = draw(st.integers(0, 14)) == 0  # an error case now and then
    timeframe_inf = draw(st.sampled_from(TIMEFRAMES if faster_allowed else _SLOWER[timeframe]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    day = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 2000)))
    # Start on a boundary of the slower timeframe, as exchange candles do.
    if timeframe_inf in _FREQ:
        anchor = pd.date_range(day, periods=1, freq=_FREQ[timeframe_inf])[0]
    else:
        anchor = day.floor(pd.Timedelta(seconds=_seconds(timeframe_inf)))
    tz = draw(st.sampled_from(ZONES))
    tz_inf = tz if draw(st.integers(0, 9)) else draw(st.sampled_from(ZONES))
    date_name = draw(st.sampled_from(["date", "date", "date", "time", "open_time"]))
    base_dates = date_column(rng, timeframe, anchor, tz, str(rng.choice(UNITS)))
    inf_dates = date_column(rng, timeframe_inf, anchor, tz_inf, str(rng.choice(UNITS)))
    base_extra = [c for c in _BASE_EXTRA if rng.random() < 0.4]
    inf_extra = [c for c in _INF_EXTRA if rng.random() < 0.4]
    base = frame(rng, base_dates, "date", base_extra)
    if rng.random() < 0.05:  # names that clash with the key or the _x/_y suffixes, or no str
        base[
            rng.choice(
                np.array(["date_merge", "date_merge_1h", "close_y", "rsi_x", 7], dtype=object)
            )
        ] = 1.0
    informative = frame(rng, inf_dates, date_name, inf_extra)
    naming = draw(st.sampled_from(["append", "default", "suffix", "neither", "both", "empty"]))
    options: dict[str, Any] = {"ffill": draw(st.booleans())}
    if naming == "append":
        options["append_timeframe"] = True
    elif naming == "suffix":
        options.update(append_timeframe=False, suffix=draw(st.sampled_from(["inf", "default"])))
    elif naming == "neither":
        options["append_timeframe"] = False
    elif naming == "both":
        options["suffix"] = "inf"
    elif naming == "empty":
        options.update(append_timeframe=draw(st.booleans()), suffix="")
    if date_name != "date":
        options["date_column"] = date_name
    return {
        "dataframe": base,
        "informative": informative,
        "timeframe": timeframe,
        "timeframe_inf": timeframe_inf,
        **options,
    }


def _run(function: Any, case: dict[str, Any]) -> tuple[pd.DataFrame | None, BaseException | None]:
    try:
        return function(**case), None
    except Exception as exc:  # the comparison includes the error
        return None, exc


def assert_same_as_freqtrade(case: dict[str, Any]) -> None:
    base, informative = case["dataframe"].copy(), case["informative"].copy()
    ours, our_error = _run(our_merge, case)
    # The inputs are not modified (``equals``: same dtypes, values, NaN in the same places).
    assert case["dataframe"].equals(base) and case["informative"].equals(informative)
    theirs, their_error = _run(ft_merge, case)
    if their_error is not None or our_error is not None:
        assert type(our_error) is type(their_error), (our_error, their_error)
        assert str(our_error) == str(their_error)
        return
    assert ours is not None and theirs is not None
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


@settings(deadline=None)
@given(cases())
def test_merge_parity(case: dict[str, Any]) -> None:
    assert_same_as_freqtrade(case)
