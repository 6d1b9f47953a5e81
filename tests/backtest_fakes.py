"""A small, hand-made backtest result for the report / export / plot tests: Freqtrade's results
columns and dtypes, trades whose numbers are easy to check by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from producerconsumer.backtest.metrics import compute_metrics, market_change

START = datetime(2026, 1, 1, tzinfo=UTC)
FEE = 0.001


def trade(
    pair: str,
    opened: str,
    closed: str,
    open_rate: float,
    close_rate: float,
    exit_reason: str = "roi",
    stake: float = 100.0,
    enter_tag: str | None = None,
) -> dict[str, Any]:
    """One closed spot trade, with Freqtrade's profit formula (fees on both sides)."""
    open_date = pd.Timestamp(opened, tz="UTC")
    close_date = pd.Timestamp(closed, tz="UTC")
    amount = round(stake / open_rate, 8)
    open_value = amount * open_rate * (1 + FEE)
    close_value = amount * close_rate * (1 - FEE)
    profit_abs = close_value - open_value
    return {
        "pair": pair,
        "stake_amount": stake,
        "max_stake_amount": stake,
        "amount": amount,
        "open_date": open_date,
        "close_date": close_date,
        "open_rate": open_rate,
        "close_rate": close_rate,
        "fee_open": FEE,
        "fee_close": FEE,
        "trade_duration": int((close_date - open_date).total_seconds() // 60),
        "profit_ratio": profit_abs / open_value,
        "profit_abs": profit_abs,
        "exit_reason": exit_reason,
        "initial_stop_loss_abs": open_rate * 0.9,
        "initial_stop_loss_ratio": -0.1,
        "stop_loss_abs": open_rate * 0.9,
        "stop_loss_ratio": -0.1,
        "min_rate": min(open_rate, close_rate),
        "max_rate": max(open_rate, close_rate),
        "is_open": False,
        "enter_tag": enter_tag,
        "leverage": 1.0,
        "is_short": False,
        "open_timestamp": int(open_date.timestamp() * 1000),
        "close_timestamp": int(close_date.timestamp() * 1000),
        "orders": [
            {"amount": amount, "ft_order_side": "buy", "ft_is_entry": True, "cost": open_value},
            {"amount": amount, "ft_order_side": "sell", "ft_is_entry": False, "cost": close_value},
        ],
        "funding_fees": 0.0,
    }


def trades_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows)
    for column in ("open_date", "close_date"):
        frame[column] = frame[column].astype("datetime64[us, UTC]")
    return frame


def candles(pair: str, rows: int = 48, seed: int = 0) -> pd.DataFrame:
    """Hourly analyzed candles from ``START`` with an indicator and 1/NaN signals."""
    rng = np.random.default_rng([seed, *pair.encode()])
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.004, rows)) * close
    return pd.DataFrame(
        {
            "date": pd.date_range(START, periods=rows, freq="1h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(1, 50, rows),
            "ema": pd.Series(close).ewm(span=5).mean().to_numpy(),
            "rsi": rng.uniform(0, 100, rows),
            "enter_long": np.where(rng.random(rows) < 0.1, 1.0, np.nan),
            "exit_long": np.where(rng.random(rows) < 0.1, 1.0, np.nan),
        }
    )


SETTINGS: dict[str, Any] = {
    "stake_currency": "USDT",
    "dry_run_wallet": 1000.0,
    "stake_amount": 100.0,
    "max_open_trades": 3,
    "timeframe": "1h",
    "minimal_roi": {"0": 0.05},
    "stoploss": -0.1,
    "trailing_stop": False,
    "fee": FEE,
}


@dataclass
class FakeResult:
    """Has what ``BacktestResultLike`` asks for."""

    trades: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    settings: dict[str, Any] = field(default_factory=lambda: dict(SETTINGS))
    errors: dict[str, str] = field(default_factory=dict)
    strategy_name: str = "SampleConsumer"
    start: datetime = START
    end: datetime = START + pd.Timedelta(hours=47)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.metrics:
            self.metrics = compute_metrics(
                self.trades,
                starting_balance=self.settings["dry_run_wallet"],
                stake_currency=self.settings["stake_currency"],
                start=self.start,
                end=self.end,
                market_change=market_change(self.frames),
                max_open_trades=self.settings["max_open_trades"],
                pairs=list(self.frames),
            )


def sample_result(errors: dict[str, str] | None = None) -> FakeResult:
    """Three trades on two pairs (a ROI win, a stop-loss, a forced exit) and a failed pair."""
    rows = [
        trade("BTC/USDT", "2026-01-01 02:00", "2026-01-01 05:00", 100.0, 106.0, "roi", 100, "a"),
        trade("ETH/USDT", "2026-01-01 03:00", "2026-01-01 09:00", 50.0, 45.0, "stop_loss", 100),
        trade("BTC/USDT", "2026-01-02 10:00", "2026-01-02 23:00", 104.0, 105.0, "force_exit", 100),
    ]
    frames = {pair: candles(pair) for pair in ("BTC/USDT", "ETH/USDT")}
    return FakeResult(
        trades=trades_frame(rows),
        frames=frames,
        errors=errors if errors is not None else {"XRP/USDT": "NaN close on candle 2026-01-01"},
    )
