"""Hyperopt loss functions with Freqtrade 2026.9's names and values.

Each loss is a class with Freqtrade's name and a static ``hyperopt_loss_function`` taking
Freqtrade's keyword arguments (``results``, ``trade_count``, ``min_date``, ``max_date``,
``config``, ``processed``, ``backtest_stats``, ``starting_balance``); smaller is better. The values
equal Freqtrade's classes on the same inputs (checked against Freqtrade itself in
``tests/interop/oracle_tests/test_hyperopt_parity.py``), including their edge cases: ``-100`` or
``-20`` for a ratio whose deviation is zero, ``inf`` where Freqtrade divides by a zero drawdown.

:func:`resolve_loss` turns a name, a Freqtrade-style loss class (ours or a user's) or a plain
callable into a :data:`LossFunction`::

    loss = resolve_loss("SharpeHyperOptLoss")
    loss(results=trades, trade_count=len(trades), min_date=start, max_date=end,
         config={}, processed={}, backtest_stats={}, starting_balance=1000)
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import numpy as np
import pandas as pd

__all__ = [
    "LOSSES",
    "CalmarHyperOptLoss",
    "DefaultHyperOptLoss",
    "LossFunction",
    "MaxDrawDownHyperOptLoss",
    "MaxDrawDownPerPairHyperOptLoss",
    "MaxDrawDownRelativeHyperOptLoss",
    "MultiMetricHyperOptLoss",
    "OnlyProfitHyperOptLoss",
    "ProfitDrawDownHyperOptLoss",
    "SharpeHyperOptLoss",
    "SharpeHyperOptLossDaily",
    "ShortTradeDurHyperOptLoss",
    "SortinoHyperOptLoss",
    "SortinoHyperOptLossDaily",
    "resolve_loss",
]

LossFunction = Callable[..., float]
"""Called with Freqtrade's keyword arguments (see the module docstring); returns the loss."""

_DAYS_PER_YEAR = 365
_SLIPPAGE_PER_TRADE = 0.0005  # the *Daily losses subtract it from every trade's profit_ratio
_NO_DEVIATION_RATIO = -100.0  # Freqtrade's ratio when the deviation is 0 or undefined
_NO_DEVIATION_RATIO_DAILY = -20.0


# --- building blocks (Freqtrade's freqtrade.data.metrics semantics) ---------------------------


