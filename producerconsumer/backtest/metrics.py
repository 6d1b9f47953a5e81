"""Freqtrade 2026.9's backtest statistics, computed from a trades frame: :func:`compute_metrics`.

The keys, values and types are those of the ``strategy`` entry Freqtrade stores in its backtest
result (``total_trades``, ``profit_total``, ``max_drawdown_account``, ``sharpe``, ...), so a
result can be compared with Freqtrade's, exported for ``freqtrade backtesting-show`` and read by
code written against Freqtrade's results. ``tests/interop/oracle_tests/test_metrics_parity.py``
checks them against Freqtrade's own functions, on generated trades and on whole backtests run
by Freqtrade's ``Backtesting``.

Written from Freqtrade's documented and observed behaviour (no code copied), including its
quirks, because "the same numbers as Freqtrade" is the point:

* the drawdown is computed on the trades sorted by ``close_date`` with pandas' default (not
  stable) sort, from a balance that starts with a zero row;
* sharpe / sortino / calmar are trade-based (not daily returns), annualised with ``sqrt(365)``,
  and ``-100`` when the deviation is zero;
* ``sqn`` is rounded to 4 digits; ``p_value`` is the two-sided one-sample t-test of the trade
  returns against 0 (``1.0`` below two trades or without variance);
* winning / losing trades are counted on ``profit_abs`` in the tables and on ``profit_ratio``
  in the holding-time and streak statistics (a draw ends a winning streak);
* tag tables group with pandas' defaults: trades without a tag are left out of them.

``wallet_stats`` (statistics of the balance at every candle) needs the candles too: pass
``wallet=wallet_history(trades, frames, ...)``. Not computed: ``locks`` (no protections) and
the run's wall-clock times (``backtest_run_start_ts`` / ``_end_ts``), which the caller knows.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ..timeframes import timeframe_to_timedelta

__all__ = [
    "DATETIME_PRINT_FORMAT",
    "Drawdown",
    "compute_metrics",
    "decimals_per_coin",
    "market_change",
    "max_drawdown",
    "periodic_breakdown",
    "settings_metrics",
    "student_t_two_sided_p",
    "wallet_history",
    "wallet_stats",
]

DATETIME_PRINT_FORMAT = "%Y-%m-%d %H:%M:%S"
# Freqtrade's display precision of a stake currency; every other currency gets 3 decimals.
_DECIMALS_PER_COIN = {"BTC": 8, "ETH": 5}
_DECIMALS_FALLBACK = 3
_BREAKDOWNS = ("day", "week", "month", "year", "weekday")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RESAMPLE = {"day": "1D", "week": "1W-MON", "month": "1ME", "year": "1YE"}
_ANNUALISATION = 365
_NOT_OPTIMAL = -100.0  # Freqtrade's value for a ratio whose denominator is 0 or NaN


def decimals_per_coin(currency: str) -> int:
    """How many decimals Freqtrade shows for an amount of ``currency``."""
    return _DECIMALS_PER_COIN.get(currency, _DECIMALS_FALLBACK)


def market_change(
    frames: Mapping[str, pd.DataFrame], column: str = "close", min_date: datetime | None = None
) -> float:
    """The mean over pairs of ``(last - first) / first`` of ``column`` (first and last non-NaN
    values, from ``min_date`` on when given), as Freqtrade reports "Market change". Pass the
    candles with ``min_date`` = the backtest's start (Freqtrade leaves the startup candles out
    this way). Pairs with no value in that range are left out (where Freqtrade fails on a pair
    whose closes there are all NaN); 0.0 when no pair has one."""
    changes: list[float] = []
    for frame in frames.values():
        if min_date is not None:
            frame = frame[frame["date"] >= min_date]
        values = frame[column].dropna() if column in frame else pd.Series(dtype=float)
        if values.empty:
            continue
        first, last = values.iloc[0], values.iloc[-1]
        changes.append((last - first) / first)
    return float(np.mean(changes)) if changes else 0.0


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The largest drawdown of the cumulative profit (see :func:`max_drawdown`)."""

    abs: float
    high_date: pd.Timestamp
    low_date: pd.Timestamp
    high_value: float
    low_value: float
    relative: float


