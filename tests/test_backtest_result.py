"""A real ``pc.backtest`` result end to end: its metrics (Freqtrade's full key set, from the
engine's wallet and balances), ``summary()``, ``plot(pair)``, ``to_freqtrade(directory)``, and
bad input (each failing pair reported with what and where; the other pairs still backtested).
The metrics' equality with Freqtrade's own statistics is proven by the differential test
(``tests/interop/oracle_tests/test_backtest_parity.py``)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import producerconsumer as pc
from producerconsumer.backtest.metrics import compute_metrics
from producerconsumer.strategy import IStrategy

START = pd.Timestamp("2026-11-02 00:00", tz="UTC")
RECORDING = Path(__file__).parent.parent / "notebooks" / "data" / "demo-session.pcrec"


def candles(rows: int, seed: int, enter_every: int = 7) -> pd.DataFrame:
    """5m candles with an indicator and entry signals every ``enter_every`` candles."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    open_ = np.concatenate([[100.0], close[:-1]])
    wick = np.abs(rng.normal(0, 0.003, rows))
    return pd.DataFrame(
        {
            "date": START + pd.to_timedelta(np.arange(rows) * 5, unit="m"),
            "open": open_,
            "high": np.maximum(open_, close) * (1 + wick),
            "low": np.minimum(open_, close) * (1 - wick),
            "close": close,
            "volume": 1.0,
            "ema": pd.Series(close).ewm(span=5).mean().to_numpy(),
            "sig_enter": (np.arange(rows) % enter_every == 1).astype(int),
        }
    )


class Signals(IStrategy):
    timeframe = "5m"
    stoploss = -0.03
    minimal_roi = {"0": 0.02}  # noqa: RUF012

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["enter_long"] = dataframe["sig_enter"]
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["exit_long"] = 0
        return dataframe


class RaisesOnC(Signals):
    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        if metadata["pair"] == "C/USDT":
            return dataframe["no such column"]
        return dataframe


def run(frames: dict[str, pd.DataFrame], strategy: Any = Signals, **settings: Any) -> Any:
    options: dict[str, Any] = {
        "stake_amount": 100.0,
        "dry_run_wallet": 1000.0,
        "fee": 0.001,
        "stake_currency": "USDT",
        "max_open_trades": 2,
    }
    # the signal columns ride on the candles (candles=), as the strategy reads them there
    return pc.backtest(strategy, frames, candles=frames, **{**options, **settings})


@pytest.fixture(scope="module")
def result() -> Any:
    quiet = candles(300, 3, enter_every=10**6)  # no entry: a pair without trades
    return run({"A/USDT": candles(300, 1), "B/USDT": candles(300, 2), "Q/USDT": quiet})


def test_metrics_have_freqtrades_keys_from_the_engines_balances(result: Any) -> None:
    metrics = result.metrics
    assert metrics["total_trades"] == len(result.trades) > 5
    assert metrics["profit_total_abs"] == pytest.approx(result.trades["profit_abs"].sum())
    # Freqtrade reports the dry-run wallet as the starting balance (tradable ratio 0.99 aside)
    assert metrics["starting_balance"] == metrics["dry_run_wallet"] == 1000.0
    assert result.settings["starting_balance"] == pytest.approx(990.0)
    assert metrics["final_balance"] == result.final_balance
    assert metrics["rejected_signals"] == result.rejected_signals > 0  # 2 slots, 3 pairs
    assert metrics["pairlist"] == ["A/USDT", "B/USDT", "Q/USDT"]
    # the pair without trades has its row; then the TOTAL row
    assert [row["key"] for row in metrics["results_per_pair"]][-1] == "TOTAL"
    assert "Q/USDT" in [row["key"] for row in metrics["results_per_pair"]]
    # the settings Freqtrade reports, as given (max_open_trades an int, the ROI table as written)
    assert metrics["max_open_trades"] == metrics["max_open_trades_setting"] == 2
    assert type(metrics["max_open_trades_setting"]) is int
    assert metrics["minimal_roi"] == {"0": 0.02} and metrics["stoploss"] == -0.03
    assert metrics["stake_amount"] == 100.0 and metrics["strategy_name"] == "Signals"
    assert metrics["timeframe"] == "5m" and metrics["trading_mode"] == "spot"
    # the balance at every candle: wallet_stats
    wallet = metrics["wallet_stats"]
    assert wallet["start_balance"] == pytest.approx(1000.0)
    assert wallet["low_balance"] <= wallet["end_balance"] <= wallet["high_balance"]
    # market change from the backtest's start, over every backtested pair
    changes = [f["close"].iloc[-1] / f["close"].iloc[0] - 1 for f in result.frames.values()]
    assert metrics["market_change"] == pytest.approx(np.mean(changes))
    # the same statistics compute_metrics gives on the trades alone, where they overlap
    plain = compute_metrics(
        result.trades,
        starting_balance=1000.0,
        stake_currency="USDT",
        start=result.start,
        end=result.end,
        market_change=metrics["market_change"],
        max_open_trades=2,
    )
    for key in ("profit_total", "max_drawdown_account", "sharpe", "sortino", "winrate"):
        assert metrics[key] == plain[key]
    assert result.metrics is metrics  # computed once


