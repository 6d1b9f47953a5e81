"""The empty lookups users hit with Freqtrade, against its real producer: Freqtrade's consumer
answers each with an empty frame dated 1970; ours gives the same and explains it.

* a 5m producer asked for 1h (freqtrade #12790: ``timeframe=None`` is the consumer's own
  timeframe there, so a 1h consumer gets nothing from a 5m producer);
* a futures-style pair name against a spot producer (#7136, #10784);
* a wrong producer name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import producerconsumer as pc

from .conftest import FtConsumer, FtProducer, make_frame

pytestmark = pytest.mark.oracle

TOKEN = "explain-token"
PAIRS = ["BTC/USDT", "ETH/USDT"]
TIMEOUT = 30.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def producer(start_module_ft_producer) -> FtProducer:
    producer: FtProducer = start_module_ft_producer(token=TOKEN, timeframe="5m")
    producer.set_frames({pair: make_frame(pair, 200) for pair in PAIRS})
    producer.set_whitelist(PAIRS)
    return producer


@pytest.fixture(scope="module")
def ours(producer: FtProducer) -> Iterator[pc.Consumer]:
    config = {"enabled": True, "producers": [producer.producer_config(name="default")]}
    with pc.Consumer(config) as consumer:
        consumer.wait_ready(timeout=TIMEOUT)
        yield consumer


def assert_empty_both(
    ours: pc.Consumer, theirs: FtConsumer | None, pair: str, **lookup: str
) -> str:
    frame, last_analyzed = ours.get_producer_df(pair, **lookup)
    assert frame.empty and last_analyzed == EPOCH
    if theirs is not None:
        reply = theirs.lookup(pair, **lookup)
        assert (reply["rows"], reply["last_analyzed"]) == (0, EPOCH.isoformat())
    return ours.explain(pair, **lookup)


@pytest.mark.slow
def test_freqtrade_and_ours_agree_and_ours_explains(
    producer: FtProducer, ours: pc.Consumer, start_ft_consumer
) -> None:
    # Freqtrade's consumer with a 1h strategy timeframe, on the 5m producer.
    theirs: FtConsumer = start_ft_consumer(producer.host, producer.port, TOKEN, timeframe="1h")
    theirs.wait_synced(timeout=TIMEOUT, pairs=PAIRS, timeframe="5m")
    # timeframe=None: Freqtrade looks up its own 1h and finds nothing; ours means "what the
    # producer sends" and finds the 5m frame, Freqtrade's with an explicit 5m finds it too.
    assert theirs.lookup("BTC/USDT")["rows"] == 0
    assert theirs.lookup("BTC/USDT", timeframe="5m")["rows"] == 200
    assert len(ours.get_producer_df("BTC/USDT")[0]) == 200
    assert assert_empty_both(ours, theirs, "BTC/USDT", timeframe="1h").startswith(
        "'default' does not send timeframe '1h' for 'BTC/USDT': it sends 5m spot (1 pair); "
        "ask for timeframe='5m' (in a Freqtrade strategy, timeframe=None means the strategy's "
        "own timeframe"
    )
    assert assert_empty_both(ours, theirs, "BTC/USDT:USDT", timeframe="5m").startswith(
        "'BTC/USDT:USDT' is not in the whitelist of 'default', which sends spot pairs: use "
        "'BTC/USDT'"
    )
    assert assert_empty_both(
        ours, theirs, "BTC/USDT", timeframe="5m", producer_name="defualt"
    ).startswith("no producer named 'defualt': the config has 'default'; did you mean 'default'?")


def test_explanations_against_freqtrades_producer(ours: pc.Consumer) -> None:
    """The same three cases, ours alone (fast: no Freqtrade consumer to start)."""
    assert "it sends 5m spot" in assert_empty_both(ours, None, "ETH/USDT", timeframe="1h")
    assert "use 'ETH/USDT'" in assert_empty_both(ours, None, "ETH/USDT:USDT")
    assert "did you mean 'default'" in assert_empty_both(
        ours, None, "ETH/USDT", producer_name="Default"
    )
    assert "did you mean 'ETH/USDT'" in assert_empty_both(ours, None, "ETH/USTD")
    assert ours.explain("ETH/USDT").startswith("found: ETH/USDT 5m spot from 'default', 200 rows")