def max_drawdown(
    trades: pd.DataFrame,
    *,
    starting_balance: float,
    relative: bool = False,
    date_col: str = "close_date",
    value_col: str = "profit_abs",
) -> Drawdown | None:
    """The largest fall of the cumulative ``profit_abs`` from its previous high, trades taken in
    ``close_date`` order, with a zero balance before the first trade. ``relative=True`` picks the
    largest fall relative to the balance at the high instead of the largest absolute one.
    ``None`` without trades."""
    if len(trades) == 0:
        return None
    ordered = trades.sort_values(date_col).reset_index(drop=True)
    cumulative = ordered[value_col].cumsum()
    high = np.maximum(0, cumulative.cummax())
    falls = cumulative - high
    if starting_balance:
        balance_at_high = starting_balance + high
        rel = (balance_at_high - (starting_balance + cumulative)) / balance_at_high
    else:
        rel = (high - cumulative) / high
    zero = pd.Series([0.0])
    cumulative = pd.concat([zero, cumulative], ignore_index=True)
    high = pd.concat([zero, pd.Series(high)], ignore_index=True)
    falls = pd.concat([zero, falls], ignore_index=True)
    rel = pd.concat([zero, rel], ignore_index=True)
    low_at = int(rel.idxmax() if relative else falls.idxmin())
    high_at = int(high.iloc[: low_at + 1].idxmax())
    dates = ordered[date_col]
    return Drawdown(
        abs=abs(falls.iloc[low_at]),
        high_date=dates.iloc[max(high_at - 1, 0)],
        low_date=dates.iloc[max(low_at - 1, 0)],
        high_value=cumulative.iloc[high_at],
        low_value=cumulative.iloc[low_at],
        relative=rel.iloc[low_at],
    )


def _days(start: datetime, end: datetime) -> int:
    return (end - start).days


def _cagr(days: int, starting_balance: float, final_balance: float) -> float:
    if final_balance < 0 or starting_balance <= 0 or days <= 0:
        return 0
    try:
        with np.errstate(over="ignore"):  # a numpy balance overflows to inf, as Freqtrade's
            return float((final_balance / starting_balance) ** (1 / (days / 365)) - 1)
    except OverflowError:
        return 0


def _expectancy(trades: pd.DataFrame) -> tuple[float, float]:
    if len(trades) == 0:
        return 0.0, 100.0
    profit = trades["profit_abs"]
    won, lost = profit[profit > 0], profit[profit < 0]
    average_win = won.sum() / len(won) if len(won) else 0
    average_loss = abs(lost.sum()) / len(lost) if len(lost) else 0
    winrate, lossrate = len(won) / len(trades), len(lost) / len(trades)
    expectancy = winrate * average_win - lossrate * average_loss
    ratio = 100.0
    if average_loss > 0:
        ratio = (1 + average_win / average_loss) * winrate - 1
    return expectancy, ratio


def _annualised(mean: float, deviation: float) -> float:
    if deviation != 0 and not np.isnan(deviation):
        return float(mean / deviation * np.sqrt(_ANNUALISATION))
    return _NOT_OPTIMAL


def _no_period(trades: pd.DataFrame, start: datetime | None, end: datetime | None) -> bool:
    return len(trades) == 0 or start is None or end is None or start == end


def _sharpe(trades: pd.DataFrame, start: datetime, end: datetime, balance: float) -> float:
    if _no_period(trades, start, end):
        return 0
    returns = trades["profit_abs"] / balance
    return _annualised(returns.sum() / max(1, _days(start, end)), np.std(returns))


def _sortino(trades: pd.DataFrame, start: datetime, end: datetime, balance: float) -> float:
    if _no_period(trades, start, end):
        return 0
    returns = trades["profit_abs"] / balance
    losses = trades.loc[trades["profit_abs"] < 0, "profit_abs"] / balance
    return _annualised(returns.sum() / max(1, _days(start, end)), np.std(losses))


def _calmar(
    trades: pd.DataFrame,
    start: datetime,
    end: datetime,
    balance: float,
    drawdown: Drawdown | None,
) -> float:
    """``drawdown``: ``max_drawdown(trades, starting_balance=balance)``, computed once."""
    if _no_period(trades, start, end):
        return 0.0
    mean = trades["profit_abs"].sum() / balance / max(1, _days(start, end)) * 100
    if drawdown is None:
        return 0.0
    return _annualised(mean, drawdown.relative)


def _sqn(trades: pd.DataFrame, balance: float) -> float:
    if len(trades) == 0:
        return 0.0
    returns = trades["profit_abs"] / balance
    deviation = returns.std()
    if deviation != 0 and not np.isnan(deviation):
        return round(math.sqrt(len(trades)) * (returns.mean() / deviation), 4)
    return round(_NOT_OPTIMAL, 4)


def _p_value(trades: pd.DataFrame, balance: float) -> float:
    if len(trades) < 2:
        return 1.0
    returns = trades["profit_abs"] / balance
    if returns.std() == 0:
        return 1.0
    # The t statistic as scipy's ttest_1samp forms it, to round alike.
    values = returns.to_numpy(dtype=float)
    count = float(len(values))
    mean = values.mean()
    variance = ((values - mean) ** 2).mean() * (count / (count - 1))
    return student_t_two_sided_p(float(mean / np.sqrt(variance / count)), len(values) - 1)


