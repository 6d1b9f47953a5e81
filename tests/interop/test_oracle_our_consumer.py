"""Our ``pc.Consumer`` against Freqtrade 2026.9's real producer (``oracle/ft_producer.py``):
sync, live one-row broadcasts, whitelist changes, gap re-requests, refused tokens, and the
exact request bytes we send."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pandas as pd
import pytest

import producerconsumer as pc

from .conftest import FtProducer, assert_frame_matches, framejson, make_frame, next_rows

pytestmark = pytest.mark.oracle

TOKEN = "interop-token"
# One pair longer than the 1500-candle cap (the reply keeps the producer's labels 100..1599),
# one exactly at the cap (an append drops its first row), one short (but a full frame: >= 100).
ROWS = {"BTC/USDT": 1600, "ETH/USDT": 1500, "XRP/USDT": 120}
PAIRS = list(ROWS)
READY_TIMEOUT = 30.0
UPDATE_TIMEOUT = 15.0


def consumer_config(producer: FtProducer, token: str = TOKEN) -> pc.ConsumerConfig:
    return pc.load_config(
        {
            "enabled": True,
            "producers": [producer.producer_config(name="default", token=token)],
            "sleep_time": 1,
        }
    )


@pytest.fixture(scope="module")
def shared_producer(start_module_ft_producer) -> FtProducer:
    return start_module_ft_producer(token=TOKEN)


@pytest.fixture
def producer(shared_producer: FtProducer) -> FtProducer:
    """The module's Freqtrade producer, reset to the same frames, whitelist and no requests."""
    shared_producer.set_frames({pair: make_frame(pair, rows) for pair, rows in ROWS.items()})
    shared_producer.set_whitelist(PAIRS)
    shared_producer.received(clear=True)
    return shared_producer


@pytest.fixture
def consumer(producer: FtProducer) -> Iterator[pc.Consumer]:
    with pc.Consumer(consumer_config(producer)) as consumer:
        consumer.wait_ready(timeout=READY_TIMEOUT)
        yield consumer


def last_date(consumer: pc.Consumer, pair: str) -> pd.Timestamp | None:
    frame, _ = consumer.get_producer_df(pair)
    return None if frame.empty else frame["date"].iloc[-1]


def wait_for_candle(consumer: pc.Consumer, pair: str, date: pd.Timestamp) -> pd.DataFrame:
    consumer.wait_until(lambda: (last_date(consumer, pair) or date - pd.Timedelta(1)) >= date,
                        timeout=UPDATE_TIMEOUT)  # fmt: skip
    frame, _ = consumer.get_producer_df(pair)
    return frame


def test_sync_stores_frames_as_freqtrade_consumer_would(
    producer: FtProducer, consumer: pc.Consumer
) -> None:
    assert consumer.get_producer_pairs() == PAIRS
    assert consumer.get_producer_pairs(producer_name="default") == PAIRS
    for pair in PAIRS:
        expected = producer.expected(pair, limit=1500)  # the reply, decoded by Freqtrade
        frame, last_analyzed = consumer.get_producer_df(pair)
        assert_frame_matches(frame, expected["frame"], pair)
        sent_la = orjson.loads(expected["text"])["data"]["la"]
        assert last_analyzed == datetime.fromisoformat(sent_la)
        explicit, _ = consumer.get_producer_df(pair, timeframe="5m", candle_type="spot")
        pd.testing.assert_frame_equal(explicit, frame, check_exact=True)
    assert consumer.get_producer_df("BTC/USDT")[0].index[0] == 100  # producer's labels kept

    empty, never = consumer.get_producer_df("DOGE/USDT")
    assert empty.empty
    assert never == datetime(1970, 1, 1, tzinfo=UTC)


