"""``pc.backtest``: hand-written cases for each of Freqtrade's backtesting rules (fast, no
oracle). The generated differential test against Freqtrade itself is
``tests/interop/test_oracle_backtest.py``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import producerconsumer as pc
from producerconsumer.backtest import BacktestConfigError, parse_timerange
from producerconsumer.backtest.engine import round_price, tick_sizes
from producerconsumer.strategy import IStrategy

START = pd.Timestamp("2026-11-02 00:00", tz="UTC")


def candles(rows: list[tuple[float, float, float, float]], enter=(), exit=(), tags=None):
    """OHLC rows (5m from START) with ``sig_enter`` / ``sig_exit`` set on the given rows."""
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"])
    frame.insert(0, "date", START + pd.to_timedelta(np.arange(len(rows)) * 5, unit="m"))
    frame["volume"] = 1.0
    frame["sig_enter"] = [1 if i in enter else 0 for i in range(len(rows))]
    frame["sig_exit"] = [1 if i in exit else 0 for i in range(len(rows))]
    frame["sig_tag"] = [None] * len(rows) if tags is None else tags
    return frame


class Signals(IStrategy):
    """Signals from the candles' sig_* columns."""

    timeframe = "5m"
    stoploss = -0.5
    minimal_roi = {"0": 10.0}  # noqa: RUF012

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["enter_long"] = dataframe["sig_enter"]
        has = dataframe["sig_tag"].notna()
        dataframe.loc[has, "enter_tag"] = dataframe.loc[has, "sig_tag"]
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["exit_long"] = dataframe["sig_exit"]
        return dataframe


def run(frames: dict[str, pd.DataFrame], strategy: Any = Signals, **settings: Any):
    defaults: dict[str, Any] = {
        "stake_amount": 100.0,
        "dry_run_wallet": 1000.0,
        "fee": 0.0,
        "stake_currency": "USDT",
    }
    defaults.update(settings)
    return pc.backtest(strategy, frames, candles=frames, **defaults)


FLAT = (100.0, 101.0, 99.0, 100.0)


def test_entry_is_at_the_next_candles_open_and_open_trades_force_exit_at_the_last_open() -> None:
    frame = candles([FLAT, FLAT, (100.5, 101, 99, 100), FLAT, (100.2, 101, 99, 100)], enter={1})
    result = run({"A/USDT": frame})
    trades = result.trades
    assert len(trades) == 1
    trade = trades.iloc[0]
    assert trade["open_date"] == START + pd.Timedelta(minutes=10)
    assert trade["open_rate"] == 100.5
    assert trade["amount"] == pytest.approx(100 / 100.5)
    # still open at the end: closed at the open of the last candle, as Freqtrade does
    assert trade["exit_reason"] == "force_exit"
    assert trade["close_rate"] == 100.2
    assert trade["close_date"] == START + pd.Timedelta(minutes=20)
    assert not trade["is_open"]


def test_no_entry_on_the_last_candle_nor_when_exit_signal_on_the_same_candle() -> None:
    frame = candles([FLAT] * 4, enter={0, 3}, exit={0})
    assert run({"A/USDT": frame}).trades.empty


def test_roi_exits_at_the_roi_price_on_the_price_tick() -> None:
    # one decimal in the candles: tick 0.1; ROI 2% of 100 = 102 -> within the 103 high
    frame = candles([FLAT, FLAT, (100.0, 103.0, 99.5, 101.0), FLAT], enter={0})
    trade = run({"A/USDT": frame}, minimal_roi={"0": 0.02}).trades.iloc[0]
    assert trade["exit_reason"] == "roi"
    assert trade["close_rate"] == 102.0
    assert trade["close_date"] == START + pd.Timedelta(minutes=10)