def student_t_two_sided_p(t: float, df: int) -> float:
    """``P(|T| >= |t|)`` for Student's t with ``df`` degrees of freedom: the two-sided p-value of
    a one-sample t-test. Computed as the regularised incomplete beta ``I_x(df/2, 1/2)`` with
    ``x = df / (df + t²)`` (continued fraction), accurate to a few units in the last place for
    the sample sizes of a backtest; NaN for a NaN ``t``."""
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0
    a, b = df / 2.0, 0.5
    t2 = t * t
    if t2 == 0:
        return 1.0
    if math.isinf(t2):  # |t| > 1e154: a tail far below any double (scipy: 0 as well)
        return 0.0
    # x = df/(df+t²) and y = 1 - x = t²/(df+t²), and their logs, without cancellation: a·log(x)
    # is large for large df, so log(x) must not inherit x's rounding.
    x, y = df / (df + t2), t2 / (df + t2)
    log_x, log_y = -math.log1p(t2 / df), math.log(t2) - math.log(df + t2)
    if x < (a + 1) / (a + b + 2):
        prefix = math.exp(a * log_x + b * log_y - _log_beta_half(a))
        return min(1.0, prefix * _beta_fraction(a, b, x) / a)
    prefix = math.exp(b * log_y + a * log_x - _log_beta_half(a))
    return min(1.0, 1.0 - prefix * _beta_fraction(b, a, y) / b)


# Stirling-series coefficients B_2k / (2k (2k-1)) of log Γ.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)


def _log_beta_half(a: float) -> float:
    """``log B(a, 1/2) = log Γ(1/2) - (log Γ(a+1/2) - log Γ(a))``, the difference taken from
    Stirling's series so that it stays exact to ~1e-16 for large ``a`` (where two lgammas of
    ~a·log(a) would lose digits)."""
    ratio = 0.0
    while a < 12:  # Γ(a+1/2)/Γ(a) = Γ(a+3/2)/Γ(a+1) · a/(a+1/2)
        ratio -= math.log1p(0.5 / a)
        a += 1.0
    # (a)·log(a+1/2) - (a-1/2)·log(a) - 1/2 = a·log1p(1/(2a)) - 1/2 + log(a)/2
    ratio += (a * math.log1p(0.5 / a) - 0.5) + 0.5 * math.log(a)
    for k, coefficient in enumerate(_STIRLING, start=1):
        power = 1 - 2 * k
        ratio += coefficient * ((a + 0.5) ** power - a**power)
    return 0.5 * math.log(math.pi) - ratio


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-17:
            break
    return h


def _profit_factor(trades: pd.DataFrame) -> float:
    profit = trades["profit_abs"]
    won = profit[profit > 0].sum()
    lost = profit[profit < 0].sum()
    return won / abs(lost) if lost else 0.0


def _result_line(
    trades: pd.DataFrame, key: Any, start: datetime, end: datetime, balance: float
) -> dict[str, Any]:
    """One row of Freqtrade's per-pair / per-tag tables."""
    count = len(trades)
    profit = trades["profit_abs"]
    total_abs = profit.sum()
    drawdown = max_drawdown(trades, starting_balance=balance)
    expectancy, expectancy_ratio = _expectancy(trades)
    wins = int((profit > 0).sum())
    mean = trades["profit_ratio"].mean() if count else 0.0
    return {
        "key": key,
        "trades": count,
        "profit_mean": mean,
        "profit_mean_pct": round(mean * 100.0, 2) if count else 0.0,
        "profit_total_abs": total_abs,
        "profit_total": total_abs / balance,
        "profit_total_pct": round(total_abs / balance * 100.0, 2),
        "duration_avg": (
            str(timedelta(minutes=round(trades["trade_duration"].mean()))) if count else "0:00"
        ),
        "wins": wins,
        "draws": int((profit == 0).sum()),
        "losses": int((profit < 0).sum()),
        "winrate": wins / count if count else 0.0,
        "cagr": _cagr(_days(start, end) or 1, balance, balance + total_abs),
        "expectancy": expectancy,
        "expectancy_ratio": expectancy_ratio,
        "sortino": _sortino(trades, start, end, balance),
        "sharpe": _sharpe(trades, start, end, balance),
        "calmar": _calmar(trades, start, end, balance, drawdown),
        "sqn": _sqn(trades, balance),
        "p_value": _p_value(trades, balance),
        "profit_factor": _profit_factor(trades),
        "max_drawdown_account": drawdown.relative if drawdown else 0.0,
        "max_drawdown_abs": drawdown.abs if drawdown else 0.0,
    }


def _pair_lines(
    trades: pd.DataFrame,
    pairs: Sequence[str],
    start: datetime,
    end: datetime,
    balance: float,
    skip_empty: bool = False,
) -> list[dict[str, Any]]:
    """Per-pair rows (``pairs`` order, then by total profit, highest first), then TOTAL."""
    lines = []
    for pair in pairs:
        selected = trades[trades["pair"] == pair]
        if skip_empty and selected["profit_abs"].isna().all():
            continue
        lines.append(_result_line(selected, pair, start, end, balance))
    lines.sort(key=lambda line: line["profit_total_abs"], reverse=True)
    lines.append(_result_line(trades, "TOTAL", start, end, balance))
    return lines


