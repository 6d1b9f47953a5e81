"""Backtest statistics and result files against Freqtrade 2026.9.

* ``oracle_tests/test_metrics_parity.py`` runs inside the oracle venv (it imports Freqtrade): our
  ``compute_metrics`` / ``settings_metrics`` / ``market_change`` against Freqtrade's
  ``generate_strategy_stats`` / ``calculate_market_change`` on trades made by Freqtrade's own
  trade model (``PC_METRICS_CASES``, default 500, plus market-change cases), and on whole
  backtests by Freqtrade's ``Backtesting`` (a fifth as many), wallet statistics included.
* ``to_freqtrade``'s files are read by Freqtrade's ``backtesting-show`` command and by the
  loaders its API server (FreqUI's backtest history) uses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from backtest_fakes import sample_result  # tests/, on the path as the tests' base directory

import producerconsumer as pc
from producerconsumer.backtest.export import to_freqtrade
from producerconsumer.strategy import IStrategy

from .conftest import REPO, run_oracle_pytest

DIFFERENTIAL_TIMEOUT = 900  # 500 cases take ~5 minutes on two busy cores
COMMAND_TIMEOUT = 180
RECORDING = REPO / "notebooks" / "data" / "demo-session.pcrec"

pytestmark = pytest.mark.oracle


@pytest.mark.slow
@pytest.mark.differential
def test_metrics_match_freqtrade(oracle_python: Path) -> None:
    run_oracle_pytest(oracle_python, ["test_metrics_parity.py"], timeout=DIFFERENTIAL_TIMEOUT)


def _freqtrade(oracle_python: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The ``freqtrade`` command of the oracle venv."""
    command = [str(oracle_python), "-m", "freqtrade", *args]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        env=env,
        cwd=str(cwd),
        check=False,
    )


def test_backtesting_show_reads_our_export(oracle_python: Path, tmp_path: Path) -> None:
    result = sample_result()
    zip_path = to_freqtrade(result, tmp_path / "backtest_results")
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    done = _freqtrade(
        oracle_python,
        ["backtesting-show", "--userdir", str(userdir), "--backtest-filename", str(zip_path)],
        tmp_path,
    )
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    text = done.stdout
    for title in ("BACKTESTING REPORT", "EXIT REASON STATS", "SUMMARY METRICS", "STRATEGY SUMMARY"):
        assert title in text, output
    metrics = result.metrics
    assert "SampleConsumer" in text
    # Freqtrade's own formatting of our numbers: 3 trades, -3.635 USDT, -0.36 %, 66.7 % won.
    assert f"{metrics['profit_total_abs']:.3f} USDT" == "-3.635 USDT"
    assert "-3.635 USDT" in text and "-0.36%" in text, output
    assert "2     0     1  66.7" in text, output
    for reason in ("roi", "stop_loss", "force_exit"):
        assert reason in text, output
    assert "Drawdown start" in text and "2026-01-01 05:00:00" in text, output


class _FollowsTheProducer(IStrategy):
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


def test_backtesting_show_reads_a_real_backtest(oracle_python: Path, tmp_path: Path) -> None:
    """``to_freqtrade`` of a ``pc.backtest`` result (the committed demo recording, as seen)."""
    result = pc.backtest(
        _FollowsTheProducer, RECORDING, mode="as_seen", stake_amount=100, max_open_trades=2
    )
    assert not result.errors and len(result.trades) > 3
    zip_path = result.to_freqtrade(tmp_path / "backtest_results")
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    done = _freqtrade(
        oracle_python,
        ["backtesting-show", "--userdir", str(userdir), "--backtest-filename", str(zip_path)],
        tmp_path,
    )
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    metrics = result.metrics
    for text in (
        "BACKTESTING REPORT",
        "SUMMARY METRICS",
        "_FollowsTheProducer",
        "BTC/USDT",
        "ETH/USDT",
        f"{metrics['profit_total_abs']:.3f} USDT",
        f"{metrics['max_drawdown_abs']:.3f} USDT",
        metrics["backtest_start"],
        metrics["backtest_end"],
    ):
        assert text in done.stdout, f"{text!r} not in\n{output}"
    # the first TOTAL row (the per-pair table's): the trade count right after the label
    totals = re.findall(r"TOTAL\W+(\d+)\W", done.stdout)
    assert totals and totals[0] == str(metrics["total_trades"]), output


LOADER = """
import json, sys
from pathlib import Path
from freqtrade.data.btanalysis import load_backtest_data, load_backtest_stats
from freqtrade.data.btanalysis.bt_fileutils import (
    get_backtest_market_change, get_backtest_resultlist, get_backtest_wallet_change,
)

directory = Path(sys.argv[1])
stats = load_backtest_stats(directory)  # via .last_result.json, as FreqUI's default
trades = load_backtest_data(directory)
listed = get_backtest_resultlist(directory)
strategy = stats["strategy"]["SampleConsumer"]
zip_path = directory / json.loads((directory / ".last_result.json").read_text())["latest_backtest"]
market = get_backtest_market_change(zip_path)
wallet = get_backtest_wallet_change(zip_path, "SampleConsumer")
print(json.dumps({
    "keys": sorted(strategy),
    "total_trades": strategy["total_trades"],
    "profit_total_abs": strategy["profit_total_abs"],
    "max_drawdown_abs": strategy["max_drawdown_abs"],
    "trades": len(trades),
    "pairs": trades["pair"].tolist(),
    "profit_abs": trades["profit_abs"].tolist(),
    "open_dates": [d.isoformat() for d in trades["open_date"]],
    "listed": [[e["strategy"], e["run_id"]] for e in listed],
    "metadata": stats["metadata"]["SampleConsumer"]["run_id"],
    "market_columns": market.columns.tolist(),
    "market_rows": len(market),
    "market_last_rel_mean": float(market["rel_mean"].iloc[-1]),
    "wallet_columns": wallet.columns.tolist(),
    "wallet_rows": len(wallet),
}))
"""


def test_freqtrade_loaders_read_our_export(oracle_python: Path, tmp_path: Path) -> None:
    """What FreqUI's backtest history goes through: the result list, the stats, the trades,
    the market-change and wallet series."""
    pytest.importorskip("pyarrow", reason="the export writes the feather series with pyarrow")
    result = sample_result()
    directory = tmp_path / "backtest_results"
    to_freqtrade(result, directory)
    done = subprocess.run(
        [str(oracle_python), "-c", LOADER, str(directory)],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["total_trades"] == 3
    assert loaded["profit_total_abs"] == result.metrics["profit_total_abs"]  # exact through JSON
    assert loaded["max_drawdown_abs"] == result.metrics["max_drawdown_abs"]
    assert loaded["trades"] == 3
    assert loaded["pairs"] == result.trades["pair"].tolist()
    assert loaded["profit_abs"] == result.trades["profit_abs"].tolist()
    assert loaded["open_dates"] == [d.isoformat() for d in result.trades["open_date"]]
    assert loaded["listed"] == [["SampleConsumer", loaded["metadata"]]]
    # FreqUI's market-change chart and wallet series.
    assert loaded["market_columns"] == ["date", "mean", "rel_mean", "count", "__date_ts"]
    assert loaded["market_rows"] == 47  # the candles from the start, the last one excluded
    assert loaded["wallet_columns"][:5] == ["index", "date", "currency", "rate", "balance"]
    assert loaded["wallet_rows"] > 47
    for key in ("results_per_pair", "exit_reason_summary", "sharpe", "trades", "stoploss"):
        assert key in loaded["keys"]