def _drawdown_table(
    trades: pd.DataFrame, starting_balance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(drawdown, relative drawdown, cumulative profit)`` after each trade in close-date order,
    each with a leading 0 (the state before the first trade). Raises ``ValueError`` if empty."""
    if len(trades) == 0:
        raise ValueError("no trades")
    # The same (non-stable) sort as Freqtrade: trades closing together keep its order.
    ordered = trades.sort_values("close_date").reset_index(drop=True)
    cumulative = ordered["profit_abs"].cumsum().to_numpy(dtype=float)
    peak = np.maximum(0, np.maximum.accumulate(cumulative))
    drawdown = cumulative - peak
    with np.errstate(divide="ignore", invalid="ignore"):
        if starting_balance:
            peak_balance = starting_balance + peak
            relative = (peak_balance - (starting_balance + cumulative)) / peak_balance
        else:  # without a balance, relative to the peak profit (Freqtrade's approximation)
            relative = (peak - cumulative) / peak
    zero = np.zeros(1)
    return (
        np.concatenate([zero, drawdown]),
        np.concatenate([zero, relative]),
        np.concatenate([zero, cumulative]),
    )


def _max_drawdown(trades: pd.DataFrame, starting_balance: float = 0.0) -> tuple[float, float]:
    """``(absolute max drawdown, relative account drawdown at that point)``; ValueError if no
    trades. The deepest absolute drawdown wins; its first occurrence on ties."""
    drawdown, relative, _ = _drawdown_table(trades, starting_balance)
    deepest = int(np.argmin(drawdown))
    return abs(drawdown[deepest]), relative[deepest]


def _period_days(min_date: datetime, max_date: datetime) -> int:
    return max(1, (max_date - min_date).days)


def _no_period(trades: pd.DataFrame, min_date: datetime | None, max_date: datetime | None) -> bool:
    return len(trades) == 0 or min_date is None or max_date is None or min_date == max_date


def _annualised(mean: float, deviation: float) -> float:
    if deviation != 0 and not np.isnan(deviation):
        return float(mean / deviation * np.sqrt(_DAYS_PER_YEAR))
    return _NO_DEVIATION_RATIO


def sharpe_ratio(
    trades: pd.DataFrame, min_date: datetime | None, max_date: datetime | None, balance: float
) -> float:
    """Daily mean of ``profit_abs / balance`` over the period over the per-trade deviation
    (ddof 0), annualised; 0 without trades or period."""
    if _no_period(trades, min_date, max_date):
        return 0
    returns = trades["profit_abs"] / balance
    assert min_date is not None and max_date is not None
    mean = returns.sum() / _period_days(min_date, max_date)
    return _annualised(mean, np.std(returns))


def sortino_ratio(
    trades: pd.DataFrame, min_date: datetime | None, max_date: datetime | None, balance: float
) -> float:
    """As :func:`sharpe_ratio` with the deviation of the losing trades only."""
    if _no_period(trades, min_date, max_date):
        return 0
    assert min_date is not None and max_date is not None
    mean = (trades["profit_abs"] / balance).sum() / _period_days(min_date, max_date)
    losing = trades.loc[trades["profit_abs"] < 0, "profit_abs"] / balance
    return _annualised(mean, np.std(losing))


def calmar_ratio(
    trades: pd.DataFrame, min_date: datetime | None, max_date: datetime | None, balance: float
) -> float:
    """Daily mean return in percent over the relative account drawdown, annualised."""
    if _no_period(trades, min_date, max_date):
        return 0.0
    assert min_date is not None and max_date is not None
    total = trades["profit_abs"].sum() / balance
    mean = total / _period_days(min_date, max_date) * 100
    _, relative = _max_drawdown(trades, balance)
    return _annualised(mean, relative)


def _daily_returns(results: pd.DataFrame, min_date: datetime, max_date: datetime) -> pd.Series:
    """Per calendar day from ``min_date`` to ``max_date``: the summed ``profit_ratio`` after
    slippage of the trades closed that day (0 for days without trades)."""
    after_slippage = pd.DataFrame(
        {
            "close_date": results["close_date"],
            "ratio": results["profit_ratio"] - _SLIPPAGE_PER_TRADE,
        }
    )
    days = pd.date_range(start=min_date, end=max_date, freq="1D", normalize=True)
    per_day = after_slippage.resample("1D", on="close_date").agg({"ratio": "sum"})
    return per_day.reindex(days).fillna(0)["ratio"]


def _expectancy_ratio(results: pd.DataFrame) -> float:
    if len(results) == 0:
        return 100.0
    profit = results["profit_abs"]
    won, lost = profit[profit > 0], profit[profit < 0]
    average_win = won.sum() / len(won) if len(won) else 0
    average_loss = abs(lost.sum()) / len(lost) if len(lost) else 0
    if not average_loss > 0:
        return 100.0
    win_rate = len(won) / len(results)
    return ((1 + average_win / average_loss) * win_rate) - 1


# --- the losses ---------------------------------------------------------------------------


class _Loss:
    """Freqtrade's interface: a static ``hyperopt_loss_function(**kwargs) -> float``."""

    hyperopt_loss_function: ClassVar[LossFunction]


class OnlyProfitHyperOptLoss(_Loss):
    """Minus the total absolute profit."""

    @staticmethod
    def hyperopt_loss_function(results: pd.DataFrame, **kwargs: Any) -> float:
        return -1 * results["profit_abs"].sum()


class SharpeHyperOptLoss(_Loss):
    """Minus the Sharpe ratio of the trades (Freqtrade's backtest-report Sharpe)."""

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame,
        min_date: datetime,
        max_date: datetime,
        starting_balance: float,
        **kwargs: Any,
    ) -> float:
        return -sharpe_ratio(results, min_date, max_date, starting_balance)


class SortinoHyperOptLoss(_Loss):
    """Minus the Sortino ratio of the trades."""

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame,
        min_date: datetime,
        max_date: datetime,
        starting_balance: float,
        **kwargs: Any,
    ) -> float:
        return -sortino_ratio(results, min_date, max_date, starting_balance)


class CalmarHyperOptLoss(_Loss):
    """Minus the Calmar ratio of the trades."""

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame,
        min_date: datetime,
        max_date: datetime,
        starting_balance: float,
        **kwargs: Any,
    ) -> float:
        return -calmar_ratio(results, min_date, max_date, starting_balance)


class SharpeHyperOptLossDaily(_Loss):
    """Minus the annualised Sharpe ratio of daily summed ``profit_ratio`` (after 0.05%
    slippage per trade; sample deviation); -20 ratio if the deviation is 0."""

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame, min_date: datetime, max_date: datetime, **kwargs: Any
    ) -> float:
        daily = _daily_returns(results, min_date, max_date)
        deviation = daily.std()
        if deviation != 0:
            ratio = daily.mean() / deviation * math.sqrt(_DAYS_PER_YEAR)
        else:
            ratio = _NO_DEVIATION_RATIO_DAILY
        return -ratio