def test_a_new_roi_step_above_the_open_exits_at_the_open() -> None:
    # ROI 0 after 10 minutes: at that candle the open (104) is above the ROI price (100)
    rows = [FLAT, FLAT, (100.0, 100.5, 99.5, 100.0), (104.0, 105.0, 103.0, 104.0), FLAT]
    trade = run({"A/USDT": candles(rows, enter={0})}, minimal_roi={"0": 0.5, "10": 0.0}).trades
    assert trade.iloc[0]["exit_reason"] == "roi"
    assert trade.iloc[0]["close_rate"] == 104.0
    assert trade.iloc[0]["trade_duration"] == 10


def test_stoploss_exits_at_the_stop_price_or_the_open_below_it() -> None:
    rows = [FLAT, FLAT, (100.0, 100.5, 94.0, 95.0), FLAT]
    trade = run({"A/USDT": candles(rows, enter={0})}, stoploss=-0.05).trades.iloc[0]
    assert trade["exit_reason"] == "stop_loss"
    assert trade["close_rate"] == 95.0  # 100 * 0.95
    gap = [FLAT, FLAT, (100.0, 100.5, 99.5, 100.0), (90.0, 91.0, 89.0, 90.0), FLAT]
    trade = run({"A/USDT": candles(gap, enter={0})}, stoploss=-0.05).trades.iloc[0]
    assert trade["close_rate"] == 90.0  # the candle opened below the stop: filled at the open


def test_stoploss_rounds_up_to_the_tick() -> None:
    rows = [(10.01, 10.02, 10.0, 10.01), FLAT, (100.03, 100.5, 90.0, 95.0), FLAT]
    trade = run({"A/USDT": candles(rows, enter={1})}, stoploss=-0.033).trades.iloc[0]
    # 100.03 * 0.967 = 96.72901 -> up to the 0.01 tick
    assert trade["initial_stop_loss_abs"] == 96.73
    assert trade["close_rate"] == 96.73


def test_trailing_stop_on_the_opening_candle_assumes_the_worst_case() -> None:
    rows = [FLAT, (100.0, 110.0, 95.0, 96.0), FLAT]
    result = run(
        {"A/USDT": candles(rows, enter={0})},
        stoploss=-0.1,
        trailing_stop=True,
        trailing_stop_positive=0.02,
        trailing_stop_positive_offset=0.05,
        trailing_only_offset_is_reached=True,
    )
    trade = result.trades.iloc[0]
    assert trade["exit_reason"] == "trailing_stop_loss"
    # open * (1 + offset - positive) = 100 * 1.03
    assert trade["close_rate"] == pytest.approx(103.0)


def test_trailing_stop_follows_the_high() -> None:
    rows = [
        FLAT,
        FLAT,
        (100.0, 100.5, 99.5, 100.0),
        (100.0, 120.0, 100.0, 119.0),
        (118, 118.5, 100, 101),
    ]
    result = run({"A/USDT": candles(rows, enter={0})}, stoploss=-0.1, trailing_stop=True)
    trade = result.trades.iloc[0]
    assert trade["exit_reason"] == "trailing_stop_loss"
    assert trade["close_rate"] == 108.0  # 120 * 0.9
    assert trade["max_rate"] == 120.0


def test_exit_signal_and_exit_profit_only() -> None:
    rows = [FLAT, FLAT, (99.0, 99.5, 98.0, 99.0), (101.0, 102.0, 100.0, 101.0), FLAT]
    frame = candles(rows, enter={0}, exit={1, 2})
    trade = run({"A/USDT": frame}).trades.iloc[0]
    assert (trade["exit_reason"], trade["close_rate"]) == ("exit_signal", 99.0)
    trade = run({"A/USDT": frame}, exit_profit_only=True).trades.iloc[0]
    assert (trade["exit_reason"], trade["close_rate"]) == ("exit_signal", 101.0)
    trade = run({"A/USDT": frame}, use_exit_signal=False).trades.iloc[0]
    assert trade["exit_reason"] == "force_exit"


