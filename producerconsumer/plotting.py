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

A figure drawn again with each new candle (the notebook dashboard) can use
:class:`StableConstrainedLayout`: the constrained layout, computed again only when the tick
labels, titles or legends it depends on change.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Tick, XAxis, YAxis
from matplotlib.cbook import is_math_text
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine, LayoutEngine
from matplotlib.spines import Spine
from matplotlib.ticker import NullLocator
from matplotlib.transforms import Bbox
from numpy.typing import ArrayLike

from .columns import OHLC_COLUMNS, SIGNAL_COLUMNS

if TYPE_CHECKING:
    from .api import ProducerAPI
    from .config import ProducerConfig

#: What ``plot_config=`` takes: Freqtrade's dict, or where to read the producer's own.
PlotConfigSource: TypeAlias = "Mapping[str, Any] | ProducerAPI | ProducerConfig | None"

__all__ = [
    "PlotConfigSource",
    "StableConstrainedLayout",
    "config_panels",
    "lower_panel",
    "plot_pair",
    "resolve_plot_config",
    "signal_columns",
]

log = logging.getLogger(__name__)

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
    ax: Axes | Sequence[Axes] | None = None,
    title: str | None = None,
    window: int | None = None,
    lower: Sequence[str] = (),
    *,
    plot_config: PlotConfigSource = None,
    trades: pd.DataFrame | None = None,
    backtest: Any = None,
    pair: str | None = None,
) -> Figure:
    """Plot one pair's frame: price, ``indicators``, signals, trades; returns the figure.

    ``indicators``: columns to draw; oscillators on a 0-100 scale (see :func:`lower_panel`) and
    the columns named in ``lower`` (which need not be repeated in ``indicators``) go to a lower
    panel. ``signals``: signal columns drawn as markers where they are 1 (default: every
    ``enter_*``/``exit_*`` column, see :func:`signal_columns`; ``[]`` for none). ``window``: only
    the last ``window`` candles. ``ax``: draw into existing axes, one (the lower panels then
    become one twin axis on its right) or a sequence ``(price, lower, ...)`` with one axes per
    panel; by default a new :class:`~matplotlib.figure.Figure` is made (not registered with
    ``pyplot``: it shows as an image when it is a cell's value, or save it with ``fig.savefig``).

    ``plot_config``: Freqtrade's strategy ``plot_config`` (``main_plot`` columns over the
    price, each of ``subplots`` in a panel of its own; per column ``color``, ``type``
    ``line`` / ``bar`` / ``scatter``, ``fill_to`` another column with ``fill_color`` and
    ``fill_label``), or a :class:`~producerconsumer.ProducerAPI` / a ``producers`` entry with
    ``api_username`` / ``api_password`` to read the producer's own from its REST API. Columns
    the frame lacks are skipped, as Freqtrade's ``plot-dataframe`` does.

    ``trades``: the producer bot's trades (``consumer.producer_trades()``): its actual fills
    as triangles with a black edge at the fill price (entry gold, exit green for a win, red for
    a loss; an open trade's line runs to the last candle). ``backtest``: a backtest's trades
    (a DataFrame with ``open_date``, ``close_date``, ``open_rate``, ``close_rate``,
    ``profit_abs``, ``exit_reason``, or a result with such a ``.trades``) as diamonds. Both are
    taken for ``pair`` only when they hold several pairs.
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
    config = resolve_plot_config(plot_config)
    main_series, subplots = _config_panels(frame, config)
    # A column plot_config places is drawn where it says, once.
    placed = {s.column for s in main_series} | {s.column for _, ss in subplots for s in ss}
    upper_columns = [c for c in upper_columns if c not in placed]
    lower_columns = [c for c in lower_columns if c not in placed]
    panels = len(subplots) + bool(lower_columns)
    price_ax, panel_axes = _panel_axes(ax, panels)
    for drawn in {price_ax, *panel_axes}:
        _exact_spine_extents(drawn)
    lower_ax = panel_axes[0] if lower_columns else None
    fig = price_ax.get_figure()
    assert isinstance(fig, Figure)

    x, width = _x_positions(frame)
    if all(c in frame.columns for c in OHLC_COLUMNS):
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
    _draw_series(price_ax, x, width, frame, main_series)
    for column in signals:
        _signal_markers(price_ax, x, frame, column)
    if lower_ax is not None:
        for column in lower_columns:
            lower_ax.plot(x, _numbers(frame, column), lw=1.0, label=column)
        lower_ax.set_ylim(0, 100)
        for level in (30, 70):
            lower_ax.axhline(level, color="0.6", lw=0.7, ls="--")
        lower_ax.legend(loc="upper left", fontsize="small", ncols=min(len(lower_columns), 4))
    for (name, series), sub_ax in zip(subplots, panel_axes[bool(lower_columns) :], strict=False):
        _draw_series(sub_ax, x, width, frame, series)
        if name and not isinstance(ax, Axes):  # a panel of its own (not a shared twin)
            sub_ax.set_ylabel(name)
        if sub_ax.get_legend_handles_labels()[0]:
            sub_ax.legend(loc="upper left", fontsize="small", ncols=min(len(series), 4))
        sub_ax.grid(True, alpha=0.25)
    if len(x):
        span = (x[0] - width, x[-1] + width)
        if trades is not None:
            _producer_fills(price_ax, span, x[-1], _for_pair(trades, pair, "trades"))
        if backtest is not None:
            table = getattr(backtest, "trades", backtest)
            if not isinstance(table, pd.DataFrame):
                raise TypeError(
                    "backtest must be a DataFrame of trades or a backtest result with .trades, "
                    f"got {type(backtest).__name__}"
                )
            _backtest_trades(price_ax, span, _for_pair(table, pair, "backtest"))

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


def _panel_axes(ax: Axes | Sequence[Axes] | None, panels: int) -> tuple[Axes, list[Axes]]:
    """The price axes and one axes per lower panel."""
    if ax is not None and not isinstance(ax, Axes):
        given = list(ax)
        if len(given) < 1 + panels:
            raise ValueError(
                f"this plot needs {1 + panels} axes (price and {panels} panel(s)), got "
                f"{len(given)}; pass one Axes (the panels then share a twin axis) or enough"
            )
        return given[0], given[1:]
    if ax is not None:
        return ax, [ax.twinx()] * panels if panels else []
    fig = Figure(figsize=(11, 4.5 + 1.5 * panels), layout="constrained")
    if not panels:
        return fig.add_subplot(), []
    axes = fig.subplots(1 + panels, 1, sharex=True, height_ratios=(3, *[1] * panels))
    return axes[0], list(axes[1:])


class _EdgeSpine(Spine):
    """A spine that reports its extent along its edge of the axes as that edge's, exactly.

    A plain spine along the bottom or top spans the x view limits, transformed to pixels
    through the data transform (left and right ones: the y limits). For dates (~2e4 days
    across ~1 day) that leaves ~1e-9 px of rounding that changes with every candle, and
    constrained layout takes it into the axes' margins (the spine is part of the axes' tight
    box; the tick padding it adds across the edge is what the layout needs from it). The
    axes then move by that much: nothing one could see, but text is drawn at 1/64 px since
    matplotlib 3.11, and a centred title sits on a rounding boundary of that grid as often as
    not (its half width is in 1/128 px), so two layouts of the same decorations gave different
    pixels. Along the edge the spine is the edge (when it spans the view, no bounds set).
    """

    def get_window_extent(self, renderer: Any = None) -> Bbox:
        extent = super().get_window_extent(renderer)
        if self.get_bounds() is not None:
            return extent
        edge = self.axes.bbox
        if self.spine_type in ("bottom", "top"):
            return Bbox.from_extents(edge.x0, extent.y0, edge.x1, extent.y1)
        if self.spine_type in ("left", "right"):
            return Bbox.from_extents(extent.x0, edge.y0, extent.x1, edge.y1)
        return extent


def _exact_spine_extents(ax: Axes) -> None:
    """Make the straight spines of ``ax`` lay out the same whatever the data limits (see
    :class:`_EdgeSpine`); only plain spines, other kinds are left as they are."""
    for spine in ax.spines.values():
        if type(spine) is Spine and spine.spine_type in ("left", "right", "bottom", "top"):
            spine.__class__ = _EdgeSpine  # the same object: its style and axis stay


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
    o, h, low, c = (_numbers(frame, column) for column in OHLC_COLUMNS)
    up = c >= o
    # One RGBA row per candle: matplotlib takes a float array as is (hex strings would be
    # converted one by one, when built and again on each draw).
    colors = np.where(up[:, np.newaxis], to_rgba(_UP), to_rgba(_DOWN))
    wicks = np.stack([np.column_stack([x, low]), np.column_stack([x, h])], axis=1)
    # autolim=False and the limits from the arrays below: matplotlib would measure the 3000
    # paths one by one for the same numbers.
    # An (N, 2, 2) array is a sequence of segments at run time; matplotlib's stub says Sequence.
    wick_lines = LineCollection(wicks, colors=colors, linewidths=0.8)  # type: ignore[arg-type]
    ax.add_collection(wick_lines, autolim=False)
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
    # An (N, 4, 2) array takes PolyCollection's fast path for arrays; its stub says Sequence.
    body_polygons = PolyCollection(
        bodies,  # type: ignore[arg-type]
        facecolors=colors,
        edgecolors=colors,
        linewidths=0.5,
    )
    ax.add_collection(body_polygons, autolim=False)
    _update_datalim(ax, np.concatenate([wicks.reshape(-1, 2), bodies.reshape(-1, 2)]))
    ax.autoscale_view()
    ax.plot([], [], color=_UP, lw=4, label="price")  # one legend entry for the candles


def _update_datalim(ax: Axes, points: np.ndarray) -> None:
    """Extend the data limits of ``ax`` to the finite ``points`` (what ``add_collection``
    does, without measuring each path)."""
    finite = points[np.isfinite(points).all(axis=1)]
    if len(finite):
        ax.update_datalim([finite.min(axis=0), finite.max(axis=0)])


def _signal_base(column: str) -> str | None:
    for base in SIGNAL_COLUMNS:
        if column == base or column.startswith(base + "_"):
            return base
    return None


def _signal_markers(ax: Axes, x: np.ndarray, frame: pd.DataFrame, column: str) -> None:
    base = _signal_base(column)
    style = _STYLES.get(base or "", _SignalStyle("o", "0.3", True))
    on = _numbers(frame, column) == 1
    # A producer's signal merged into a consumer frame, e.g. enter_long_default.
    producer_name = column[len(base) + 1 :] if base is not None and column != base else None
    producer = producer_name is not None
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
        label=f"{column} (producer {producer_name})" if producer else column,
    )


class _Renderer(Protocol):
    """What the layout measures text with: the renderer of a canvas that has one
    (``FigureCanvasAgg.get_renderer()``, the backend of notebooks and ipympl)."""

    dpi: float

    def points_to_pixels(self, points: float) -> float: ...

    def get_text_width_height_descent(
        self, s: str, prop: FontProperties, ismath: bool | Literal["TeX"]
    ) -> tuple[float, float, float]: ...


@dataclass(frozen=True, slots=True)
class _TickLabel:
    """A tick label in view, in pixels along its axis (from the axes' left or bottom edge)."""

    text: str
    offset: float  # where its tick is
    reach: float  # how far it extends either way along the axis from there (an upper bound)


class StableConstrainedLayout(LayoutEngine):
    """Constrained layout for a figure that is drawn again and again with new data (a live
    plot): the layout is computed again only when something it depends on has changed, else the
    axes keep the positions it gave last time.

    Constrained layout places the axes from the sizes of their decorations: tick labels, offset
    texts, titles, axis labels, legends. A new candle mostly changes none of them, yet computing
    the layout costs about as much as drawing the figure. Before each draw this engine puts the
    axes where the last layout put them and computes a key of what the layout depends on there:
    figure size and dpi, the grid of each axes, titles and labels, legend texts, and per axis the
    tick labels in view (strings, offset text, label visibility and size) and how far a label
    near an end of the axis sticks out of it beyond the other axis's decorations there. Only when
    the key differs from the one of the last layout is the layout computed again (from the grid's
    own positions, as for a new figure), so the figure looks as it would with
    ``layout="constrained"``.

    ``tolerance`` (pixels): a tick label that sticks out of its axis's end (a date label just
    scrolled in at the right) moves the layout by a fraction of a pixel with each new candle;
    the layout is computed again once the label sticks out by another ``tolerance`` (at most
    half the layout's padding, so the label stays clear of the figure's edge), not on every
    candle. The axes are then at most that far from where ``"constrained"`` would put them.
    ``0``: computed again on any change, the figure is the same pixel for pixel.

    One engine can serve successive figures of the same kind (a new figure per redraw) as well
    as one figure redrawn in place. ``layouts`` counts the layouts actually computed.
    """

    _adjust_compatible = False
    _colorbar_gridspec = False

    def __init__(self, tolerance: float = 2.0) -> None:
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0 px, got {tolerance}")
        super().__init__()
        self.tolerance = tolerance
        self._constrained = ConstrainedLayoutEngine()
        self._key: tuple[Any, ...] | None = None
        self._positions: list[Bbox] = []
        self._extents: dict[tuple[Any, ...], tuple[float, float]] = {}
        self.layouts = 0

    def execute(self, fig: Figure) -> None:
        get_renderer = getattr(fig.canvas, "get_renderer", None)
        if get_renderer is None:  # a canvas that cannot measure text: no shortcut
            self._constrained.execute(fig)
            return
        renderer = get_renderer()
        # The axes constrained layout places (others keep the position they were given).
        axes = [ax for ax in fig.axes if ax.get_in_layout() and ax.get_subplotspec() is not None]
        if self._key is not None and len(self._positions) == len(axes):
            for ax, position in zip(axes, self._positions, strict=True):
                _place(ax, position)
            if self._layout_key(fig, renderer) == self._key:
                return
        for ax in axes:
            spec = ax.get_subplotspec()
            assert spec is not None
            _place(ax, spec.get_position(fig))
        self._constrained.execute(fig)
        self.layouts += 1
        self._positions = [ax.get_position(original=True).frozen() for ax in axes]
        self._key = self._layout_key(fig, renderer)

    def _layout_key(self, fig: Figure, renderer: _Renderer) -> tuple[Any, ...]:
        parts: list[Any] = [
            tuple(fig.bbox.bounds),
            fig.dpi,
            fig.get_suptitle(),
            fig.get_supxlabel(),
            fig.get_supylabel(),
            tuple(tuple(t.get_text() for t in legend.get_texts()) for legend in fig.legends),
        ]
        params = self._constrained.get()
        # Steps in which the overhang of a tick label counts: x labels stick out left or
        # right (w_pad), y labels down or up (h_pad).
        x_step = min(self.tolerance, float(params["w_pad"]) * fig.dpi / 2)
        y_step = min(self.tolerance, float(params["h_pad"]) * fig.dpi / 2)
        for ax in fig.axes:
            spec = ax.get_subplotspec()
            grid = None
            if spec is not None:
                gridspec = spec.get_gridspec()
                grid = (
                    spec.get_geometry(),
                    _ratios(gridspec.get_height_ratios()),
                    _ratios(gridspec.get_width_ratios()),
                )
            legend = ax.get_legend()
            x_key, x_labels, x_depths = self._axis_state(ax.xaxis, renderer)
            y_key, y_labels, y_depths = self._axis_state(ax.yaxis, renderer)
            parts.append(
                (
                    ax.get_visible(),
                    ax.get_in_layout(),
                    grid,
                    tuple(ax.get_title(loc) for loc in ("left", "center", "right")),
                    ax.get_xlabel(),
                    ax.get_ylabel(),
                    None if legend is None else tuple(t.get_text() for t in legend.get_texts()),
                    x_key,
                    # x labels at the left end are clear when within the y decorations there
                    _overhangs(x_labels, ax.bbox.width, y_depths, x_step),
                    y_key,
                    _overhangs(y_labels, ax.bbox.height, x_depths, y_step),
                )
            )
        return tuple(parts)

    def _axis_state(
        self, axis: XAxis | YAxis, renderer: _Renderer
    ) -> tuple[tuple[Any, ...], list[_TickLabel], tuple[float, float]]:
        """What the axis adds to the layout, found without drawing it: a key of its tick
        labels in view and of how they are shown; those labels; and how far its decorations
        reach out of the axes at least, on its first and second side (bottom and top for x,
        left and right for y)."""
        if not axis.get_visible():
            return (), [], (0.0, 0.0)
        is_x = axis.axis_name == "x"
        ax = axis.axes
        length = ax.bbox.width if is_x else ax.bbox.height
        points = renderer.points_to_pixels(1.0)
        # From the axes' left (x) or bottom (y) edge, as drawn; inverted axes included.
        first, last = axis.get_view_interval()
        key: list[Any] = [
            axis.get_label_position(),
            axis.get_ticks_position(),
            axis.offsetText.get_visible(),
        ]
        labels: list[_TickLabel] = []
        depths = [0.0, 0.0]
        for which, locator, formatter in (
            ("major", axis.get_major_locator(), axis.get_major_formatter()),
            ("minor", axis.get_minor_locator(), axis.get_minor_formatter()),
        ):
            if isinstance(locator, NullLocator):
                continue
            locs = np.asarray(locator(), dtype=float)
            # matplotlib passes its tick arrays too (Axis._update_ticks); its stub says list.
            texts = formatter.format_ticks(locs)  # type: ignore[arg-type]
            key.append(formatter.get_offset())
            ticks = axis.get_major_ticks(1) if which == "major" else axis.get_minor_ticks(1)
            if not ticks:
                continue
            tick = ticks[0]
            out = tick.get_tick_padding() * points
            sides = ((tick.tick1line, tick.label1), (tick.tick2line, tick.label2))
            shown = tuple(label.get_visible() for _, label in sides)
            pad = _tick_pad(tick)
            key.append((which, shown, pad, tick.get_tick_padding()))
            for side, (line, _) in enumerate(sides):
                if line.get_visible():
                    depths[side] = max(depths[side], out)
            if not any(shown):
                continue
            label = tick.label1
            prop = label.get_fontproperties()
            rotation = label.get_rotation()
            ha, va = label.get_horizontalalignment(), label.get_verticalalignment()
            # by value: a Text's font properties are changed in place
            key.append((hash(prop), rotation, ha, va))
            centred = rotation == 0 and (
                ha == "center" if is_x else va in ("center", "center_baseline")
            )
            size = prop.get_size_in_points() * points
            # The ticks matplotlib draws: those within the view interval (its tolerance).
            scale = axis.get_transform()
            t_first, t_last = (float(v) for v in scale.transform(np.array([first, last])))
            span = t_last - t_first
            tolerance = abs(span) * 1e-10
            lo, hi = min(t_first, t_last) - tolerance, max(t_first, t_last) + tolerance
            positions = scale.transform(locs) if len(locs) else locs
            depth = 0.0
            for position, text in zip(positions, texts, strict=True):
                if not lo <= position <= hi:
                    continue
                key.append(text)
                width, height = self._extent(text, prop, label.get_usetex(), renderer)
                # How far the label reaches along the axis from its tick: half its width
                # (x, centred), or less than 0.65 of the font size (y, centred on the
                # baseline's middle); else, whatever the alignment, its largest extent.
                if not centred:
                    reach = max(width, height, size)
                elif is_x:
                    reach = width / 2
                else:
                    reach = 0.65 * size
                offset = (position - t_first) / span * length if span else 0.0
                labels.append(_TickLabel(text, float(offset), reach))
                # away from the axes: at least its glyphs' height (x) or width (y)
                depth = max(depth, (height if is_x else width) if rotation == 0 else 0.0)
            for side, (_, side_label) in enumerate(sides):
                if side_label.get_visible() and depth > 0:
                    reach_out = out + pad * points + depth
                    depths[side] = max(depths[side], reach_out)
        return tuple(key), labels, (depths[0], depths[1])

    def _extent(
        self, text: str, prop: FontProperties, usetex: bool, renderer: _Renderer
    ) -> tuple[float, float]:
        if not text:
            return 0.0, 0.0
        cache_key = (text, hash(prop), usetex, renderer.dpi)
        extent = self._extents.get(cache_key)
        if extent is None:
            ismath: bool | Literal["TeX"] = "TeX" if usetex else is_math_text(text)
            width, height, _ = renderer.get_text_width_height_descent(text, prop, ismath=ismath)
            if len(self._extents) > 2000:
                self._extents.clear()
            extent = self._extents[cache_key] = (width, height)
        return extent


def _ratios(ratios: ArrayLike | None) -> tuple[float, ...]:
    """A grid's height or width ratios, as a key (``()`` for none)."""
    return () if ratios is None else tuple(np.asarray(ratios, dtype=float).ravel().tolist())


def _tick_pad(tick: Tick) -> float:
    """``tick.get_pad()``: its label's distance from the tick, in points."""
    # Tick.get_pad returns Tick._pad, a float; matplotlib's stub declares `-> None`.
    pad: float = tick.get_pad()  # type: ignore[func-returns-value, assignment]
    return pad


def _overhangs(
    labels: list[_TickLabel], length: float, clear: tuple[float, float], step: float
) -> tuple[Any, ...]:
    """How far each of ``labels`` sticks out of the ends of its axis (``length`` px) beyond
    ``clear`` (what the other axis's decorations take there anyway, at the low and the high
    end), in whole ``step``s (or to 0.01 px when ``step`` is 0); nothing for those within."""
    key: list[Any] = []
    for label in labels:
        low = label.reach - label.offset - (clear[0] - 0.5)
        high = label.reach - (length - label.offset) - (clear[1] - 0.5)
        if low > 0 or high > 0:
            key.append((label.text, _steps(low, step), _steps(high, step)))
    return tuple(key)


def _steps(overhang: float, step: float) -> float:
    if overhang <= 0:
        return 0
    return math.ceil(overhang / step) if step > 0 else round(overhang, 2)


def _place(ax: Axes, position: Bbox) -> None:
    """Move ``ax`` (both its positions) without taking it out of the layout, as constrained
    layout itself does."""
    in_layout = ax.get_in_layout()
    ax.set_position(position)
    ax.set_in_layout(in_layout)


# --- Freqtrade's plot_config

_SERIES_TYPES = ("line", "bar", "scatter")
_FILL, _WIN, _LOSS = "#f2c200", "#1b9e1b", "#d62728"
_BACKTEST_ENTRY = "#1f77b4"


@dataclass(frozen=True, slots=True)
class _Series:
    column: str
    color: Any = None
    kind: str = "line"
    fill_to: str | None = None
    fill_color: Any = None
    fill_label: str | None = None


def resolve_plot_config(source: Any) -> dict[str, Any] | None:
    """Freqtrade's ``plot_config`` dict from ``source``: the dict itself (checked), or the
    producer's own read from its REST API (a :class:`~producerconsumer.ProducerAPI`, or a
    ``producers`` entry / :class:`~producerconsumer.ProducerConfig` with ``api_username`` and
    ``api_password``); ``None`` for none."""
    if source is None:
        return None
    from .api import ProducerAPI
    from .config import ProducerConfig

    if isinstance(source, ProducerAPI):
        return _checked_plot_config(source.plot_config())
    if isinstance(source, ProducerConfig) or (isinstance(source, Mapping) and "host" in source):
        with ProducerAPI(source, timeout=10) as api:
            return _checked_plot_config(api.plot_config())
    if isinstance(source, Mapping):
        return _checked_plot_config(source)
    raise TypeError(
        "plot_config must be Freqtrade's plot_config dict ({'main_plot': ..., 'subplots': "
        f"...}}), a ProducerAPI or a producers entry with API credentials; got "
        f"{type(source).__name__}"
    )


def _checked_plot_config(config: Mapping[str, Any]) -> dict[str, Any]:
    def columns(where: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            raise ValueError(f"plot_config {where} must be an object, got {value!r:.80}")
        for column, style in value.items():
            if style is None:
                continue
            if not isinstance(style, Mapping):
                raise ValueError(
                    f"plot_config {where}.{column} must be an object (color, type, fill_to), "
                    f"got {style!r:.80}"
                )
            kind = style.get("type", "line")
            if kind not in _SERIES_TYPES:
                raise ValueError(
                    f"plot_config {where}.{column}.type must be one of {list(_SERIES_TYPES)}, "
                    f"got {kind!r}"
                )

    columns("main_plot", config.get("main_plot") or {})
    subplots = config.get("subplots") or {}
    if not isinstance(subplots, Mapping):
        raise ValueError(f"plot_config subplots must be an object, got {subplots!r:.80}")
    for name, panel in subplots.items():
        columns(f"subplots.{name}", panel)
    return dict(config)


def _color(value: Any) -> Any:
    """A plotly/CSS colour (``"rgba(128,128,128,0.1)"``, ``"orange"``) for matplotlib, or
    None (the colour cycle) for one it does not know."""
    if value is None:
        return None
    if isinstance(value, str):
        found = re.fullmatch(r"\s*rgba?\(([^)]*)\)\s*", value)
        if found:
            parts = [float(p) for p in found.group(1).split(",")]
            if len(parts) in (3, 4):
                rgb = [min(max(p / 255, 0.0), 1.0) for p in parts[:3]]
                return (*rgb, min(max(parts[3], 0.0), 1.0) if len(parts) == 4 else 1.0)
    try:
        return to_rgba(value)
    except (ValueError, TypeError):
        log.info("plot_config colour %r is not one matplotlib knows; using the default", value)
        return None


def _series(frame: pd.DataFrame, where: str, panel: Mapping[str, Any]) -> list[_Series]:
    out = []
    for column, style in panel.items():
        if column not in frame.columns:
            log.info("plot_config %s: column %r is not in the frame; skipped", where, column)
            continue
        style = style or {}
        fill_to = style.get("fill_to")
        if fill_to is not None and fill_to not in frame.columns:
            log.info("plot_config %s.%s: fill_to %r is not in the frame", where, column, fill_to)
            fill_to = None
        out.append(
            _Series(
                column=column,
                color=_color(style.get("color")),
                kind=style.get("type", "line"),
                fill_to=fill_to,
                fill_color=_color(style.get("fill_color")),
                fill_label=style.get("fill_label"),
            )
        )
    return out


def _config_panels(
    frame: pd.DataFrame, config: Mapping[str, Any] | None
) -> tuple[list[_Series], list[tuple[str, list[_Series]]]]:
    if not config:
        return [], []
    main = _series(frame, "main_plot", config.get("main_plot") or {})
    subplots = []
    for name, panel in (config.get("subplots") or {}).items():
        series = _series(frame, f"subplots.{name}", panel or {})
        if series:
            subplots.append((str(name), series))
    return main, subplots


def config_panels(
    frame: pd.DataFrame, plot_config: Mapping[str, Any] | None
) -> tuple[int, set[str]]:
    """How many panels of their own ``plot_config``'s subplots take for ``frame`` (those with
    a column the frame has), and the columns it places (drawn there, not as indicators)."""
    main, subplots = _config_panels(frame, plot_config)
    placed = {s.column for s in main} | {s.column for _, ss in subplots for s in ss}
    return len(subplots), placed


def _draw_series(
    ax: Axes, x: np.ndarray, width: float, frame: pd.DataFrame, series: Sequence[_Series]
) -> None:
    for item in series:
        y = _numbers(frame, item.column)
        if item.kind == "bar":
            ax.bar(x, y, width=width, color=item.color, label=item.column)
        elif item.kind == "scatter":
            ax.scatter(x, y, s=12, color=item.color, label=item.column, zorder=3)
        else:
            ax.plot(x, y, lw=1.0, color=item.color, label=item.column)
        if item.fill_to is not None:
            fill = item.fill_color if item.fill_color is not None else (0.5, 0.5, 0.5, 0.15)
            ax.fill_between(
                x,
                y,
                _numbers(frame, item.fill_to),
                color=fill,
                lw=0,
                label=item.fill_label or f"{item.column} - {item.fill_to}",
            )


# --- trades: the producer's fills and a backtest's


def _for_pair(trades: pd.DataFrame, pair: str | None, what: str) -> pd.DataFrame:
    missing = [c for c in ("open_date", "open_rate") if c not in trades.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {missing}: pass consumer.producer_trades() or a backtest's "
            "trades (open_date, open_rate, close_date, close_rate, profit_abs, exit_reason)"
        )
    if "pair" not in trades.columns or trades.empty:
        return trades
    if pair is not None:
        return trades[trades["pair"] == pair]
    pairs = trades["pair"].unique()
    if len(pairs) > 1:
        raise ValueError(f"{what} hold {len(pairs)} pairs: say which with pair=...")
    return trades


def _dates_x(values: pd.Series) -> np.ndarray:
    dates = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).tz_convert(None)
    return np.asarray(mdates.date2num(dates.to_numpy(dtype="datetime64[us]")), dtype=float)


def _trade_arrays(trades: pd.DataFrame) -> dict[str, np.ndarray]:
    def column(name: str, default: float = math.nan) -> np.ndarray:
        if name not in trades.columns:
            return np.full(len(trades), default)
        return pd.to_numeric(trades[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    closed = (
        trades["close_date"]
        if "close_date" in trades.columns
        else pd.Series(pd.NaT, index=trades.index)
    )
    short = (
        trades["is_short"].fillna(False).astype(bool).to_numpy()
        if "is_short" in trades.columns
        else np.zeros(len(trades), dtype=bool)
    )
    return {
        "open_x": _dates_x(trades["open_date"]),
        "close_x": _dates_x(closed),
        "open_rate": column("open_rate"),
        "close_rate": column("close_rate"),
        "profit": column("profit_abs", 0.0),
        "short": short,
    }


def _inside(values: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    return np.isfinite(values) & (values >= span[0]) & (values <= span[1])


def _trade_lines(
    ax: Axes, a: dict[str, np.ndarray], span: tuple[float, float], end: float, style: str
) -> None:
    for x0, x1, y0, y1, won in zip(
        a["open_x"], a["close_x"], a["open_rate"], a["close_rate"], a["profit"] > 0, strict=True
    ):
        if not np.isfinite(x1):  # open: at its open rate up to the last candle
            x1, y1, color = end, y0, "0.45"
        else:
            color = _WIN if won else _LOSS
        if x1 < span[0] or x0 > span[1]:
            continue
        ax.plot([x0, x1], [y0, y1], ls=style, lw=1.1, color=color, zorder=4, scalex=False,
                scaley=False)  # fmt: skip


def _producer_fills(ax: Axes, span: tuple[float, float], end: float, trades: pd.DataFrame) -> None:
    """The producer's actual fills: triangles with a black edge at the fill price."""
    if trades.empty:
        return
    a = _trade_arrays(trades)
    _trade_lines(ax, a, span, end, "--")
    entries = _inside(a["open_x"], span)
    exits = _inside(a["close_x"], span)
    colors = np.where(a["profit"] > 0, _WIN, _LOSS)
    for short, up, down in ((False, "^", "v"), (True, "v", "^")):
        side = a["short"] == short
        label = " (short)" if short else ""
        if (entries & side).any():
            ax.scatter(
                a["open_x"][entries & side], a["open_rate"][entries & side], marker=up, s=90,
                color=_FILL, edgecolors="black", linewidths=1.1, zorder=6,
                label=f"producer entry fill{label}", gid="producer-entry-fills",
            )  # fmt: skip
        if (exits & side).any():
            ax.scatter(
                a["close_x"][exits & side], a["close_rate"][exits & side], marker=down, s=90,
                c=list(colors[exits & side]), edgecolors="black", linewidths=1.1, zorder=6,
                label=f"producer exit fill{label}", gid="producer-exit-fills",
            )  # fmt: skip
    if "exit_reason" in trades.columns:
        for x, y, reason, color in zip(
            a["close_x"][exits],
            a["close_rate"][exits],
            trades["exit_reason"].to_numpy()[exits],
            colors[exits],
            strict=True,
        ):
            if reason:
                ax.annotate(
                    str(reason), (x, y), xytext=(5, 6), textcoords="offset points",
                    fontsize="x-small", color=color, gid="producer-exit-reason",
                )  # fmt: skip


def _backtest_trades(ax: Axes, span: tuple[float, float], trades: pd.DataFrame) -> None:
    """A backtest's trades: diamonds with a white edge, dotted lines."""
    if trades.empty:
        return
    a = _trade_arrays(trades)
    _trade_lines(ax, a, span, span[1], ":")
    entries = _inside(a["open_x"], span)
    exits = _inside(a["close_x"], span)
    colors = np.where(a["profit"] > 0, _WIN, _LOSS)
    if entries.any():
        ax.scatter(
            a["open_x"][entries], a["open_rate"][entries], marker="D", s=40,
            color=_BACKTEST_ENTRY, edgecolors="white", linewidths=0.8, zorder=5,
            label="backtest entry", gid="backtest-entries",
        )  # fmt: skip
    if exits.any():
        ax.scatter(
            a["close_x"][exits], a["close_rate"][exits], marker="D", s=40,
            c=list(colors[exits]), edgecolors="white", linewidths=0.8, zorder=5,
            label="backtest exit", gid="backtest-exits",
        )  # fmt: skip
