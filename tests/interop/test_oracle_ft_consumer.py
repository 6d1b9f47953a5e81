"""Freqtrade 2026.9's real consumer (``ExternalMessageConsumer`` + ``DataProvider``, in
``oracle/ft_consumer.py``) against our ``pc.DemoProducer``, and the demo producer's replies
byte for byte against Freqtrade's real producer holding the same frames."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import orjson
import pytest
import websockets

import producerconsumer as pc

from .conftest import FtConsumer, FtProducer, assert_dumps_equal

pytestmark = pytest.mark.oracle

TOKEN = "demo-interop-token"
PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
SYNC_TIMEOUT = 30.0
RECV_TIMEOUT = 10.0


@pytest.fixture
def demo() -> Iterator[pc.DemoProducer]:
    producer = pc.DemoProducer(
        pairs=PAIRS, timeframe="5m", candles=1500, ws_token=TOKEN, host="127.0.0.1", port=0,
        tick=None,
    )  # fmt: skip
    with producer:
        yield producer


def _synced_ft_consumer(start_ft_consumer, demo: pc.DemoProducer) -> FtConsumer:
    config = demo.producer_config(name="default")
    consumer: FtConsumer = start_ft_consumer(config["host"], config["port"], config["ws_token"])
    consumer.wait_synced(timeout=SYNC_TIMEOUT, pairs=PAIRS)
    return consumer


def test_freqtrade_consumer_syncs_every_demo_pair(demo: pc.DemoProducer, start_ft_consumer) -> None:
    consumer = _synced_ft_consumer(start_ft_consumer, demo)
    dump = consumer.dump()
    assert dump["pairs"] == PAIRS
    # What Freqtrade's consumer would hold had a Freqtrade producer sent producer.frame(pair).
    expected = consumer.roundtrip([demo.frame(pair).iloc[-1500:] for pair in PAIRS])
    for pair, want in zip(PAIRS, expected, strict=True):
        stored = dump["frames"][pair]
        assert_dumps_equal(stored["frame"], want, pair)
        analyzed = demo.analyzed(pair)
        assert analyzed is not None
        assert datetime.fromisoformat(stored["last_analyzed"]) == analyzed[1]


def test_freqtrade_consumer_appends_demo_broadcasts(
    demo: pc.DemoProducer, start_ft_consumer
) -> None:
    consumer = _synced_ft_consumer(start_ft_consumer, demo)
    demo.advance(1)
    newest = {pair: demo.frame(pair)["date"].iloc[-1] for pair in PAIRS}
    consumer.wait_synced(timeout=SYNC_TIMEOUT, pairs=PAIRS, min_last_date=newest)
    dump = consumer.dump()
    # Freqtrade's append keeps the last 1500 rows and resets the index.
    expected = consumer.roundtrip(
        [demo.frame(pair).iloc[-1500:].reset_index(drop=True) for pair in PAIRS]
    )
    for pair, want in zip(PAIRS, expected, strict=True):
        assert_dumps_equal(dump["frames"][pair]["frame"], want, f"{pair} after advance")


async def _replies(url: str, pairs: list[str]) -> dict[str, str]:
    """The replies a producer sends to a consumer's requests (broadcasts are not subscribed)."""
    async with websockets.connect(url, ping_interval=None) as ws:
        replies: dict[str, str] = {}
        await ws.send(pc.wire.whitelist_request())
        replies["whitelist"] = str(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
        await ws.send(pc.wire.analyzed_df_request(1500, None))
        for pair in pairs:
            replies[f"analyzed_df {pair}"] = str(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
        await ws.send(pc.wire.analyzed_df_request(2, pairs[-1]))
        replies["limit 2"] = str(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
        await ws.send('{"type":"bogus"}')
        replies["bogus"] = str(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
    return replies


def _without_la(text: str) -> dict:
    message = orjson.loads(text)
    if message.get("type") == "analyzed_df":
        del message["data"]["la"]  # the time each producer analysed: differs by design
    return message


async def test_demo_producer_replies_like_freqtrade_producer(
    demo: pc.DemoProducer, start_ft_producer
) -> None:
    ft: FtProducer = start_ft_producer(token=TOKEN)
    ft.set_frames({pair: demo.frame(pair) for pair in PAIRS})
    ft.set_whitelist(PAIRS)

    ours = await _replies(demo.url, PAIRS)
    theirs = await _replies(ft.url(), PAIRS)
    assert list(ours) == list(theirs)
    for name in ours:
        # Byte for byte, except the analysis timestamp: same __value__ strings, key order, spacing.
        assert _without_la(ours[name]) == _without_la(theirs[name]), name
        assert orjson.dumps(_without_la(ours[name])) == orjson.dumps(_without_la(theirs[name]))
        if name.startswith(("analyzed_df", "limit")):
            ours_value = orjson.loads(ours[name])["data"]["df"]["__value__"]
            assert ours_value == orjson.loads(theirs[name])["data"]["df"]["__value__"], name
        else:
            assert ours[name] == theirs[name], name

    for url in (demo.url.replace(TOKEN, "wrong"), ft.url("wrong")):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, ping_interval=None):
                pass
        assert refused.value.response.status_code == 403