def test_ignore_roi_if_entry_signal() -> None:
    rows = [FLAT, FLAT, (100.0, 105.0, 99.0, 100.0), (100.0, 102.0, 99.0, 100.0), FLAT]
    frame = candles(rows, enter={0, 1})
    assert run({"A/USDT": frame}, minimal_roi={"0": 0.01}).trades.iloc[0]["exit_reason"] == "roi"
    trade = run({"A/USDT": frame}, minimal_roi={"0": 0.01}, ignore_roi_if_entry_signal=True)
    assert trade.trades.iloc[0]["close_date"] == START + pd.Timedelta(minutes=15)


def test_fees_on_both_sides() -> None:
    frame = candles([FLAT, FLAT, FLAT, (110.0, 111, 109, 110)], enter={0})
    trade = run({"A/USDT": frame}, fee=0.01).trades.iloc[0]
    amount = 1.0
    expected = amount * 110 * 0.99 - amount * 100 * 1.01
    assert trade["profit_abs"] == pytest.approx(expected, rel=1e-12)
    assert trade["profit_ratio"] == pytest.approx(expected / 101.0, rel=1e-12)


def test_max_open_trades_across_pairs_in_pair_order() -> None:
    rows = [FLAT] * 6
    frames = {
        "A/USDT": candles(rows, enter={0}),
        "B/USDT": candles(rows, enter={0, 2}),
    }
    result = run(frames, max_open_trades=1)
    assert list(result.trades["pair"]) == ["A/USDT"]
    assert result.rejected_signals == 2
    result = run(frames, max_open_trades=2)
    assert sorted(result.trades["pair"]) == ["A/USDT", "B/USDT"]


def test_unlimited_stake_shares_the_wallet() -> None:
    frames = {"A/USDT": candles([FLAT] * 4, enter={0}), "B/USDT": candles([FLAT] * 4, enter={0})}
    result = run(frames, stake_amount="unlimited", max_open_trades=2, tradable_balance_ratio=1.0)
    assert list(result.trades["stake_amount"]) == [500.0, 500.0]
    result = run(frames, stake_amount="unlimited", max_open_trades=4)
    assert list(result.trades["stake_amount"]) == [247.5, 247.5]  # 1000 * 0.99 / 4


def test_not_enough_balance_means_no_trade() -> None:
    frames = {p: candles([FLAT] * 4, enter={0}) for p in ("A/USDT", "B/USDT", "C/USDT")}
    result = run(frames, stake_amount=400.0, max_open_trades=3)
    assert list(result.trades["pair"]) == ["A/USDT", "B/USDT"]  # 990 tradable


class Callbacks(Signals):
    def confirm_trade_entry(
        self, pair, order_type, amount, rate, time_in_force, current_time, entry_tag, side, **kwargs
    ):
        return pair != "B/USDT"

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        return "took_profit" if current_profit > 0.05 else None

    def custom_stake_amount(
        self,
        pair,
        current_time,
        current_rate,
        proposed_stake,
        min_stake,
        max_stake,
        leverage,
        entry_tag,
        side,
        **kwargs,
    ):
        return 50.0


def test_callbacks() -> None:
    rows = [FLAT, FLAT, FLAT, (106.0, 107.0, 105.0, 106.0), FLAT]
    frames = {"A/USDT": candles(rows, enter={0}), "B/USDT": candles(rows, enter={0})}
    result = run(frames, strategy=Callbacks)
    assert list(result.trades["pair"]) == ["A/USDT"]
    trade = result.trades.iloc[0]
    assert trade["stake_amount"] == 50.0
    assert (trade["exit_reason"], trade["close_rate"]) == ("took_profit", 106.0)


def test_config_key_beats_strategy_attribute_beats_default() -> None:
    frame = {"A/USDT": candles([FLAT] * 3, enter={0})}
    result = run(frame, config={"stoploss": -0.2})
    assert result.settings["stoploss"] == -0.2
    assert run(frame).settings["stoploss"] == -0.5  # the strategy's
    assert run(frame).settings["trailing_stop"] is False  # Freqtrade's default
    assert run(frame, config={"stoploss": -0.2}, stoploss=-0.3).settings["stoploss"] == -0.3


