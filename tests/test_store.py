from __future__ import annotations

import threading
import warnings
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from producerconsumer.store import MAX_ROWS, FrameStore
from producerconsumer.wire import (
    AnalyzedFrame,
    FrameKey,
    ProtocolError,
    decode_dataframe,
    encode_dataframe,
)

KEY = FrameKey("BTC/USDT", "5m", "spot")
LA = datetime(2026, 1, 1, tzinfo=UTC)
START = pd.Timestamp("2026-01-01", tz="UTC")


def frame(
    first: int, count: int, freq: str = "5min", label0: int | None = None, start=START
) -> pd.DataFrame:
    """Rows ``first .. first+count-1`` of a producer frame, as a consumer decodes them."""
    dates = pd.date_range(start, periods=first + count, freq=freq)[first:]
    df = pd.DataFrame(
        {
            "date": dates,
            "close": np.arange(first, first + count, dtype=float) + 0.5,
            "enter_long": np.where(np.arange(first, first + count) % 7 == 0, 1.0, np.nan),
            "enter_tag": [""] * count,
        },
        index=range(
            label0 if label0 is not None else first,
            (label0 if label0 is not None else first) + count,
        ),
    )
    return decode_dataframe(encode_dataframe(df))


def message(df: pd.DataFrame, key: FrameKey = KEY) -> AnalyzedFrame:
    return AnalyzedFrame(key, df, LA)


def test_full_frame_replaces_and_keeps_index_labels():
    store = FrameStore()
    update = store.apply("default", message(frame(500, 1500)))
    assert (update.action, update.rows, update.stored_rows, update.request_limit) == (
        "replace",
        1500,
        1500,
        None,
    )
    stored, la = store.get("default", "BTC/USDT")
    assert list(stored.index[:2]) == [500, 501] and la == LA
    # a second full frame replaces whatever is there, even with older data
    store.apply("default", message(frame(0, 100)))
    assert len(store.get("default", "BTC/USDT")[0]) == 100


def test_next_candle_appends_resets_index_and_caps():
    store = FrameStore()
    store.apply("default", message(frame(0, MAX_ROWS)))
    update = store.apply("default", message(frame(MAX_ROWS, 1)))
    assert (update.action, update.stored_rows) == ("append", MAX_ROWS)
    stored, _ = store.get("default", "BTC/USDT")
    assert list(stored.index) == list(range(MAX_ROWS))
    assert stored["date"].iloc[-1] == START + pd.Timedelta(minutes=5 * MAX_ROWS)
    assert stored["date"].iloc[0] == START + pd.Timedelta(minutes=5)
    assert stored["date"].is_monotonic_increasing


def test_resent_candle_replaces_last_row():
    store = FrameStore()
    store.apply("default", message(frame(0, 200)))
    changed = frame(199, 1)
    changed.loc[changed.index[0], "close"] = 42.0
    update = store.apply("default", message(changed))
    stored, _ = store.get("default", "BTC/USDT")
    assert update.action == "append" and len(stored) == 200 and stored["close"].iloc[-1] == 42.0


def test_overlapping_reply_replaces_overlap():
    store = FrameStore()
    store.apply("default", message(frame(0, 200)))
    update = store.apply("default", message(frame(195, 10)))
    stored, _ = store.get("default", "BTC/USDT")
    assert update.action == "append" and len(stored) == 205
    assert stored["date"].is_unique and stored["date"].is_monotonic_increasing


@pytest.mark.parametrize(("missing", "limit"), [(1, 3), (3, 5), (97, 99), (98, 1500), (500, 1500)])
def test_gap_is_not_stored_and_requests_gap_plus_one(missing, limit):
    store = FrameStore()
    store.apply("default", message(frame(0, 200)))
    # last stored candle is #199; #200 is the next one, so #(200 + missing) skips `missing` candles
    update = store.apply("default", message(frame(200 + missing, 1)))
    assert (update.action, update.request_limit) == ("gap", limit)
    assert len(store.get("default", "BTC/USDT")[0]) == 200


