"""Live notebook widgets: :class:`Dashboard` and :class:`StatusPanel` (ipywidgets 8).

::

    Dashboard(consumer)                 # pick producer, pair, indicators, window; live plot
    Dashboard(consumer, runner)         # the strategy runner's frames: producer vs own signals
    consumer                            # as a cell's value: a self-updating StatusPanel

ipywidgets (and matplotlib) are imported when a widget is made, so this module, like the rest
of the package, imports without them.

Threading: the consumer's and the runner's events fire on their own threads. Their handlers
here only set a flag and wake the view's **UI thread** (one daemon thread per view), which does
everything else: reading frames, rendering the figure, setting widget traits. Trait updates from
a thread reach the frontend (ipykernel sends them with the parent header of the cell that made
the view), while ``with output:`` capture from a thread does not; so the plot is an ``Image``
widget whose PNG value is swapped in one message: no flicker, nothing to clear, and the loop
thread never waits for matplotlib. Redraws are coalesced: a burst of updates costs one
render, and at most ``max_fps`` renders happen per second. With ipympl (``%matplotlib widget``)
the plot is an ipympl canvas redrawn in place instead. Either way a redraw plots into the axes
of the previous one (when the panels are the same) and keeps its layout unless tick labels,
title or legend changed (:class:`~producerconsumer.plotting.StableConstrainedLayout`): it looks
the same as a new figure, for a fraction of the cost.

Views stop updating when closed (``view.close()``): handlers hold only a weak reference to the
view and disconnect themselves once it is closed or gone, and its UI thread ends. A view is
kept alive by whoever holds it; the status panel that ``display(consumer)`` makes is held by
this module while the frontend shows it (like streamz's displayed streams): it is let go, and
closed, when the widget's view count drops back to 0.

The views read a :class:`~producerconsumer.live.LiveData` (a ``Consumer``, an ``AsyncConsumer``
or anything else with producers, pairs, frames, status and events); this module imports no
consumer, and registers the consumer's rich display (:func:`consumer_mimebundle`) on import.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import live
from .columns import OHLCV_COLUMNS
from .events import Event
from .live import LiveData
from .waiting import until

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .connection import ProducerStatus
    from .plotting import StableConstrainedLayout
    from .store import FrameUpdate
    from .strategy import StrategyRunner

__all__ = [
    "Dashboard",
    "StatusPanel",
    "consumer_mimebundle",
    "keep_while_displayed",
    "status_line",
]

log = logging.getLogger(__name__)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DEFAULT_INDICATORS = ("tema", "bb_lowerband", "bb_middleband", "bb_upperband", "rsi")
TICK = 1.0  # seconds between status refreshes ("3 s ago" must move without messages)


def _ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the notebook widgets need ipywidgets and matplotlib: "
            "pip install 'producerconsumer[jupyter]'"
        ) from exc
    return ipywidgets


class _LiveView:
    """A widget tree kept current by its own UI thread; see the module docstring.

    Subclasses set ``self.widget`` and implement :meth:`_render` (a coalesced redraw) and
    :meth:`_tick` (the periodic status refresh); :meth:`_request` asks for a redraw from any
    thread.
    """

    widget: ipywidgets.Widget

    def __init__(self, max_fps: float) -> None:
        if max_fps <= 0:
            raise ValueError(f"max_fps must be > 0, got {max_fps}")
        self.min_interval = 1.0 / max_fps
        self.renders = 0
        self._closed = False
        self._dirty = False
        self._wake = threading.Event()
        self._serviced = threading.Condition()
        self._handlers: list[tuple[Event[...], Callable[..., None]]] = []
        self._thread: threading.Thread | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop updating, disconnect from the events and close the widgets."""
        if self._closed:
            return
        self._closed = True
        _displayed.discard(self)
        for event, handler in self._handlers:
            event.disconnect(handler)
        self._handlers.clear()
        self._wake.set()
        _close_tree(self.widget)

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None = 30.0) -> None:
        """Block until ``predicate()`` is true; checked after each update of the view (e.g.
        ``dashboard.wait_until(lambda: dashboard.renders > n)``). ``TimeoutError`` after
        ``timeout`` seconds."""
        with self._serviced:
            for remaining in until(predicate, timeout):
                self._serviced.wait(remaining)

    def _connect(self, event: Event[...], method: Callable[..., None]) -> None:
        """Connect a bound ``method`` of this view through a weak reference."""
        ref = weakref.WeakMethod(method)
        view = weakref.ref(self)

        def handler(*args: Any) -> None:
            bound, owner = ref(), view()
            if bound is None or owner is None or owner.closed:
                event.disconnect(handler)
                return
            bound(*args)

        event.connect(handler)
        self._handlers.append((event, handler))

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=_ui_loop,
            args=(weakref.ref(self), self._wake, self.min_interval),
            name=f"pc-{type(self).__name__}",
            daemon=True,
        )
        self._thread.start()

    def _request(self) -> None:
        """Ask for a redraw (any thread; cheap: the UI thread does the work)."""
        self._dirty = True
        self._wake.set()

    def _service(self, redraw: bool, tick: bool) -> None:
        try:
            if redraw:
                self._dirty = False
                self._render()
                self.renders += 1
            if tick:
                self._tick()
        finally:
            with self._serviced:
                self._serviced.notify_all()

    def _render(self) -> None:
        raise NotImplementedError

    def _tick(self) -> None:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return self.widget._repr_mimebundle_(**kwargs)