class Unsupported(Signals):
    def custom_entry_price(
        self, pair, trade, current_time, proposed_rate, entry_tag, side, **kwargs
    ):
        return proposed_rate


def test_unsupported_callbacks_and_options_are_errors() -> None:
    frame = {"A/USDT": candles([FLAT] * 3, enter={0})}
    with pytest.raises(BacktestConfigError, match="custom_entry_price"):
        run(frame, strategy=Unsupported)
    with pytest.raises(BacktestConfigError, match="timeframe_detail"):
        run(frame, timeframe_detail="1m")
    with pytest.raises(BacktestConfigError, match="no_such_option"):
        run(frame, no_such_option=1)
    with pytest.raises(BacktestConfigError, match="trading_mode"):
        run(frame, trading_mode="futures")


def test_a_bad_pair_is_reported_and_the_others_still_run() -> None:
    good = candles([FLAT] * 4, enter={0})
    bad = candles([FLAT] * 4, enter={0})
    bad.loc[2, "low"] = np.nan
    unsorted = candles([FLAT] * 4, enter={0}).iloc[[0, 2, 1, 3]]
    result = run({"A/USDT": good, "B/USDT": bad, "C/USDT": unsorted})
    assert list(result.trades["pair"]) == ["A/USDT"]
    assert "NaN low" in result.errors["B/USDT"] and "2026-11-02 00:10" in result.errors["B/USDT"]
    assert "not sorted" in result.errors["C/USDT"]
    assert "B/USDT" in repr(result) or "failed" in repr(result)


class Raises(Signals):
    def populate_indicators(self, dataframe, metadata):
        if metadata["pair"] == "B/USDT":
            raise ZeroDivisionError("boom")
        return dataframe


def test_a_strategy_raising_on_one_pair() -> None:
    frames = {"A/USDT": candles([FLAT] * 4, enter={0}), "B/USDT": candles([FLAT] * 4, enter={0})}
    result = run(frames, strategy=Raises)
    assert list(result.trades["pair"]) == ["A/USDT"]
    assert "ZeroDivisionError: boom" in result.errors["B/USDT"]


def test_result_attributes_and_resimulate() -> None:
    rows = [FLAT, FLAT, (100.0, 103.0, 99.5, 101.0), FLAT]
    result = run({"A/USDT": candles(rows, enter={0})}, minimal_roi={"0": 0.02})
    assert set(result.timings) == {"signals", "simulation"}
    assert result.start == START.to_pydatetime() and result.end == (
        START + pd.Timedelta(minutes=15)
    )
    assert result.settings["starting_balance"] == pytest.approx(990.0)
    assert "A/USDT" in result.frames and "enter_long" in result.frames["A/USDT"]
    assert list(result.trades.columns)[:4] == ["pair", "stake_amount", "max_stake_amount", "amount"]
    other = result.resimulate(minimal_roi={"0": 10.0})
    assert other.trades.iloc[0]["exit_reason"] == "force_exit"
    assert result.trades.iloc[0]["exit_reason"] == "roi"
    assert "Signals" in repr(result) and "1 trades" in repr(result)


def test_timerange_trims_the_candles() -> None:
    frame = candles([FLAT] * 10, enter={1, 6})
    result = run({"A/USDT": frame}, timerange="20261102-")
    assert len(result.trades) == 1  # force-exited trade of the first signal holds the pair
    start, stop = parse_timerange("20261101-20261120")
    assert start == pd.Timestamp("2026-11-01", tz="UTC")
    assert stop == pd.Timestamp("2026-11-20", tz="UTC")


def test_price_ticks_and_rounding() -> None:
    frame = candles([(1.25, 1.3, 1.2, 1.25), (1.5, 1.6, 1.4, 1.5)])
    ticks = tick_sizes(frame)
    assert ticks.iloc[0] == pytest.approx(0.01)
    assert round_price(96.72901, 0.01, "up") == 96.73
    assert round_price(96.725, 0.01) == 96.73  # half up
    assert round_price(96.7249, 0.01) == 96.72
    assert round_price(96.72, None) == 96.72
    assert math.isnan(tick_sizes(candles([(100.0, 101.0, 99.0, 100.0)])).iloc[0])


