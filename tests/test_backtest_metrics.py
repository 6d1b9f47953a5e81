"""Backtest statistics, report, export and plot on small hand-checked cases (no Freqtrade: the
differential tests against Freqtrade are tests/interop/test_oracle_metrics.py)."""

from __future__ import annotations

import importlib.util
import json
import math
import zipfile
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from backtest_fakes import FakeResult, candles, sample_result, trade, trades_frame
from matplotlib.figure import Figure

from producerconsumer.backtest.export import LAST_RESULT_FILE, to_freqtrade
from producerconsumer.backtest.metrics import (
    compute_metrics,
    market_change,
    settings_metrics,
    student_t_two_sided_p,
)
from producerconsumer.backtest.plot import plot_backtest
from producerconsumer.backtest.report import summary

START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(hours=47)


def metrics_of(trades: pd.DataFrame, **kwargs: object) -> dict:
    options: dict = {
        "starting_balance": 1000.0,
        "stake_currency": "USDT",
        "start": START,
        "end": END,
        "market_change": 0.01,
        "max_open_trades": 3,
        "pairs": ["BTC/USDT", "ETH/USDT"],
    }
    options.update(kwargs)
    return compute_metrics(trades, **options)


# --- metrics


def test_counts_profits_and_drawdown_by_hand() -> None:
    result = sample_result()
    profits = result.trades["profit_abs"].tolist()  # roi win, stop-loss, forced-exit win
    btc_roi, eth_stop, btc_force = profits
    assert btc_roi > 0 > eth_stop and btc_force > 0
    m = result.metrics
    assert (m["total_trades"], m["wins"], m["draws"], m["losses"]) == (3, 2, 0, 1)
    assert m["winrate"] == pytest.approx(2 / 3)
    assert m["profit_total_abs"] == pytest.approx(sum(profits), rel=1e-15)
    assert m["profit_total"] == pytest.approx(sum(profits) / 1000, rel=1e-15)
    assert m["final_balance"] == pytest.approx(1000 + sum(profits), rel=1e-15)
    # Closed in the order roi (05:00), stop-loss (09:00), forced exit (day 2): the drawdown
    # runs from the high after the first trade to the low after the second.
    assert m["max_drawdown_abs"] == pytest.approx(-eth_stop, rel=1e-12)
    high, low = 1000 + btc_roi, 1000 + btc_roi + eth_stop
    assert m["max_drawdown_account"] == pytest.approx((high - low) / high, rel=1e-12)
    assert m["max_drawdown_high"] == pytest.approx(btc_roi)
    assert m["max_drawdown_low"] == pytest.approx(btc_roi + eth_stop)
    assert (m["drawdown_start"], m["drawdown_end"]) == (
        "2026-01-01 05:00:00",
        "2026-01-01 09:00:00",
    )
    assert m["drawdown_duration"] == timedelta(hours=4)
    assert m["csum_min"] == pytest.approx(low) and m["csum_max"] == pytest.approx(high)
    assert m["profit_factor"] == pytest.approx((btc_roi + btc_force) / -eth_stop)
    average_win = (btc_roi + btc_force) / 2
    assert m["expectancy"] == pytest.approx(2 / 3 * average_win - 1 / 3 * -eth_stop)
    assert m["expectancy_ratio"] == pytest.approx((1 + average_win / -eth_stop) * 2 / 3 - 1)
    assert m["best_pair"]["key"] == "BTC/USDT" and m["worst_pair"]["key"] == "ETH/USDT"
    assert [line["key"] for line in m["results_per_pair"]] == ["BTC/USDT", "ETH/USDT", "TOTAL"]
    assert m["results_per_pair"][0]["trades"] == 2
    assert [line["key"] for line in m["exit_reason_summary"]] == [
        "roi",
        "force_exit",
        "stop_loss",
        "TOTAL",
    ]
    # Only the tagged trade is in the tag table (untagged ones drop out, as in Freqtrade).
    assert [line["key"] for line in m["results_per_enter_tag"]] == ["a", "TOTAL"]
    assert [line["key"] for line in m["left_open_trades"]] == ["BTC/USDT", "TOTAL"]
    assert m["max_open_trades"] == 2  # three slots, two pairs
    assert m["backtest_days"] == 1 and m["trades_per_day"] == 3.0
    assert m["holding_avg"] == timedelta(minutes=round((180 + 360 + 780) / 3))
    assert (m["max_consecutive_wins"], m["max_consecutive_losses"]) == (1, 1)
    assert m["total_volume"] == pytest.approx(
        sum(o["cost"] for orders in result.trades["orders"] for o in orders)
    )
    assert [day for day, _ in m["daily_profit"]] == ["2026-01-01", "2026-01-02"]
    assert (m["winning_days"], m["losing_days"]) == (1, 1)


