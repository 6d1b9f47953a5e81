"""Connection behaviour against a scripted producer (a real loopback websocket server)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pandas as pd
import pytest
from scripted import ScriptedProducer, seconds_to_detect_silence

import producerconsumer as pc
from producerconsumer import wire

START = pd.Timestamp("2026-01-01", tz="UTC")
KEY = ("BTC/USDT", "5m", "spot")
LA = START.to_pydatetime()


def candles(first: int, count: int, label0: int | None = None) -> pd.DataFrame:
    dates = pd.date_range(START, periods=first + count, freq="5min")[first:]
    label0 = first if label0 is None else label0
    return pd.DataFrame(
        {"date": dates, "close": np.arange(first, first + count) + 0.25},
        index=range(label0, label0 + count),
    )


def frame_message(first: int, count: int) -> str:
    return wire.analyzed_df_message(KEY, candles(first, count), LA)


async def reply_history(history: int):
    """A handler that answers like a producer holding candles 0..history-1."""

    async def handler(producer: ScriptedProducer, ws, request: dict) -> None:
        if request["type"] == "whitelist":
            await ws.send(wire.whitelist_message(["BTC/USDT"]))
        elif request["type"] == "analyzed_df":
            limit = min(request["data"]["limit"] or history, 1500, history)
            await ws.send(frame_message(history - limit, limit))

    return handler


async def test_sends_freqtrades_initial_requests_and_honours_initial_candle_limit():
    async with ScriptedProducer(await reply_history(3000)) as producer:
        async with pc.AsyncConsumer(producer.config(initial_candle_limit=250)) as consumer:
            await consumer.wait_ready(timeout=10)
            frame, la = consumer.get_producer_df("BTC/USDT")
    assert producer.requests[:3] == [
        '{"type":"subscribe","data":["whitelist","analyzed_df"]}',
        '{"type":"whitelist"}',
        '{"type":"analyzed_df","data":{"limit":250,"pair":null}}',
    ]
    assert len(frame) == 250 and list(frame.index[:1]) == [2750] and la == LA


async def test_gap_requests_missing_candles_then_appends():
    async with ScriptedProducer(await reply_history(200)) as producer:
        async with pc.AsyncConsumer(producer.config()) as consumer:
            await consumer.wait_ready(timeout=10)
            ws = producer.connections[0]
            await ws.send(frame_message(203, 1))  # candles 200..202 missing
            request = (await producer.wait_requests(4))[3]
            assert request == '{"type":"analyzed_df","data":{"limit":5,"pair":"BTC/USDT"}}'
            await ws.send(frame_message(199, 5))  # the reply: one candle of overlap
            await consumer.wait_until(
                lambda: len(consumer.get_producer_df("BTC/USDT")[0]) == 204, 10
            )
            frame, _ = consumer.get_producer_df("BTC/USDT")
    assert frame["date"].is_monotonic_increasing and frame["date"].is_unique
    assert list(frame.index) == list(range(204))


async def test_broadcast_before_initial_reply_causes_no_extra_request():
    async def handler(producer: ScriptedProducer, ws, request: dict) -> None:
        if request["type"] == "whitelist":
            await ws.send(wire.whitelist_message(["BTC/USDT"]))
        elif request["type"] == "analyzed_df":
            await ws.send(frame_message(500, 1))  # a broadcast overtakes the reply
            await ws.send(frame_message(0, 500))
            await ws.send(frame_message(500, 1))

    async with ScriptedProducer(handler) as producer:
        async with pc.AsyncConsumer(producer.config()) as consumer:
            await consumer.wait_until(
                lambda: len(consumer.get_producer_df("BTC/USDT")[0]) == 501, 10
            )
            await consumer.wait_ready(timeout=10)
            # the consumer asks again only where the initial reply could not answer
            ws = producer.connections[0]
            await ws.send(wire.whitelist_message(["BTC/USDT"]))  # a round trip marker
            await asyncio.sleep(0)
    assert [r for r in producer.requests if '"pair":"BTC/USDT"' in r] == []


async def test_short_history_is_stored_without_request_loop():
    async with ScriptedProducer(await reply_history(50)) as producer:
        async with pc.AsyncConsumer(producer.config()) as consumer:
            await consumer.wait_ready(timeout=10)
            frame, _ = consumer.get_producer_df("BTC/USDT")
            ws = producer.connections[0]
            await ws.send(frame_message(50, 1))
            await consumer.wait_until(
                lambda: len(consumer.get_producer_df("BTC/USDT")[0]) == 51, 10
            )
    assert len(frame) == 50
    assert len(producer.requests) == 3  # no re-request at all


async def test_rerequest_made_before_connection_is_sent_not_dropped():
    # Freqtrade loses requests published before its first three requests are sent.
    async with ScriptedProducer(await reply_history(300)) as producer:
        consumer = pc.AsyncConsumer(producer.config())
        await consumer.start()
        try:
            await consumer.wait_ready(timeout=10)
            connection = consumer.connections["default"]
            connection.request(7, "BTC/USDT")
            requests = await producer.wait_requests(4)
        finally:
            await consumer.stop()
    assert requests[3] == '{"type":"analyzed_df","data":{"limit":7,"pair":"BTC/USDT"}}'


async def test_bad_messages_are_counted_and_data_kept(caplog):
    async with ScriptedProducer(await reply_history(200)) as producer:
        async with pc.AsyncConsumer(producer.config()) as consumer:
            await consumer.wait_ready(timeout=10)
            before, _ = consumer.get_producer_df("BTC/USDT")
            ws = producer.connections[0]
            for bad in (
                "not json",
                '{"type":"analyzed_df","data":{"key":"BTC/USDT"}}',
                '{"type":3}',
            ):
                await ws.send(bad)
            await consumer.wait_until(lambda: consumer.status()["default"].bad_messages == 3, 10)
            await ws.send(frame_message(200, 1))
            await consumer.wait_until(
                lambda: len(consumer.get_producer_df("BTC/USDT")[0]) == 201, 10
            )
            status = consumer.status()["default"]
    assert status.connected and status.bad_messages == 3
    assert "unknown message type 3" in caplog.text and "message is not JSON" in caplog.text
    assert len(before) == 200


async def test_oversized_message_is_reported_and_backs_off():
    big = "x" * (1 << 20)

    async def handler(producer: ScriptedProducer, ws, request: dict) -> None:
        if request["type"] == "whitelist":
            await ws.send(wire.whitelist_message(["BTC/USDT"]))
        elif request["type"] == "analyzed_df":
            await ws.send('{"type":"strategy_msg","msg":"' + big + '"}')

    async with ScriptedProducer(handler) as producer:
        async with pc.AsyncConsumer(
            producer.config(message_size_limit=1, sleep_time=0)
        ) as consumer:
            await consumer.wait_until(
                lambda: consumer.status()["default"].error_kind == "too_big", 10
            )
            status = consumer.status()["default"]
            started, handshakes = time.monotonic(), producer.handshakes
            await asyncio.sleep(1.0)  # measuring a rate needs a time window
            rate = (producer.handshakes - handshakes) / (time.monotonic() - started)
    assert "message_size_limit=1 MiB" in status.last_error
    assert rate < 5, f"reconnect storm: {rate:.1f} connects/s"


async def test_wrong_token_is_an_authentication_error_at_once():
    async with ScriptedProducer(status=403) as producer:
        async with pc.AsyncConsumer(producer.config(sleep_time=0)) as consumer:
            started = time.monotonic()
            with pytest.raises(
                pc.AuthenticationError, match="producer 'default': authentication failed"
            ):
                await consumer.wait_ready(timeout=20)
            assert time.monotonic() - started < 5
            status = consumer.status()["default"]
    assert status.error_kind == "auth" and not status.connected
    assert "scripted-secret" not in repr(status) and "token=***" in status.url


async def test_refused_port_times_out_naming_the_producer():
    async with ScriptedProducer() as producer:
        config = producer.config(sleep_time=0)
    async with pc.AsyncConsumer(config) as consumer:  # the server is gone: connection refused
        with pytest.raises(pc.ReadyTimeout, match=r"(?s)producer 'default'.*connection refused"):
            await consumer.wait_ready(timeout=1.5)


async def test_silent_producer_is_detected_by_ping():
    detected = await seconds_to_detect_silence(wait_timeout=1, ping_timeout=1, timeout=10)
    assert detected < 1 + 1 + 1.5


async def test_bad_messages_are_reported_on_the_bad_message_event():
    reasons: list[tuple[str, str]] = []
    async with ScriptedProducer(await reply_history(200)) as producer:
        async with pc.AsyncConsumer(producer.config()) as consumer:
            consumer.bad_message += lambda name, reason: reasons.append((name, reason))
            await consumer.wait_ready(timeout=10)
            await producer.connections[0].send('{"type":3}')
            await consumer.wait_until(lambda: bool(reasons), 10)
    assert reasons == [("default", "unknown message type 3")]


@pytest.mark.parametrize("host", ["10000.1241..2121/", "a..b", "host:with:colons"])
async def test_unusable_host_fails_at_once_without_retrying(host):
    # A ProducerConfig made directly skips load_config's check: the URL cannot be built, which
    # no retry can fix, so wait_ready raises at once instead of waiting out its timeout.
    config = pc.ConsumerConfig(producers=(pc.ProducerConfig("bad", host, "s3cret", 8080),))
    async with pc.AsyncConsumer(config) as consumer:
        started = time.monotonic()
        with pytest.raises(pc.ProducerError, match="producer 'bad'") as info:
            await consumer.wait_ready(timeout=30)
        elapsed = time.monotonic() - started
        status = consumer.status()["bad"]
    assert elapsed < 1, f"took {elapsed:.1f} s"
    assert not isinstance(info.value, pc.AuthenticationError)
    assert "cannot build a websocket URL" in str(info.value) and "host" in str(info.value)
    assert (status.state, status.error_kind, status.sessions) == ("failed", "invalid_url", 0)
    assert "s3cret" not in str(info.value) and "s3cret" not in repr(status)


def test_any_url_error_from_connecting_is_fatal():
    from websockets.exceptions import InvalidURI

    from producerconsumer.connection import classify

    producer = pc.ProducerConfig("p", "example.org", "s3cret", 8080)
    config = pc.ConsumerConfig(producers=(producer,))
    for exc in (InvalidURI("ws://x", "bad"), ValueError("invalid URI")):
        failure = classify(exc, producer, config)
        assert (failure.kind, failure.fatal) == ("invalid_url", True)