def test_live_one_row_broadcast_is_appended(producer: FtProducer, consumer: pc.Consumer) -> None:
    pair = "ETH/USDT"
    before, _ = consumer.get_producer_df(pair)
    rows = next_rows(make_frame(pair, ROWS[pair]))
    producer.broadcast_candle(pair, rows)
    after = wait_for_candle(consumer, pair, rows["date"].iloc[-1])

    # Freqtrade's append: keep the last 1500 rows, index reset to 0..n-1.
    assert len(after) == 1500
    assert after.index.equals(pd.RangeIndex(1500))
    pd.testing.assert_frame_equal(
        after.iloc[:-1], before.iloc[1:].reset_index(drop=True), check_exact=True
    )
    one_row = producer.expected(pair, limit=1)  # the broadcast row as Freqtrade decodes it
    _assert_row_equal(after.iloc[-1], one_row["frame"], pair)


def _assert_row_equal(row: pd.Series, dumped: dict, pair: str) -> None:
    """Exact values of one appended row. Dtypes are not compared: a one-row frame decodes with
    its own ``read_json`` guesses (1.0 -> int64) before the append casts it back."""
    expected = framejson.load_frame(dumped).iloc[0]
    assert list(row.index) == list(expected.index), pair
    for column in row.index:
        got, want = row[column], expected[column]
        if pd.isna(want):
            assert pd.isna(got), (pair, column, got, want)
        else:
            assert got == want, (pair, column, got, want)


def test_whitelist_change_is_seen(producer: FtProducer, consumer: pc.Consumer) -> None:
    grown = [*PAIRS, "ADA/USDT"]
    assert producer.set_whitelist(grown)
    consumer.wait_until(lambda: consumer.get_producer_pairs() == grown, timeout=UPDATE_TIMEOUT)
    shrunk = ["XRP/USDT", "BTC/USDT"]
    assert producer.set_whitelist(shrunk)
    consumer.wait_until(lambda: consumer.get_producer_pairs() == shrunk, timeout=UPDATE_TIMEOUT)


def test_gap_is_re_requested_and_filled(producer: FtProducer, consumer: pc.Consumer) -> None:
    pair = "XRP/USDT"
    producer.received(clear=True)
    rows = next_rows(make_frame(pair, ROWS[pair]), count=3)
    # The producer appends 3 candles but broadcasts only the last: a gap of 3 candles.
    producer.broadcast_candle(pair, rows)
    after = wait_for_candle(consumer, pair, rows["date"].iloc[-1])
    assert f'{{"type":"analyzed_df","data":{{"limit":4,"pair":"{pair}"}}}}' in producer.received()
    assert len(after) == ROWS[pair] + 3
    assert after["date"].diff().iloc[1:].eq(pd.Timedelta("5min")).all()


def test_wrong_token_is_an_authentication_error(producer: FtProducer) -> None:
    wrong = "not-the-token"
    with pc.Consumer(consumer_config(producer, token=wrong)) as consumer:
        started = datetime.now(UTC)
        with pytest.raises(pc.AuthenticationError) as refused:
            consumer.wait_ready(timeout=READY_TIMEOUT)
        elapsed = (datetime.now(UTC) - started).total_seconds()
    assert isinstance(refused.value, pc.ProducerError)
    assert refused.value.producer == "default"
    assert "default" in str(refused.value)
    assert wrong not in str(refused.value)
    assert elapsed < READY_TIMEOUT / 2, "a refused token must fail fast, not time out"


def test_request_bytes_are_freqtrades_and_accepted(
    producer: FtProducer, consumer: pc.Consumer
) -> None:
    # What our consumer sent, as Freqtrade's producer received it: byte for byte the three
    # requests Freqtrade's own consumer sends.
    assert producer.received()[:3] == pc.wire.initial_requests()
    assert pc.wire.initial_requests() == [
        '{"type":"subscribe","data":["whitelist","analyzed_df"]}',
        '{"type":"whitelist"}',
        '{"type":"analyzed_df","data":{"limit":1500,"pair":null}}',
    ]
    # The subscription was accepted: broadcasts (sent only to subscribed channels) arrive.
    pair = "BTC/USDT"
    rows = next_rows(make_frame(pair, ROWS[pair]))
    producer.broadcast_candle(pair, rows)
    wait_for_candle(consumer, pair, rows["date"].iloc[-1])
