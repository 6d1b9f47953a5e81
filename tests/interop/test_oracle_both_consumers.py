"""Our ``pc.Consumer`` and Freqtrade's real consumer, connected to the same producer (Freqtrade's
real one, then our demo), end up holding equal frames after sync and after live updates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

import pandas as pd
import pytest

import producerconsumer as pc

from .conftest import FtConsumer, FtProducer, assert_frame_matches, make_frame, next_rows

pytestmark = pytest.mark.oracle

TOKEN = "both-consumers-token"
PAIRS = ["BTC/USDT", "ETH/USDT"]
TIMEOUT = 30.0


def _ours(producer_config: dict[str, Any]) -> pc.Consumer:
    return pc.Consumer(pc.load_config({"enabled": True, "producers": [producer_config]}))


def _wait_both(ours: pc.Consumer, theirs: FtConsumer, newest: dict[str, pd.Timestamp]) -> None:
    def arrived() -> bool:
        for pair, date in newest.items():
            frame, _ = ours.get_producer_df(pair)
            if frame.empty or frame["date"].iloc[-1] < date:
                return False
        return True

    ours.wait_until(arrived, timeout=TIMEOUT)
    theirs.wait_synced(timeout=TIMEOUT, pairs=PAIRS, min_last_date=newest)


def _assert_same(ours: pc.Consumer, theirs: FtConsumer, step: str) -> None:
    dump = theirs.dump()
    assert ours.get_producer_pairs() == dump["pairs"] == PAIRS
    for pair in PAIRS:
        frame, last_analyzed = ours.get_producer_df(pair)
        stored = dump["frames"][pair]
        assert_frame_matches(frame, stored["frame"], f"{pair} {step}")
        assert last_analyzed == datetime.fromisoformat(stored["last_analyzed"]), (pair, step)


Connect = Callable[[dict[str, Any]], AbstractContextManager[tuple[pc.Consumer, FtConsumer]]]


@pytest.fixture
def consumers(start_ft_consumer) -> Connect:
    """``with consumers(producer_config) as (ours, theirs):`` both synced to that producer."""

    @contextmanager
    def connect(config: dict[str, Any]) -> Iterator[tuple[pc.Consumer, FtConsumer]]:
        theirs: FtConsumer = start_ft_consumer(config["host"], config["port"], config["ws_token"])
        with _ours(config) as ours:
            ours.wait_ready(timeout=TIMEOUT)
            theirs.wait_synced(timeout=TIMEOUT, pairs=PAIRS)
            theirs.settle(timeout=TIMEOUT)  # else Freqtrade loses early gap re-requests
            yield ours, theirs

    return connect


@pytest.mark.slow
def test_same_frames_from_freqtrade_producer(start_ft_producer, consumers: Connect) -> None:
    producer: FtProducer = start_ft_producer(token=TOKEN)
    frames = {"BTC/USDT": make_frame("BTC/USDT", 1500), "ETH/USDT": make_frame("ETH/USDT", 400)}
    producer.set_frames(frames)
    producer.set_whitelist(PAIRS)
    with consumers(producer.producer_config()) as (ours, theirs):
        _assert_same(ours, theirs, "after sync")

        # One new candle per pair: a plain append (BTC also drops its first row at 1500).
        newest = {}
        for pair in PAIRS:
            rows = next_rows(frames[pair], seed=11)
            frames[pair] = pd.concat([frames[pair], rows], ignore_index=True)
            newest[pair] = pd.Timestamp(producer.broadcast_candle(pair, rows), unit="ms", tz="UTC")
        _wait_both(ours, theirs, newest)
        _assert_same(ours, theirs, "after one candle")

        # Three new candles, only the last broadcast: both re-request the gap and fill it.
        rows = next_rows(frames["ETH/USDT"], count=3, seed=12)
        newest["ETH/USDT"] = pd.Timestamp(
            producer.broadcast_candle("ETH/USDT", rows), unit="ms", tz="UTC"
        )
        _wait_both(ours, theirs, newest)
        _assert_same(ours, theirs, "after a gap")


def test_same_frames_from_demo_producer(consumers: Connect) -> None:
    demo = pc.DemoProducer(
        pairs=PAIRS, timeframe="5m", candles=1500, ws_token=TOKEN, host="127.0.0.1", port=0,
        tick=None,
    )  # fmt: skip
    with demo:
        with consumers(demo.producer_config()) as (ours, theirs):
            _assert_same(ours, theirs, "after sync")
            demo.advance(2)
            newest = {pair: demo.frame(pair)["date"].iloc[-1] for pair in PAIRS}
            _wait_both(ours, theirs, newest)
            _assert_same(ours, theirs, "after two candles")