def test_ratios_by_hand() -> None:
    result = sample_result()
    returns = result.trades["profit_abs"].to_numpy() / 1000
    days = 1  # 47 hours
    m = result.metrics
    assert m["sharpe"] == pytest.approx(returns.sum() / days / returns.std() * math.sqrt(365))
    assert m["sortino"] == -100.0  # one losing trade: no downside deviation
    assert m["calmar"] == pytest.approx(
        returns.sum() / days * 100 / m["max_drawdown_account"] * math.sqrt(365)
    )
    assert m["sqn"] == round(math.sqrt(3) * returns.mean() / returns.std(ddof=1), 4)
    t = returns.mean() / (returns.std(ddof=1) / math.sqrt(3))
    assert m["p_value"] == pytest.approx(1 - abs(t) / math.sqrt(2 + t * t), rel=1e-12)  # df 2
    assert m["cagr"] == pytest.approx((m["final_balance"] / 1000) ** 365 - 1)


def test_no_trades() -> None:
    empty = trades_frame([trade("BTC/USDT", "2026-01-01", "2026-01-01 01:00", 1, 1)]).iloc[:0]
    m = metrics_of(empty)
    assert (m["total_trades"], m["wins"], m["profit_total"], m["profit_total_abs"]) == (0, 0, 0, 0)
    assert m["sharpe"] == 0 and m["sqn"] == 0 and m["p_value"] == 1.0
    assert m["expectancy"] == 0 and m["expectancy_ratio"] == 100
    assert m["max_drawdown_abs"] == 0 and m["drawdown_start"] == datetime(1970, 1, 1, tzinfo=UTC)
    assert m["final_balance"] == 1000 and m["cagr"] == 0
    assert [line["key"] for line in m["results_per_pair"]] == ["BTC/USDT", "ETH/USDT", "TOTAL"]
    assert m["daily_profit_list"] == [] and m["periodic_breakdown"]["day"] == []


def test_draws_and_streaks() -> None:
    rows = [
        trade("BTC/USDT", "2026-01-01 00:00", "2026-01-01 01:00", 100, 110),
        trade("BTC/USDT", "2026-01-01 01:00", "2026-01-01 02:00", 100, 120),
        trade("BTC/USDT", "2026-01-01 02:00", "2026-01-01 03:00", 100, 90),
        trade("BTC/USDT", "2026-01-01 03:00", "2026-01-01 04:00", 100, 90),
        trade("BTC/USDT", "2026-01-01 04:00", "2026-01-01 05:00", 100, 90),
    ]
    rows[2]["profit_abs"] = rows[2]["profit_ratio"] = 0.0  # a draw counts as a loss in streaks
    m = metrics_of(trades_frame(rows))
    assert (m["wins"], m["draws"], m["losses"]) == (2, 1, 2)
    assert (m["max_consecutive_wins"], m["max_consecutive_losses"]) == (2, 3)


def test_unlimited_slots_and_settings() -> None:
    m = metrics_of(sample_result().trades, max_open_trades=-1)
    assert m["max_open_trades"] == 2 and m["max_open_trades_setting"] == -1
    s = settings_metrics(
        {"stake_amount": "unlimited", "timeframe": "5m", "stoploss": -0.1}, strategy_name="S"
    )
    assert s["use_exit_signal"] is True and s["minimal_roi"] == {"0": 10.0}
    assert s["trailing_stop_positive"] is None and s["strategy_name"] == "S"
    with pytest.raises(KeyError, match="stoploss"):
        settings_metrics({"stake_amount": 1, "timeframe": "5m"}, strategy_name="S")
    with pytest.raises(ValueError, match="dry_run_wallet"):
        metrics_of(sample_result().trades, starting_balance=0)


@pytest.mark.parametrize("t", [0.0, 1e-9, 0.3, 1.0, 2.5, 10.0, 1e3])
def test_t_test_p_value_closed_forms(t: float) -> None:
    # df = 1 (Cauchy) and df = 2 have closed forms.
    assert student_t_two_sided_p(t, 1) == pytest.approx(1 - 2 / math.pi * math.atan(t), rel=1e-13)
    assert student_t_two_sided_p(-t, 2) == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-12)