def test_summary_plot_and_export_of_a_real_result(result: Any, tmp_path: Path) -> None:
    text = str(result.summary())
    for part in ("BACKTESTING REPORT", "A/USDT", "B/USDT", "Q/USDT", "TOTAL", "Signals"):
        assert part in text
    assert "<table" in result.summary()._repr_html_()
    figure = result.plot("A/USDT")
    assert isinstance(figure, Figure)
    zip_path = result.to_freqtrade(tmp_path / "results")
    with zipfile.ZipFile(zip_path) as archive:
        stats = json.loads(archive.read(zip_path.with_suffix(".json").name))
    strategy = stats["strategy"]["Signals"]
    assert strategy["total_trades"] == len(result.trades)
    assert strategy["profit_total_abs"] == pytest.approx(result.metrics["profit_total_abs"])
    assert strategy["max_open_trades_setting"] == 2 and len(strategy["trades"]) == len(
        result.trades
    )


def test_bad_input_is_reported_per_pair_and_the_other_pairs_still_run() -> None:
    good = candles(120, 1)
    no_close = candles(120, 2).drop(columns=["close"])
    nan_price = candles(120, 3)
    nan_price.loc[40, "open"] = np.nan
    unsorted = candles(120, 4).iloc[[*range(50), 51, 50, *range(52, 120)]]
    duplicated = candles(120, 5).iloc[[*range(60), 59, *range(60, 120)]]
    no_signals = candles(120, 6).drop(columns=["sig_enter"])
    frames = {
        "A/USDT": good,
        "B/USDT": no_close,
        "C/USDT": candles(120, 7),
        "D/USDT": nan_price,
        "E/USDT": unsorted,
        "F/USDT": duplicated,
        "G/USDT": no_signals,
    }
    result = run(frames, strategy=RaisesOnC)
    alone = run({"A/USDT": good}, strategy=RaisesOnC)
    # nothing computed for the good pair is lost
    pd.testing.assert_frame_equal(result.trades, alone.trades)
    assert result.pairs == ["A/USDT"] and len(result.trades)
    errors = result.errors
    assert set(errors) == {"B/USDT", "C/USDT", "D/USDT", "E/USDT", "F/USDT", "G/USDT"}
    assert "close" in errors["B/USDT"] and "lack" in errors["B/USDT"]
    assert "KeyError" in errors["C/USDT"] and "no such column" in errors["C/USDT"]
    # where in the strategy it raised, and on which candles
    assert (
        "populate_indicators" in errors["C/USDT"] and "test_backtest_result.py" in errors["C/USDT"]
    )
    assert "2026-11-02 00:00:00+00:00" in errors["C/USDT"]
    assert "NaN open price on the candle of 2026-11-02 03:20" in errors["D/USDT"]
    assert "not sorted" in errors["E/USDT"] and "2026-11-02 04:10" in errors["E/USDT"]
    assert "duplicated candle date 2026-11-02 04:55" in errors["F/USDT"]
    assert "sig_enter" in errors["G/USDT"]
    # in the summary too, pair by pair, and in the repr
    text = str(result.summary())
    for pair, message in errors.items():
        assert pair in text and message.splitlines()[0][:40] in text
    assert "6 pair(s) failed" in repr(result)
    html = result.summary()._repr_html_()
    assert "C/USDT" in html and "KeyError" in html


def test_every_pair_failing_still_gives_a_result() -> None:
    frame = candles(30, 1)
    frame.loc[3, "low"] = np.nan
    result = run({"A/USDT": frame})
    assert result.trades.empty and "NaN low" in result.errors["A/USDT"]
    assert result.metrics["total_trades"] == 0
    assert "A/USDT" in str(result.summary())
    assert "no candles" in repr(result)


class FollowsTheProducer(IStrategy):
    """Enters where the producer's RSI is low (its frame merged as a consumer does)."""

    timeframe = "5m"
    stoploss = -0.05
    minimal_roi = {"0": 0.01}  # noqa: RUF012

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        producer, _ = self.dp.get_producer_df(metadata["pair"])
        return dataframe.merge(producer[["date", "rsi"]], on="date", how="left")

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["enter_long"] = (dataframe["rsi"] < 40).astype(int)
        return dataframe


def test_a_recording_in_both_modes_has_metrics_and_a_summary() -> None:
    for mode in ("history", "as_seen"):
        result = pc.backtest(FollowsTheProducer, RECORDING, mode=mode, stake_amount=100)
        assert result.errors == {}
        assert result.metrics["total_trades"] == len(result.trades) > 0
        assert result.metrics["pairlist"] == result.pairs == ["BTC/USDT", "ETH/USDT"]
        assert "BTC/USDT" in str(result.summary())