def _tag_lines(
    trades: pd.DataFrame, by: str | list[str], start: datetime, end: datetime, balance: float
) -> list[dict[str, Any]]:
    """Rows per tag value (or value pair), highest total profit first, then TOTAL. Trades
    without a tag fall out of the grouping (pandas' ``dropna``), as in Freqtrade."""
    columns = by if isinstance(by, list) else [by]
    if not all(column in trades.columns for column in columns):
        return []
    lines = [_result_line(group, key, start, end, balance) for key, group in trades.groupby(by)]
    lines.sort(key=lambda line: line["profit_total_abs"], reverse=True)
    lines.append(_result_line(trades, "TOTAL", start, end, balance))
    return lines


def _period_stats(trades: pd.DataFrame) -> dict[str, Any]:
    profit = trades["profit_abs"]
    wins, draws, losses = int((profit > 0).sum()), int((profit == 0).sum()), int((profit < 0).sum())
    return {
        "profit_abs": profit.sum().round(10),
        "wins": wins,
        "draws": draws,
        "losses": losses,
        "trades": wins + draws + losses,
        "profit_factor": round(_profit_factor(trades), 8),
    }


def periodic_breakdown(trades: pd.DataFrame, period: str) -> list[dict[str, Any]]:
    """Freqtrade's ``--breakdown`` rows for ``period`` (day, week, month, year, weekday): one
    row per period (empty ones included) between the first and last close date, by close date."""
    if len(trades) == 0:
        return []
    trades = trades.assign(close_date=pd.to_datetime(trades["close_date"], utc=True))
    rows = []
    if period == "weekday":
        weekday = trades["close_date"].dt.day_of_week
        for number, name in enumerate(_WEEKDAYS):
            selected = trades[weekday == number]
            if len(selected):
                rows.append({"date": name, "date_ts": number, **_period_stats(selected)})
        return rows
    if period not in _RESAMPLE:
        raise ValueError(f"period {period!r} is not one of {', '.join(_BREAKDOWNS)}")
    for label, selected in trades.resample(_RESAMPLE[period], on="close_date"):
        moment = pd.Timestamp(label)
        rows.append(
            {
                "date": moment.strftime("%d/%m/%Y"),
                "date_ts": int(moment.to_pydatetime().timestamp() * 1000),
                **_period_stats(selected),
            }
        )
    return rows


def _daily_stats(trades: pd.DataFrame) -> dict[str, Any]:
    if len(trades) == 0:
        return {
            "backtest_best_day": 0,
            "backtest_worst_day": 0,
            "backtest_best_day_abs": 0,
            "backtest_worst_day_abs": 0,
            "winning_days": 0,
            "draw_days": 0,
            "losing_days": 0,
            "daily_profit_list": [],
        }
    days = trades.resample("1D", on="close_date")
    relative = days["profit_ratio"].sum()
    absolute = days["profit_abs"].sum().round(10)
    return {
        "backtest_best_day": max(relative),
        "backtest_worst_day": min(relative),
        "backtest_best_day_abs": max(absolute),
        "backtest_worst_day_abs": min(absolute),
        "winning_days": int((absolute > 0).sum()),
        "draw_days": int((absolute == 0).sum()),
        "losing_days": int((absolute < 0).sum()),
        "daily_profit": [(str(day.date()), value) for day, value in absolute.items()],
    }


def _duration(minutes: Any) -> timedelta:
    return timedelta(minutes=round(minutes))


def _format_duration(duration: timedelta) -> str:
    hours, rest = divmod(duration.seconds, 3600)
    return f"{duration.days}d {hours:02d}:{rest // 60:02d}"


def _streaks(trades: pd.DataFrame) -> tuple[int, int]:
    """Longest runs of winning (``profit_ratio > 0``) and of other trades, in trade order."""
    longest = {True: 0, False: 0}
    previous: bool | None = None
    run = 0
    for won in (trades["profit_ratio"] > 0).tolist():
        run = run + 1 if won == previous else 1
        previous = won
        longest[won] = max(longest[won], run)
    return longest[True], longest[False]


