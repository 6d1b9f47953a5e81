"""The public Consumer against the embedded demo producer over real loopback websockets."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import producerconsumer as pc

PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
TOKEN = "demo-secret&#+% x"


def as_consumer_sees(frame: pd.DataFrame) -> pd.DataFrame:
    """What any consumer stores for a full frame: the wire round trip."""
    return pc.wire.decode_dataframe(pc.wire.encode_dataframe(frame))


@pytest.fixture(scope="module")
def producer():
    with pc.DemoProducer(
        pairs=PAIRS, timeframe="5m", candles=500, ws_token=TOKEN, tick=None
    ) as producer:
        yield producer


@pytest.fixture
def consumer(producer):
    with pc.Consumer({"producers": [producer.producer_config(name="default")]}) as consumer:
        consumer.wait_ready(timeout=30)
        yield consumer


def test_syncs_every_pair_equal_to_the_producer(producer, consumer):
    assert consumer.get_producer_pairs() == PAIRS
    for pair in PAIRS:
        frame, last_analyzed = consumer.get_producer_df(pair)
        assert_frame_equal(frame, as_consumer_sees(producer.frame(pair)), check_exact=True)
        assert last_analyzed.tzinfo is not None and last_analyzed > datetime(2020, 1, 1, tzinfo=UTC)
        # timeframe / candle_type default to what the producer sends; explicit ones work too
        assert_frame_equal(consumer.get_producer_df(pair, "5m", "spot")[0], frame)


def test_missing_data_is_freqtrades_default(consumer):
    for frame, last_analyzed in (
        consumer.get_producer_df("NOPE/USDT"),
        consumer.get_producer_df("BTC/USDT", timeframe="1h"),
        consumer.get_producer_df("BTC/USDT", producer_name="other"),
    ):
        assert frame.empty and last_analyzed == datetime(1970, 1, 1, tzinfo=UTC)
    assert consumer.get_producer_pairs("other") == []


def test_returned_data_are_copies(consumer):
    pairs = consumer.get_producer_pairs()
    pairs.clear()
    frame, _ = consumer.get_producer_df("BTC/USDT")
    frame["close"] = 0.0
    assert consumer.get_producer_pairs() == PAIRS
    assert (consumer.get_producer_df("BTC/USDT")[0]["close"] > 0).all()


def test_new_candle_is_appended_live(producer, consumer):
    seen: list[pc.FrameUpdate] = []
    consumer.updated += seen.append
    before, _ = consumer.get_producer_df("ETH/USDT")
    producer.advance(1)
    consumer.wait_until(
        lambda: all(len(consumer.get_producer_df(p)[0]) == len(before) + 1 for p in PAIRS), 10
    )
    after, _ = consumer.get_producer_df("ETH/USDT")
    update = next(u for u in seen if u.key.pair == "ETH/USDT")
    assert update.action == "append" and update.rows == 1 and update.stored_rows == len(before) + 1
    assert after["date"].iloc[-1] - before["date"].iloc[-1] == pd.Timedelta(minutes=5)
    assert_frame_equal(after.iloc[:-1], before.reset_index(drop=True), check_exact=True)
    consumer.updated -= seen.append


def test_whitelist_change_is_seen(producer, consumer):
    changes: list[tuple[str, list[str]]] = []
    consumer.whitelist_changed += lambda name, pairs: changes.append((name, pairs))
    try:
        producer.set_whitelist(PAIRS[:2])
        consumer.wait_until(lambda: consumer.get_producer_pairs() == PAIRS[:2], 10)
        assert changes[-1] == ("default", PAIRS[:2])
    finally:
        producer.set_whitelist(PAIRS)
        consumer.wait_until(lambda: consumer.get_producer_pairs() == PAIRS, 10)


def test_status_and_reprs_never_show_the_token(producer, consumer, caplog):
    status = consumer.status()["default"]
    assert status.connected and status.ready and status.pairs == 3 and status.frames == 3
    assert status.last_message is not None and status.bad_messages == 0
    texts = [
        repr(consumer),
        consumer._repr_html_(),
        repr(status),
        status.url,
        repr(producer),
        repr(consumer.config),
    ]
    for text in texts:
        assert TOKEN not in text and "demo-secret" not in text, text
    assert "demo-secret" not in caplog.text


def test_wrong_token_raises_authentication_error_naming_the_producer(producer):
    config = producer.producer_config(name="mine") | {"ws_token": "wrong"}
    with pc.Consumer({"producers": [config], "sleep_time": 1}) as consumer:
        started = time.monotonic()
        with pytest.raises(
            pc.AuthenticationError, match="producer 'mine': authentication failed"
        ) as info:
            consumer.wait_ready(timeout=20)
        assert time.monotonic() - started < 5
        assert info.value.producer == "mine"
        assert consumer.status()["mine"].error_kind == "auth"


def test_frames_stay_available_while_producer_is_down():
    with pc.DemoProducer(pairs=PAIRS[:1], candles=200, ws_token="t", tick=None) as producer:
        consumer = pc.Consumer({"producers": [producer.producer_config()], "sleep_time": 0}).start()
        try:
            consumer.wait_ready(timeout=30)
            held, _ = consumer.get_producer_df("BTC/USDT")
            producer.stop()
            consumer.wait_until(lambda: not consumer.status()["default"].connected, 10)
            status = consumer.status()["default"]
            assert status.stale and status.frames == 1
            assert_frame_equal(consumer.get_producer_df("BTC/USDT")[0], held)
        finally:
            consumer.stop()


def test_stop_is_prompt_and_idempotent(producer):
    consumer = pc.Consumer({"producers": [producer.producer_config()]}).start()
    consumer.wait_ready(timeout=30)
    started = time.monotonic()
    consumer.stop()
    consumer.stop()
    assert time.monotonic() - started < 3
    assert not consumer.running


def test_wait_ready_requires_start(producer):
    consumer = pc.Consumer({"producers": [producer.producer_config()]})
    with pytest.raises(RuntimeError, match="not started"):
        consumer.wait_ready(timeout=1)


def test_remove_entry_exit_signals(producer):
    config = {"producers": [producer.producer_config()], "remove_entry_exit_signals": True}
    with pc.Consumer(config) as consumer:
        consumer.wait_ready(timeout=30)
        frame, _ = consumer.get_producer_df("BTC/USDT")
    for column in ("enter_long", "exit_long", "enter_short", "exit_short"):
        assert (frame[column] == 0).all()
    assert frame["enter_tag"].isna().all()


def test_readers_on_threads_during_live_updates(producer, consumer):
    problems: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for pair in PAIRS:
                frame, _ = consumer.get_producer_df(pair)
                if (
                    frame.empty
                    or not frame["date"].is_monotonic_increasing
                    or frame["date"].isna().any()
                ):
                    problems.append(pair)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(5):
            last = consumer.get_producer_df("XRP/USDT")[0]["date"].iloc[-1]
            producer.advance(1)
            consumer.wait_until(
                lambda last=last: consumer.get_producer_df("XRP/USDT")[0]["date"].iloc[-1] > last,
                10,
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert problems == []


async def test_async_consumer(producer):
    config = {"producers": [producer.producer_config()]}
    async with pc.AsyncConsumer(config) as consumer:
        await consumer.wait_ready(timeout=30)
        assert consumer.get_producer_pairs() == PAIRS
        waiter = asyncio.create_task(consumer.wait_for_update("BTC/USDT", timeout=10))
        await asyncio.sleep(0)  # let the waiter note where "next" starts
        await producer.advance_async(1)
        update = await waiter
        assert update.action == "append"
    assert not consumer.running


def test_progress_through_tqdm_only_where_interactive(producer, capsys, monkeypatch):
    config = {"producers": [producer.producer_config()]}
    with pc.Consumer(config) as consumer:  # stderr is captured here: not interactive
        consumer.wait_ready(timeout=30, progress=True)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(pc.consumer, "_interactive", lambda: True)
    with pc.Consumer(config) as consumer:
        consumer.wait_ready(timeout=30, progress=True)
    err = capsys.readouterr().err
    assert "syncing" in err and f"{len(PAIRS)}/{len(PAIRS)}" in err  # tqdm's line, completed
    with pc.Consumer(config) as consumer:
        consumer.wait_ready(timeout=30)  # progress=None: only for a sync of more than 2 s
    assert capsys.readouterr().err == ""


def test_disabled_config_warns_but_connects(producer, caplog):
    config = {"enabled": False, "producers": [producer.producer_config()]}
    with caplog.at_level(logging.WARNING), pc.Consumer(config) as consumer:
        consumer.wait_ready(timeout=30)
    assert "enabled is false" in caplog.text


def test_blocking_consumer_is_a_facade_over_the_async_one():
    """Consumer runs AsyncConsumer's methods and never reaches into its private state; the
    consumer module never imports the widgets (they register the display hook themselves)."""
    import ast
    import inspect

    import producerconsumer.consumer as module

    tree = ast.parse(inspect.getsource(module))
    facade = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Consumer")
    private = [
        ast.unparse(node)
        for node in ast.walk(facade)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and ast.unparse(node.value) in ("self.core", "core")
    ]
    assert private == []
    imported = [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and "widgets" in node.module
    ]
    assert imported == []
    # Same events, one declaration: the facade's are its core's.
    consumer = pc.Consumer({"producers": [{"name": "p", "host": "127.0.0.1", "ws_token": "t"}]})
    assert consumer.updated is consumer.core.updated
    assert consumer.bad_message is consumer.core.bad_message