def _ui_loop(ref: weakref.ref[_LiveView], wake: threading.Event, min_interval: float) -> None:
    """The UI thread of one view. Holds the view only while servicing it, so a view that is
    dropped is collected and the thread ends within one tick."""
    last_render = float("-inf")
    next_tick = time.monotonic() + TICK
    while True:
        now = time.monotonic()
        view = ref()
        if view is None or view.closed:
            return
        due = next_tick if not view._dirty else max(last_render + min_interval, now)
        del view
        wake.wait(max(0.0, min(next_tick, due) - now))
        wake.clear()
        view = ref()
        if view is None or view.closed:
            return
        now = time.monotonic()
        redraw = view._dirty and now >= last_render + min_interval
        tick = now >= next_tick
        try:
            view._service(redraw, tick)
        except Exception:  # a failed render must not end live updates
            log.exception("%s: update failed", type(view).__name__)
        if redraw:
            last_render = now
        if tick:
            next_tick = now + TICK
        del view


def _close_tree(widget: Any) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()


# --- status


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0.0, (now - moment).total_seconds())
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def status_line(status: ProducerStatus, now: datetime | None = None) -> str:
    """One producer's status as short HTML: state (red when stale or failing), last message,
    latency, lagging pairs (orange: beyond the producer's ``max_lag``). The URL (token
    masked) is not repeated here."""
    now = now or datetime.now(UTC)
    color = "#1b7f1b" if status.connected else "#c62828"
    state = status.state + (" (stale)" if status.stale else "")
    parts = [
        f"<b>{escape(status.name)}</b>: <span style='color:{color}'>{escape(state)}</span>",
        f"last update {_ago(status.last_message, now)}",
    ]
    if status.latency_ms is not None:
        parts.append(f"latency {status.latency_ms:.0f} ms")
    parts.append(f"{status.pairs} pairs, {status.frames} frames")
    if status.lagging:
        shown = ", ".join(status.lagging[:5])
        more = f" and {len(status.lagging) - 5} more" if len(status.lagging) > 5 else ""
        parts.append(
            f"<span style='color:#e65100;font-weight:bold'>lagging: {escape(shown)}{more}</span>"
        )
    if status.last_error and not status.connected:
        parts.append(f"<span style='color:#c62828'>{escape(status.last_error)}</span>")
    return " · ".join(parts)


class StatusPanel(_LiveView):
    """A self-updating status line per producer of ``consumer``.

    Shown by ``display(consumer)`` in a widget-capable frontend; refreshed on every status
    change and once a second (for the "last update ... ago" and stale state).
    """

    def __init__(self, consumer: LiveData, max_fps: float = 4.0) -> None:
        super().__init__(max_fps)
        widgets = _ipywidgets()
        self.consumer = consumer
        self.html = widgets.HTML(self._html())
        self.widget = widgets.VBox([self.html])
        self._connect(consumer.status_changed, self._on_status)
        self._start()

    def _html(self) -> str:
        now = datetime.now(UTC)
        lines = [status_line(s, now) for s in self.consumer.status().values()]
        return "<div style='font-size:0.9em'>" + "<br>".join(lines) + "</div>"

    def _on_status(self, status: ProducerStatus) -> None:
        self._request()

    def _render(self) -> None:
        self.html.value = self._html()

    def _tick(self) -> None:
        self._render()


