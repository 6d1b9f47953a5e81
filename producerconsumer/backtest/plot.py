"""One pair of a backtest, drawn: :func:`plot_backtest`.

Candles and the strategy's indicators (through :func:`producerconsumer.plotting.plot_pair`),
each trade's entry and exit (the exit labelled with its reason, green for a win, red for a loss,
a dotted line between them), oscillators in their own panel, and at the bottom the account's
equity over the whole backtest with its drawdown from the running high.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..columns import OHLC_COLUMNS
from ..plotting import lower_panel, plot_pair, signal_columns
from ._types import BacktestResultLike

__all__ = ["default_indicators", "plot_backtest"]

_WIN, _LOSS, _ENTRY = "#1b9e1b", "#d62728", "#1f77b4"
_NOT_INDICATORS = {"date", "volume", *OHLC_COLUMNS}


def default_indicators(frame: pd.DataFrame) -> list[str]:
    """The frame's numeric columns worth drawing over the candles: those on the price's scale
    and the 0-100 oscillators (see :func:`~producerconsumer.plotting.lower_panel`); not OHLCV,
    signals or tags."""
    signals = set(signal_columns(frame))
    low = pd.to_numeric(frame.get("low", frame.get("close")), errors="coerce")
    high = pd.to_numeric(frame.get("high", frame.get("close")), errors="coerce")
    if low is None or high is None or low.isna().all():
        return []
    floor, ceiling = float(low.min()), float(high.max())
    chosen = []
    for column in frame.columns:
        if not isinstance(column, str) or column in _NOT_INDICATORS or column in signals:
            continue
        if not pd.api.types.is_numeric_dtype(frame[column]) or frame[column].dtype == bool:
            continue
        values = frame[column].dropna()
        if values.empty:
            continue
        if lower_panel(frame, column) or (
            values.min() >= floor * 0.5 and values.max() <= ceiling * 2
        ):
            chosen.append(column)
    return chosen


def _x(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    index = pd.DatetimeIndex(pd.to_datetime(dates, utc=True)).tz_convert(None)
    return np.asarray(mdates.date2num(index.to_numpy(dtype="datetime64[us]")), dtype=float)


def _trade_markers(ax: Axes, trades: pd.DataFrame) -> None:
    """Entries (blue up-triangles), exits (down-triangles, green win / red loss) with their
    exit reason, and a dotted line from each entry to its exit."""
    if trades.empty:
        return
    opened, closed = _x(trades["open_date"]), _x(trades["close_date"])
    open_rate = trades["open_rate"].to_numpy(dtype=float)
    close_rate = trades["close_rate"].to_numpy(dtype=float)
    won = trades["profit_abs"].to_numpy(dtype=float) > 0
    colors = np.where(won, _WIN, _LOSS)
    for x0, x1, y0, y1, color in zip(opened, closed, open_rate, close_rate, colors, strict=True):
        ax.plot([x0, x1], [y0, y1], ls=":", lw=1.2, color=color, zorder=4)
    ax.scatter(
        opened, open_rate, marker="^", s=70, color=_ENTRY, edgecolors="white",
        linewidths=0.8, zorder=5, label="trade entry", gid="trade-entries",
    )  # fmt: skip
    ax.scatter(
        closed, close_rate, marker="v", s=70, c=list(colors), edgecolors="white",
        linewidths=0.8, zorder=5, label="trade exit", gid="trade-exits",
    )  # fmt: skip
    for x, y, reason, color in zip(closed, close_rate, trades["exit_reason"], colors, strict=True):
        ax.annotate(
            str(reason),
            (x, y),
            xytext=(4, -12),
            textcoords="offset points",
            fontsize="x-small",
            color=color,
            gid="exit-reason",
        )


def _equity(ax: Axes, result: BacktestResultLike, currency: str) -> None:
    """The balance after each closed trade (all pairs) and its drawdown from the running high."""
    balance = float(result.settings.get("dry_run_wallet", 0.0))
    trades = result.trades.sort_values("close_date", kind="stable")
    closed = pd.Series(pd.to_datetime(trades["close_date"], utc=True))
    x = np.concatenate([_x(pd.Series([result.start])), _x(closed), _x(pd.Series([result.end]))])
    profits = trades["profit_abs"].to_numpy(dtype=float)
    equity = balance + np.concatenate([[0.0], np.cumsum(profits), [profits.sum()]])
    drawdown = equity - np.maximum.accumulate(equity)
    ax.step(x, equity, where="post", color="0.15", lw=1.2, label=f"equity ({currency})")
    ax.axhline(balance, color="0.6", lw=0.7, ls="--")
    ax.set_ylabel(currency)
    ax.grid(True, alpha=0.25)
    under = ax.twinx()
    under.fill_between(x, drawdown, 0, step="post", color=_LOSS, alpha=0.25, lw=0, label="drawdown")
    under.set_ylim(min(float(drawdown.min()) * 1.1, -1e-9), 0)
    under.set_ylabel("drawdown")
    handles = ax.get_legend_handles_labels()[0] + under.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize="small", ncols=2)


def plot_backtest(
    result: BacktestResultLike,
    pair: str,
    *,
    indicators: Sequence[str] | None = None,
    signals: Sequence[str] = (),
    window: int | None = None,
    title: str | None = None,
) -> Figure:
    """``pair``'s candles, ``indicators`` (default: :func:`default_indicators`), its trades
    with their exit reasons, and the account's equity and drawdown; returns the figure.

    ``signals``: signal columns to mark as well (default none: the trades show what was done
    with them). ``window``: only the last ``window`` candles (and the trades in them).
    """
    if pair not in result.frames:
        if pair in result.errors:
            raise ValueError(f"{pair} was not backtested: {result.errors[pair]}")
        raise KeyError(f"no frame for {pair!r}; backtested pairs: {sorted(result.frames)}")
    frame = result.frames[pair]
    if window is not None:
        if window < 1:
            raise ValueError(f"window must be a positive number of candles, got {window}")
        frame = frame.tail(window)
    chosen = default_indicators(frame) if indicators is None else list(indicators)
    wants_lower = any(lower_panel(frame, column) for column in chosen)
    fig = Figure(figsize=(11, 8.5 if wants_lower else 7), layout="constrained")
    ratios = (3, 1, 1.3) if wants_lower else (3, 1.3)
    axes = fig.subplots(len(ratios), 1, sharex=True, height_ratios=ratios)
    price_ax = axes[0]
    currency = str(result.settings.get("stake_currency", ""))
    pair_trades = result.trades[result.trades["pair"] == pair]
    if len(frame) and len(pair_trades):
        first = pd.to_datetime(frame["date"], utc=True).iloc[0]
        pair_trades = pair_trades[pd.to_datetime(pair_trades["close_date"], utc=True) >= first]
    count = len(pair_trades)
    profit = float(pair_trades["profit_abs"].sum()) if count else 0.0
    plot_pair(
        frame,
        indicators=chosen,
        signals=list(signals),
        ax=(price_ax, axes[1]) if wants_lower else price_ax,
        title=title
        or f"{result.strategy_name} on {pair}: {count} trades, {profit:+.2f} {currency}",
    )
    _trade_markers(price_ax, pair_trades)
    if price_ax.get_legend_handles_labels()[0]:
        price_ax.legend(loc="upper left", fontsize="small", ncols=4)
    _equity(axes[-1], result, currency)
    if len(frame):
        x = _x(frame["date"])
        step = float(np.median(np.diff(x))) if len(x) > 1 else 1 / 24
        price_ax.set_xlim(x[0] - step, x[-1] + step)
    return fig
