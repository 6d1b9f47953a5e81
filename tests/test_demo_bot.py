"""DemoBot: the demo producer's simulated dry-run bot on its own signals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from producerconsumer.demo.bot import PLOT_CONFIG, DemoBot
from producerconsumer.demo.market import SyntheticMarket
from producerconsumer.demo.strategy import ANALYZED_COLUMNS, ProducerStrategy
from producerconsumer.trades import ProducerTrades, rest_trades_frame
from producerconsumer.wire import rpc
from producerconsumer.wire.rpc import encode_rpc_message, parse_rpc_text

PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT", "ADA/USDT", "SOL/USDT"]
FEE = 0.001


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    market, strategy = SyntheticMarket(0, "5m"), ProducerStrategy()
    return {pair: strategy.analyze(market.history(pair, 1500)) for pair in PAIRS}


def candle(frame: pd.DataFrame, date: Any) -> pd.Series:
    rows = frame[frame["date"] == pd.Timestamp(date)]
    assert len(rows) == 1, date
    return rows.iloc[0]


def fills(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == kind]


def test_same_frames_same_messages(frames: dict[str, pd.DataFrame]) -> None:
    first, second = DemoBot().run(frames), DemoBot().run(frames)
    assert first == second and len(fills(first, "exit_fill")) > 10


def test_feeding_candle_by_candle_equals_one_pass(frames: dict[str, pd.DataFrame]) -> None:
    whole = DemoBot().run(frames)
    bot = DemoBot()
    fed = bot.run({pair: frame.iloc[:1300] for pair, frame in frames.items()})
    for end in range(1301, 1501):
        fed += bot.run({pair: frame.iloc[:end] for pair, frame in frames.items()})
    # Frames re-sent with old candles: only the new ones count.
    fed += bot.run(frames)
    assert fed == whole


def test_entries_fill_at_the_next_candles_open(frames: dict[str, pd.DataFrame]) -> None:
    messages = DemoBot().run(frames)
    entries = fills(messages, "entry_fill")
    assert entries
    for message in entries:
        frame = frames[message["pair"]]
        this = candle(frame, message["open_date"])
        before = candle(frame, message["open_date"] - timedelta(minutes=5))
        assert before["enter_long"] == 1
        assert message["open_rate"] == this["open"]
        assert message["amount"] * message["open_rate"] == message["stake_amount"] <= 100.0
    placed = fills(messages, "entry")
    assert [m["trade_id"] for m in placed] == [m["trade_id"] for m in entries]
    assert all(m["stake_amount"] == 100.0 for m in placed)


def test_max_open_trades(frames: dict[str, pd.DataFrame]) -> None:
    bot = DemoBot(max_open_trades=1, minimal_roi={"0": 0.5})
    open_now = 0
    for message in bot.run(frames):
        open_now += {"entry_fill": 1, "exit_fill": -1}.get(message["type"], 0)
        assert open_now <= 1
    assert DemoBot(max_open_trades=0).run(frames) == []


def test_stoploss_and_roi_exits(frames: dict[str, pd.DataFrame]) -> None:
    bot = DemoBot(stoploss=-0.05, minimal_roi={"0": 0.03, "120": 0.015, "360": 0.005})
    exits = fills(bot.run(frames), "exit_fill")
    reasons = {m["exit_reason"] for m in exits}
    assert reasons == {"roi", "stop_loss"}
    for message in exits:
        this = candle(frames[message["pair"]], message["close_date"])
        rate, opened = message["close_rate"], message["open_rate"]
        if message["exit_reason"] == "stop_loss":
            assert this["low"] <= opened * 0.95 and rate <= opened * 0.95
            assert message["gain"] == "loss"
        else:
            minutes = (message["close_date"] - message["open_date"]) / timedelta(minutes=1)
            roi = 0.03 if minutes < 120 else 0.015 if minutes < 360 else 0.005
            assert this["high"] >= rate and message["profit_ratio"] >= round(roi, 8) - 1e-8


def test_exit_signal_exits_at_the_next_open(frames: dict[str, pd.DataFrame]) -> None:
    exits = fills(DemoBot(minimal_roi={"0": 10.0}, stoploss=-0.99).run(frames), "exit_fill")
    assert exits and {m["exit_reason"] for m in exits} == {"exit_signal"}
    for message in exits:
        frame = frames[message["pair"]]
        before = candle(frame, message["close_date"] - timedelta(minutes=5))
        assert before["exit_long"] == 1
        assert message["close_rate"] == candle(frame, message["close_date"])["open"]


def test_profit_is_freqtrades_formula(frames: dict[str, pd.DataFrame]) -> None:
    for message in fills(DemoBot().run(frames), "exit_fill"):
        amount, opened, closed = message["amount"], message["open_rate"], message["close_rate"]
        open_value = amount * opened * (1 + FEE)
        profit = amount * closed * (1 - FEE) - open_value
        assert message["profit_amount"] == pytest.approx(profit, abs=1e-8)
        assert message["cumulative_profit"] == message["profit_amount"]
        assert message["final_profit_ratio"] == pytest.approx(profit / open_value, abs=1e-8)
        assert message["is_final_exit"] and message["current_rate"] is None


def test_messages_parse_and_trades_agree_with_rest(frames: dict[str, pd.DataFrame]) -> None:
    bot = DemoBot(max_open_trades=4, minimal_roi={"0": 0.05}, stoploss=-0.2)
    texts = [encode_rpc_message(m) for m in bot.startup_messages() + bot.run(frames)]
    parsed = [parse_rpc_text(t) for t in texts]
    assert not any(isinstance(p, rpc.RawRpcMessage) for p in parsed)
    trades = ProducerTrades()
    trades.extend(parsed)
    frame = trades.frame()
    assert frame["is_open"].any() and (~frame["is_open"]).any()
    closed = rest_trades_frame(bot.trades_json())
    pd.testing.assert_frame_equal(frame[~frame["is_open"]], closed, check_exact=True)
    status = rest_trades_frame(bot.status_json())
    pd.testing.assert_frame_equal(frame[frame["is_open"]], status, check_exact=True)


def test_trades_json_pages(frames: dict[str, pd.DataFrame]) -> None:
    bot = DemoBot()
    bot.run(frames)
    body = bot.trades_json(limit=5, offset=2)
    assert body["trades_count"] == 5 and body["offset"] == 2
    assert body["total_trades"] == len(bot.trades_json()["trades"])
    assert [t["trade_id"] for t in body["trades"]] == [3, 4, 5, 6, 7]


def test_plot_config_names_analyzed_columns_and_is_a_copy() -> None:
    config = DemoBot().plot_config()
    assert config == PLOT_CONFIG
    names = set(config["main_plot"]) | {c for sub in config["subplots"].values() for c in sub}
    fills_to = {v["fill_to"] for v in config["main_plot"].values() if "fill_to" in v}
    assert names | fills_to <= set(ANALYZED_COLUMNS)
    config["main_plot"]["tema"]["color"] = "black"
    assert PLOT_CONFIG["main_plot"]["tema"]["color"] == "orange"


@pytest.mark.parametrize(
    "kwargs",
    [{"stake_amount": 0}, {"max_open_trades": -1}, {"stoploss": 0.1}, {"stoploss": -1}],
)
def test_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="stake_amount must be"):
        DemoBot(**kwargs)
