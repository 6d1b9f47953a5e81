"""A stand-in for the backtest engine at the hyperopt seam (``objective(settings) -> result``).

A test double of the backtest boundary only: the study, the samplers, the storage, Dask and the
losses are the real ones. Its trades are a deterministic function of the trial's parameters,
with a known optimum (``buy_rsi == 37``, ``sell_fast`` True), so tests can check that a study
finds it. Module-level and picklable, so Dask worker processes can run it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from producerconsumer.hyperopt import TrialSettings
from producerconsumer.strategy import (
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    IStrategy,
    RealParameter,
)

START = pd.Timestamp("2026-11-01", tz="UTC")
END = pd.Timestamp("2026-11-21", tz="UTC")
PAIRS = ("BTC/USDT", "ETH/USDT")


class StandInStrategy(IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 0.1, "30": 0.02}  # noqa: RUF012 - Freqtrade's class attribute
    stoploss = -0.08
    buy_rsi = IntParameter(30, 40, default=33, space="buy")
    buy_ma = CategoricalParameter(["sma", "ema"], default="ema", space="buy", optimize=False)
    sell_fast = BooleanParameter(default=False, space="sell")
    sell_ratio = DecimalParameter(0.1, 0.5, default=0.3, decimals=2, load=True)
    other_level = RealParameter(0.0, 1.0, default=0.5, space="other")


@dataclass
class StandInResult:
    trades: pd.DataFrame
    metrics: dict[str, Any]
    start: pd.Timestamp
    end: pd.Timestamp
    settings: dict[str, Any]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    settings_given: TrialSettings | None = None


class StandInBacktest:
    """``__call__(settings)``: trades whose profit peaks at ``buy_rsi == 37`` and ``sell_fast``.

    ``fail_on``: parameter values (``{"buy_rsi": 35}``) for which it raises ``RuntimeError``.
    ``interrupt_after``: raise ``KeyboardInterrupt`` on that call (1-based).
    ``trades_for``: ``{buy_rsi: number of trades}`` overrides (default 4).
    """

    def __init__(
        self,
        fail_on: Mapping[str, Any] | None = None,
        interrupt_after: int | None = None,
        trades_for: Mapping[int, int] | None = None,
        wallet: Any = 1000.0,
    ) -> None:
        self.fail_on = dict(fail_on or {})
        self.interrupt_after = interrupt_after
        self.trades_for = dict(trades_for or {})
        self.wallet = wallet
        self.calls: list[TrialSettings] = []

    def __call__(self, settings: TrialSettings) -> StandInResult:
        self.calls.append(settings)
        if self.interrupt_after is not None and len(self.calls) >= self.interrupt_after:
            raise KeyboardInterrupt
        params = settings.params
        if self.fail_on and all(params.get(k) == v for k, v in self.fail_on.items()):
            raise RuntimeError(f"strategy failed on {self.fail_on}")
        rsi = params.get("buy_rsi", StandInStrategy.buy_rsi.value)
        fast = params.get("sell_fast", False)
        count = self.trades_for.get(rsi, 4)
        profit = 10.0 - abs(rsi - 37) + (2.0 if fast else 0.0)
        closes = [START + pd.Timedelta(days=1 + 2 * i) for i in range(count)]
        trades = pd.DataFrame(
            {
                "pair": [PAIRS[i % 2] for i in range(count)],
                "open_date": [c - pd.Timedelta(hours=3) for c in closes],
                "close_date": closes,
                "profit_abs": [profit * (1 if i % 3 else -0.5) for i in range(count)],
                "profit_ratio": [profit / 100 * (1 if i % 3 else -0.5) for i in range(count)],
                "trade_duration": np.full(count, 180),
                "is_open": np.zeros(count, dtype=bool),
            }
        )
        total = float(trades["profit_abs"].sum())
        return StandInResult(
            trades=trades,
            metrics={
                "total_trades": count,
                "profit_total_abs": total,
                "profit_total": total / 1000,
                "backtest_start": START,
                "results_per_day": [1, 2],  # not scalar: not stored
            },
            start=START,
            end=END,
            settings={
                "dry_run_wallet": self.wallet,
                "stake_currency": "USDT",
                "max_open_trades": 3,
                "minimal_roi": settings.overrides.get("minimal_roi", {"0": 0.1, "30": 0.02}),
                "stoploss": settings.overrides.get("stoploss", -0.08),
                "trailing_stop": settings.overrides.get("trailing_stop", False),
                "trailing_stop_positive": settings.overrides.get("trailing_stop_positive"),
                "trailing_stop_positive_offset": settings.overrides.get(
                    "trailing_stop_positive_offset", 0.0
                ),
                "trailing_only_offset_is_reached": settings.overrides.get(
                    "trailing_only_offset_is_reached", False
                ),
            },
            frames={pair: pd.DataFrame() for pair in PAIRS},
            settings_given=settings,
        )
