"""Authentication: a wrong token fails at once and is retried with bounded backoff; tokens with
URL metacharacters work; and the token never shows, in any repr, log line (websockets' own debug
log included), exception text or status, whatever goes wrong."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
import traceback
from urllib.parse import quote, quote_plus

import pytest
from scripted import ScriptedProducer, free_port, silent_server

import producerconsumer as pc
from producerconsumer.connection import MAX_RETRY_DELAY, retry_delay

PAIRS = ["BTC/USDT", "ETH/USDT"]
SECRET = "s3cr&t#to+ken% with spaces/?="
TOKENS = [SECRET, "a&b", "x#y", "p+q", "50%off", "two words", "%41%42", "tök€n"]


@pytest.mark.parametrize("token", TOKENS)
def test_tokens_with_url_metacharacters_work(token):
    with pc.DemoProducer(pairs=PAIRS, candles=100, ws_token=token, tick=None) as producer:
        with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
            consumer.wait_ready(timeout=10)
            assert consumer.get_producer_pairs() == PAIRS


async def test_wrong_token_retries_with_bounded_backoff():
    async with ScriptedProducer(status=403) as producer:
        async with pc.AsyncConsumer(producer.config(sleep_time=0)) as consumer:
            started = time.monotonic()
            with pytest.raises(pc.AuthenticationError, match="producer 'default'"):
                await consumer.wait_ready(timeout=10)
            raised = time.monotonic() - started
            await asyncio.sleep(3)  # a window in which to count the retries
            times = list(producer.handshake_times)
    # What the delay becomes after a long outage.
    longest = max(retry_delay(100, 0) for _ in range(100))
    window = [t for t in times if t - started <= 3]
    gaps = [b - a for a, b in itertools.pairwise(window)]
    print(f"\nwrong token: raised after {raised:.2f} s; {len(window)} handshakes in 3 s")
    assert raised < 1 and len(window) <= 8, f"handshake storm: {len(window)} in 3 s"
    # Each retry waits longer (doubling, with +-20 % jitter), up to a cap.
    assert all(later > earlier * 1.25 for earlier, later in itertools.pairwise(gaps[1:]))
    assert longest <= MAX_RETRY_DELAY * 1.2


def _leaks(texts: list[str]) -> list[str]:
    forms = {SECRET, quote(SECRET, safe=""), quote(SECRET), quote_plus(SECRET), "s3cr&t", "to+ken"}
    return [f"{form!r} in {text[:200]!r}" for text in texts for form in forms if form in text]


def _seen(consumer: pc.Consumer, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every text a user can see: reprs, the HTML table, statuses (every field), log lines
    with their tracebacks."""
    texts = [repr(consumer), consumer._repr_html_(), repr(consumer.config)]
    texts += [repr(p) for p in consumer.config.producers]
    for status in consumer.status().values():
        texts += [repr(status), str(dataclasses.astuple(status))]
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    return texts


def _raised(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


def test_token_never_shows_whatever_happens(caplog):
    caplog.set_level(logging.DEBUG)  # websockets' own loggers included
    for name in ("websockets", "websockets.client", "websockets.server", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    texts: list[str] = []
    entry = {"name": "bot", "host": "127.0.0.1", "ws_token": SECRET}
    base = {"sleep_time": 0, "wait_timeout": 1, "ping_timeout": 1}
    scenarios = 0
    with pc.DemoProducer(pairs=PAIRS, candles=120, ws_token=SECRET, tick=None) as producer:
        # Connected, synced, updated, then the producer goes away.
        with pc.Consumer({"producers": [entry | {"port": producer.port}], **base}) as consumer:
            consumer.wait_ready(timeout=10)
            version = consumer.store.version
            producer.advance(1)  # the update may land before any wait starts: wait on the data
            consumer.wait_until(lambda: consumer.store.version > version, timeout=10)
            texts += _seen(consumer, caplog)
            scenarios += 1
        # Refused by the producer (another token is expected): AuthenticationError.
        with pc.DemoProducer(pairs=PAIRS, candles=120, ws_token="other", tick=None) as other:
            config = {"producers": [entry | {"port": other.port}], **base}
            with pc.Consumer(config) as consumer:
                with pytest.raises(pc.AuthenticationError) as info:
                    consumer.wait_ready(timeout=10)
                texts += _raised(info.value) + _seen(consumer, caplog)
                scenarios += 1
    # Nobody listening: ReadyTimeout naming the error.
    with pc.Consumer({"producers": [entry | {"port": free_port()}], **base}) as consumer:
        with pytest.raises(pc.ReadyTimeout) as timeout:
            consumer.wait_ready(timeout=0.5)
        texts += _raised(timeout.value) + _seen(consumer, caplog)
        scenarios += 1

    # A silent peer (ping timeout) and a host that does not resolve.
    async def start_silent() -> asyncio.Server:
        return await silent_server(asyncio.Event())

    server = pc._loop.run_sync(start_silent(), 10)
    try:
        port = server.sockets[0].getsockname()[1]
        with pc.Consumer({"producers": [entry | {"port": port}], **base}) as consumer:
            consumer.wait_until(lambda: consumer.status()["bot"].error_kind == "silent", 10)
            texts += _seen(consumer, caplog)
            scenarios += 1
    finally:
        server.close()
    with pc.Consumer(
        {"producers": [entry | {"host": "no-such-host.invalid", "port": 1}], **base}
    ) as bad:
        bad.wait_until(lambda: bad.status()["bot"].error_kind == "dns", 10)
        texts += _seen(bad, caplog)
        scenarios += 1
    # A broken config names the key, never the token (even one of the wrong type).
    with pytest.raises(pc.ConfigError) as config_error:
        pc.load_config({"producers": [entry | {"port": "x", "ws_token": [SECRET]}]})
    texts += _raised(config_error.value)
    debug_lines = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("GET /api/v1/message/ws?token=***" in r.getMessage() for r in debug_lines)
    assert _leaks(texts) == []
    print(f"\ntoken secrecy: {scenarios} scenarios, {len(texts)} texts, {len(caplog.records)} logs")


async def test_scripted_producer_never_sees_an_unencoded_token():
    async with ScriptedProducer() as producer:
        config = producer.config()
        config["producers"][0]["ws_token"] = SECRET
        async with pc.AsyncConsumer(config) as consumer:
            await producer.wait_requests(3)
            path = producer.connections[0].request.path
            status = consumer.status()["default"]
    assert path.endswith("?token=" + quote(SECRET, safe=""))
    assert status.url.endswith("?token=***")
