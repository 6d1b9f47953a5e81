"""Static matplotlib figures of analyzed frames: :func:`plot_pair`.

::

    frame, _ = consumer.get_producer_df("BTC/USDT")
    plot_pair(frame, indicators=["tema", "bb_lowerband", "bb_upperband", "rsi"], window=200)

Price (candlesticks when ``open``/``high``/``low``/``close`` are present, else the close line)
and the chosen indicators share the upper panel; oscillators on a 0-100 scale (``rsi``, ``mfi``,
``stoch*``, ...) and any indicator listed in ``lower`` go to a lower panel. Signals are markers:
the consumer's own columns (``enter_long``, ``exit_long``, ...) filled, the producer's merged
columns (``enter_long_default``, ...) hollow and larger, so both stay visible on one candle.

Only matplotlib's object API is used (no ``pyplot``, no IPython): figures are built without any
global state, so this works in scripts with the Agg backend, in worker threads and in notebooks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

__all__ = ["SIGNAL_BASES", "lower_panel", "plot_pair", "signal_columns"]

OHLC = ("open", "high", "low", "close")
SIGNAL_BASES = ("enter_long", "exit_long", "enter_short", "exit_short")
# Names of indicators that live on a 0-100 scale (Freqtrade/TA-Lib spellings).
_OSCILLATOR = re.compile(r"(^|_)(rsi|mfi|stoch\w*|fast[dk]|slow[dk]|adx|willr|ultosc|aroon\w*)")
_UP, _DOWN = "#26a69a", "#ef5350"


@dataclass(frozen=True, slots=True)
class _SignalStyle:
    marker: str
    color: str
    below: bool  # drawn under the candle's low (entries long / exits short) or over its high


_STYLES = {
    "enter_long": _SignalStyle("^", "#1b9e1b", True),
    "exit_long": _SignalStyle("v", "#d62728", False),
    "enter_short": _SignalStyle("v", "#ff7f0e", False),
    "exit_short": _SignalStyle("^", "#9467bd", True),
}


def signal_columns(frame: pd.DataFrame) -> list[str]:
    """The signal columns of ``frame``: the consumer's (``enter_long``) and the producers'
    merged ones (``enter_long_<producer>``), in column order."""
    return [c for c in frame.columns if isinstance(c, str) and _signal_base(c) is not None]


def lower_panel(frame: pd.DataFrame, column: str) -> bool:
    """True for an oscillator on a 0-100 scale: its name says so (``rsi``, ``rsi_default``,
    ``mfi``, ``stoch_k``, ...) and its values lie within 0-100."""
    if not _OSCILLATOR.search(str(column)):
        return False
    values = pd.to_numeric(frame[column], errors="coerce")
    return bool(values.notna().any() and values.min() >= 0 and values.max() <= 100)


def plot_pair(
    frame: pd.DataFrame,
    indicators: Sequence[str] = (),
    signals: Sequence[str] | None = None,
    ax: Axes | tuple[Axes, Axes] | None = None,
    title: str | None = None,
    window: int | None = None,
    lower: Sequence[str] = (),
) -> Figure:
    """Plot one pair's frame: price, ``indicators``, signals; returns the figure.

    ``indicators``: columns to draw; oscillators on a 0-100 scale (see :func:`lower_panel`) and
    the columns named in ``lower`` (which need not be repeated in ``indicators``) go to a lower
    panel. ``signals``: signal columns drawn as markers where they are 1 (default: every
    ``enter_*``/``exit_*`` column, see :func:`signal_columns`; ``[]`` for none). ``window``: only
    the last ``window`` candles. ``ax``: draw into existing axes, one (the lower panel then
    becomes a 0-100 twin axis on its right) or a ``(price, lower)`` pair; by default a new
    :class:`~matplotlib.figure.Figure` is made (not registered with ``pyplot``: it shows as an
    image when it is a cell's value, or save it with ``fig.savefig``).
    """
    if window is not None:
        if window < 1:
            raise ValueError(f"window must be a positive number of candles, got {window}")
        frame = frame.tail(window)
    lower_columns = list(dict.fromkeys(lower))
    upper_columns: list[str] = []
    for column in indicators:
        if column in lower_columns:
            continue
        (lower_columns if lower_panel(frame, column) else upper_columns).append(column)
    signals = signal_columns(frame) if signals is None else list(signals)
    _require_columns(frame, [*upper_columns, *lower_columns, *signals])
    price_ax, lower_ax = _axes(ax, bool(lower_columns))
    fig = price_ax.get_figure()
    assert isinstance(fig, Figure)

    x, width = _x_positions(frame)
    if all(c in frame.columns for c in OHLC):
        _candles(price_ax, x, width, frame)
    elif "close" in frame.columns:
        price_ax.plot(x, _numbers(frame, "close"), color="0.2", lw=1.0, label="close")
    else:
        raise ValueError(
            f"the frame has no price: it needs `close` (or open/high/low/close); "
            f"its columns: {list(frame.columns)}"
        )
    for column in upper_columns:
        price_ax.plot(x, _numbers(frame, column), lw=1.0, label=column)
    for column in signals:
        _signal_markers(price_ax, x, frame, column)
    if lower_ax is not None:
        for column in lower_columns:
            lower_ax.plot(x, _numbers(frame, column), lw=1.0, label=column)
        lower_ax.set_ylim(0, 100)
        for level in (30, 70):
            lower_ax.axhline(level, color="0.6", lw=0.7, ls="--")
        lower_ax.legend(loc="upper left", fontsize="small", ncols=min(len(lower_columns), 4))

    if len(x):
        price_ax.set_xlim(x[0] - width, x[-1] + width)
    price_ax.grid(True, alpha=0.25)
    if price_ax.get_legend_handles_labels()[0]:
        price_ax.legend(loc="upper left", fontsize="small", ncols=3)
    if title is not None:
        price_ax.set_title(title)
    locator = mdates.AutoDateLocator()  # shared with the lower panel (shared x axis)
    price_ax.xaxis.set_major_locator(locator)
    price_ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return fig


def _axes(ax: Axes | tuple[Axes, Axes] | None, wants_lower: bool) -> tuple[Axes, Axes | None]:
    if isinstance(ax, tuple):
        return ax[0], ax[1]
    if ax is not None:
        return ax, ax.twinx() if wants_lower else None
    fig = Figure(figsize=(11, 6 if wants_lower else 4.5), layout="constrained")
    if not wants_lower:
        return fig.add_subplot(), None
    price_ax, lower_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    return price_ax, lower_ax


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"no column(s) {missing} in the frame; its columns: {list(frame.columns)}")


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _x_positions(frame: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Matplotlib date numbers of the candles (from ``date``, else a datetime index) and a
    candle body width in the same unit."""
    if "date" in frame.columns:
        dates = pd.DatetimeIndex(pd.to_datetime(frame["date"], utc=True))
    elif isinstance(frame.index, pd.DatetimeIndex):
        dates = frame.index if frame.index.tz is not None else frame.index.tz_localize("UTC")
    else:
        raise ValueError("the frame needs a `date` column or a DatetimeIndex")
    # Naive UTC datetime64[us] converts exactly and fast (no per-element Python objects).
    x = mdates.date2num(dates.tz_convert(None).to_numpy(dtype="datetime64[us]"))
    step = float(np.median(np.diff(x))) if len(x) > 1 else 1 / 24
    return x, step * 0.7


def _candles(ax: Axes, x: np.ndarray, width: float, frame: pd.DataFrame) -> None:
    o, h, low, c = (_numbers(frame, column) for column in OHLC)
    up = c >= o
    colors = np.where(up, _UP, _DOWN)
    wicks = np.stack([np.column_stack([x, low]), np.column_stack([x, h])], axis=1)
    ax.add_collection(LineCollection(wicks, colors=colors, linewidths=0.8))
    left, right = x - width / 2, x + width / 2
    bottom, top = np.minimum(o, c), np.maximum(o, c)
    bodies = np.stack(
        [
            np.column_stack([left, bottom]),
            np.column_stack([left, top]),
            np.column_stack([right, top]),
            np.column_stack([right, bottom]),
        ],
        axis=1,
    )
    ax.add_collection(PolyCollection(bodies, facecolors=colors, edgecolors=colors, linewidths=0.5))
    ax.autoscale_view()
    ax.plot([], [], color=_UP, lw=4, label="price")  # one legend entry for the candles


def _signal_base(column: str) -> str | None:
    for base in SIGNAL_BASES:
        if column == base or column.startswith(base + "_"):
            return base
    return None


def _signal_markers(ax: Axes, x: np.ndarray, frame: pd.DataFrame, column: str) -> None:
    base = _signal_base(column)
    style = _STYLES.get(base or "", _SignalStyle("o", "0.3", True))
    on = _numbers(frame, column) == 1
    # A producer's signal merged into a consumer frame, e.g. enter_long_default.
    producer = base is not None and column != base
    low = _numbers(frame, "low" if "low" in frame.columns else "close")
    high = _numbers(frame, "high" if "high" in frame.columns else "close")
    span = np.nanmax(high) - np.nanmin(low) if len(x) and np.isfinite(high).any() else 0.0
    offset = span * (0.035 if producer else 0.02)
    y = low - offset if style.below else high + offset
    ax.scatter(
        x[on],
        y[on],
        marker=style.marker,
        s=90 if producer else 45,
        facecolors="none" if producer else style.color,
        edgecolors=style.color,
        linewidths=1.4,
        zorder=3,
        label=f"{column} (producer {column[len(base) + 1 :]})" if producer else column,
    )