class SortinoHyperOptLossDaily(_Loss):
    """As :class:`SharpeHyperOptLossDaily` with the downside deviation (root mean square of the
    losing days' returns, over all days)."""

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame, min_date: datetime, max_date: datetime, **kwargs: Any
    ) -> float:
        daily = _daily_returns(results, min_date, max_date)
        downside = daily.where(daily < 0, 0.0)
        deviation = math.sqrt((downside**2).sum() / len(downside))
        if deviation != 0:
            ratio = daily.mean() / deviation * math.sqrt(_DAYS_PER_YEAR)
        else:
            ratio = _NO_DEVIATION_RATIO_DAILY
        return -ratio


class MaxDrawDownHyperOptLoss(_Loss):
    """Minus total absolute profit over the absolute max drawdown (minus profit without
    trades; ``inf`` magnitude when the drawdown is 0, as in Freqtrade)."""

    @staticmethod
    def hyperopt_loss_function(results: pd.DataFrame, **kwargs: Any) -> float:
        total = results["profit_abs"].sum()
        try:
            drawdown, _ = _max_drawdown(results)
        except ValueError:
            return -total
        with np.errstate(divide="ignore", invalid="ignore"):
            return -total / drawdown


class MaxDrawDownRelativeHyperOptLoss(_Loss):
    """Minus total profit over the absolute max drawdown and the largest relative drawdown."""

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame, starting_balance: float, **kwargs: Any
    ) -> float:
        total = results["profit_abs"].sum()
        try:
            drawdown, relative, _ = _drawdown_table(results, starting_balance)
            deepest = abs(min(drawdown.tolist()))
            largest_relative = max(relative.tolist())
            if deepest == 0:
                return -total
            return -total / deepest / largest_relative
        except Exception:
            return -total


class ProfitDrawDownHyperOptLoss(_Loss):
    """Minus total profit reduced by 92.5% of the relative account drawdown's share of it."""

    DRAWDOWN_MULT = 0.075

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame, starting_balance: float, **kwargs: Any
    ) -> float:
        total = results["profit_abs"].sum()
        try:
            _, relative = _max_drawdown(results, starting_balance)
        except ValueError:
            relative = 0
        penalty = (relative * total) * (1 - ProfitDrawDownHyperOptLoss.DRAWDOWN_MULT)
        return -1 * (total - penalty)


class ShortTradeDurHyperOptLoss(_Loss):
    """Freqtrade's historical default: trade count near 600, total ``profit_ratio`` towards 3,
    short trades (a mean duration under 300 minutes)."""

    TARGET_TRADES = 600
    EXPECTED_MAX_PROFIT = 3.0
    MAX_ACCEPTED_TRADE_DURATION = 300

    @staticmethod
    def hyperopt_loss_function(results: pd.DataFrame, trade_count: int, **kwargs: Any) -> float:
        cls = ShortTradeDurHyperOptLoss
        total = results["profit_ratio"].sum()
        duration = results["trade_duration"].mean()
        trade_loss = 1 - 0.25 * math.exp(-((trade_count - cls.TARGET_TRADES) ** 2) / 10**5.8)
        profit_loss = max(0, 1 - total / cls.EXPECTED_MAX_PROFIT)
        duration_loss = 0.4 * min(duration / cls.MAX_ACCEPTED_TRADE_DURATION, 1)
        return trade_loss + profit_loss + duration_loss


class DefaultHyperOptLoss(ShortTradeDurHyperOptLoss):
    """Freqtrade's alias of :class:`ShortTradeDurHyperOptLoss`."""


