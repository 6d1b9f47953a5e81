"""Differential test, run INSIDE the Freqtrade oracle venv: ``producerconsumer.backtest.metrics``
against Freqtrade 2026.9's own statistics on the same trades.

Started by ``tests/interop/test_oracle_metrics.py`` as ``<oracle python> -m pytest <this file>
-c <this dir>/pytest.ini`` with ``PYTHONPATH=<repo>`` (each runner names its own files here).

The trades are Freqtrade's: real ``LocalTrade`` objects with filled entry and exit orders, closed
by ``LocalTrade.close`` (profit, fees and rounding as Backtesting makes them), turned into the
results frame by ``trade_list_to_dataframe``, exactly as ``Backtesting.backtest`` does. Freqtrade's
statistics come from ``generate_strategy_stats`` (the function ``backtesting`` and
``backtesting-show`` use) and ``calculate_market_change``; ours from ``compute_metrics``,
``settings_metrics`` and ``market_change``. Every key we produce must equal Freqtrade's: ints,
strings, dates and durations exactly, floats to 1e-12 relative (``p_value`` to 1e-10: scipy's
own Student-t tail is only that accurate for tiny t statistics; and two p-values below 1e-300
count as equal, as scipy flushes some of those to 0), and every key Freqtrade
produces must be ours or one of the few listed in ``NOT_OURS``.

A second set runs whole backtests with Freqtrade's real ``Backtesting`` (offline: spot markets
made here, the fee in the config) on generated candles and signals with random ROI tables,
stoplosses, trailing settings, fees, stake modes and slot counts, then compares every statistic
of ``generate_backtest_stats``, ``wallet_stats`` included, and our ``wallet_history`` with
Freqtrade's wallet captures (exactly).

``PC_METRICS_CASES`` sets the number of generated trade sets (default 500); a fifth as many
backtests run, and a quarter as many market-change cases.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from freqtrade.data.btanalysis import trade_list_to_dataframe
from freqtrade.data.metrics import calculate_market_change, combined_dataframes_with_rel_mean
from freqtrade.optimize.optimize_reports import generate_strategy_stats
from freqtrade.persistence import LocalTrade, Order

from producerconsumer.backtest.export import market_change_frame
from producerconsumer.backtest.metrics import compute_metrics, market_change
from producerconsumer.backtest.metrics import settings_metrics as our_settings_metrics

CASES = int(os.environ.get("PC_METRICS_CASES", "500"))
REL = 1e-12
P_VALUE_REL = 1e-10
TINY_P = 1e-300
# Keys of Freqtrade's strategy stats that compute_metrics / settings_metrics do not produce:
# the trade list and locks (the export writes them), the wallet-snapshot statistics (need the
# balance at every candle) and the wall-clock times of the run.
NOT_OURS = {"trades", "locks", "wallet_stats", "backtest_run_start_ts", "backtest_run_end_ts"}
PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT", "ADA/USDT", "SOL/USDT", "DOT/USDT", "LTC/USDT"]
PAIRS += ["LINK/USDT"]
TAGS = [None, "", "tag_a", "tag b", "long_1"]
EXIT_REASONS = ["roi", "exit_signal", "stop_loss", "trailing_stop_loss", "force_exit"]
EXIT_REASONS += ["custom_exit"]
TIMEFRAMES = {"1m": 1, "5m": 5, "1h": 60, "4h": 240, "1d": 1440}


def _order(
    number: int, trade: LocalTrade, side: str, date: datetime, price: float, amount: float
) -> Order:
    order = Order(
        id=number,
        ft_trade_id=trade.id,
        ft_is_open=True,
        ft_pair=trade.pair,
        order_id=str(number),
        symbol=trade.pair,
        ft_order_side=side,
        side=side,
        order_type="limit",
        status="open",
        order_date=date,
        order_filled_date=date,
        order_update_date=date,
        ft_price=price,
        price=price,
        average=price,
        amount=amount,
        filled=0,
        remaining=amount,
        cost=amount * price * (1 + trade.fee_open),
        ft_order_tag=trade.enter_tag,
    )
    order._trade_bt = trade
    return order


def freqtrade_trades(rng: np.random.Generator, case: dict[str, Any]) -> pd.DataFrame:
    """``case["count"]`` trades made and closed by Freqtrade's own trade model."""
    trades = []
    step = timedelta(minutes=case["minutes"])
    for number in range(case["count"]):
        pair = case["pairs"][int(rng.integers(len(case["traded"])))]
        opened = case["start"] + step * int(rng.integers(0, case["span"]))
        closed = opened + step * int(rng.integers(0, case["longest"]))
        closed = min(closed, case["end"])
        open_rate = float(rng.choice([rng.uniform(0.001, 1), rng.uniform(1, 50_000)]))
        kind = rng.random()
        if kind < case["draws"]:
            close_rate = open_rate
        else:
            close_rate = open_rate * float(np.exp(rng.normal(0, case["volatility"])))
        stake = float(rng.choice([10, 100, 333.33, rng.uniform(5, 2000)]))
        amount = round(stake / open_rate, 8)
        fee = case["fee"]
        trade = LocalTrade(
            id=number + 1,
            pair=pair,
            base_currency=pair.split("/")[0],
            stake_currency="USDT",
            open_rate=open_rate,
            open_rate_requested=open_rate,
            open_date=opened,
            stake_amount=stake,
            amount=0,
            amount_requested=amount,
            fee_open=fee,
            fee_close=fee,
            is_open=True,
            enter_tag=TAGS[int(rng.integers(len(TAGS)))],
            timeframe=case["minutes"],
            exchange="binance",
            is_short=False,
            trading_mode="spot",
            leverage=1.0,
            orders=[],
        )
        trade.adjust_stop_loss(open_rate, -0.1, initial=True)
        entry = _order(2 * number + 1, trade, "buy", opened, open_rate, amount)
        trade.orders.append(entry)
        entry.close_bt_order(opened, trade)
        trade.recalc_trade_from_orders()
        trade.adjust_min_max_rates(max(open_rate, close_rate), min(open_rate, close_rate))
        exit_ = _order(2 * number + 2, trade, "sell", closed, close_rate, trade.amount)
        trade.orders.append(exit_)
        trade.exit_reason = EXIT_REASONS[int(rng.integers(len(EXIT_REASONS)))]
        exit_.close_bt_order(closed, trade)
        trade.close_date = closed
        trade.close(close_rate, show_msg=False)
        trades.append(trade)
    # Backtesting lists trades in the order they closed (then opened, for one candle).
    trades.sort(key=lambda t: (t.close_date, t.open_date))
    frame = trade_list_to_dataframe(trades)
    if case["shorts"] and len(frame):
        # Only the direction's label matters to the statistics.
        frame["is_short"] = rng.random(len(frame)) < 0.4
    return frame