def _record(path: Any, messages: list[tuple[str, pd.DataFrame | list[str]]]) -> None:
    import json

    from producerconsumer.config import ProducerConfig
    from producerconsumer.replay import Recorder
    from producerconsumer.wire.frames import encode_dataframe

    with Recorder(path, [ProducerConfig(name="default", host="127.0.0.1", ws_token="t")]) as rec:
        for number, (pair, payload) in enumerate(messages):
            if isinstance(payload, list):
                text = json.dumps({"type": "whitelist", "data": payload})
            else:
                body = {"__type__": "dataframe", "__value__": encode_dataframe(payload)}
                last = "2026-11-02T01:00:00+00:00"
                text = json.dumps(
                    {
                        "type": "analyzed_df",
                        "data": {"key": [pair, "5m", "spot"], "df": body, "la": last},
                    }
                )
            rec.write("default", text, 1_790_000_000.0 + number)


def test_as_seen_uses_each_candles_first_received_values(tmp_path: Any) -> None:
    rows = [FLAT] * 8
    first = candles(rows).drop(columns=["sig_enter", "sig_exit", "sig_tag"])
    first["enter_long"] = 0
    first["exit_long"] = 0
    first["ind"] = np.arange(8, dtype="float64")
    later = first.copy()
    later.loc[2, "enter_long"] = 1  # repainted: the signal only appears in the later frame
    later.loc[2, "ind"] = 99.0
    path = tmp_path / "session.pcrec"
    _record(path, [("", ["A/USDT"]), ("A/USDT", first), ("A/USDT", later)])

    class Producer(IStrategy):
        timeframe = "5m"
        stoploss = -0.5

        def populate_indicators(self, dataframe, metadata):
            producer, _ = self.dp.get_producer_df(metadata["pair"])
            return dataframe.merge(
                producer[["date", "enter_long", "ind"]].rename(columns={"enter_long": "sig"}),
                on="date",
                how="left",
            )

        def populate_entry_trend(self, dataframe, metadata):
            dataframe["enter_long"] = dataframe["sig"]
            return dataframe

        def populate_exit_trend(self, dataframe, metadata):
            dataframe["exit_long"] = 0
            return dataframe

    settings = {"stake_amount": 10, "fee": 0.0}
    history = pc.backtest(Producer, str(path), **settings)
    assert len(history.trades) == 1 and history.trades.iloc[0]["open_date"] == first["date"][3]
    seen = pc.backtest(Producer, f"replay:{path}", mode="as_seen", **settings)
    assert seen.trades.empty  # live, the consumer never saw that signal
    report = pc.repaint_report(path).set_index("column")
    assert report.loc["ind", "differing"] == 1
    assert report.loc["ind", "largest_difference"] == 97.0
    assert report.loc["ind", "first_date"] == first["date"][2]
    assert report.loc["close", "differing"] == 0


def test_unlimited_stake_needs_max_open_trades() -> None:
    with pytest.raises(BacktestConfigError, match="max_open_trades"):
        run(
            {"A/USDT": candles([FLAT] * 3, enter={0})}, stake_amount="unlimited", max_open_trades=-1
        )


def test_cli_backtest_prints_the_result(tmp_path: Any, capsys: Any) -> None:
    from producerconsumer.cli import main

    strategy = tmp_path / "mine.py"
    strategy.write_text(
        "from producerconsumer.strategy import IStrategy\n"
        "class Mine(IStrategy):\n"
        "    timeframe = '5m'\n"
        "    stoploss = -0.1\n"
        "    stake_amount = 10\n"
        "    def populate_entry_trend(self, dataframe, metadata):\n"
        "        dataframe['enter_long'] = (dataframe['close'] > dataframe['open']).astype(int)\n"
        "        return dataframe\n"
        "    def populate_exit_trend(self, dataframe, metadata):\n"
        "        dataframe['exit_long'] = (dataframe['close'] < dataframe['open']).astype(int)\n"
        "        return dataframe\n"
    )
    recording = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "demo-session.pcrec"
    code = main(["backtest", "--strategy", f"{strategy}:Mine", "--source", str(recording)])
    out = capsys.readouterr().out
    assert code == 0
    assert "BTC/USDT" in out and "ETH/USDT" in out


