"""The demo producer over real loopback sockets, checked against the captured Freqtrade frames."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import orjson
import pandas as pd
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as sync_connect

from producerconsumer.demo import DemoProducer, ProducerServer
from producerconsumer.demo.market import SyntheticMarket, last_closed_candle, timeframe_seconds
from producerconsumer.demo.strategy import ANALYZED_COLUMNS, analyze
from producerconsumer.wire import decode_dataframe

SAMPLES = Path(__file__).resolve().parent / "data"  # frames captured from Freqtrade 2026.9
TOKEN = "s3cret-token"
END = datetime(2026, 11, 23, 22, 3, tzinfo=UTC)
PAIRS = ["BTC/USDT", "ETH/USDT"]
WAIT = 5.0
LA = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")


def sample_columns() -> list[str]:
    raw = json.loads((SAMPLES / "analyzed_df_broadcast.json").read_text())
    return json.loads(raw["data"]["df"]["__value__"])["columns"]


async def recv(ws: ClientConnection) -> dict:
    return orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))


async def request(ws: ClientConnection, obj: object) -> None:
    await ws.send(orjson.dumps(obj).decode())


def payload(message: dict) -> dict:
    """The decoded split-JSON of an analyzed_df message (columns/index/data)."""
    return json.loads(message["data"]["df"]["__value__"])


async def assert_closed(ws: ClientConnection, code: int = 1000) -> None:
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), WAIT)
    assert info.value.rcvd is not None and info.value.rcvd.code == code


@pytest.fixture
async def producer():
    async with DemoProducer(PAIRS, "5m", 1500, ws_token=TOKEN, tick=None, end=END) as p:
        yield p


@pytest.fixture
async def ws(producer: DemoProducer):
    async with connect(producer.url) as client:
        yield client


# --- handshake


async def test_bad_or_missing_token_is_http_403(producer: DemoProducer) -> None:
    base = f"ws://127.0.0.1:{producer.port}/api/v1/message/ws"
    for url in (f"{base}?token=wrong", base, f"{base}?token="):
        with pytest.raises(InvalidStatus) as info:
            async with connect(url):
                pass
        assert info.value.response.status_code == 403


async def test_other_paths_are_404(producer: DemoProducer) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"ws://127.0.0.1:{producer.port}/api/v1/ws?token={TOKEN}"):
            pass
    assert info.value.response.status_code == 404


async def test_special_token_percent_encoded_and_token_lists() -> None:
    special = "a&b#c+d%e f"
    tokens = ["first", special, "x&y"]
    async with DemoProducer(PAIRS, ws_token=tokens, tick=None, end=END) as p:
        base = f"ws://127.0.0.1:{p.port}/api/v1/message/ws?token="
        for token in ("first", special):
            async with connect(base + quote(token, safe="")) as client:
                await request(client, {"type": "whitelist"})
                assert (await recv(client))["data"] == PAIRS
        # Unencoded (as Freqtrade's consumer sends it), "x&y" arrives as "x": refused.
        with pytest.raises(InvalidStatus) as info:
            async with connect(base + "x&y"):
                pass
        assert info.value.response.status_code == 403


# --- replies


async def test_whitelist_reply_bytes(ws: ClientConnection) -> None:
    await request(ws, {"type": "whitelist"})
    raw = await asyncio.wait_for(ws.recv(), WAIT)
    assert raw == '{"type":"whitelist","data":["BTC/USDT","ETH/USDT"]}'
    sample = (SAMPLES / "whitelist.json").read_text().strip()
    assert list(orjson.loads(raw)) == list(orjson.loads(sample))


async def test_initial_request_shape_matches_sample(ws: ClientConnection) -> None:
    for raw in json.loads((SAMPLES / "consumer_requests.json").read_text()):
        await ws.send(raw["raw"])
    assert (await recv(ws))["type"] == "whitelist"
    sample = json.loads((SAMPLES / "analyzed_df_initial.json").read_text())
    for pair in PAIRS:
        message = await recv(ws)
        assert list(message) == list(sample) == ["type", "data"]
        assert list(message["data"]) == list(sample["data"]) == ["key", "df", "la"]
        assert list(message["data"]["df"]) == ["__type__", "__value__"]
        assert message["data"]["key"] == [pair, "5m", "spot"]
        assert LA.match(message["data"]["la"])
        split = payload(message)
        assert list(split) == ["columns", "index", "data"]
        assert split["columns"] == sample_columns() == list(ANALYZED_COLUMNS)
        assert split["index"] == list(range(1500))
        # Same value formats as the real frames: int ms dates, "" tags, null signals.
        row = split["data"][-1]
        assert isinstance(row[0], int) and row[0] % 300_000 == 0
        assert row[11] == "" and row[13] == ""
        frame = decode_dataframe(message["data"]["df"]["__value__"])
        assert list(frame.columns) == list(ANALYZED_COLUMNS)
        assert str(frame["date"].dt.tz) == "UTC"
        assert frame["date"].iloc[-1] == pd.Timestamp(last_closed_candle("5m", END))


@pytest.mark.parametrize(
    ("data", "rows", "pairs"),
    [
        ({"limit": 2, "pair": "ETH/USDT"}, 2, ["ETH/USDT"]),
        ({"limit": 1500, "pair": None}, 1500, PAIRS),
        ({"limit": 5000, "pair": "BTC/USDT"}, 1500, ["BTC/USDT"]),  # capped
        ({"pair": "BTC/USDT"}, 1500, ["BTC/USDT"]),  # missing limit: 1500
        ({"limit": 0, "pair": "BTC/USDT"}, 1600, ["BTC/USDT"]),  # 0: everything
        ({"limit": 3}, 3, PAIRS),
        ({}, 1600, PAIRS),  # empty data: everything, every pair
        (None, 1600, PAIRS),
        ("missing", 1600, PAIRS),
    ],
)
async def test_analyzed_df_limit_and_pair(data: object, rows: int, pairs: list[str]) -> None:
    async with (
        DemoProducer(PAIRS, candles=1600, ws_token=TOKEN, tick=None, end=END) as p,
        connect(p.url) as client,
    ):
        await request(
            client, {"type": "analyzed_df"} | ({} if data == "missing" else {"data": data})
        )
        for pair in pairs:
            message = await recv(client)
            assert message["data"]["key"][0] == pair
            split = payload(message)
            # The last rows, with their original index labels.
            assert split["index"] == list(range(1600 - rows, 1600))
            expected = p.frame(pair).tail(rows)
            assert [r[4] for r in split["data"]] == expected["close"].tolist()
        # Nothing more was sent: the next message is the reply to this request.
        await request(client, {"type": "whitelist"})
        assert (await recv(client))["type"] == "whitelist"


async def test_limit_two_reply_like_sample(ws: ClientConnection) -> None:
    sample = json.loads((SAMPLES / "analyzed_df_pair_limit2.json").read_text())
    await request(ws, sample["request"])
    raw = await asyncio.wait_for(ws.recv(), WAIT)
    want = orjson.loads(sample["reply_raw"])
    got = orjson.loads(raw)
    assert list(got) == list(want) and list(got["data"]) == list(want["data"])
    assert payload(got)["index"] == [1498, 1499]
    assert payload(got)["columns"] == payload(want)["columns"]
    assert raw.startswith('{"type":"analyzed_df","data":{"key":["BTC/USDT","5m","spot"],"df":{')


async def test_unknown_pair_gets_empty_frame_and_epoch(ws: ClientConnection) -> None:
    await request(ws, {"type": "analyzed_df", "data": {"limit": 10, "pair": "DOGE/USDT"}})
    message = await recv(ws)
    assert message["data"]["key"] == ["DOGE/USDT", "5m", "spot"]
    assert message["data"]["df"]["__value__"] == '{"columns":[],"index":[],"data":[]}'
    assert message["data"]["la"] == "1970-01-01T00:00:00+00:00"


async def test_invalid_request_type_gets_exception(ws: ClientConnection) -> None:
    sample = json.loads((SAMPLES / "exception_invalid_request.json").read_text())
    await request(ws, sample["request"])
    assert await asyncio.wait_for(ws.recv(), WAIT) == sample["reply_raw"]
    await request(ws, {"data": 1})
    assert await recv(ws) == {"type": "exception", "data": "Invalid request type: None"}
    # The connection stays open.
    await request(ws, {"type": "whitelist"})
    assert (await recv(ws))["type"] == "whitelist"


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"analyzed_df","data":"BTC/USDT"}',  # truthy non-dict data
        '{"type":"analyzed_df","data":[1]}',
        '{"type":"analyzed_df","data":{"limit":null}}',  # min(None, 1500) fails in Freqtrade
        "not json",
        "[1, 2]",
        '"text"',
    ],
)
async def test_unprocessable_requests_close_the_connection(ws: ClientConnection, text: str) -> None:
    await ws.send(text)
    await assert_closed(ws, 1000)


async def test_binary_frame_closes_the_connection(ws: ClientConnection) -> None:
    await ws.send(b'{"type":"whitelist"}')
    await assert_closed(ws, 1000)


# --- subscriptions and broadcasts


async def test_broadcast_after_advance(producer: DemoProducer, ws: ClientConnection) -> None:
    await request(ws, {"type": "subscribe", "data": ["whitelist", "analyzed_df", "new_candle"]})
    await request(ws, {"type": "whitelist"})  # a round trip: the subscription is in place
    await recv(ws)
    before = {pair: producer.frame(pair) for pair in PAIRS}
    started = datetime.now(UTC)
    await producer.advance_async()
    sample = json.loads((SAMPLES / "analyzed_df_broadcast.json").read_text())
    for pair in PAIRS:
        message = await recv(ws)
        assert list(message) == list(sample) and list(message["data"]) == list(sample["data"])
        assert message["data"]["key"] == [pair, "5m", "spot"]
        la = datetime.fromisoformat(message["data"]["la"])
        assert started - timedelta(seconds=1) <= la <= datetime.now(UTC)
        split = payload(message)
        assert split["columns"] == sample_columns()
        assert split["index"] == [before[pair].index[-1] + 1]
        frame = decode_dataframe(message["data"]["df"]["__value__"])
        assert frame["date"].iloc[0] == before[pair]["date"].iloc[-1] + pd.Timedelta("5min")
        assert frame["open"].iloc[0] == before[pair]["close"].iloc[-1]
        assert frame["close"].iloc[0] == producer.frame(pair)["close"].iloc[-1]
        assert await recv(ws) == {"type": "new_candle", "data": [pair, "5m", "spot"]}
    assert len(producer.frame("BTC/USDT")) == 1501


async def test_advance_many_keeps_order_and_cap() -> None:
    async with (
        DemoProducer(
            ["BTC/USDT"], candles=50, ws_token=TOKEN, tick=None, end=END, keep_candles=52
        ) as p,
        connect(p.url) as client,
    ):
        await request(client, {"type": "subscribe", "data": ["analyzed_df"]})
        await request(client, {"type": "whitelist"})  # a round trip: subscription is in place
        await recv(client)
        start = p.last_candle
        await p.advance_async(4)
        labels, dates = [], []
        for _ in range(4):
            message = await recv(client)
            labels += payload(message)["index"]
            dates.append(decode_dataframe(message["data"]["df"]["__value__"])["date"].iloc[0])
        assert labels == [50, 51, 51, 51]  # grows to the cap, then stays at its end
        assert dates == [start + pd.Timedelta(minutes=5 * i) for i in range(1, 5)]
        frame = p.frame("BTC/USDT")
        assert len(frame) == 52 and list(frame.index) == list(range(52))


async def test_no_subscription_no_broadcast(producer: DemoProducer, ws: ClientConnection) -> None:
    # One unknown topic: the whole subscription is ignored, so nothing is subscribed.
    await request(ws, {"type": "subscribe", "data": ["analyzed_df", "nonsense"]})
    await request(ws, {"type": "subscribe", "data": "analyzed_df"})  # a string: ignored too
    await producer.advance_async()
    await producer.set_whitelist_async(["BTC/USDT"])
    # Everything is delivered in order, so if a broadcast had been sent it would come first.
    await request(ws, {"type": "whitelist"})
    assert await recv(ws) == {"type": "whitelist", "data": ["BTC/USDT"]}


async def test_subscribe_replaces(producer: DemoProducer, ws: ClientConnection) -> None:
    await request(ws, {"type": "subscribe", "data": ["analyzed_df", "new_candle"]})
    await request(ws, {"type": "subscribe", "data": ["new_candle"]})
    await request(ws, {"type": "subscribe", "data": []})  # empty: ignored, keeps new_candle
    await request(ws, {"type": "whitelist"})
    await recv(ws)
    await producer.advance_async()
    assert await recv(ws) == {"type": "new_candle", "data": ["BTC/USDT", "5m", "spot"]}
    assert await recv(ws) == {"type": "new_candle", "data": ["ETH/USDT", "5m", "spot"]}


async def test_whitelist_change_broadcast(producer: DemoProducer, ws: ClientConnection) -> None:
    await request(ws, {"type": "subscribe", "data": ["whitelist", "analyzed_df", "new_candle"]})
    await request(ws, {"type": "whitelist"})
    await recv(ws)
    await producer.set_whitelist_async(["ETH/USDT", "XRP/USDT"])
    assert await recv(ws) == {"type": "whitelist", "data": ["ETH/USDT", "XRP/USDT"]}
    message = await recv(ws)
    assert message["data"]["key"] == ["XRP/USDT", "5m", "spot"]
    assert payload(message)["index"] == [1499]
    assert await recv(ws) == {"type": "new_candle", "data": ["XRP/USDT", "5m", "spot"]}
    # Unchanged (same order): no broadcast. Removed pairs have no data any more.
    await producer.set_whitelist_async(["ETH/USDT", "XRP/USDT"])
    await request(ws, {"type": "analyzed_df", "data": {"limit": 1, "pair": "BTC/USDT"}})
    assert (await recv(ws))["data"]["la"] == "1970-01-01T00:00:00+00:00"
    # The new pair lines up with the others.
    assert (
        producer.frame("XRP/USDT")["date"].iloc[-1] == producer.frame("ETH/USDT")["date"].iloc[-1]
    )


async def test_tick_produces_candles() -> None:
    async with (
        DemoProducer(["BTC/USDT"], candles=100, ws_token=TOKEN, tick=0.05, end=END) as p,
        connect(p.url) as client,
    ):
        await request(client, {"type": "subscribe", "data": ["new_candle"]})
        assert await recv(client) == {"type": "new_candle", "data": ["BTC/USDT", "5m", "spot"]}
        assert await recv(client) == {"type": "new_candle", "data": ["BTC/USDT", "5m", "spot"]}


# --- slow clients


class _BigSource:
    """A minimal FrameSource (the server is meant to serve any)."""

    timeframe = "1m"
    candle_type = "futures"

    def current_whitelist(self) -> list[str]:
        return ["A/B"]

    def analyzed(self, pair: str) -> tuple[pd.DataFrame, datetime] | None:
        return None


class _DropSignal(logging.Handler):
    """Sets an event when the server logs that it disconnects a client."""

    def __init__(self) -> None:
        super().__init__()
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "disconnecting" in record.getMessage():
            self.event.set()


async def test_dead_client_is_dropped_without_blocking_others() -> None:
    server = ProducerServer(_BigSource(), TOKEN, send_timeout=0.2)
    await server.start()
    signal = _DropSignal()
    dropped = signal.event
    server_log = logging.getLogger("producerconsumer.server.websocket")
    server_log.addHandler(signal)
    try:
        url = f"ws://127.0.0.1:{server.port}/api/v1/message/ws?token={TOKEN}"
        # The slow client never reads: its small receive buffer stops the socket.
        async with (
            connect(url, max_queue=1, max_size=None, compression=None) as slow,
            connect(url, max_size=None, compression=None) as fast,
        ):
            for client in (slow, fast):
                await request(client, {"type": "subscribe", "data": ["status"]})
                await request(client, {"type": "whitelist"})
            assert (await recv(fast))["data"] == ["A/B"]
            assert await asyncio.wait_for(slow.recv(), WAIT)  # its subscription is in place
            big = orjson.dumps({"type": "status", "status": "x" * 2_000_000}).decode()
            for _ in range(30):
                server.broadcast("status", big)
            for _ in range(30):
                assert len(await asyncio.wait_for(fast.recv(), WAIT)) == len(big)
            await asyncio.wait_for(dropped.wait(), WAIT)
            # The slow client, reading again, gets what was buffered and then the disconnect.
            received = 0
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(slow.recv(), WAIT)
                    received += 1
            assert received < 30
            assert server.client_count == 1
    finally:
        server_log.removeHandler(signal)
        await server.stop()


# --- lifecycle


async def test_stop_closes_clients_promptly_and_is_idempotent() -> None:
    p = DemoProducer(PAIRS, ws_token=TOKEN, tick=None, end=END)
    await p.start_async()
    async with connect(p.url) as client:
        await request(client, {"type": "whitelist"})
        await recv(client)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await p.stop_async()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(client.recv(), WAIT)
        assert loop.time() - started < 2.0
    await p.stop_async()
    assert p.port is None and not p.running


def test_sync_with_from_plain_thread() -> None:
    result: dict[str, object] = {}

    def run() -> None:
        try:
            with DemoProducer(PAIRS, ws_token=TOKEN, tick=None, end=END) as p:
                config = p.producer_config()
                url = f"ws://{config['host']}:{config['port']}/api/v1/message/ws?token={TOKEN}"
                with sync_connect(url) as client:
                    client.send('{"type":"subscribe","data":["new_candle"]}')
                    client.send('{"type":"whitelist"}')
                    result["whitelist"] = orjson.loads(client.recv(WAIT))
                    p.advance()
                    result["candle"] = orjson.loads(client.recv(WAIT))
                    result["repr"] = repr(p)
            result["stopped"] = p.port is None
            p.stop()  # idempotent
        except BaseException as exc:  # reported by the main thread
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    assert result["whitelist"] == {"type": "whitelist", "data": PAIRS}
    assert result["candle"] == {"type": "new_candle", "data": ["BTC/USDT", "5m", "spot"]}
    assert "clients=1" in str(result["repr"]) and result["stopped"]


async def test_repr_and_config_never_leak_into_repr() -> None:
    token = "do-not-show-me"
    password, secret = "api-pass-not-shown", "jwt-secret-not-shown"
    p = DemoProducer(
        PAIRS, ws_token=token, tick=None, end=END, api_password=password, jwt_secret=secret
    )
    assert token not in repr(p) and "stopped" in repr(p)
    async with p:
        text = repr(p) + repr(p._server) + repr(p._server.rest) + repr(p._credentials)
        for hidden in (token, password, secret):
            assert hidden not in text
        for part in (f"127.0.0.1:{p.port}", "BTC/USDT", "'5m'", "candles=1500", "clients=0"):
            assert part in text
        assert p.producer_config("prod") == {
            "name": "prod",
            "host": "127.0.0.1",
            "port": p.port,
            "secure": False,
            "ws_token": token,
            "api_username": "freqtrader",
            "api_password": password,
        }
        assert p.url == f"ws://127.0.0.1:{p.port}/api/v1/message/ws?token={token}"
        assert token not in repr(p._server)


def test_default_token_is_random() -> None:
    a = DemoProducer(["BTC/USDT"], candles=10, tick=None)
    b = DemoProducer(["BTC/USDT"], candles=10, tick=None)
    assert a._tokens[0] != b._tokens[0] and len(a._tokens[0]) >= 20


# --- market and strategy


def test_determinism_same_seed_same_frames() -> None:
    a = DemoProducer(PAIRS, candles=300, seed=7, tick=None, end=END)
    b = DemoProducer(PAIRS, candles=300, seed=7, tick=None, end=END)
    c = DemoProducer(PAIRS, candles=300, seed=8, tick=None, end=END)
    for pair in PAIRS:
        pd.testing.assert_frame_equal(a.frame(pair), b.frame(pair))
        assert not a.frame(pair)["close"].equals(c.frame(pair)["close"])
    # Started an hour later, then caught up: the same candles for the same dates.
    later = DemoProducer(PAIRS, candles=300, seed=7, tick=None, end=END + timedelta(hours=1))
    a.advance(12)
    cols = ["date", "open", "high", "low", "close", "volume"]
    for pair in PAIRS:
        x = a.frame(pair)[cols].tail(200).reset_index(drop=True)
        y = later.frame(pair)[cols].tail(200).reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y)


@pytest.mark.parametrize("timeframe", ["1m", "5m", "15m", "1h", "4h", "1d", "1w"])
def test_market_candles_are_well_formed(timeframe: str) -> None:
    market = SyntheticMarket(seed=3, timeframe=timeframe)
    for pair in ("BTC/USDT", "ETH/USDT", "PEPE/USDT"):
        df = market.history(pair, 1500, END)
        assert list(df.columns) == ["date", "open", "high", "low", "close", "volume"]
        assert len(df) == 1500
        assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
        assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
        assert (df["open"].iloc[1:].to_numpy() == df["close"].iloc[:-1].to_numpy()).all()
        assert (df["volume"] > 0).all()
        for column in ("open", "high", "low", "close"):
            assert np.allclose(df[column], df[column].round(2), rtol=0, atol=1e-9)
        assert np.allclose(df["volume"], df["volume"].round(5), rtol=0, atol=1e-12)
        step = pd.Timedelta(seconds=timeframe_seconds(timeframe))
        assert (df["date"].diff().iloc[1:] == step).all()
        # The last candle is the last closed one: it ends at or before END, the next does not.
        assert df["date"].iloc[-1] + step <= END < df["date"].iloc[-1] + 2 * step
    if timeframe == "1w":
        assert df["date"].iloc[-1].day_of_week == 0  # weekly candles open on Mondays


def test_price_levels() -> None:
    market = SyntheticMarket(seed=0)
    btc = market.history("BTC/USDT", 1500, END)["close"]
    eth = market.history("ETH/USDT", 1500, END)["close"]
    other = market.history("ADA/USDT", 1500, END)["close"]
    assert 40_000 < btc.median() < 100_000 and 2_000 < eth.median() < 5_500
    assert 2 < other.median() < 800
    assert market.history("ADA/USDT", 5, END).equals(market.history("ADA/USDT", 5, END))


@pytest.mark.parametrize("bad", ["5x", "1M", "", "0m", "m5"])
def test_unsupported_timeframes(bad: str) -> None:
    with pytest.raises(ValueError):
        SyntheticMarket(timeframe=bad)


def test_strategy_frame_and_signals() -> None:
    for hours in range(0, 24 * 30, 24 * 5):
        end = END + timedelta(hours=hours)
        for pair in PAIRS:
            df = analyze(SyntheticMarket(0, "5m").history(pair, 1500, end))
            assert list(df.columns) == list(ANALYZED_COLUMNS)
            assert df["enter_long"].isin([1.0]).sum() > 0, (pair, end)
            assert df["exit_long"].isin([1.0]).sum() > 0, (pair, end)
            assert df["enter_long"].dtype == "float64" and df["exit_long"].dtype == "float64"
            assert set(df["enter_long"].dropna()) == {1.0}
            assert (df["enter_tag"] == "").all() and (df["exit_tag"] == "").all()
    assert df["rsi"].isna().sum() == 14 and df["tema"].isna().sum() == 24
    assert df["bb_middleband"].notna().all() and df["bb_lowerband"].isna().sum() == 1


def test_strategy_thresholds_are_parameters() -> None:
    ohlcv = SyntheticMarket(0, "5m").history("BTC/USDT", 1500, END)
    default = analyze(ohlcv)
    loose = analyze(ohlcv, buy_rsi=45, sell_rsi=55)
    assert loose["enter_long"].sum() != default["enter_long"].sum()
    assert ohlcv.columns.tolist() == ["date", "open", "high", "low", "close", "volume"]