def test_t_test_p_value_large_samples_approach_the_normal() -> None:
    # df -> infinity: the normal tail, 2 * (1 - Phi(1.96)) = 0.04999579...
    assert student_t_two_sided_p(1.959963984540054, 10**7) == pytest.approx(0.05, rel=1e-6)
    assert math.isnan(student_t_two_sided_p(math.nan, 5))


def test_market_change() -> None:
    dates = pd.date_range(START, periods=3, freq="1h")
    frames = {
        "A": pd.DataFrame({"date": dates, "close": [100.0, np.nan, 110.0]}),
        "B": pd.DataFrame({"date": dates, "close": [50.0, 40.0, 45.0]}),
    }
    assert market_change(frames) == pytest.approx((0.1 - 0.1) / 2)
    assert market_change(frames, min_date=dates[1]) == pytest.approx((45 / 40 - 1) / 2 + 0)
    assert market_change({}) == 0.0


# --- report


def test_summary_text_lists_pairs_totals_exit_reasons_and_failures() -> None:
    text = str(summary(sample_result()))
    for part in (
        "BACKTESTING REPORT",
        "EXIT REASON STATS",
        "SUMMARY METRICS",
        "LEFT OPEN TRADES REPORT",
        "BTC/USDT",
        "ETH/USDT",
        "TOTAL",
        "stop_loss",
        "force_exit",
        "-3.635",
        "Tot Profit USDT",
        "FAILED PAIRS (1, not backtested)",
        "XRP/USDT: NaN close on candle 2026-01-01",
    ):
        assert part in text, part
    pairs = summary(sample_result()).pairs
    assert pairs["Pair"].tolist() == ["BTC/USDT", "ETH/USDT", "TOTAL"]
    assert pairs["Trades"].tolist() == [2, 1, 3]


def test_summary_html_escapes_and_lists_failures() -> None:
    result = sample_result(errors={"BAD/USDT": "<script>alert(1)</script> on candle 5"})
    page = summary(result)._repr_html_()
    assert page.count("<table") == 5
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "BAD/USDT" in page and "FAILED PAIRS" in page
    assert "FAILED PAIRS" not in str(summary(sample_result(errors={})))


def test_summary_completes_missing_metrics() -> None:
    result = sample_result()
    result.metrics = {"market_change": 0.5}
    assert "Market change" in str(summary(result)) and "50.00%" in str(summary(result))


# --- export


def test_export_writes_freqtrades_files(tmp_path) -> None:
    result = sample_result()
    result.settings["exchange"] = {"name": "binance", "key": "k-123", "secret": "s-456"}
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    path = to_freqtrade(result, tmp_path / "out", run_time=when)
    assert path.name == "backtest-result-2026-02-03_04-05-06.zip"
    latest = json.loads((path.parent / LAST_RESULT_FILE).read_text())
    assert latest == {"latest_backtest": path.name}
    meta = json.loads((path.parent / "backtest-result-2026-02-03_04-05-06.meta.json").read_text())
    assert meta["SampleConsumer"]["timeframe"] == "1h"
    assert meta["SampleConsumer"]["backtest_start_ts"] == int(START.timestamp())
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        stats = json.loads(archive.read("backtest-result-2026-02-03_04-05-06.json"))
        config_text = archive.read("backtest-result-2026-02-03_04-05-06_config.json").decode()
    stem = "backtest-result-2026-02-03_04-05-06"
    feathers = [f"{stem}_SampleConsumer_wallet.feather", f"{stem}_market_change.feather"]
    expected = [f"{stem}.json", f"{stem}_config.json"]
    if importlib.util.find_spec("pyarrow") is not None:  # feather files need it
        expected += feathers
    assert names == sorted(expected)
    strategy = stats["strategy"]["SampleConsumer"]
    assert strategy["total_trades"] == 3 and len(strategy["trades"]) == 3
    assert strategy["profit_total_abs"] == result.metrics["profit_total_abs"]
    assert strategy["trades"][0]["open_date"] == "2026-01-01 02:00:00+00:00"
    assert strategy["stoploss"] == -0.1 and strategy["minimal_roi"] == {"0": 0.05}
    assert strategy["holding_avg"] == "7:20:00"
    assert stats["strategy_comparison"][0]["key"] == "SampleConsumer"
    assert stats["strategy_comparison"][0]["max_drawdown_abs"] == "10.19"
    assert "k-123" not in config_text and "s-456" not in config_text
    with pytest.raises(NotADirectoryError):
        to_freqtrade(result, path)


# --- plot