#: The panels made by :func:`consumer_mimebundle` that a frontend may be showing: held here, as
#: nothing else holds them, until their widget's view count is back to 0.
_displayed: set[_LiveView] = set()


def keep_while_displayed(view: _LiveView) -> None:
    """Hold ``view`` while its widget has a view in a frontend, and close it once it has none
    (the frontend counts its views in the widget's ``_view_count``)."""
    _displayed.add(view)
    ref = weakref.ref(view)

    def on_view_count(change: dict[str, Any]) -> None:
        held = ref()
        if held is not None and change["new"] == 0:
            held.close()  # also lets it go

    # Ask the frontend to count its views (None: not counted); then watch the count.
    view.widget._view_count = 0
    view.widget.observe(on_view_count, names="_view_count")


def consumer_mimebundle(consumer: LiveData) -> dict[str, Any] | None:
    """The widget view of a new :class:`StatusPanel` for ``consumer`` when running in a
    kernel with ipywidgets, else None (IPython then uses the consumer's HTML table alone, which
    it also adds to this bundle as the fallback for frontends without widgets). The panel is
    kept alive while it is displayed."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        has_kernel = shell is not None and getattr(shell, "kernel", None) is not None
        if not has_kernel:
            return None
        _ipywidgets()
    except ImportError:
        return None
    panel = StatusPanel(consumer)
    bundle = panel.widget._repr_mimebundle_()
    if not bundle or WIDGET_VIEW not in bundle:
        panel.close()
        return None
    keep_while_displayed(panel)
    return {WIDGET_VIEW: bundle[WIDGET_VIEW]}


live.set_display_hook(consumer_mimebundle)


# --- dashboard


class Dashboard(_LiveView):
    """Pick a producer, pair, indicators and window; the plot follows the live data.

    ``consumer``: a started :class:`~producerconsumer.Consumer` (any
    :class:`~producerconsumer.live.LiveData`). ``runner``: an optional
    :class:`~producerconsumer.strategy.StrategyRunner`: the plot then shows its evaluated frame
    (the producer's merged ``*_default`` signals next to the strategy's own); a live runner
    (``runner.start()``) redraws on each evaluation, a stopped one is re-run on each update.
    ``max_fps``: at most this many redraws per second (bursts are coalesced into one).
    ``backend``: ``"image"`` (a PNG in an ``Image`` widget; also stays in a saved notebook),
    ``"ipympl"`` (an interactive ipympl canvas) or ``"auto"`` (ipympl when matplotlib's backend
    is ipympl, i.e. after ``%matplotlib widget``).

    The widget tree is ``dashboard.widget``; controls: ``producer``, ``pair``,
    ``indicators``, ``window``; ``status`` (HTML) and ``plot`` (the Image or ipympl canvas).

    ``trades``: draw the producer bot's fills (``consumer.producer_trades()``, filled by the
    producer's ``topics``); a trade message for the shown pair redraws. ``backtest``: a
    backtest's trades (a DataFrame or a result with ``.trades``) drawn too. ``plot_config``:
    Freqtrade's ``plot_config`` dict (see :func:`~producerconsumer.plotting.plot_pair`);
    ``"auto"`` (the default) reads the shown producer's own from its REST API when its
    ``producers`` entry has ``api_username`` / ``api_password``, else none.
    """

    def __init__(
        self,
        consumer: LiveData,
        runner: StrategyRunner | None = None,
        *,
        indicators: Sequence[str] = DEFAULT_INDICATORS,
        window: int = 200,
        max_fps: float = 2.0,
        backend: str = "auto",
        figsize: tuple[float, float] = (10.0, 5.5),
        dpi: int = 90,
        trades: bool = True,
        backtest: Any = None,
        plot_config: Any = "auto",
    ) -> None:
        super().__init__(max_fps)
        self.show_trades = trades
        self.backtest = backtest
        self._plot_config_source = plot_config
        self._plot_configs: dict[str, dict[str, Any] | None] = {}
        widgets = _ipywidgets()
        self.consumer = consumer
        self.runner = runner
        self.figsize, self.dpi = figsize, dpi
        self.backend = _choose_backend(backend)
        self._frames: dict[str, pd.DataFrame] = {}  # runner evaluations, per pair
        self._figure: Figure | None = None  # the plot's figure, drawn again on each redraw
        self._layout: StableConstrainedLayout | None = None
        self._lock = threading.RLock()  # one render at a time (UI thread or a control change)
        self._whitelist_changed = False
        self.last_render_seconds: float | None = None

        producers = consumer.producers
        self.producer = widgets.Dropdown(options=producers, description="producer")
        self.pair = widgets.Dropdown(
            options=self._pairs(producers[0]) if producers else [], description="pair"
        )
        self.indicators = widgets.SelectMultiple(
            options=list(indicators), value=tuple(indicators), description="indicators", rows=6
        )
        self.window = widgets.BoundedIntText(
            value=window, min=10, max=5000, step=10, description="window"
        )
        self.status = widgets.HTML()
        self.plot = self._make_plot(widgets)
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.producer, self.pair, self.window]),
                widgets.HBox([self.indicators, self.status]),
                self.plot,
            ]
        )
        self._fallback_png: bytes | None = None
        self._sync_indicator_options()
        for control in (self.producer, self.pair, self.indicators, self.window):
            control.observe(self._on_control, names="value")

        self._connect(consumer.updated, self._on_update)
        self._connect(consumer.whitelist_changed, self._on_whitelist)
        self._connect(consumer.status_changed, self._on_status)
        if runner is not None:
            self._connect(runner.evaluated, self._on_evaluated)
        trade_event = getattr(consumer, "trade_event", None)
        if trades and isinstance(trade_event, Event):
            self._connect(trade_event, self._on_trade)
        # The first plot is drawn now, in the cell that makes the dashboard, so the cell's saved
        # output has it; later ones come from the UI thread.
        self._service(redraw=True, tick=True)
        self._start()

    # --- reading

    def _pairs(self, producer: str) -> list[str]:
        return self.consumer.get_producer_pairs(producer)

    def frame(self) -> pd.DataFrame:
        """The frame shown now (the runner's evaluation when a runner is given)."""
        pair, producer = self.pair.value, self.producer.value
        if pair is None:
            return pd.DataFrame()
        if self.runner is None:
            return self.consumer.get_producer_df(pair, producer_name=producer)[0]
        with self._lock:
            cached = self._frames.get(pair)
        if cached is not None and self.runner.running:
            return cached
        try:
            return self.runner.run(pair)
        except LookupError:
            return pd.DataFrame()

    # --- event handlers (consumer / runner threads: flag and wake only)

    def _on_update(self, update: FrameUpdate) -> None:
        if (
            update.stored
            and update.producer == self.producer.value
            and update.key.pair == self.pair.value
            and not (self.runner is not None and self.runner.running)
        ):
            self._request()

    def _on_trade(self, producer: str, event: Any) -> None:
        if producer == self.producer.value and getattr(event, "pair", None) == self.pair.value:
            self._request()

    def _on_evaluated(self, pair: str, frame: pd.DataFrame) -> None:
        with self._lock:
            self._frames[pair] = frame
        if pair == self.pair.value:
            self._request()

    def _on_whitelist(self, producer: str, pairs: list[str]) -> None:
        if producer == self.producer.value:
            self._whitelist_changed = True
            self._request()

    def _on_status(self, status: ProducerStatus) -> None:
        if status.name == self.producer.value:
            self._wake.set()  # refresh the status line soon, without a redraw

    def _on_control(self, change: dict[str, Any]) -> None:
        if change["owner"] is self.producer:
            self._whitelist_changed = True
        self._request()

    # --- UI thread

    def _service(self, redraw: bool, tick: bool) -> None:
        # The status line is refreshed on every wake-up (status changes wake the thread
        # without asking for a redraw) and after each redraw (it shows the redraw time).
        with self._lock:
            super()._service(redraw, tick=True)

    def _render(self) -> None:
        if self._whitelist_changed:
            self._whitelist_changed = False
            pairs = self._pairs(self.producer.value)
            if list(self.pair.options) != pairs:
                current = self.pair.value
                self.pair.options = pairs
                self.pair.value = current if current in pairs else (pairs[0] if pairs else None)
        frame = self.frame()
        self._sync_indicator_options(frame)
        started = time.perf_counter()
        if frame.empty:
            self.status.value = "no frame yet for this pair"
            return
        title = f"{self.pair.value} ({self.producer.value})"
        chosen = [c for c in self.indicators.value if c in frame.columns]
        if self.backend == "ipympl":
            self._render_ipympl(frame, chosen, title)
        else:
            self._render_image(frame, chosen, title)
        self.last_render_seconds = time.perf_counter() - started

    def _render_image(self, frame: pd.DataFrame, chosen: list[str], title: str) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from .plotting import plot_pair

        fig = self._figure
        if fig is None:
            fig = self._figure = Figure(
                figsize=self.figsize, dpi=self.dpi, layout=self._layout_engine()
            )
            FigureCanvasAgg(fig)
        canvas = fig.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        _draw(fig, frame, chosen, title, self.window.value, plot_pair, **self._extras())
        # One Agg draw (savefig would lay the figure out in a draw of its own first).
        canvas.draw()
        self.plot.value = self._fallback_png = _png(canvas)

    def _render_ipympl(self, frame: pd.DataFrame, chosen: list[str], title: str) -> None:
        from .plotting import plot_pair

        fig = self._figure
        assert fig is not None
        _draw(fig, frame, chosen, title, self.window.value, plot_pair, **self._extras())
        fig.canvas.draw_idle()

    def _extras(self) -> dict[str, Any]:
        """What plot_pair draws besides the frame: trades, backtest, plot_config."""
        producer, pair = self.producer.value, self.pair.value
        extras: dict[str, Any] = {"pair": pair}
        producer_trades = getattr(self.consumer, "producer_trades", None)
        if self.show_trades and callable(producer_trades):
            trades = producer_trades(producer)
            trades = trades[trades["pair"] == pair]
            if len(trades):
                extras["trades"] = trades
        if self.backtest is not None:
            extras["backtest"] = self.backtest
        config = self._plot_config(producer)
        if config:
            extras["plot_config"] = config
        return extras

    def _plot_config(self, producer: str) -> dict[str, Any] | None:
        """The plot_config for ``producer``, resolved once (a REST call for ``"auto"``)."""
        if producer in self._plot_configs:
            return self._plot_configs[producer]
        from .plotting import resolve_plot_config

        source = self._plot_config_source
        resolved: dict[str, Any] | None = None
        if source == "auto":
            config = getattr(self.consumer, "config", None)
            entry = None
            if config is not None and hasattr(config, "producer"):
                try:
                    entry = config.producer(producer)
                except KeyError:
                    entry = None
            if entry is not None and entry.api_username and entry.api_password is not None:
                try:
                    resolved = resolve_plot_config(entry)
                except Exception as exc:  # a plot without it beats no plot
                    log.warning("no plot_config from producer %r's REST API: %s", producer, exc)
        else:
            resolved = resolve_plot_config(source)
        self._plot_configs[producer] = resolved
        return resolved

    def _tick(self) -> None:
        status = self.consumer.status().get(self.producer.value)
        if status is None:
            return
        line = status_line(status)
        if self.runner is not None:
            evaluation = self.runner.latest.get(self.pair.value)
            if evaluation is not None:
                fired = ", ".join(evaluation.fired) or "no signal"
                line += f"<br>strategy: {escape(fired)} on {evaluation.date}"
        if self.last_render_seconds is not None:
            line += f"<br><small>redraw {self.last_render_seconds * 1000:.0f} ms</small>"
        self.status.value = line

    # --- widgets

    def _make_plot(self, widgets: Any) -> Any:
        if self.backend == "ipympl":
            import matplotlib.pyplot as plt

            with plt.ioff():
                fig = plt.figure(figsize=self.figsize, dpi=self.dpi, layout=self._layout_engine())
            fig.canvas.header_visible = False  # type: ignore[attr-defined]  # ipympl's canvas
            self._figure = fig
            return fig.canvas
        return widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def _layout_engine(self) -> StableConstrainedLayout:
        """The figures' layout engine, kept from one redraw to the next (see
        :class:`~producerconsumer.plotting.StableConstrainedLayout`)."""
        if self._layout is None:
            from .plotting import StableConstrainedLayout

            self._layout = StableConstrainedLayout()
        return self._layout

    def _sync_indicator_options(self, frame: pd.DataFrame | None = None) -> None:
        frame = self.frame() if frame is None else frame
        if frame.empty:
            return
        skip = {*OHLCV_COLUMNS}
        numeric = [
            c
            for c in frame.columns
            if isinstance(c, str)
            and c not in skip
            and not c.startswith(("enter_", "exit_"))
            and pd.api.types.is_numeric_dtype(frame[c])
        ]
        if set(numeric) != set(self.indicators.options):
            chosen = tuple(c for c in self.indicators.value if c in numeric)
            with self.indicators.hold_trait_notifications():
                self.indicators.options = numeric
                self.indicators.value = chosen

    def close(self) -> None:
        super().close()
        if self._figure is not None and self.backend == "ipympl":
            import matplotlib.pyplot as plt

            plt.close(self._figure)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        if self._fallback_png is not None:
            # A static image of the plot as it is now, for frontends without the widget's
            # state (a saved notebook viewed elsewhere, nbconvert).
            bundle["image/png"] = base64.b64encode(self._fallback_png).decode("ascii")
        return bundle


def _draw(
    fig: Figure,
    frame: pd.DataFrame,
    indicators: list[str],
    title: str,
    window: int,
    plot_pair: Callable[..., Figure],
    **extras: Any,
) -> None:
    """Plot the last ``window`` candles of ``frame`` on ``fig``: into the axes of the previous
    plot when they are the panels this one needs (a redraw mostly is), else on new ones.
    ``extras`` go to ``plot_pair`` (trades, backtest, plot_config, pair)."""
    from .plotting import config_panels, lower_panel

    tail = frame.tail(window)
    panels, placed = config_panels(tail, extras.get("plot_config"))
    indicators = [c for c in indicators if c not in placed]
    wants_lower = any(lower_panel(tail, c) for c in indicators)
    count = 1 + wants_lower + panels  # price, the 0-100 panel, plot_config's subplots
    axes = _reusable_panels(fig, count)
    if axes is None:
        fig.clear()
        if count > 1:
            ratios = (3, *[1] * (count - 1))
            axes = list(fig.subplots(count, 1, sharex=True, height_ratios=ratios))
        else:
            axes = [fig.add_subplot()]
    else:
        for ax in axes:
            _empty(ax)
        toolbar = fig.canvas.toolbar  # as fig.clear() does: forget zoom/pan history
        if toolbar is not None:
            toolbar.update()
    if count > 1:
        plot_pair(tail, indicators, ax=tuple(axes), title=title, **extras)
    else:
        plot_pair(tail, indicators, ax=axes[0], title=title, **extras)


def _reusable_panels(fig: Figure, count: int) -> list[Axes] | None:
    """The axes of ``fig`` if they are the ``count`` panels :func:`_draw` makes (one, or price
    and lower panels sharing x, heights 3:1:...) and nothing else is on the figure; None
    otherwise."""
    axes = fig.axes
    if fig.texts or fig.legends or fig.images or fig.subfigs:
        return None
    geometries = [(count, 1, i, i) for i in range(count)]
    if len(axes) != len(geometries):
        return None
    for ax, geometry in zip(axes, geometries, strict=True):
        spec = ax.get_subplotspec()
        if spec is None or spec.get_geometry() != geometry or ax.child_axes:
            return None
    if count > 1:
        spec = axes[0].get_subplotspec()
        assert spec is not None  # checked above
        ratios = spec.get_gridspec().get_height_ratios()
        shared = all(axes[0].get_shared_x_axes().joined(axes[0], ax) for ax in axes[1:])
        wanted = [3.0, *[1.0] * (count - 1)]
        if not shared or ratios is None or np.asarray(ratios, dtype=float).tolist() != wanted:
            return None
    return axes


def _empty(ax: Axes) -> None:
    """Take what a plot put on ``ax`` off it, back to the state of new axes as far as a plot
    depends on it (data limits, autoscaling, the colour cycle, title, legend); the axes keep
    their ticks, which is what makes this cheaper than new axes."""
    for artist in [
        *ax.lines,
        *ax.collections,
        *ax.patches,
        *ax.texts,
        *ax.images,
        *ax.tables,
        *ax.artists,
    ]:
        artist.remove()
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    for loc in ("left", "center", "right"):
        ax.set_title("", loc=loc)
    ax.relim()
    ax.set_autoscale_on(True)
    ax.set_prop_cycle(None)


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as a PNG, the same pixels as ``savefig``'s: RGB when opaque (as
    it is unless the figure is made transparent), with fast compression (still fewer bytes than
    ``savefig``'s RGBA)."""
    from PIL import Image

    image = Image.frombuffer(
        "RGBA", canvas.get_width_height(physical=True), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
    )
    if image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _choose_backend(backend: str) -> str:
    if backend not in ("auto", "image", "ipympl"):
        raise ValueError(f"backend must be 'auto', 'image' or 'ipympl', got {backend!r}")
    if backend != "auto":
        return backend
    import matplotlib

    name = matplotlib.get_backend().lower()
    return "ipympl" if "ipympl" in name or name == "widget" else "image"
