"""Bad networks and several producers: half-open connections, proxies that drop idle
connections, a dead producer beside a live one, identical pair names from two producers."""

from __future__ import annotations

import asyncio
import time

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from scripted import TcpProxy, free_port, seconds_to_detect_silence, silent_server

import producerconsumer as pc
from producerconsumer import wire

PAIRS = ["BTC/USDT", "ETH/USDT"]


def as_consumer_sees(frame: pd.DataFrame) -> pd.DataFrame:
    return wire.decode_dataframe(wire.encode_dataframe(frame))


def entry(name: str, port: int) -> dict:
    return {"name": name, "host": "127.0.0.1", "port": port, "ws_token": "t"}


def caught_up(consumer: pc.AsyncConsumer, producer: pc.DemoProducer, name: str = "default"):
    def check() -> bool:
        frame, _ = consumer.get_producer_df(PAIRS[-1], producer_name=name)
        return not frame.empty and frame["date"].iloc[-1] == producer.last_candle

    return check


async def test_half_open_connection_is_detected_within_wait_plus_ping_timeout():
    wait_timeout, ping_timeout = 1, 1
    async with (
        pc.DemoProducer(pairs=PAIRS, candles=150, ws_token="t", tick=None) as producer,
        TcpProxy(producer.port) as proxy,
    ):
        config = {
            "producers": [entry("default", proxy.port)],
            "wait_timeout": wait_timeout,
            "ping_timeout": ping_timeout,
            "sleep_time": 0,
        }
        async with pc.AsyncConsumer(config) as consumer:
            await consumer.wait_ready(timeout=10)
            connection = consumer.connections["default"]
            sessions = connection.status().sessions
            proxy.freeze()  # the path goes silent: no byte either way, nothing closed
            frozen = time.monotonic()
            await consumer.wait_until(lambda: connection.failure is not None, 15)
            detected = time.monotonic() - frozen
            status = consumer.status()["default"]
            assert status.error_kind == "silent" and status.stale and status.frames == 2
            assert "did not answer a ping" in status.last_error
            # A new connection is made (the frozen one was given up) and data flows again.
            await consumer.wait_until(lambda: connection.status().sessions > sessions, 10)
            await producer.advance_async(1)
            await consumer.wait_until(caught_up(consumer, producer), 10)
    print(
        f"\nhalf-open detected after {detected:.2f} s (wait {wait_timeout} + ping {ping_timeout})"
    )
    # From the last byte it takes wait_timeout + ping_timeout; the freeze came after that byte.
    assert ping_timeout - 0.1 <= detected <= wait_timeout + ping_timeout + 0.5


async def test_silent_producer_detection_is_measured():
    detected = await seconds_to_detect_silence(wait_timeout=1, ping_timeout=2, timeout=15)
    print(f"\nsilent producer detected after {detected:.2f} s (wait 1 + ping 2)")
    assert 3 - 0.2 <= detected <= 3 + 0.5


async def test_proxy_dropping_idle_connections_is_survived():
    async with (
        pc.DemoProducer(pairs=PAIRS, candles=150, ws_token="t", tick=None) as producer,
        TcpProxy(producer.port, idle_timeout=0.8) as proxy,
    ):
        # wait_timeout 30 (the default): the consumer sends nothing while idle, so the proxy
        # drops it, again and again.
        config = {"producers": [entry("default", proxy.port)], "sleep_time": 0}
        async with pc.AsyncConsumer(config) as consumer:
            await consumer.wait_ready(timeout=10)
            connection = consumer.connections["default"]
            for drop in range(1, 4):
                sessions = connection.status().sessions
                await proxy.wait_for(lambda d=drop: proxy.idle_closed >= d, 10)
                await consumer.wait_until(lambda s=sessions: connection.status().sessions > s, 10)
                await producer.advance_async(1)
                await consumer.wait_until(caught_up(consumer, producer), 10)
            status = consumer.status()["default"]
    assert proxy.idle_closed >= 3 and status.reconnects >= 3 and status.bad_messages == 0


