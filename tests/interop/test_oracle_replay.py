"""Freqtrade 2026.9's real consumer reads a recording served by ``pc.ReplayProducer``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import producerconsumer as pc

from .conftest import assert_frame_matches

pytestmark = pytest.mark.oracle

PAIRS = ["BTC/USDT", "ETH/USDT"]


def _last(consumer: pc.Consumer, pair: str) -> object:
    frame, _ = consumer.get_producer_df(pair)
    return None if frame.empty else frame["date"].iloc[-1]


def test_freqtrade_consumer_reads_a_replay(tmp_path: Path, start_ft_consumer) -> None:
    path = tmp_path / "session.pcrec"
    with pc.DemoProducer(pairs=PAIRS, candles=300, ws_token="rec", tick=None) as producer:
        with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
            with consumer.record(path):
                consumer.wait_ready(timeout=30)
                for _ in range(2):
                    before = _last(consumer, "ETH/USDT")
                    producer.advance(1)
                    consumer.wait_until(
                        lambda b=before: all(_last(consumer, p) > b for p in PAIRS), 10
                    )
            original = {pair: consumer.get_producer_df(pair) for pair in PAIRS}

    with pc.ReplayProducer(path, speed=None, ws_token="replay-token") as replay:
        assert replay.wait_finished(timeout=30)
        config = replay.producer_config()
        ft_consumer = start_ft_consumer(config["host"], config["port"], config["ws_token"])
        ft_consumer.wait_synced(timeout=30, pairs=PAIRS)
        dump = ft_consumer.dump()
    assert dump["pairs"] == PAIRS
    for pair in PAIRS:
        frame, last_analyzed = original[pair]
        assert_frame_matches(frame, dump["frames"][pair]["frame"], pair)
        assert datetime.fromisoformat(dump["frames"][pair]["last_analyzed"]) == last_analyzed
