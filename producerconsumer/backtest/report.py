"""The backtest report, laid out like Freqtrade's: :func:`summary`.

::

    print(result.summary())   # text tables
    result.summary()          # in a notebook: the same tables as HTML

Per pair (with a TOTAL row), per exit reason, per entry tag when the strategy tags its entries,
the trades left open at the end, the key statistics, and the pairs that could not be backtested
with what went wrong. Each table is also a :class:`pandas.DataFrame` on the returned
:class:`Summary`, for further use.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd

from ._types import BacktestResultLike
from .metrics import compute_metrics, decimals_per_coin

__all__ = ["BacktestResultLike", "Summary", "full_metrics", "summary"]

_PERCENT = "%"


def full_metrics(result: BacktestResultLike) -> dict[str, Any]:
    """``result.metrics``, completed by :func:`compute_metrics` when it lacks the tables (a
    result built by hand or an older one)."""
    metrics = dict(result.metrics)
    if "results_per_pair" in metrics:
        return metrics
    settings = result.settings
    computed = compute_metrics(
        result.trades,
        starting_balance=float(settings["dry_run_wallet"]),
        stake_currency=str(settings["stake_currency"]),
        start=result.start,
        end=result.end,
        market_change=float(metrics.get("market_change", 0.0)),
        max_open_trades=settings.get("max_open_trades", -1),
        pairs=list(result.frames) or None,
    )
    return {**computed, **metrics}


def _coin(value: Any, currency: str) -> str:
    if value is None or pd.isna(value):
        return "N/A"
    text = f"{float(value):.{decimals_per_coin(currency)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct(value: Any) -> str:
    if value is None or pd.isna(value):
        return "N/A"
    return f"{float(value) * 100:.2f}{_PERCENT}"


def _ratio(value: Any) -> str:
    return "N/A" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _table(lines: Sequence[Mapping[str, Any]], first: str, currency: str) -> pd.DataFrame:
    """A Freqtrade result table (``results_per_pair``, ``exit_reason_summary``, ...)."""
    rows = []
    for line in lines:
        key = line["key"]
        rows.append(
            {
                first: " / ".join(map(str, key)) if isinstance(key, list | tuple) else str(key),
                "Trades": int(line["trades"]),
                "Avg Profit %": round(float(line["profit_mean"]) * 100, 2),
                f"Tot Profit {currency}": round(
                    float(line["profit_total_abs"]), decimals_per_coin(currency)
                ),
                "Tot Profit %": round(float(line["profit_total"]) * 100, 2),
                "Avg Duration": line["duration_avg"],
                "Wins": int(line["wins"]),
                "Draws": int(line["draws"]),
                "Losses": int(line["losses"]),
                "Win%": round(float(line["winrate"]) * 100, 1),
            }
        )
    columns = [first, "Trades", "Avg Profit %", f"Tot Profit {currency}", "Tot Profit %"]
    columns += ["Avg Duration", "Wins", "Draws", "Losses", "Win%"]
    return pd.DataFrame(rows, columns=columns)


def _trade_extremes(trades: pd.DataFrame) -> tuple[str, str]:
    if len(trades) == 0:
        return "N/A", "N/A"
    best = trades.loc[trades["profit_ratio"].idxmax()]
    worst = trades.loc[trades["profit_ratio"].idxmin()]
    return (
        f"{best['pair']} {_pct(best['profit_ratio'])}",
        f"{worst['pair']} {_pct(worst['profit_ratio'])}",
    )


def _duration(value: Any) -> str:
    if isinstance(value, timedelta):
        hours, rest = divmod(value.seconds, 3600)
        return f"{value.days}d {hours:02d}:{rest // 60:02d}"
    return str(value)


def _key_metrics(metrics: Mapping[str, Any], trades: pd.DataFrame, currency: str) -> pd.DataFrame:
    def coin(key: str) -> str:
        return f"{_coin(metrics.get(key), currency)} {currency}"

    best_trade, worst_trade = _trade_extremes(trades)
    best_pair, worst_pair = metrics.get("best_pair"), metrics.get("worst_pair")
    days = metrics.get("backtest_days") or 1
    rows: list[tuple[str, str]] = [
        ("Backtesting from", str(metrics.get("backtest_start", "N/A"))),
        ("Backtesting to", str(metrics.get("backtest_end", "N/A"))),
        ("Max open trades", str(metrics.get("max_open_trades", "N/A"))),
        (
            "Total/Daily Avg Trades",
            f"{metrics.get('total_trades', 0)} / {metrics.get('trades_per_day', 0)}",
        ),
        ("Starting balance", coin("starting_balance")),
        ("Final balance", coin("final_balance")),
        ("Absolute profit", coin("profit_total_abs")),
        ("Total profit %", _pct(metrics.get("profit_total"))),
        ("CAGR %", _pct(metrics.get("cagr"))),
        ("Sharpe", _ratio(metrics.get("sharpe"))),
        ("Sortino", _ratio(metrics.get("sortino"))),
        ("Calmar", _ratio(metrics.get("calmar"))),
        ("SQN", _ratio(metrics.get("sqn"))),
        ("Profit factor", _ratio(metrics.get("profit_factor"))),
        (
            "Expectancy (Ratio)",
            f"{_ratio(metrics.get('expectancy'))} ({_ratio(metrics.get('expectancy_ratio'))})",
        ),
        (
            "Avg. daily profit",
            f"{_coin(float(metrics.get('profit_total_abs', 0)) / days, currency)} {currency}",
        ),
        ("Avg. stake amount", coin("avg_stake_amount")),
        ("Total trade volume", coin("total_volume")),
        ("Market change", _pct(metrics.get("market_change"))),
        (
            "Best Pair",
            f"{best_pair['key']} {_pct(best_pair['profit_total'])}" if best_pair else "N/A",
        ),
        (
            "Worst Pair",
            f"{worst_pair['key']} {_pct(worst_pair['profit_total'])}" if worst_pair else "N/A",
        ),
        ("Best trade", best_trade),
        ("Worst trade", worst_trade),
        ("Best day", coin("backtest_best_day_abs")),
        ("Worst day", coin("backtest_worst_day_abs")),
        (
            "Days win/draw/lose",
            f"{metrics.get('winning_days', 0)} / {metrics.get('draw_days', 0)} / "
            f"{metrics.get('losing_days', 0)}",
        ),
        ("Avg. duration", _duration(metrics.get("holding_avg", "N/A"))),
        (
            "Max consecutive wins / losses",
            f"{metrics.get('max_consecutive_wins', 0)} / "
            f"{metrics.get('max_consecutive_losses', 0)}",
        ),
        ("Rejected entry signals", str(metrics.get("rejected_signals", 0))),
        ("Min/Max balance", f"{coin('csum_min')} / {coin('csum_max')}"),
        ("Max % of account underwater", _pct(metrics.get("max_relative_drawdown"))),
        (
            "Absolute drawdown",
            f"{coin('max_drawdown_abs')} ({_pct(metrics.get('max_drawdown_account'))})",
        ),
        ("Drawdown duration", str(metrics.get("drawdown_duration", "N/A"))),
        ("Drawdown start", str(metrics.get("drawdown_start", "N/A"))),
        ("Drawdown end", str(metrics.get("drawdown_end", "N/A"))),
    ]
    wallet = metrics.get("wallet_stats") or {}
    if wallet:  # statistics of the balance at every candle (open trades at market value)
        rows += [
            ("Sharpe (daily balance)", _ratio(wallet.get("sharpe"))),
            ("Sortino (daily balance)", _ratio(wallet.get("sortino"))),
            ("Calmar (daily balance)", _ratio(wallet.get("calmar"))),
            (
                "Min/Max balance (candles)",
                f"{_coin(wallet.get('low_balance'), currency)} {currency} / "
                f"{_coin(wallet.get('high_balance'), currency)} {currency}",
            ),
            ("Max % underwater (candles)", _pct(wallet.get("max_relative_drawdown"))),
        ]
    return pd.DataFrame(rows, columns=["Metric", "Value"])


@dataclass(frozen=True)
class Summary:
    """The report's tables (DataFrames); ``str()`` is the text report, and notebooks show the
    HTML one."""

    title: str
    stake_currency: str
    pairs: pd.DataFrame
    exit_reasons: pd.DataFrame
    enter_tags: pd.DataFrame
    left_open: pd.DataFrame
    metrics: pd.DataFrame
    errors: Mapping[str, str]

    def _sections(self) -> list[tuple[str, pd.DataFrame]]:
        sections = [("BACKTESTING REPORT", self.pairs)]
        if len(self.left_open) > 1:  # more than its TOTAL row
            sections.append(("LEFT OPEN TRADES REPORT", self.left_open))
        if len(self.enter_tags) > 1:
            sections.append(("ENTER TAG STATS", self.enter_tags))
        sections.append(("EXIT REASON STATS", self.exit_reasons))
        sections.append(("SUMMARY METRICS", self.metrics))
        return sections

    def _error_lines(self) -> list[str]:
        return [f"{pair}: {message}" for pair, message in self.errors.items()]

    def __str__(self) -> str:
        parts = [self.title]
        for heading, table in self._sections():
            if table is self.metrics:
                width = max(map(len, table["Metric"]), default=0)
                text = "\n".join(f"{m:<{width}}  {v}" for m, v in table.itertuples(index=False))
            else:
                text = table.to_string(index=False) if len(table) else "(none)"
            parts.append(f"{heading}\n{text}")
        if self.errors:
            parts.append(
                f"FAILED PAIRS ({len(self.errors)}, not backtested)\n"
                + "\n".join(self._error_lines())
            )
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        for heading, table in self._sections():
            parts.append(f"<h4>{html.escape(heading)}</h4>")
            parts.append(table.to_html(index=False, escape=True, border=0))
        if self.errors:
            items = "".join(
                f"<li><b>{html.escape(pair)}</b>: {html.escape(message)}</li>"
                for pair, message in self.errors.items()
            )
            parts.append(
                f"<h4>FAILED PAIRS ({len(self.errors)}, not backtested)</h4><ul>{items}</ul>"
            )
        return "<div class='producerconsumer-backtest'>" + "".join(parts) + "</div>"


def summary(result: BacktestResultLike) -> Summary:
    """The report of ``result``: see the module's docstring."""
    metrics = full_metrics(result)
    currency = str(result.settings["stake_currency"])
    timeframe = result.settings.get("timeframe", "")
    title = (
        f"Backtest of {result.strategy_name} ({timeframe}): {metrics.get('backtest_start')} -> "
        f"{metrics.get('backtest_end')}, {metrics.get('total_trades', 0)} trades, "
        f"{len(metrics.get('pairlist', []))} pairs"
    )
    return Summary(
        title=title,
        stake_currency=currency,
        pairs=_table(metrics["results_per_pair"], "Pair", currency),
        exit_reasons=_table(metrics.get("exit_reason_summary", []), "Exit Reason", currency),
        enter_tags=_table(metrics.get("results_per_enter_tag", []), "Enter Tag", currency),
        left_open=_table(metrics.get("left_open_trades", []), "Pair", currency),
        metrics=_key_metrics(metrics, result.trades, currency),
        errors=dict(result.errors),
    )