def _trading_stats(trades: pd.DataFrame) -> dict[str, Any]:
    if len(trades) == 0:
        return {
            "wins": 0,
            "losses": 0,
            "draws": 0,
            "winrate": 0,
            "holding_avg": timedelta(),
            "winner_holding_avg": timedelta(),
            "loser_holding_avg": timedelta(),
            "max_consecutive_wins": 0,
            "max_consecutive_losses": 0,
        }
    ratio = trades["profit_ratio"]
    won = trades.loc[ratio > 0, "trade_duration"]
    lost = trades.loc[ratio < 0, "trade_duration"]
    stats: dict[str, Any] = {
        "wins": len(won),
        "losses": len(lost),
        "draws": int((ratio == 0).sum()),
        "winrate": len(won) / len(trades),
    }
    holding = _duration(trades["trade_duration"].mean())
    stats.update(holding_avg=holding, holding_avg_s=holding.total_seconds())
    for name, durations in (("winner", won), ("loser", lost)):
        for which in ("min", "max", "avg"):
            if durations.empty:
                value = timedelta()
            else:
                value = _duration(getattr(durations, "mean" if which == "avg" else which)())
            stats[f"{name}_holding_{which}"] = _format_duration(value)
            stats[f"{name}_holding_{which}_s"] = value.total_seconds()
    stats["max_consecutive_wins"], stats["max_consecutive_losses"] = _streaks(trades)
    return stats


def _total_volume(trades: pd.DataFrame) -> float:
    """The summed ``cost`` of every order of every trade (Freqtrade's "Total volume")."""
    if "orders" not in trades.columns:
        return 0
    return sum(
        sum(order["cost"] for order in (orders if isinstance(orders, list) else []))
        for orders in trades["orders"]
    )


def _best_and_worst(lines: list[dict[str, Any]]) -> tuple[Any, Any]:
    rows = [line for line in lines if line["key"] != "TOTAL"]
    if len(lines) <= 1:
        return None, None
    return (
        max(rows, key=lambda line: line["profit_total_abs"]),
        min(rows, key=lambda line: line["profit_total_abs"]),
    )


def _drawdown_stats(
    trades: pd.DataFrame, balance: float, drawdown: Drawdown | None
) -> dict[str, Any]:
    underwater = max_drawdown(trades, starting_balance=balance, relative=True)
    if drawdown is None or underwater is None:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return {
            "max_drawdown_account": 0.0,
            "max_relative_drawdown": 0.0,
            "max_drawdown_abs": 0.0,
            "max_drawdown_low": 0.0,
            "max_drawdown_high": 0.0,
            "drawdown_start": epoch,
            "drawdown_start_ts": 0,
            "drawdown_end": epoch,
            "drawdown_end_ts": 0,
            "csum_min": 0,
            "csum_max": 0,
        }
    duration = drawdown.low_date - drawdown.high_date
    running = trades["profit_abs"].cumsum()
    return {
        "max_drawdown_account": drawdown.relative,
        "max_relative_drawdown": underwater.relative,
        "max_drawdown_abs": drawdown.abs,
        "drawdown_start": drawdown.high_date.strftime(DATETIME_PRINT_FORMAT),
        "drawdown_start_ts": drawdown.high_date.timestamp() * 1000,
        "drawdown_end": drawdown.low_date.strftime(DATETIME_PRINT_FORMAT),
        "drawdown_end_ts": drawdown.low_date.timestamp() * 1000,
        "drawdown_duration": duration,
        "drawdown_duration_s": duration.total_seconds(),
        "max_drawdown_low": drawdown.low_value,
        "max_drawdown_high": drawdown.high_value,
        "csum_min": running.min() + balance,
        "csum_max": running.max() + balance,
    }