class MultiMetricHyperOptLoss(_Loss):
    """Profit, drawdown, profit factor, expectancy ratio, win rate and trade count combined."""

    DRAWDOWN_MULT = 0.055
    TARGET_TRADE_AMOUNT = 50
    EXPECTANCY_CONST = 2.0
    PF_CONST = 1.0
    WINRATE_CONST = 1.2

    @staticmethod
    def hyperopt_loss_function(
        results: pd.DataFrame, trade_count: int, starting_balance: float, **kwargs: Any
    ) -> float:
        cls = MultiMetricHyperOptLoss
        profit = results["profit_abs"]
        total = profit.sum()
        won = profit[profit > 0].sum()
        lost = profit[profit < 0].sum()
        profit_factor = won / (abs(lost) + 1e-6)
        expectancy = _expectancy_ratio(results)
        win_rate = int((profit > 0).sum()) / len(results)
        try:
            _, relative = _max_drawdown(results, starting_balance)
        except ValueError:
            relative = 0
        count_factor = 1.0
        if trade_count < cls.TARGET_TRADE_AMOUNT:
            shortfall = abs(trade_count - cls.TARGET_TRADE_AMOUNT) / cls.TARGET_TRADE_AMOUNT
            count_factor = max(1 - shortfall, 0.1)
        profit_after_drawdown = total - (relative * total) * (1 - cls.DRAWDOWN_MULT)
        return -1 * (
            profit_after_drawdown
            * np.log(profit_factor + cls.PF_CONST)
            * np.log(min(10, expectancy) + cls.EXPECTANCY_CONST)
            * np.log(cls.WINRATE_CONST + win_rate)
            * count_factor
        )


class MaxDrawDownPerPairHyperOptLoss(_Loss):
    """Minus the worst pair's profit / drawdown score (a pair under 1 is penalised by 20).

    Reads ``backtest_stats["results_per_pair"]`` (Freqtrade's per-pair rows, ``TOTAL`` last)."""

    MIN_ACCEPTABLE_PROFIT_DD = 1.0
    PENALTY = 20

    @staticmethod
    def hyperopt_loss_function(backtest_stats: Mapping[str, Any], **kwargs: Any) -> float:
        cls = MaxDrawDownPerPairHyperOptLoss
        scores = []
        for row in backtest_stats["results_per_pair"]:
            if row["key"] == "TOTAL":
                continue
            profit = row.get("profit_total_abs", 0)
            drawdown = row.get("max_drawdown_abs", 0)
            score = profit / drawdown if drawdown != 0 and profit != 0 else profit
            if score < cls.MIN_ACCEPTABLE_PROFIT_DD:
                score = score - cls.PENALTY
            scores.append(score)
        return -min(scores)


def results_per_pair(
    results: pd.DataFrame, pairs: list[str], starting_balance: float
) -> list[dict[str, Any]]:
    """The per-pair rows :class:`MaxDrawDownPerPairHyperOptLoss` reads (``key``,
    ``profit_total_abs``, ``max_drawdown_abs``), for backtest results that lack them: every pair
    of ``pairs`` (also those without trades), then ``TOTAL``."""
    rows = []
    for key, trades in [(p, results[results["pair"] == p]) for p in pairs] + [("TOTAL", results)]:
        try:
            drawdown, _ = _max_drawdown(trades, starting_balance)
        except ValueError:
            drawdown = 0.0
        rows.append(
            {
                "key": key,
                "profit_total_abs": trades["profit_abs"].sum(),
                "max_drawdown_abs": drawdown,
            }
        )
    return rows


LOSSES: dict[str, type[_Loss]] = {
    cls.__name__: cls
    for cls in (
        ShortTradeDurHyperOptLoss,
        DefaultHyperOptLoss,
        OnlyProfitHyperOptLoss,
        SharpeHyperOptLoss,
        SharpeHyperOptLossDaily,
        SortinoHyperOptLoss,
        SortinoHyperOptLossDaily,
        CalmarHyperOptLoss,
        MaxDrawDownHyperOptLoss,
        MaxDrawDownRelativeHyperOptLoss,
        MaxDrawDownPerPairHyperOptLoss,
        ProfitDrawDownHyperOptLoss,
        MultiMetricHyperOptLoss,
    )
}
"""Freqtrade 2026.9's built-in losses by class name."""


def resolve_loss(loss: str | Callable[..., float] | type) -> LossFunction:
    """The loss function for a Freqtrade loss name, a class with a ``hyperopt_loss_function``
    (ours, Freqtrade's or your own), or a callable taking Freqtrade's keyword arguments
    (declare ``**kwargs`` to ignore the ones you do not use)."""
    if isinstance(loss, str):
        if loss in LOSSES:
            return LOSSES[loss].hyperopt_loss_function
        close = difflib.get_close_matches(loss, list(LOSSES), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown hyperopt loss {loss!r}.{hint} Known losses: {', '.join(sorted(LOSSES))}; "
            "or pass a callable taking Freqtrade's loss keyword arguments."
        )
    function = getattr(loss, "hyperopt_loss_function", None)
    if callable(function):
        return function
    if callable(loss) and not isinstance(loss, type):
        return loss
    raise TypeError(
        f"loss must be a loss name, a class with hyperopt_loss_function, or a callable; "
        f"got {loss!r}"
    )