def test_plot_marks_each_trade_with_its_exit_reason() -> None:
    result = sample_result()
    fig = plot_backtest(result, "BTC/USDT")
    assert isinstance(fig, Figure)
    price_ax = fig.axes[0]
    by_gid = {c.get_gid(): c for c in price_ax.collections if c.get_gid()}
    assert len(by_gid["trade-entries"].get_offsets()) == 2
    exits = by_gid["trade-exits"].get_offsets()
    assert np.asarray(exits)[:, 1].tolist() == [106.0, 105.0]
    reasons = [t.get_text() for t in price_ax.texts if t.get_gid() == "exit-reason"]
    assert reasons == ["roi", "force_exit"]
    assert "ema" in price_ax.get_legend_handles_labels()[1]
    # The oscillator panel and the equity panel (with its drawdown twin).
    labels = [label for ax in fig.axes for label in ax.get_legend_handles_labels()[1]]
    assert "rsi" in labels and "equity (USDT)" in labels and "drawdown" in labels
    equity = next(line for line in fig.axes[2].lines if line.get_label() == "equity (USDT)")
    final = 1000 + result.trades["profit_abs"].sum()
    assert equity.get_ydata()[-1] == pytest.approx(final)


def test_plot_window_and_errors() -> None:
    result = sample_result()
    fig = plot_backtest(result, "BTC/USDT", window=10, indicators=["ema"])
    by_gid = {c.get_gid(): c for c in fig.axes[0].collections if c.get_gid()}
    assert len(by_gid["trade-entries"].get_offsets()) == 1  # the first trade closed earlier
    assert len(fig.axes) == 3  # no oscillator asked for: price, equity, drawdown twin
    with pytest.raises(ValueError, match="NaN close"):
        plot_backtest(result, "XRP/USDT")
    with pytest.raises(KeyError, match="backtested pairs"):
        plot_backtest(result, "DOGE/USDT")


def test_plot_without_trades() -> None:
    result = FakeResult(
        trades=sample_result().trades.iloc[:0], frames={"BTC/USDT": candles("BTC/USDT")}
    )
    fig = plot_backtest(result, "BTC/USDT")
    assert not [c for c in fig.axes[0].collections if c.get_gid() == "trade-entries"]


def test_wallet_history_and_stats_by_hand() -> None:
    from producerconsumer.backtest.metrics import wallet_history, wallet_stats

    result = sample_result()
    wallet = wallet_history(
        result.trades,
        result.frames,
        starting_balance=1000.0,
        stake_currency="USDT",
        start=START,
        end=END,
        timeframe="1h",
    )
    at = {h: wallet[wallet["date"] == START + timedelta(hours=h)] for h in (1, 3, 4, 6, 10)}
    assert at[1][["currency", "balance"]].values.tolist() == [["USDT", 1000.0]]
    # 03:00: the BTC trade (02:00-05:00) holds its 100 USDT stake as BTC at that candle's open.
    btc_open = result.frames["BTC/USDT"].set_index("date")["open"]
    assert at[3]["currency"].tolist() == ["USDT", "BTC"]
    assert at[3]["balance"].tolist() == [900.0, 1.0]
    assert at[3]["rate"].iloc[1] == btc_open[START + timedelta(hours=3)]
    assert at[4]["currency"].tolist() == ["USDT", "BTC", "ETH"]  # in the order they opened
    assert at[4]["balance"].tolist() == [800.0, 1.0, 2.0]
    btc_profit, eth_profit = result.trades["profit_abs"].iloc[:2]
    assert at[6]["balance"].tolist() == [1000 + btc_profit - 100, 2.0]
    assert at[10]["balance"].tolist() == [1000 + btc_profit + eth_profit]
    assert wallet["date"].iloc[-1] == END and wallet["date"].iloc[0] == START + timedelta(hours=1)

    stats = wallet_stats(wallet)
    assert stats["start_balance"] == 1000.0
    # The last trade closes on the last candle: still held, at that candle's open, in the wallet.
    last = result.trades.iloc[2]
    held = last["amount"] * btc_open[END]
    assert stats["end_balance"] == pytest.approx(1000 + btc_profit + eth_profit - 100 + held)
    assert stats["low_balance"] <= stats["end_balance"] <= stats["high_balance"]
    assert stats["max_drawdown_abs"] >= -result.trades["profit_abs"].iloc[1] - 1e-9
    assert wallet_stats(wallet.iloc[:0]) == {}
    with_wallet = metrics_of(result.trades, wallet=wallet)
    assert with_wallet["wallet_stats"] == stats and "wallet_stats" not in result.metrics
    assert "Sharpe (daily balance)" not in str(summary(result))
    result.metrics = with_wallet
    assert "Sharpe (daily balance)" in str(summary(result))