def compute_metrics(
    trades: pd.DataFrame,
    *,
    starting_balance: float,
    stake_currency: str,
    start: datetime,
    end: datetime,
    market_change: float,
    max_open_trades: int | float,
    pairs: Sequence[str] | None = None,
    final_balance: float | None = None,
    rejected_signals: int = 0,
    wallet: pd.DataFrame | None = None,
    tables: bool = True,
) -> dict[str, Any]:
    """Freqtrade's strategy statistics of a backtest (the ``strategy`` entry of its result file),
    from ``trades``, a frame with the columns of Freqtrade's backtest results.

    ``start`` / ``end``: the backtested range (first and last candle). ``max_open_trades``: the
    setting (``float("inf")`` or ``-1`` for unlimited). ``pairs``: the backtested pairs, in
    order (default: the traded pairs, in order of first trade); pairs without trades get their
    row. ``final_balance``: the wallet at the end (default: ``starting_balance`` plus the summed
    ``profit_abs``). ``rejected_signals``: entry signals refused for lack of a trade slot.
    ``wallet``: the :func:`wallet_history`, for ``wallet_stats`` (left out without it).
    ``tables=False`` (for hyperopt trials, which keep only the scalar statistics) leaves out the
    per-pair, per-tag and periodic tables and ``best_pair`` / ``worst_pair``, most of the cost.

    Values have Freqtrade's types: numbers, ``"%Y-%m-%d %H:%M:%S"`` date strings with ``*_ts``
    epoch milliseconds, :class:`~datetime.timedelta` for ``holding_avg`` and
    ``drawdown_duration``.
    """
    if starting_balance <= 0:
        raise ValueError(
            f"starting_balance must be positive, got {starting_balance!r}: "
            "set dry_run_wallet to the balance the backtest starts with"
        )
    if pairs is None:
        pairs = list(pd.unique(trades["pair"])) if len(trades) else []
    pairs = list(pairs)
    balance = starting_balance
    if final_balance is None:
        final_balance = balance + trades["profit_abs"].sum() if len(trades) else balance
    days = _days(start, end) or 1
    count = len(trades)
    is_short = trades["is_short"].astype(bool) if count else pd.Series(dtype=bool)
    profit = trades["profit_abs"]
    pair_lines = _pair_lines(trades, pairs, start, end, balance) if tables else []
    best_pair, worst_pair = _best_and_worst(pair_lines)
    expectancy, expectancy_ratio = _expectancy(trades)
    if max_open_trades == -1:
        max_open_trades = float("inf")
    drawdown = max_drawdown(trades, starting_balance=balance)
    metrics: dict[str, Any] = {}
    if tables:
        metrics = {
            "best_pair": best_pair,
            "worst_pair": worst_pair,
            "results_per_pair": pair_lines,
            "results_per_enter_tag": _tag_lines(trades, "enter_tag", start, end, balance),
            "exit_reason_summary": _tag_lines(trades, "exit_reason", start, end, balance),
            "mix_tag_stats": _tag_lines(trades, ["enter_tag", "exit_reason"], start, end, balance),
            "left_open_trades": _pair_lines(
                trades[trades["exit_reason"] == "force_exit"], pairs, start, end, balance, True
            ),
        }
    metrics |= {
        "total_trades": count,
        "trade_count_long": int((~is_short).sum()),
        "trade_count_short": int(is_short.sum()),
        "total_volume": _total_volume(trades),
        "avg_stake_amount": trades["stake_amount"].mean() if count else 0,
        "profit_mean": trades["profit_ratio"].mean() if count else 0,
        "profit_median": trades["profit_ratio"].median() if count else 0,
        "profit_total": profit.sum() / balance,
        "profit_total_long": profit[~is_short].sum() / balance if count else 0.0,
        "profit_total_short": profit[is_short].sum() / balance if count else 0.0,
        "profit_total_abs": profit.sum(),
        "profit_total_long_abs": profit[~is_short].sum() if count else 0,
        "profit_total_short_abs": profit[is_short].sum() if count else 0,
        "cagr": _cagr(days, balance, final_balance),
        "expectancy": expectancy,
        "expectancy_ratio": expectancy_ratio,
        "sortino": _sortino(trades, start, end, balance),
        "sharpe": _sharpe(trades, start, end, balance),
        "calmar": _calmar(trades, start, end, balance, drawdown),
        "sqn": _sqn(trades, balance),
        "p_value": _p_value(trades, balance),
        "profit_factor": _profit_factor(trades),
        "backtest_start": start.strftime(DATETIME_PRINT_FORMAT),
        "backtest_start_ts": int(start.timestamp() * 1000),
        "backtest_end": end.strftime(DATETIME_PRINT_FORMAT),
        "backtest_end_ts": int(end.timestamp() * 1000),
        "backtest_days": days,
        "trades_per_day": round(count / days, 2),
        "market_change": market_change,
        "pairlist": pairs,
        "stake_currency": stake_currency,
        "stake_currency_decimals": decimals_per_coin(stake_currency),
        "starting_balance": starting_balance,
        "dry_run_wallet": starting_balance,
        "final_balance": final_balance,
        "rejected_signals": rejected_signals,
        "timedout_entry_orders": 0,
        "timedout_exit_orders": 0,
        "canceled_trade_entries": 0,
        "canceled_entry_orders": 0,
        "replaced_entry_orders": 0,
        "max_open_trades": min(max_open_trades, len(pairs)),
        "max_open_trades_setting": max_open_trades if max_open_trades != float("inf") else -1,
        **(
            {"periodic_breakdown": {p: periodic_breakdown(trades, p) for p in _BREAKDOWNS}}
            if tables
            else {}
        ),
        **_daily_stats(trades),
        **_trading_stats(trades),
        **_drawdown_stats(trades, balance, drawdown),
    }
    if wallet is not None:
        metrics["wallet_stats"] = wallet_stats(wallet)
    return metrics


# Freqtrade's values for the settings it reports when neither the config nor the strategy sets
# them (its strategy resolver's defaults and the configuration schema's).
_SETTING_DEFAULTS: dict[str, Any] = {
    "timeframe_detail": "",
    "timerange": "",
    "enable_protections": False,
    "trailing_stop": False,
    "trailing_stop_positive": None,
    "trailing_stop_positive_offset": 0.0,
    "trailing_only_offset_is_reached": False,
    "use_custom_stoploss": False,
    "minimal_roi": {"0": 10.0},
    "use_exit_signal": True,
    "exit_profit_only": False,
    "exit_profit_offset": 0.0,
    "ignore_roi_if_entry_signal": False,
    "trading_mode": "spot",
    "margin_mode": "",
}


