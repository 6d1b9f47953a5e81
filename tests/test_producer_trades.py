"""The producer bot's trades on the consumer: topics, typed messages, events, producer_trades,
snapshots and recordings (issue 12, consumer side).

The producer here is a scripted websocket server on loopback that sends the messages DemoBot
makes (Freqtrade's shapes) after the consumer's initial requests."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import orjson
import pandas as pd
import pytest
from scripted import ScriptedProducer

import producerconsumer as pc
from producerconsumer.connection import ProducerConnection
from producerconsumer.demo.bot import DemoBot
from producerconsumer.demo.market import SyntheticMarket
from producerconsumer.demo.strategy import ProducerStrategy
from producerconsumer.replay import read_recording
from producerconsumer.snapshot import load_snapshot
from producerconsumer.store import FrameStore
from producerconsumer.trades import TRADE_COLUMNS, rest_trades_frame
from producerconsumer.wire import messages as wire
from producerconsumer.wire import rpc

PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
TOPICS = ["entry", "entry_fill", "exit", "exit_fill", "entry_cancel", "exit_cancel"]
FUTURE = '{"type":"future_thing","x":1}'


@pytest.fixture(scope="module")
def bot_run() -> tuple[dict[str, pd.DataFrame], DemoBot, list[str]]:
    market, strategy = SyntheticMarket(0, "5m"), ProducerStrategy()
    frames = {pair: strategy.analyze(market.history(pair, 800)) for pair in PAIRS}
    bot = DemoBot()
    texts = [rpc.encode_rpc_message(m) for m in bot.startup_messages() + bot.run(frames)]
    return frames, bot, texts


def expected_trades(bot: DemoBot) -> pd.DataFrame:
    closed = rest_trades_frame(bot.trades_json())
    opened = rest_trades_frame(bot.status_json())
    return pd.concat([closed, opened]).sort_index()


def bot_handler(frames: dict[str, pd.DataFrame], texts: list[str]) -> Any:
    """A producer that answers the initial requests with the last candles, then sends every
    bot message (and one of a type nobody knows) to a client that subscribed to them."""

    async def handler(producer: ScriptedProducer, ws: Any, request: dict[str, Any]) -> None:
        if request["type"] == "subscribe":
            producer.topics = request["data"]  # type: ignore[attr-defined]
        elif request["type"] == "whitelist":
            await ws.send(wire.whitelist_message(PAIRS))
        elif request["type"] == "analyzed_df":
            for pair, frame in frames.items():
                key = wire.FrameKey(pair, "5m", "spot")
                await ws.send(
                    wire.analyzed_df_message(key, frame, frame["date"].max().to_pydatetime())
                )
            if "entry_fill" in producer.topics:  # type: ignore[attr-defined]
                for text in [*texts, FUTURE]:
                    await ws.send(text)

    return handler


def producer_config(producer: ScriptedProducer, topics: Any = None) -> dict[str, Any]:
    config = producer.config()
    if topics is not None:
        config["producers"][0]["topics"] = topics
    return config


# --- configuration


def test_topics_default_to_freqtrades_two_and_are_validated() -> None:
    base = {"name": "default", "host": "127.0.0.1", "ws_token": "secret-xyz"}
    config = pc.load_config({"producers": [base]})
    assert config.producers[0].topics == ("whitelist", "analyzed_df")
    assert "topics" not in repr(config.producers[0])
    config = pc.load_config({"producers": [base | {"topics": ["exit_fill", "entry_fill"]}]})
    assert config.producers[0].topics == ("whitelist", "analyzed_df", "exit_fill", "entry_fill")
    assert "topics=" in repr(config.producers[0]) and "secret-xyz" not in repr(config)
    # A comma-separated string, as on the command line.
    config = pc.load_config({"producers": [base | {"topics": "entry_fill, exit_fill"}]})
    assert config.producers[0].topics[2:] == ("entry_fill", "exit_fill")
    with pytest.raises(pc.ConfigError, match=r"producers\[0\]\.topics.*entry_fil"):
        pc.load_config({"producers": [base | {"topics": ["entry_fil"]}]})
    with pytest.raises(pc.ConfigError, match=r"producers\[0\]\.topics: must be a list"):
        pc.load_config({"producers": [base | {"topics": 3}]})


async def test_default_subscription_is_freqtrades_byte_for_byte(bot_run) -> None:
    frames, _bot, texts = bot_run
    async with ScriptedProducer(bot_handler(frames, texts)) as producer:
        async with pc.AsyncConsumer(producer_config(producer)) as consumer:
            await consumer.wait_ready(timeout=10)
            requests = await producer.wait_requests(3)
            trades = consumer.producer_trades()
    assert requests[0] == '{"type":"subscribe","data":["whitelist","analyzed_df"]}'
    assert trades.empty and list(trades.columns) == list(TRADE_COLUMNS)


# --- live


async def test_trade_messages_become_producer_trades_and_events(bot_run) -> None:
    frames, bot, texts = bot_run
    trade_events: list[rpc.TradeMessage] = []
    messages: list[rpc.RpcMessage] = []
    async with ScriptedProducer(bot_handler(frames, texts)) as producer:
        async with pc.AsyncConsumer(producer_config(producer, TOPICS)) as consumer:
            consumer.trade_event += lambda name, event: trade_events.append(event)
            consumer.producer_message += lambda name, message: messages.append(message)
            await consumer.wait_ready(timeout=10)
            await consumer.wait_until(
                lambda: any(isinstance(m, rpc.RawRpcMessage) for m in messages), 10
            )
            trades = consumer.producer_trades()
            status = consumer.status()["default"]
            requests = await producer.wait_requests(3)
    assert (
        requests[0]
        == orjson.dumps(
            {"type": "subscribe", "data": ["whitelist", "analyzed_df", *TOPICS]}
        ).decode()
    )
    sent_trades = [t for t in texts if orjson.loads(t)["type"] in TOPICS]
    assert len(trade_events) == len(sent_trades) > 10
    assert all(isinstance(e, rpc.EntryMessage | rpc.ExitMessage) for e in trade_events)
    # Every message is typed; the one nobody knows is kept raw, not counted bad.
    assert status.bad_messages == 0
    assert messages[-1] == rpc.RawRpcMessage("future_thing", {"x": 1})
    assert any(isinstance(m, rpc.StatusMessage) and m.type == "startup" for m in messages)
    pd.testing.assert_frame_equal(trades, expected_trades(bot), check_exact=True)
    assert trades["is_open"].any() and (~trades["is_open"]).any()


def test_blocking_consumer_and_snapshot_keep_the_trades(bot_run, tmp_path) -> None:
    frames, bot, texts = bot_run
    producer = ScriptedProducer(bot_handler(frames, texts))
    pc._loop.run_sync(producer.__aenter__(), 10)
    try:
        with pc.Consumer(producer_config(producer, "entry_fill,exit_fill,exit")) as consumer:
            consumer.wait_ready(timeout=10)
            want = expected_trades(bot)

            def complete() -> bool:
                trades = consumer.producer_trades()
                return len(trades) == len(want) and trades["is_open"].sum() == want["is_open"].sum()

            consumer.wait_until(complete, 10)
            live = consumer.producer_trades()
            snap = consumer.snapshot()
    finally:
        pc._loop.run_sync(producer.__aexit__(None, None, None), 10)
    # Without "entry" messages the rows are made from the fills: the same table.
    pd.testing.assert_frame_equal(live, want, check_exact=True)
    pd.testing.assert_frame_equal(snap.producer_trades(), want, check_exact=True)
    assert "trades" in repr(snap)
    loaded = load_snapshot(snap.to_parquet(tmp_path / "snap"))
    pd.testing.assert_frame_equal(loaded.producer_trades(), want, check_exact=True)
    assert loaded.get_producer_pairs() == PAIRS


async def test_a_recording_keeps_the_trade_messages_and_replays_into_the_trades(
    bot_run, tmp_path
) -> None:
    frames, bot, texts = bot_run
    path = tmp_path / "session.pcrec"
    async with ScriptedProducer(bot_handler(frames, texts)) as producer:
        config = pc.load_config(producer_config(producer, TOPICS))
        async with pc.AsyncConsumer(config) as consumer:
            recorder = consumer.record(path)
            seen: list[rpc.RpcMessage] = []
            consumer.producer_message += lambda name, message: seen.append(message)
            await consumer.wait_ready(timeout=10)
            await consumer.wait_until(
                lambda: any(isinstance(m, rpc.RawRpcMessage) for m in seen), 10
            )
            live = consumer.producer_trades()
            recorder.close()
    _header, records = read_recording(path)
    recorded = [r.text for r in records]
    assert FUTURE in recorded and all(t in recorded for t in texts)
    # Replayed through a consumer's message handler: the same trades.
    connection = ProducerConnection(config.producers[0], config, FrameStore())
    for text in recorded:
        connection.handle(text)
    assert connection.bad_messages == 0
    pd.testing.assert_frame_equal(connection.store.trades("default"), live, check_exact=True)
    pd.testing.assert_frame_equal(live, expected_trades(bot), check_exact=True)


@pytest.mark.slow  # three command line processes: about 4 s
def test_cli_inspect_prints_trade_events_as_they_come(bot_run, tmp_path) -> None:
    frames, _bot, texts = bot_run
    fills = [t for t in texts if orjson.loads(t)["type"] in ("entry_fill", "exit_fill")][:4]
    others = [t for t in texts if orjson.loads(t)["type"] == "entry"][:2]
    producer = ScriptedProducer(bot_handler(frames, [*others, *fills]))
    pc._loop.run_sync(producer.__aenter__(), 10)
    try:
        config = tmp_path / "config.json"
        config.write_text(json.dumps(producer_config(producer)))
        command = [sys.executable, "-m", "producerconsumer", "inspect", "--config", str(config)]
        result = subprocess.run(
            [*command, "--topics", "entry_fill,exit_fill", "--updates", "4"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        bad = subprocess.run(
            [*command, "--topics", "entry_fil"], capture_output=True, text=True, timeout=60
        )
        out = tmp_path / "s.pcrec"
        record = [sys.executable, "-m", "producerconsumer", "record", "--config", str(config)]
        recorded = subprocess.run(
            [*record, "--out", str(out), "--seconds", "1.5", "--topics", "entry_fill,exit_fill"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        pc._loop.run_sync(producer.__aexit__(None, None, None), 10)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("  default: ")]
    kinds = [orjson.loads(t)["type"] for t in fills]
    assert [line.split()[1] for line in lines] == kinds  # in order; not the "entry" messages
    first = orjson.loads(fills[0])
    assert f"trade {first['trade_id']} {first['pair']} long open_rate=" in lines[0]
    assert "exit_reason=" in lines[kinds.index("exit_fill")]
    assert "live updates and entry_fill, exit_fill messages:" in result.stdout
    assert bad.returncode == 2 and "unknown message type(s) in topics" in bad.stderr
    assert recorded.returncode == 0, recorded.stderr
    _header, records = read_recording(out)
    assert [r.text for r in records if r.text in fills] == fills


def test_dashboard_draws_the_fills_backtest_and_plot_config_and_follows_trades(
    bot_run,
) -> None:
    pytest.importorskip("ipywidgets")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from producerconsumer.demo.bot import PLOT_CONFIG
    from producerconsumer.widgets import Dashboard

    frames, bot, texts = bot_run
    want = expected_trades(bot)
    backtest = want[~want["is_open"]].reset_index()
    producer = ScriptedProducer(bot_handler(frames, texts))
    pc._loop.run_sync(producer.__aenter__(), 10)
    try:
        with pc.Consumer(producer_config(producer, TOPICS)) as consumer:
            consumer.wait_ready(timeout=10)
            consumer.wait_until(lambda: len(consumer.producer_trades()) == len(want), 10)
            dashboard = Dashboard(
                consumer, window=800, plot_config=PLOT_CONFIG, backtest=backtest, backend="image"
            )
            try:
                fig = dashboard._figure
                assert fig is not None and dashboard.renders == 1
                price = fig.axes[0]
                gids = {c.get_gid() for c in price.collections}
                assert {"producer-entry-fills", "backtest-entries"} <= gids
                assert [ax.get_ylabel() for ax in fig.axes[1:]] == ["RSI"]
                # A new trade of the shown pair redraws, with it in the table, into the same
                # panels (the redraw reuses them).
                panels = list(fig.axes)
                renders = dashboard.renders
                last = frames["BTC/USDT"]["date"].iloc[-1].to_pydatetime()
                message = {
                    **orjson.loads(next(t for t in texts if '"entry_fill"' in t)),
                    "trade_id": 999,
                    "pair": "BTC/USDT",
                    "open_date": last,
                }
                pc._loop.run_sync(
                    producer.connections[-1].send(rpc.encode_rpc_message(message)), 10
                )
                dashboard.wait_until(lambda: dashboard.renders > renders, timeout=15)
                assert 999 in consumer.producer_trades().index
                assert all(a is b for a, b in zip(fig.axes, panels, strict=True))
                assert [ax.get_ylabel() for ax in fig.axes[1:]] == ["RSI"]
            finally:
                dashboard.close()
    finally:
        pc._loop.run_sync(producer.__aexit__(None, None, None), 10)


async def test_the_replay_producer_sends_the_trade_messages_again(bot_run, tmp_path) -> None:
    from producerconsumer.replay import Recorder

    frames, bot, texts = bot_run
    path = tmp_path / "bot.pcrec"
    with Recorder(path, [pc.ProducerConfig("default", "127.0.0.1", "t")]) as recorder:
        recorder.write("default", wire.whitelist_message(PAIRS), 1000.0)
        for pair, frame in frames.items():
            key = wire.FrameKey(pair, "5m", "spot")
            last = frame["date"].max().to_pydatetime()
            recorder.write("default", wire.analyzed_df_message(key, frame, last), 1000.0)
        # Two seconds later (replayed at the recorded pace: the consumer is connected by then;
        # and it loops), the bot's messages.
        for i, text in enumerate([*texts, FUTURE]):
            recorder.write("default", text, 1002.0 + i / 1000)
    want = expected_trades(bot)
    async with pc.ReplayProducer(path, speed=1.0, loop=True) as replay:
        entry = replay.producer_config() | {"topics": TOPICS}
        async with pc.AsyncConsumer({"producers": [entry]}) as consumer:
            await consumer.wait_ready(timeout=10)
            await consumer.wait_until(lambda: consumer.producer_trades().equals(want), timeout=20)
            trades = consumer.producer_trades()
    pd.testing.assert_frame_equal(trades, want, check_exact=True)