@pytest.mark.slow
async def test_silence_ping_keeps_an_idle_proxy_from_dropping_the_connection():
    async with (
        pc.DemoProducer(pairs=PAIRS, candles=150, ws_token="t", tick=None) as producer,
        TcpProxy(producer.port, idle_timeout=2.5) as proxy,
    ):
        config = {"producers": [entry("default", proxy.port)], "wait_timeout": 1}
        async with pc.AsyncConsumer(config) as consumer:
            await consumer.wait_ready(timeout=10)
            sessions = consumer.status()["default"].sessions
            await asyncio.sleep(4)  # a window longer than the proxy's idle timeout
            status = consumer.status()["default"]
            assert status.connected and status.latency_ms is not None
            assert consumer.status()["default"].sessions == sessions
            await producer.advance_async(1)
            await consumer.wait_until(caught_up(consumer, producer), 10)
    assert proxy.idle_closed == 0


async def test_a_dead_producer_does_not_delay_the_live_one():
    accepted = asyncio.Event()
    silent = await silent_server(accepted)
    try:
        async with pc.DemoProducer(pairs=PAIRS, candles=300, ws_token="t", tick=None) as live:
            config = {
                "producers": [
                    entry("refused", free_port()),
                    entry("silent", silent.sockets[0].getsockname()[1]),
                    entry("live", live.port),
                ],
                "sleep_time": 1,
            }
            async with pc.AsyncConsumer(config) as consumer:
                started = time.monotonic()
                await consumer.wait_until(lambda: consumer.connections["live"].ready, 10)
                live_ready = time.monotonic() - started
                with pytest.raises(pc.ReadyTimeout) as info:
                    await consumer.wait_ready(timeout=1)
                status = consumer.status()
                # Wait from before the trigger: the update may land while advance_async awaits.
                waiter = asyncio.create_task(
                    consumer.wait_for_update(producer_name="live", timeout=10)
                )
                await asyncio.sleep(0)  # let the waiter take its starting point
                await live.advance_async(1)
                update = await waiter
    finally:
        silent.close()
    print(f"\nlive producer ready after {live_ready:.2f} s beside a refused and a silent one")
    assert live_ready < 5
    message = str(info.value)
    assert "refused: disconnected" in message and "connection refused" in message
    assert "silent: connected, no whitelist" in message and "live:" not in message
    assert status["refused"].error_kind == "refused" and not status["refused"].connected
    assert status["live"].ready and status["live"].frames == 2
    assert update.producer == "live" and update.action == "append"


async def test_identical_pairs_from_two_producers_stay_separate():
    async with (
        pc.DemoProducer(pairs=PAIRS, candles=200, ws_token="t", tick=None, seed=1) as one,
        pc.DemoProducer(pairs=PAIRS, candles=200, ws_token="t", tick=None, seed=2) as two,
    ):
        config = {"producers": [entry("one", one.port), entry("two", two.port)]}
        async with pc.AsyncConsumer(config) as consumer:
            await consumer.wait_ready(timeout=10)
            before_two = consumer.get_producer_df("BTC/USDT", producer_name="two")[0]
            await one.advance_async(1)
            await consumer.wait_until(caught_up(consumer, one, "one"), 10)
            frames = {
                name: consumer.get_producer_df(pair, producer_name=name)[0]
                for name in ("one", "two")
                for pair in PAIRS[:1]
            }
            default = consumer.get_producer_df("BTC/USDT")
            pairs = consumer.get_producer_pairs("one"), consumer.get_producer_pairs("two")
    assert pairs == (PAIRS, PAIRS)
    assert_frame_equal(
        frames["one"], as_consumer_sees(one.frame("BTC/USDT")).iloc[-201:].reset_index(drop=True)
    )
    assert_frame_equal(frames["two"], before_two)
    assert_frame_equal(frames["two"], as_consumer_sees(two.frame("BTC/USDT")))
    assert not frames["one"]["close"].equals(frames["two"]["close"])
    assert default[0].empty  # no producer is called "default"