def make_case(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    timeframe = str(rng.choice(list(TIMEFRAMES)))
    minutes = TIMEFRAMES[timeframe]
    pair_count = int(rng.integers(1, len(PAIRS) + 1))
    pairs = PAIRS[:pair_count]
    traded = pairs[: int(rng.integers(1, pair_count + 1))]
    start = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 2000)))
    start = start.replace(minute=0)
    # Candles in which trades open: up to ~2 months (each day costs a breakdown row).
    span = min(int(rng.choice([1, 3, 20, 300, 3000])), 60 * 1440 // minutes)
    longest = int(rng.choice([1, 2, 10, 100]))  # few -> many trades close on one candle
    end = start + timedelta(minutes=minutes) * int(span + longest + rng.integers(0, 50))
    count = int(rng.choice([0, 1, 2, 3, 5, 8, 20, 60, 200]))
    case: dict[str, Any] = {
        "seed": seed,
        "timeframe": timeframe,
        "minutes": minutes,
        "pairs": pairs,
        "traded": traded,
        "start": start,
        "end": end,
        "span": span,
        "longest": longest,
        "count": count,
        "fee": float(rng.choice([0.0, 0.001, 0.0025])),
        "draws": float(rng.choice([0.0, 0.3])),
        "volatility": float(rng.choice([0.001, 0.02, 0.2])),
        "shorts": bool(rng.random() < 0.2),
        "starting_balance": float(rng.choice([50, 1000, 10_000, rng.uniform(10, 1e6)])),
        "stake_currency": str(rng.choice(["USDT", "BTC", "ETH", "EUR"])),
        "max_open_trades": [1, 3, 5, 100, -1][int(rng.integers(5))],
        "market_change": float(rng.normal(0, 0.3)),
        "rejected_signals": int(rng.integers(0, 20)),
    }
    if rng.random() < 0.1:  # a start == end range (no days at all)
        case["end"] = case["start"]
    case["trades"] = freqtrade_trades(rng, case)
    return case


def freqtrade_config(case: dict[str, Any]) -> dict[str, Any]:
    rng = np.random.default_rng([case["seed"], 1])
    return {
        "max_open_trades": (
            float("inf") if case["max_open_trades"] == -1 else case["max_open_trades"]
        ),
        "dry_run_wallet": case["starting_balance"],
        "stake_currency": case["stake_currency"],
        "stake_amount": "unlimited" if rng.random() < 0.5 else 100,
        "timeframe": case["timeframe"],
        "timerange": "" if rng.random() < 0.5 else "20200101-",
        "stoploss": float(rng.choice([-0.1, -0.05, -0.99])),
        "trailing_stop": bool(rng.random() < 0.5),
        "trailing_stop_positive": None if rng.random() < 0.5 else 0.01,
        "trailing_stop_positive_offset": float(rng.choice([0.0, 0.02])),
        "trailing_only_offset_is_reached": bool(rng.random() < 0.5),
        "use_custom_stoploss": bool(rng.random() < 0.5),
        "minimal_roi": {"0": 0.1, "30": 0.05} if rng.random() < 0.5 else {"0": 10},
        "use_exit_signal": bool(rng.random() < 0.5),
        "exit_profit_only": bool(rng.random() < 0.5),
        "exit_profit_offset": float(rng.choice([0.0, 0.01])),
        "ignore_roi_if_entry_signal": bool(rng.random() < 0.5),
        "trading_mode": "spot",
        "margin_mode": "",
    }


def freqtrade_stats(case: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    results = case["trades"].copy()
    content = {
        "results": results,
        "config": config,
        "locks": [],
        "rejected_signals": case["rejected_signals"],
        "timedout_entry_orders": 0,
        "timedout_exit_orders": 0,
        "canceled_trade_entries": 0,
        "canceled_entry_orders": 0,
        "replaced_entry_orders": 0,
        "final_balance": final_balance(case),
        "backtest_start_time": 0,
        "backtest_end_time": 0,
    }
    return generate_strategy_stats(
        case["pairs"], "Strategy", content, case["start"], case["end"], case["market_change"]
    )


def final_balance(case: dict[str, Any]) -> float:
    """What Freqtrade's wallet holds at the end: the start plus every closed trade's profit."""
    return case["starting_balance"] + sum(float(p) for p in case["trades"]["profit_abs"])


def our_stats(case: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    metrics = compute_metrics(
        case["trades"].copy(),
        starting_balance=case["starting_balance"],
        stake_currency=case["stake_currency"],
        start=case["start"],
        end=case["end"],
        market_change=case["market_change"],
        max_open_trades=case["max_open_trades"],
        pairs=case["pairs"],
        final_balance=final_balance(case),
        rejected_signals=case["rejected_signals"],
    )
    settings = {**config, "max_open_trades": case["max_open_trades"]}
    return {**metrics, **our_settings_metrics(settings, strategy_name="Strategy")}


def assert_same(ours: Any, theirs: Any, path: str) -> None:
    """Equal as Freqtrade's values: numbers to 1e-12 relative, everything else exactly."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        assert list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list | tuple):
        assert isinstance(ours, list | tuple), f"{path}: {ours!r} is not a sequence"
        assert type(ours) is type(theirs), f"{path}: {type(ours)} != {type(theirs)}"
        assert len(ours) == len(theirs), f"{path}: {len(ours)} != {len(theirs)} items"
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(mine, other, f"{path}[{index}]")
    elif isinstance(theirs, bool | np.bool_) or theirs is None or isinstance(theirs, str):
        assert ours == theirs and type(ours) is type(theirs), f"{path}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, datetime | timedelta | pd.Timestamp | pd.Timedelta):
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
        assert isinstance(ours, type(theirs)), f"{path}: {type(ours)} != {type(theirs)}"
    elif isinstance(theirs, int | np.integer):
        assert isinstance(ours, int | np.integer), f"{path}: {ours!r} != {theirs!r}"
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, float | np.floating):
        assert isinstance(ours, float | int | np.number), f"{path}: {ours!r} != {theirs!r}"
        rel = P_VALUE_REL if path.endswith("p_value") else REL
        if path.endswith("p_value") and abs(theirs) < TINY_P and abs(ours) < TINY_P:
            return  # scipy flushes some tails below ~1e-308 to 0, not all: no test of those
        if math.isnan(theirs):
            assert math.isnan(ours), f"{path}: {ours!r} != nan"
        elif math.isinf(theirs) or theirs == 0:
            assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
        else:
            assert math.isclose(ours, theirs, rel_tol=rel, abs_tol=0), (
                f"{path}: {ours!r} != {theirs!r} (rel {abs(ours - theirs) / abs(theirs):.2e})"
            )
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


# Ours may return an int 0 where Freqtrade's sum of an empty frame is 0.0 and the reverse; a
# value of a different numeric type but equal value is the same number in the JSON file.
@pytest.mark.parametrize("seed", range(CASES))
def test_strategy_stats_match_freqtrade(seed: int) -> None:
    case = make_case(seed)
    config = freqtrade_config(case)
    theirs = freqtrade_stats(case, config)
    ours = our_stats(case, config)
    missing = set(theirs) - set(ours) - NOT_OURS
    assert not missing, f"seed {seed}: Freqtrade's keys we do not produce: {sorted(missing)}"
    extra = set(ours) - set(theirs)
    assert not extra, f"seed {seed}: keys Freqtrade does not have: {sorted(extra)}"
    for key in ours:
        assert_same(ours[key], theirs[key], f"seed {seed}: {key}")


def test_cases_cover_the_edges() -> None:
    """The generated cases include what makes the statistics branch."""
    seen: dict[str, int] = {"empty": 0, "single": 0, "ties": 0, "draws": 0, "zero_days": 0}
    for seed in range(min(CASES, 300)):
        case = make_case(seed)
        trades = case["trades"]
        seen["empty"] += len(trades) == 0
        seen["single"] += len(trades) == 1
        seen["ties"] += bool(trades["close_date"].duplicated().any()) if len(trades) else 0
        seen["draws"] += bool((trades["profit_abs"] == 0).any()) if len(trades) else 0
        seen["zero_days"] += case["start"] == case["end"]
    assert all(seen.values()), seen


@pytest.mark.parametrize("seed", range(CASES // 4))
def test_market_change_matches_freqtrade(seed: int) -> None:
    rng = np.random.default_rng([seed, 7])
    start = pd.Timestamp("2024-01-01", tz="UTC")
    frames = {}
    for pair in PAIRS[: int(rng.integers(1, 6))]:
        rows = int(rng.integers(1, 60))
        close = rng.uniform(1, 100, rows)
        close[rng.random(rows) < 0.2] = np.nan
        close[0] = rng.uniform(1, 100)  # Freqtrade fails on a pair without a first close
        close[-1] = rng.uniform(1, 100)
        frames[pair] = pd.DataFrame(
            {"date": pd.date_range(start, periods=rows, freq="5min"), "close": close}
        )
    min_date = (
        None if rng.random() < 0.5 else start + pd.Timedelta(minutes=5 * int(rng.integers(0, 70)))
    )
    if min_date is not None:
        # Freqtrade fails on a pair whose first close after min_date is NaN; keep those out.
        for frame in frames.values():
            frame.loc[frame["date"] >= min_date, "close"] = frame.loc[
                frame["date"] >= min_date, "close"
            ].fillna(1.5)
    theirs = calculate_market_change(frames, "close", min_date=min_date)
    ours = market_change(frames, min_date=min_date)
    assert_same(ours, theirs, f"seed {seed}: market_change")


# --- whole backtests by Freqtrade's Backtesting (offline: markets made here, fee in the config)

STRATEGY_SOURCE = '''
from freqtrade.strategy import IStrategy


class Precomputed(IStrategy):
    """The test's frames carry their signals already."""

    timeframe = "5m"
    minimal_roi = {"0": 10}
    stoploss = -0.99
    startup_candle_count = 0

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe
'''
BACKTESTS = max(CASES // 5, 20)


def _spot_market(pair: str) -> dict[str, Any]:
    base, quote = pair.split("/")
    limits = {"min": None, "max": None}
    return {
        "id": base + quote,
        "symbol": pair,
        "base": base,
        "quote": quote,
        "active": True,
        "spot": True,
        "type": "spot",
        "swap": False,
        "future": False,
        "option": False,
        "margin": False,
        "contract": False,
        "linear": None,
        "inverse": None,
        "contractSize": None,
        "precision": {"amount": None, "price": None},
        "limits": {"amount": limits, "cost": limits, "price": limits, "leverage": limits},
        "info": {},
    }


@pytest.fixture(scope="module")
def strategy_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("strategy")
    (directory / "precomputed.py").write_text(STRATEGY_SOURCE)
    (directory / "user_data" / "data").mkdir(parents=True)
    return directory


def backtest_case(seed: int, directory: Any) -> dict[str, Any]:
    from freqtrade.enums import RunMode

    rng = np.random.default_rng([seed, 11])
    timeframe = str(rng.choice(["5m", "1h"]))
    pairs = PAIRS[: int(rng.integers(1, 6))]
    rows = int(rng.choice([30, 200, 800]))
    start = pd.Timestamp("2025-03-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(0, 300)))
    frames = {}
    for pair in pairs:
        close = 100 * np.exp(np.cumsum(rng.normal(0, float(rng.choice([0.003, 0.02])), rows)))
        open_ = np.concatenate([[100.0], close[:-1]])
        wick = np.abs(rng.normal(0, 0.004, rows))
        frames[pair] = pd.DataFrame(
            {
                "date": pd.date_range(start, periods=rows, freq=pd.Timedelta(timeframe)),
                "open": open_,
                "high": np.maximum(open_, close) * (1 + wick),
                "low": np.minimum(open_, close) * (1 - wick),
                "close": close,
                "volume": rng.uniform(1, 100, rows),
                "enter_long": (rng.random(rows) < float(rng.choice([0.03, 0.2]))).astype(int),
                "exit_long": (rng.random(rows) < 0.05).astype(int),
                "enter_tag": rng.choice(["", "a", "b"], rows) if rng.random() < 0.5 else "",
            }
        )
    roi = {"0": float(rng.choice([0.01, 0.03, 0.1, 10]))}
    if rng.random() < 0.5:
        roi[str(int(rng.integers(10, 200)))] = float(rng.choice([0.0, 0.005]))
    stake = "unlimited" if rng.random() < 0.4 else float(rng.choice([20, 100, 333.3]))
    config = {
        "runmode": RunMode.BACKTEST,
        "dry_run": True,
        "strategy": "Precomputed",
        "strategy_path": str(directory),
        "user_data_dir": directory / "user_data",
        "datadir": directory / "user_data" / "data",
        "exportdirectory": directory,
        "export": "none",
        "stake_currency": "USDT",
        "stake_amount": stake,
        "tradable_balance_ratio": float(rng.choice([1.0, 0.99])),
        "dry_run_wallet": float(rng.choice([1000, 2500.5])),
        "max_open_trades": [1, 2, 3, 5, -1][int(rng.integers(5))],
        "timeframe": timeframe,
        "fee": float(rng.choice([0.0, 0.001, 0.0025])),
        "minimal_roi": roi,
        "stoploss": float(rng.choice([-0.02, -0.05, -0.3])),
        "trailing_stop": bool(rng.random() < 0.3),
        "trailing_stop_positive": 0.01 if rng.random() < 0.5 else None,
        "trailing_stop_positive_offset": float(rng.choice([0.0, 0.02])),
        "trailing_only_offset_is_reached": bool(rng.random() < 0.5),
        "use_exit_signal": bool(rng.random() < 0.7),
        "exit_profit_only": bool(rng.random() < 0.2),
        "exit_profit_offset": 0.0,
        "ignore_roi_if_entry_signal": bool(rng.random() < 0.2),
        "exchange": {"name": "binance", "pair_whitelist": pairs, "pair_blacklist": []},
        "pairlists": [{"method": "StaticPairList"}],
        "entry_pricing": {"price_side": "same"},
        "exit_pricing": {"price_side": "same"},
        "trading_mode": "spot",
        "margin_mode": "",
        "candle_type_def": "spot",
        "original_config": {},
    }
    if config["trailing_only_offset_is_reached"]:  # Freqtrade wants both set then
        config["trailing_stop_positive"] = 0.01
        config["trailing_stop_positive_offset"] = 0.02
    if config["trailing_stop_positive"] is None:
        del config["trailing_stop_positive"]
    if config["max_open_trades"] == -1:
        config["max_open_trades"] = float("inf")
        if stake == "unlimited":  # Freqtrade refuses both unlimited
            config["stake_amount"] = 100.0
    return {"frames": frames, "config": config, "pairs": pairs}


def run_freqtrade_backtest(case: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
    from freqtrade.exchange import Exchange
    from freqtrade.optimize.backtesting import Backtesting
    from freqtrade.optimize.optimize_reports import generate_backtest_stats

    config = case["config"]
    exchange = Exchange(config, validate=False, load_leverage_tiers=False)
    exchange._markets = {pair: _spot_market(pair) for pair in case["pairs"]}
    backtesting = Backtesting(config, exchange)
    strategy = backtesting.strategylist[0]
    backtesting._set_strategy(strategy)
    analyzed = strategy.advise_all_indicators({p: f.copy() for p, f in case["frames"].items()})
    start = case["frames"][case["pairs"][0]]["date"].iloc[0].to_pydatetime()
    end = case["frames"][case["pairs"][0]]["date"].iloc[-1].to_pydatetime()
    content = backtesting.backtest(processed=analyzed, start_date=start, end_date=end)
    content.update({"run_id": "x", "backtest_start_time": 0, "backtest_end_time": 0})
    stats = generate_backtest_stats(
        {p: f.copy() for p, f in case["frames"].items()}, {"Precomputed": content}, start, end
    )
    return stats["strategy"]["Precomputed"], content, (start, end)


@pytest.mark.parametrize("seed", range(BACKTESTS))
def test_backtests_statistics_match_freqtrade(seed: int, strategy_dir: Any) -> None:
    from producerconsumer.backtest.metrics import wallet_history

    case = backtest_case(seed, strategy_dir)
    theirs, content, (start, end) = run_freqtrade_backtest(case)
    trades = content["results"]
    config = case["config"]
    wallet = wallet_history(
        trades,
        case["frames"],
        starting_balance=config["dry_run_wallet"],
        stake_currency="USDT",
        start=start,
        end=end,
        timeframe=config["timeframe"],
        pairs=case["pairs"],
    )
    # (Freqtrade's statistics added a total_quote column to its frame.)
    expected_wallet = content["wallet_summary"].reindex(columns=list(wallet.columns))
    if len(expected_wallet):
        pd.testing.assert_frame_equal(
            wallet, expected_wallet, check_dtype=False, check_exact=True, obj=f"seed {seed} wallet"
        )
    ours = compute_metrics(
        trades.copy(),
        starting_balance=config["dry_run_wallet"],
        stake_currency="USDT",
        start=start,
        end=end,
        market_change=market_change(case["frames"], min_date=start),
        max_open_trades=-1
        if config["max_open_trades"] == float("inf")
        else config["max_open_trades"],
        pairs=case["pairs"],
        final_balance=content["final_balance"],
        rejected_signals=content["rejected_signals"],
        wallet=wallet,
    )
    ours.update(our_settings_metrics(config, strategy_name="Precomputed"))
    pd.testing.assert_frame_equal(
        market_change_frame(case["frames"], start, end),
        combined_dataframes_with_rel_mean(case["frames"], start, end),
        check_exact=True,
        obj=f"seed {seed} market change series",
    )
    missing = set(theirs) - set(ours) - (NOT_OURS - {"wallet_stats"})
    assert not missing, f"seed {seed}: Freqtrade's keys we do not produce: {sorted(missing)}"
    for key in ours:
        assert_same(ours[key], theirs[key], f"seed {seed} ({len(trades)} trades): {key}")