def test_short_history_is_stored_not_rerequested_forever():
    store = FrameStore()
    update = store.apply("default", message(frame(0, 50)))
    assert (update.action, update.request_limit, update.stored_rows) == ("replace", None, 50)
    # the same short history again (a re-request reply) is stable
    update = store.apply("default", message(frame(0, 50)))
    assert (update.action, update.stored_rows, update.request_limit) == ("append", 50, None)


def test_single_row_first_is_kept_and_asks_for_history():
    store = FrameStore()
    update = store.apply("default", message(frame(1499, 1)))
    assert (update.action, update.request_limit) == ("replace", 1500)
    assert len(store.get("default", "BTC/USDT")[0]) == 1
    store.apply("default", message(frame(0, 1500)))
    assert len(store.get("default", "BTC/USDT")[0]) == 1500


def test_monthly_timeframe_appends():
    key = FrameKey("BTC/USDT", "1M", "spot")
    store = FrameStore()
    start = pd.Timestamp("2020-01-01", tz="UTC")
    store.apply("default", message(frame(0, 30, freq="MS", start=start), key))
    update = store.apply("default", message(frame(30, 1, freq="MS", start=start), key))
    assert update.action == "append" and update.stored_rows == 31
    update = store.apply("default", message(frame(33, 1, freq="MS", start=start), key))
    assert (update.action, update.request_limit) == ("gap", 4)


def test_empty_frame_is_ignored():
    store = FrameStore()
    update = store.apply("default", message(pd.DataFrame()))
    assert update.action == "empty" and not update.stored
    assert store.get("default", "BTC/USDT")[0].empty


def test_short_frame_without_date_is_a_protocol_error():
    store = FrameStore()
    with pytest.raises(ProtocolError, match="no 'date' column"):
        store.apply("default", message(pd.DataFrame({"close": [1.0]})))


def test_remove_entry_exit_signals():
    store = FrameStore(remove_entry_exit_signals=True)
    store.apply("default", message(frame(0, 120)))
    stored, _ = store.get("default", "BTC/USDT")
    for column in ("enter_long", "exit_long", "enter_short", "exit_short"):
        assert (stored[column] == 0).all()
    assert stored["enter_tag"].isna().all() and stored["exit_tag"].isna().all()


def test_get_returns_copies_and_freqtrade_defaults():
    store = FrameStore()
    empty, la = store.get("default", "BTC/USDT")
    assert empty.empty and la == datetime(1970, 1, 1, tzinfo=UTC)
    store.apply("default", message(frame(0, 100)))
    got, _ = store.get("default", "BTC/USDT")
    got.loc[:, "close"] = -1.0
    assert (store.get("default", "BTC/USDT")[0]["close"] > 0).all()
    assert store.get("default", "BTC/USDT", "5m", "spot")[0].shape == (100, 4)
    assert store.get("default", "BTC/USDT", "1h")[0].empty
    assert store.get("other", "BTC/USDT")[0].empty


def test_pairs_are_copies():
    store = FrameStore()
    assert store.set_pairs("default", ["A/B", "C/D"]) is True
    assert store.set_pairs("default", ["A/B", "C/D"]) is False
    pairs = store.pairs("default")
    pairs.append("X/Y")
    assert store.pairs("default") == ["A/B", "C/D"] and store.pairs("nobody") == []


def test_readers_never_see_a_half_applied_update():
    store = FrameStore()
    store.apply("default", message(frame(0, MAX_ROWS)))
    stop = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            df, _ = store.get("default", "BTC/USDT")
            if (
                len(df) != MAX_ROWS
                or not df["date"].is_monotonic_increasing
                or df["close"].isna().any()
            ):
                problems.append(f"torn frame: {len(df)} rows")
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(MAX_ROWS, MAX_ROWS + 300):
        store.apply("default", message(frame(i, 1)))
    stop.set()
    for thread in threads:
        thread.join(10)
    assert problems == []
    assert store.get("default", "BTC/USDT")[0]["date"].iloc[-1] == START + pd.Timedelta(
        minutes=5 * (MAX_ROWS + 299)
    )


# --- the append path against Freqtrade's rules written out in pandas