def settings_metrics(settings: Mapping[str, Any], *, strategy_name: str) -> dict[str, Any]:
    """The settings Freqtrade reports next to its statistics (``stake_amount``, ``stoploss``,
    ``minimal_roi``, ``trailing_*``, ...), read from the backtest's effective settings, with
    Freqtrade's defaults for absent ones. ``stake_amount``, ``timeframe`` and ``stoploss`` are
    required."""
    missing = [key for key in ("stake_amount", "timeframe", "stoploss") if key not in settings]
    if missing:
        raise KeyError(f"the backtest settings lack {', '.join(missing)}")
    max_open_trades = settings.get("max_open_trades", -1)
    if max_open_trades == float("inf"):
        max_open_trades = -1

    def setting(key: str) -> Any:
        value = settings.get(key)
        return (
            _SETTING_DEFAULTS[key] if value is None and key != "trailing_stop_positive" else value
        )

    return {
        "stake_amount": settings["stake_amount"],
        "max_open_trades_setting": max_open_trades,
        "timeframe": settings["timeframe"],
        "timeframe_detail": setting("timeframe_detail"),
        "timerange": setting("timerange"),
        "enable_protections": setting("enable_protections"),
        "strategy_name": strategy_name,
        "freqaimodel": settings.get("freqaimodel"),
        "freqai_identifier": (settings.get("freqai") or {}).get("identifier"),
        "stoploss": settings["stoploss"],
        "trailing_stop": setting("trailing_stop"),
        "trailing_stop_positive": settings.get("trailing_stop_positive"),
        "trailing_stop_positive_offset": setting("trailing_stop_positive_offset"),
        "trailing_only_offset_is_reached": setting("trailing_only_offset_is_reached"),
        "use_custom_stoploss": setting("use_custom_stoploss"),
        "minimal_roi": settings.get("minimal_roi", _SETTING_DEFAULTS["minimal_roi"]),
        "use_exit_signal": setting("use_exit_signal"),
        "exit_profit_only": setting("exit_profit_only"),
        "exit_profit_offset": setting("exit_profit_offset"),
        "ignore_roi_if_entry_signal": setting("ignore_roi_if_entry_signal"),
        "trading_mode": setting("trading_mode"),
        "margin_mode": setting("margin_mode"),
    }


def _decimal_product(a: float, b: float) -> float:
    """``a * b`` computed exactly on the numbers' shortest decimal forms, then rounded once."""
    with decimal.localcontext() as context:
        context.prec = 100
        return float(decimal.Decimal(repr(float(a))) * decimal.Decimal(repr(float(b))))


