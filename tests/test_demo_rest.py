"""The demo producer as a whole bot: its REST API on the websocket's port, its trade messages
to subscribers of their type, and the initial-sync reply cache."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import orjson
import pandas as pd
import pytest
from websockets.asyncio.client import ClientConnection, connect

import producerconsumer as pc
from producerconsumer.demo import DemoProducer
from producerconsumer.server.rest import JwtSigner
from producerconsumer.wire import messages as wire
from producerconsumer.wire.messages import RPC_MESSAGE_TYPES
from producerconsumer.wire.rpc import parse_rpc_text

END = datetime(2026, 11, 23, 22, 3, tzinfo=UTC)
PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
PASSWORD = "demo-pass:w0rd"
WAIT = 5.0


@pytest.fixture
async def producer() -> AsyncIterator[DemoProducer]:
    async with DemoProducer(
        PAIRS, "5m", 600, ws_token="tok", tick=None, end=END, api_password=PASSWORD
    ) as p:
        yield p


def basic(user: str = "freqtrader", password: str = PASSWORD) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def recv(ws: ClientConnection) -> dict:
    return orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))


# --- REST through our own client


async def test_producer_api_against_the_demo(producer: DemoProducer) -> None:
    async with pc.ProducerAPI(producer.producer_config()) as api:
        assert await api.pingAsync() == {"status": "pong"}
        assert await api.versionAsync() == "2026.9"
        assert api.auth == "jwt"
        config = await api.show_configAsync()
        assert config["strategy"] == "ProducerStrategy" and config["timeframe"] == "5m"
        assert config["api_version"] == 2.5 and config["state"] == "running"
        assert await api.whitelistAsync() == PAIRS
        assert await api.plot_configAsync() == producer.bot.plot_config()  # type: ignore[union-attr]
        for pair, limit in (("BTC/USDT", None), ("ETH/USDT", 50)):
            rest = await api.pair_candlesAsync(pair, "5m", limit=limit)
            reply = producer._server.analyzed_reply(pair, limit)  # type: ignore[union-attr]
            message = wire.parse_message(reply)
            assert isinstance(message, wire.AnalyzedFrame)
            pd.testing.assert_frame_equal(
                rest, message.frame.reset_index(drop=True), check_exact=True
            )
        chosen = await api.pair_candlesAsync("XRP/USDT", "5m", limit=20, columns=["rsi"])
        assert list(chosen.columns) == [
            "date",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "rsi",
            "enter_long",
            "exit_long",
        ]
        assert (await api.pair_candlesAsync("NOPE/USDT", "5m")).empty
        bot = producer.bot
        assert bot is not None
        trades = await api.tradesAsync()
        expected = bot.trades_json(10_000)["trades"]
        assert len(expected) > 0, "the demo bot should have traded over 600 candles"
        assert trades["trade_id"].tolist() == [t["trade_id"] for t in expected]
        assert trades["profit_abs"].tolist() == [t["profit_abs"] for t in expected]
        assert (await api.tradesAsync(limit=2, offset=1))["trade_id"].tolist() == [
            t["trade_id"] for t in expected[1:3]
        ]
        status = await api.statusAsync()
        assert status.get("trade_id", pd.Series(dtype=int)).tolist() == [
            t["trade_id"] for t in bot.status_json()
        ]


async def test_wrong_password_fails_at_once(producer: DemoProducer) -> None:
    entry = producer.producer_config() | {"api_password": "wrong"}
    async with pc.ProducerAPI(entry) as api:
        with pytest.raises(pc.AuthenticationError, match="producer 'default'") as raised:
            await api.versionAsync()
    assert "wrong" not in str(raised.value) and PASSWORD not in str(raised.value)


# --- REST on the wire


async def test_http_auth_statuses_and_methods(producer: DemoProducer) -> None:
    async with httpx.AsyncClient(base_url=producer.api_url + "/api/v1/") as http:
        assert (await http.head("ping")).status_code == 200
        for path in ("version", "trades", "status", "whitelist"):
            denied = await http.get(path)
            assert denied.status_code == 401 and denied.json() == {"detail": "Unauthorized"}
            assert (await http.get(path, headers=basic(password="nope"))).status_code == 401
            assert (await http.get(path, headers=basic())).status_code == 200
        # Freqtrade's client sends a JSON "null" body with every GET.
        with_body = await http.request("GET", "whitelist", content=b"null", headers=basic())
        assert with_body.json() == {"whitelist": PAIRS, "length": 3, "method": ["StaticPairList"]}
        assert (await http.get("profit", headers=basic())).status_code == 404
        assert (await http.get("/nothing")).status_code == 404
        assert (await http.get("token/login", headers=basic())).status_code == 405
        assert (await http.get("trades?limit=0", headers=basic())).status_code == 422
        assert (await http.get("trades?offset=x", headers=basic())).status_code == 422
        login = await http.post("token/login", headers=basic(password="nope"))
        assert login.status_code == 401
        assert login.json() == {"detail": "Incorrect username or password"}
        tokens = (await http.post("token/login", headers=basic())).json()
        assert set(tokens) == {"access_token", "refresh_token"}
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await http.get("version", headers=bearer)).json() == {"version": "2026.9"}
        # A refresh token is not an access token, and the other way round.
        refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
        assert (await http.get("version", headers=refresh)).status_code == 401
        assert (await http.post("token/refresh", headers=bearer)).status_code == 401
        renewed = (await http.post("token/refresh", headers=refresh)).json()
        assert set(renewed) == {"access_token"}
        forged = JwtSigner("another-secret").issue("freqtrader", "access")
        response = await http.get("version", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401
        assert response.json() == {"detail": "Could not validate credentials"}


async def test_jwt_access_token_opens_the_websocket(producer: DemoProducer) -> None:
    async with httpx.AsyncClient(base_url=producer.api_url + "/api/v1/") as http:
        access = (await http.post("token/login", headers=basic())).json()["access_token"]
    url = f"ws://127.0.0.1:{producer.port}/api/v1/message/ws?token={access}"
    async with connect(url) as ws:
        await ws.send(wire.whitelist_request())
        assert (await recv(ws))["data"] == PAIRS


async def test_no_rest_api_when_disabled() -> None:
    async with DemoProducer(PAIRS[:1], candles=50, tick=None, end=END, api=False) as p:
        assert "api_password" not in p.producer_config()
        async with httpx.AsyncClient() as http:
            # Without a REST API, websockets answers plain HTTP itself: 404 off the ws path.
            response = await http.get(p.api_url + "/api/v1/ping")
            assert response.status_code == 404


def test_token_signer_round_trip_and_expiry() -> None:
    signer = JwtSigner("k")
    token = signer.issue("me", "access", now=1000.0)
    assert signer.verify(token, "access", now=1000.0 + 899) == "me"
    assert signer.verify(token, "access", now=1000.0 + 901) is None
    assert signer.verify(token, "refresh", now=1000.0) is None
    assert signer.verify(token[:-2] + "xx", "access", now=1000.0) is None
    assert signer.verify("garbage", "access") is None


# --- trade messages by subscription


async def test_trade_messages_reach_only_their_subscribers(producer: DemoProducer) -> None:
    bot = producer.bot
    assert bot is not None
    closed_before = bot.trades_json(10_000)["total_trades"]
    everything = [t for t in RPC_MESSAGE_TYPES if t not in ("analyzed_df", "new_candle")]
    async with connect(producer.url) as every, connect(producer.url) as fills:
        await every.send(orjson.dumps({"type": "subscribe", "data": everything}).decode())
        await fills.send(orjson.dumps({"type": "subscribe", "data": ["entry_fill"]}).decode())
        await fills.send(orjson.dumps({"type": "subscribe", "data": ["exit_fill"]}).decode())
        for ws in (every, fills):  # a round trip: the subscriptions are in place
            await ws.send(wire.whitelist_request())
            await recv(ws)
        await producer.advance_async(300)
        await producer.set_whitelist_async(PAIRS)  # unchanged: no broadcast
        marker = wire.whitelist_request()
        received: dict[str, list[dict]] = {"every": [], "fills": []}
        for name, ws in (("every", every), ("fills", fills)):
            await ws.send(marker)
            while (message := await recv(ws))["type"] != "whitelist":
                received[name].append(message)
    kinds = [m["type"] for m in received["every"]]
    assert set(kinds) <= {"entry", "entry_fill", "exit", "exit_fill"}
    assert "exit_fill" in kinds and "entry_fill" in kinds
    # A new subscription replaced the old one: only exit_fill, the same ones in order.
    assert received["fills"] == [m for m in received["every"] if m["type"] == "exit_fill"]
    closed_after = bot.trades_json(10_000)["total_trades"]
    assert kinds.count("exit_fill") == closed_after - closed_before
    for message in received["every"]:
        parsed = parse_rpc_text(orjson.dumps(message).decode())
        assert parsed.type == message["type"]  # type: ignore[union-attr]


# --- the reply cache


async def test_replies_are_encoded_once_per_candle(producer: DemoProducer) -> None:
    server = producer._server
    assert server is not None
    first = server.analyzed_reply("BTC/USDT", 1500)
    assert server.analyzed_reply("BTC/USDT", 1500) is first  # cached, not re-encoded
    assert server.analyzed_reply("BTC/USDT", 10) is not first
    await producer.advance_async()
    after = server.analyzed_reply("BTC/USDT", 1500)
    assert after is not first and after != first  # invalidated by the new candle
    message = wire.parse_message(after)
    assert isinstance(message, wire.AnalyzedFrame)
    assert message.frame["date"].iloc[-1] == producer.frame("BTC/USDT")["date"].iloc[-1]


# --- the HTTP front on the websocket's port


async def _raw(port: int, data: bytes, until_closed: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(-1), WAIT) if until_closed else b""
    finally:
        writer.close()


async def test_pipelined_requests_and_close(producer: DemoProducer) -> None:
    assert producer.port is not None
    one = b"GET /api/v1/ping HTTP/1.1\r\nhost: x\r\n\r\n"
    last = b"GET /api/v1/version HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    answer = await _raw(producer.port, one + one + last)
    assert answer.count(b"HTTP/1.1 200 ") == 2 and answer.count(b'{"status":"pong"}') == 2
    assert answer.count(b"HTTP/1.1 401 ") == 1  # version needs credentials


async def test_bad_requests_are_refused(producer: DemoProducer) -> None:
    assert producer.port is not None
    big = b"POST /api/v1/token/login HTTP/1.1\r\nhost: x\r\ncontent-length: 9999999\r\n\r\n"
    assert (await _raw(producer.port, big)).startswith(b"HTTP/1.1 413 ")
    # Not HTTP (binary, as a TLS hello on the plain port): handed to websockets, which
    # refuses it as it always did, without waiting for a request head.
    hello = bytes.fromhex("16030100a5010000a10303") + b"\x00" * 64 + b"\r\n"
    started = asyncio.get_running_loop().time()
    answer = await _raw(producer.port, hello)
    assert b"200" not in answer and asyncio.get_running_loop().time() - started < 3
