"""TLS (``secure: true``): verification is on by default, a CA file or an SSLContext can be given,
an untrusted certificate is a clear ``tls`` error. The producer sits behind a TLS-terminating
loopback proxy, as a Freqtrade api_server does behind its reverse proxy."""

from __future__ import annotations

import ssl
import time

import pytest
from scripted import TcpProxy

import producerconsumer as pc

trustme = pytest.importorskip("trustme")

PAIRS = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def server_context(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca, tmp_path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def secure_entry(port: int, **extra) -> dict:
    return {
        "name": "tls",
        "host": "127.0.0.1",
        "port": port,
        "ws_token": "t&#+% x",
        "secure": True,
        **extra,
    }


async def test_ca_file_verifies_the_producer(server_context, ca_file):
    async with (
        pc.DemoProducer(pairs=PAIRS, candles=120, ws_token="t&#+% x", tick=None) as producer,
        TcpProxy(producer.port, ssl=server_context) as proxy,
    ):
        config = {"producers": [secure_entry(proxy.port, ca_file=ca_file)]}
        async with pc.AsyncConsumer(config) as consumer:
            await consumer.wait_ready(timeout=10)
            status = consumer.status()["tls"]
            assert status.url.startswith("wss://127.0.0.1:") and status.frames == 2
            assert repr(consumer.config.producers[0]).count(f"ca_file={ca_file!r}") == 1


async def test_ssl_context_argument_is_used_for_secure_producers(ca, server_context):
    client = ssl.create_default_context()
    ca.configure_trust(client)
    async with (
        pc.DemoProducer(pairs=PAIRS, candles=120, ws_token="t&#+% x", tick=None) as producer,
        TcpProxy(producer.port, ssl=server_context) as proxy,
    ):
        config = {"producers": [secure_entry(proxy.port)]}
        async with pc.AsyncConsumer(config, ssl=client) as consumer:
            await consumer.wait_ready(timeout=10)
            assert consumer.get_producer_pairs("tls") == PAIRS


def test_blocking_consumer_takes_the_ssl_argument(ca, server_context):
    client = ssl.create_default_context()
    ca.configure_trust(client)

    async def serve() -> TcpProxy:
        return await TcpProxy(producer.port, ssl=server_context).__aenter__()

    with pc.DemoProducer(pairs=PAIRS, candles=120, ws_token="t&#+% x", tick=None) as producer:
        proxy = pc._loop.run_sync(serve(), 10)
        try:
            with pc.Consumer({"producers": [secure_entry(proxy.port)]}, ssl=client) as consumer:
                consumer.wait_ready(timeout=10)
        finally:
            pc._loop.run_sync(proxy.__aexit__(None, None, None), 10)


async def test_untrusted_certificate_fails_clearly_and_at_once(server_context, caplog):
    # Verification is on by default: the system CAs do not know the test CA.
    async with (
        pc.DemoProducer(pairs=PAIRS, candles=120, ws_token="t&#+% x", tick=None) as producer,
        TcpProxy(producer.port, ssl=server_context) as proxy,
    ):
        config = {"producers": [secure_entry(proxy.port)], "sleep_time": 0}
        async with pc.AsyncConsumer(config) as consumer:
            started = time.monotonic()
            with pytest.raises(pc.ProducerError) as info:
                await consumer.wait_ready(timeout=20)
            elapsed = time.monotonic() - started
            status = consumer.status()["tls"]
    message = str(info.value)
    assert elapsed < 5 and info.value.producer == "tls"
    assert message.startswith("producer 'tls': the TLS certificate of 127.0.0.1:")
    assert "not trusted" in message and "ca_file" in message and "ssl=" in message
    assert status.error_kind == "tls" and not status.connected
    assert status.last_error in message
    assert "t&#+% x" not in message + caplog.text + repr(status)


async def test_secure_against_a_plain_producer_says_so():
    async with pc.DemoProducer(pairs=PAIRS, candles=120, ws_token="t", tick=None) as producer:
        config = {"producers": [secure_entry(producer.port)], "sleep_time": 0}
        async with pc.AsyncConsumer(config) as consumer:
            await consumer.wait_until(lambda: consumer.status()["tls"].last_error is not None, 10)
            status = consumer.status()["tls"]
    assert not status.connected and "does it serve TLS" in status.last_error


def test_ca_file_is_validated(tmp_path):
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(pc.ConfigError, match=r"producers\[0\]\.ca_file: no such file"):
        pc.load_config({"producers": [secure_entry(1, ca_file=missing)]})
    with pytest.raises(pc.ConfigError, match=r"producers\[0\]\.ca_file: must be a file path"):
        pc.load_config({"producers": [secure_entry(1, ca_file=3)]})
    path = tmp_path / "ca.pem"
    path.write_text("x")
    config = pc.load_config({"producers": [secure_entry(1, ca_file=path)]})
    assert config.producers[0].ca_file == str(path)
    assert "ca_file" not in repr(pc.load_config({"producers": [secure_entry(1)]}))