def wallet_history(
    trades: pd.DataFrame,
    frames: Mapping[str, pd.DataFrame],
    *,
    starting_balance: float,
    stake_currency: str,
    start: datetime,
    end: datetime,
    timeframe: str,
    pairs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The wallet as Freqtrade's backtesting records it (its ``wallet_summary``): at each candle
    after ``start`` up to ``end``, a row for the stake currency (start balance plus the profit of
    the trades closed before the candle, minus the stake of the open ones) and a row per open
    trade's base currency (the trade's amount at the candle's open rate). Columns ``date``,
    ``currency``, ``rate``, ``balance``.

    ``trades`` in the order they closed (the results frame's order), ``pairs`` in the
    backtest's pair order (default: ``frames``' order), ``frames`` the analyzed candles.

    Trades left open at the end (``exit_reason`` ``"force_exit"``) are closed by Freqtrade after
    its last capture, even when their pair's candles (and so their ``close_date``) end earlier:
    their stake stays in them up to ``end``."""
    step = timeframe_to_timedelta(timeframe)
    order = {pair: index for index, pair in enumerate(pairs if pairs is not None else frames)}
    opens = {
        pair: dict(
            zip(
                pd.to_datetime(frame["date"], utc=True).tolist(),
                frame["open"].tolist(),
                strict=True,
            )
        )
        for pair, frame in frames.items()
    }
    records = []
    for position, row in enumerate(trades.itertuples(index=False)):
        amount, stake = row.amount, float(row.stake_amount)
        orders = row.orders if isinstance(row.orders, list) else []
        entries = [entry for entry in orders if entry.get("ft_is_entry")]
        if len(entries) == 1:
            # The columns are rounded to 8 digits; the wallet holds the entry order's amount
            # and, as stake, its exact decimal price x amount.
            amount = entries[0]["amount"]
            if entries[0].get("safe_price") is not None:
                stake = _decimal_product(entries[0]["safe_price"], amount)
        closed_at = pd.Timestamp(row.close_date)
        if row.exit_reason == "force_exit":
            closed_at = max(closed_at, pd.Timestamp(end) + step)
        records.append(
            (
                pd.Timestamp(row.open_date),
                order.get(row.pair, len(order)),
                position,
                row.pair,
                closed_at,
                stake,
                amount,
                row.profit_abs,
            )
        )
    opened_order = sorted(records, key=lambda record: (record[0], record[1], record[2]))
    closes = [record[4] for record in records]
    captures: list[tuple[Any, str, float, float]] = []
    closed_profit: float = 0
    closed_count = 0
    moment = pd.Timestamp(start) + step
    last = pd.Timestamp(end)
    while moment <= last:
        while closed_count < len(records) and closes[closed_count] < moment:
            closed_profit += records[closed_count][7]
            closed_count += 1
        open_now = [r for r in opened_order if r[0] < moment <= r[4]]
        in_trades: float = 0
        for record in open_now:
            in_trades += record[5]
        stake_total = starting_balance + closed_profit - in_trades + 0.0
        when = moment.to_pydatetime()
        if stake_total:
            captures.append((when, stake_currency, 1, stake_total))
        for record in open_now:
            rate = opens.get(record[3], {}).get(moment)
            if rate is not None and record[6]:
                captures.append((when, record[3].split("/")[0], rate, record[6]))
        moment += step
    return pd.DataFrame(captures, columns=["date", "currency", "rate", "balance"])


def _daily_balance_returns(wallet: pd.DataFrame) -> pd.Series:
    daily = wallet.set_index("date")["total_quote"].resample("1D").last().dropna()
    if len(daily) < 2:
        return pd.Series(dtype=float)
    return daily.reset_index()["total_quote"].pct_change().dropna()


def _balance_drawdown(wallet: pd.DataFrame, relative: bool = False) -> Drawdown | None:
    if len(wallet) < 2:
        return None
    changes = wallet.assign(total_balance=wallet["total_quote"].diff().fillna(0.0))
    return max_drawdown(
        changes,
        starting_balance=float(wallet["total_quote"].iloc[0]),
        relative=relative,
        date_col="date",
        value_col="total_balance",
    )


def wallet_stats(wallet: pd.DataFrame) -> dict[str, Any]:
    """Freqtrade's ``wallet_stats`` of a :func:`wallet_history`: balances, sharpe / sortino /
    calmar of the daily balance, and the drawdown of the balance; ``{}`` for no history."""
    if wallet is None or wallet.empty:
        return {}
    valued = wallet.assign(total_quote=wallet["rate"] * wallet["balance"])
    balance = valued.groupby("date")["total_quote"].sum().reset_index()
    balance = balance.dropna(subset=["date", "total_quote"]).sort_values("date")
    total = balance["total_quote"]
    low_at, high_at = total.idxmin(), total.idxmax()
    low_date, high_date = balance.loc[low_at, "date"], balance.loc[high_at, "date"]
    returns = _daily_balance_returns(balance)
    if len(returns):
        sharpe = _annualised(returns.mean(), returns.std(ddof=0))
        sortino = _annualised(returns.mean(), returns[returns < 0].std(ddof=0))
    else:
        sharpe = sortino = 0.0
    calmar = 0.0
    drawdown = _balance_drawdown(balance)
    if drawdown is not None:
        first, last = float(total.iloc[0]), float(total.iloc[-1])
        days = max(1, (balance["date"].iloc[-1] - balance["date"].iloc[0]).days)
        calmar = _annualised((last - first) / first / days * 100, drawdown.relative)
    underwater = _balance_drawdown(balance, relative=True)
    duration = drawdown.low_date - drawdown.high_date if drawdown else timedelta()
    return {
        "start_balance": total.iloc[0],
        "end_balance": total.iloc[-1],
        "high_balance": total.loc[high_at],
        "low_balance": total.loc[low_at],
        "sharpe": sharpe,
        "sortino": sortino,
        "calmar": calmar,
        "low_date": low_date.strftime(DATETIME_PRINT_FORMAT),
        "low_ts": int(low_date.timestamp() * 1000),
        "high_date": high_date.strftime(DATETIME_PRINT_FORMAT),
        "high_ts": int(high_date.timestamp() * 1000),
        "max_drawdown_account": drawdown.relative if drawdown else 0.0,
        "max_relative_drawdown": underwater.relative if underwater else 0.0,
        "max_drawdown_abs": drawdown.abs if drawdown else 0.0,
        "drawdown_start": drawdown.high_date.strftime(DATETIME_PRINT_FORMAT) if drawdown else None,
        "drawdown_start_ts": int(drawdown.high_date.timestamp() * 1000) if drawdown else None,
        "drawdown_end": drawdown.low_date.strftime(DATETIME_PRINT_FORMAT) if drawdown else None,
        "drawdown_end_ts": int(drawdown.low_date.timestamp() * 1000) if drawdown else None,
        "drawdown_duration": duration,
        "drawdown_duration_s": duration.total_seconds(),
        "max_drawdown_low": drawdown.low_value if drawdown else 0.0,
        "max_drawdown_high": drawdown.high_value if drawdown else 0.0,
    }