def test_duplicated_dates_and_missing_signals_are_reported_per_pair() -> None:
    duplicated = candles([FLAT] * 4, enter={0}).iloc[[0, 1, 1, 2, 3]]

    class NoSignals(IStrategy):
        timeframe = "5m"
        stoploss = -0.1

    result = run({"A/USDT": duplicated})
    assert "duplicated candle date 2026-11-02 00:05" in result.errors["A/USDT"]
    result = run({"A/USDT": candles([FLAT] * 4)}, strategy=NoSignals)
    assert "enter_long" in result.errors["A/USDT"]


def test_data_from_a_provider_and_as_seen_needs_a_recording() -> None:
    from producerconsumer.backtest.signals import FramesSource

    frames = {"A/USDT": candles([FLAT] * 4, enter={0})}
    result = pc.backtest(Signals, FramesSource(frames), candles=frames, stake_amount=10)
    assert len(result.trades) == 1
    with pytest.raises(ValueError, match="as_seen"):
        pc.backtest(Signals, FramesSource(frames), mode="as_seen", stake_amount=10)
    with pytest.raises(TypeError, match="data must be"):
        pc.backtest(Signals, 42, stake_amount=10)


def test_stake_currency_defaults_to_the_pairs_quote() -> None:
    frames = {"A/USDT": candles([FLAT] * 3), "B/USDT": candles([FLAT] * 3)}
    result = pc.backtest(Signals, frames, candles=frames, stake_amount=10)
    assert result.settings["stake_currency"] == "USDT"


class CustomData(Signals):
    use_custom_stoploss = True

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        seen = trade.get_custom_data("candles", 0) + 1
        trade.set_custom_data("candles", seen)
        return -0.001 if seen >= 3 else None  # tighten after the third candle


def test_callbacks_can_keep_per_trade_custom_data() -> None:
    rows = [FLAT, FLAT, FLAT, FLAT, (100.0, 100.5, 99.0, 100.0), FLAT]
    trade = run({"A/USDT": candles(rows, enter={0})}, strategy=CustomData).trades.iloc[0]
    assert trade["exit_reason"] == "trailing_stop_loss"
    assert trade["close_date"] == START + pd.Timedelta(minutes=15)


def test_an_exit_price_missing_the_candle_waits_as_an_open_order() -> None:
    # November prices have one decimal (tick 0.1), December's three: the ROI price 101.23,
    # rounded to the trade's November tick, is 101.2, below the first December candle's low
    rows = [
        (100.0, 100.5, 99.5, 100.0),
        (100.0, 100.5, 99.5, 100.0),
        (100.0, 100.5, 99.5, 100.0),
        (100.0, 100.0, 99.5, 99.9),
        (101.204, 101.249, 101.201, 101.21),
        (101.3, 101.4, 101.1, 101.3),
        (101.3, 101.4, 101.1, 101.3),
    ]
    frame = candles(rows, enter={0})
    frame["date"] = pd.Timestamp("2026-11-30 23:45", tz="UTC") + pd.to_timedelta(
        np.arange(len(rows)) * 5, unit="m"
    )
    result = run({"A/USDT": frame}, minimal_roi={"0": 0.0123})
    trade = result.trades.iloc[0]
    assert trade["exit_reason"] == "roi"
    assert trade["close_rate"] == 101.2
    assert trade["close_date"] == pd.Timestamp("2026-12-01 00:10", tz="UTC")  # a candle later
