"""Self-checks of the oracle harness: Freqtrade's producer and consumer behave as the protocol
reference says when they talk to each other and to a raw websocket client.

If these fail, the interop tests' oracle is broken (or Freqtrade changed), not our package.
"""

from __future__ import annotations

import asyncio

import orjson
import pandas as pd
import pytest
import websockets

from .conftest import (
    SAMPLES,
    FtConsumer,
    FtProducer,
    assert_frame_matches,
    framejson,
    make_frame,
    next_rows,
)

pytestmark = pytest.mark.oracle

PAIRS = ["BTC/USDT", "ETH/USDT"]
RECV_TIMEOUT = 10.0


async def _recv_json(ws: websockets.ClientConnection) -> dict:
    return orjson.loads(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))


@pytest.fixture
def producer(start_ft_producer) -> FtProducer:
    producer = start_ft_producer(token="harness-token")
    producer.set_frames({pair: make_frame(pair, 150) for pair in PAIRS})
    producer.set_whitelist(PAIRS)
    return producer


async def test_ft_producer_speaks_the_documented_protocol(producer: FtProducer) -> None:
    requests = [r["raw"] for r in orjson.loads((SAMPLES / "consumer_requests.json").read_bytes())]
    async with websockets.connect(producer.url(), ping_interval=None) as ws:
        for request in requests:
            await ws.send(request)
        whitelist = await _recv_json(ws)
        assert whitelist == {"type": "whitelist", "data": PAIRS}
        replies = [await _recv_json(ws) for _ in PAIRS]
        assert [r["data"]["key"] for r in replies] == [[p, "5m", "spot"] for p in PAIRS]
        assert all(r["data"]["df"]["__type__"] == "dataframe" for r in replies)

        # A subscribed broadcast arrives (one row, producer's index label), new_candle does not.
        rows = next_rows(make_frame(PAIRS[0], 150))
        producer.broadcast_candle(PAIRS[0], rows)
        broadcast = await _recv_json(ws)
        assert broadcast["type"] == "analyzed_df"
        value = orjson.loads(broadcast["data"]["df"]["__value__"])
        assert value["index"] == [150]

        await ws.send('{"type":"bogus"}')
        assert await _recv_json(ws) == {"type": "exception", "data": "Invalid request type: bogus"}

    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(producer.url("wrong-token"), ping_interval=None):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.slow
def test_ft_consumer_syncs_and_appends_from_ft_producer(
    producer: FtProducer, start_ft_consumer
) -> None:
    consumer: FtConsumer = start_ft_consumer(producer.host, producer.port, producer.token)
    consumer.wait_synced(timeout=30, pairs=PAIRS)
    dump = consumer.dump()
    assert dump["pairs"] == PAIRS
    for pair in PAIRS:
        expected = producer.expected(pair, limit=1500)
        stored = dump["frames"][pair]
        assert_frame_matches(framejson.load_frame(stored["frame"]), expected["frame"], pair)

    rows = next_rows(make_frame(PAIRS[0], 150))
    producer.broadcast_candle(PAIRS[0], rows)
    consumer.wait_synced(timeout=30, min_last_date={PAIRS[0]: rows["date"].iloc[-1]})
    after = framejson.load_frame(consumer.dump()["frames"][PAIRS[0]]["frame"])
    assert len(after) == 151
    assert after.index.equals(pd.RangeIndex(151)), "Freqtrade resets the index on append"