def freqtrade_append(stored: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    """``_add_external_df``'s append: stored rows dated before the first incoming row, the
    incoming frame after them, the last 1500 rows, index reset (as sent if nothing is kept)."""
    kept = stored[stored["date"] < incoming["date"].iloc[0]]
    if kept.empty:
        return incoming
    return pd.concat([kept, incoming]).iloc[-MAX_ROWS:].reset_index(drop=True)


def raw_frame(first: int, count: int, tz: str | None = "UTC", unit: str = "us") -> pd.DataFrame:
    dates = pd.date_range(START.tz_localize(None), periods=first + count, freq="5min", tz=tz)
    ii = np.arange(first, first + count)
    return pd.DataFrame(
        {
            "date": dates[first:].as_unit(unit),
            "close": ii + 0.5,
            "volume": ii * 3,
            "enter_tag": pd.Series([f"t{i}" if i % 9 == 0 else None for i in ii], dtype=object),
        },
        index=range(first, first + count),
    )


@pytest.mark.parametrize(
    ("stored_rows", "first", "count", "tz", "unit"),
    [
        (MAX_ROWS, MAX_ROWS, 1, "UTC", "us"),  # the next candle at the cap
        (MAX_ROWS, MAX_ROWS - 1, 1, "UTC", "ns"),  # the last candle again
        (MAX_ROWS, MAX_ROWS - 10, 15, "UTC", "us"),  # overlap and extend at the cap
        (300, 290, 20, None, "ms"),  # under the cap, timezone-naive
        (30, 0, 50, "UTC", "s"),  # from the first stored row on: nothing kept
    ],
)
def test_append_matches_freqtrades_rules(stored_rows, first, count, tz, unit):
    stored, incoming = raw_frame(0, stored_rows, tz, unit), raw_frame(first, count, tz, unit)
    store = FrameStore()
    store.apply("default", message(stored.copy()))
    update = store.apply("default", message(incoming.copy()))
    expected = freqtrade_append(stored, incoming)
    assert (update.action, update.stored_rows) == ("append", len(expected))
    got = store.entry("default", KEY).frame
    assert_frame_equal(got, expected, check_exact=True)
    assert type(got.index) is type(expected.index)


def test_append_dtypes_come_from_every_kept_row():
    # pandas 2 leaves an all-NA part out of the result dtype: the one value in row 0, dropped
    # by the cap after the concat, still makes the column object, as in Freqtrade.
    stored = pd.DataFrame(
        {
            "date": pd.date_range(START, periods=MAX_ROWS, freq="5min"),
            "rare": pd.Series(["x"] + [None] * (MAX_ROWS - 1), dtype=object),
        }
    )
    incoming = pd.DataFrame(
        {"date": [START + pd.Timedelta(minutes=5 * MAX_ROWS)], "rare": [1.0]}, index=[1499]
    )
    store = FrameStore()
    store.apply("default", message(stored.copy()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas 2's note on that behaviour
        store.apply("default", message(incoming.copy()))
        expected = freqtrade_append(stored, incoming)
    assert_frame_equal(store.entry("default", KEY).frame, expected, check_exact=True)


@pytest.mark.parametrize("restored", ["unsorted", "other unit", "no date"])
def test_restored_frames_append_by_the_same_rules(restored):
    stored = raw_frame(0, 300)
    if restored == "unsorted":
        stored = stored.iloc[[*range(150, 299), *range(150), 299]]  # the last row last
    elif restored == "other unit":
        stored["date"] = stored["date"].dt.as_unit("ns")
    store = FrameStore()
    store.put("default", KEY, stored.drop(columns="date") if restored == "no date" else stored, LA)
    if restored == "no date":
        with pytest.raises(KeyError):
            store.apply("default", message(raw_frame(300, 1)))
        return
    expected = stored
    for first in (290, 300, 301):  # overlap, then the next candles
        incoming = raw_frame(first, 10 if first == 290 else 1)
        store.apply("default", message(incoming.copy()))
        expected = freqtrade_append(expected, incoming)
        assert_frame_equal(store.entry("default", KEY).frame, expected, check_exact=True)
