"""Dashboard and StatusPanel outside a kernel (ipywidgets with no frontend), fed by a real demo
producer over loopback: the kernel-side widget state is what a frontend would receive."""

from __future__ import annotations

import base64
import gc
import time
import weakref

import pytest

pytest.importorskip("ipywidgets")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import producerconsumer as pc  # noqa: E402
from producerconsumer.strategy import (  # noqa: E402
    IStrategy,
    StrategyRunner,
    merge_informative_pair,
)
from producerconsumer.widgets import (  # noqa: E402
    WIDGET_VIEW,
    Dashboard,
    StatusPanel,
    consumer_mimebundle,
    keep_while_displayed,
    status_line,
)

TOKEN = "widget-token-s3cret"
PAIRS = ["BTC/USDT", "ETH/USDT"]


class MergeStrategy(IStrategy):
    """The producer's frame merged in (``*_default``) plus an own entry on RSI < 40."""

    timeframe = "5m"

    def populate_indicators(self, dataframe, metadata):
        producer, _ = self.dp.get_producer_df(metadata["pair"])
        return merge_informative_pair(
            dataframe, producer, "5m", "5m", append_timeframe=False, suffix="default"
        )

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["rsi_default"] < 40, "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe


@pytest.fixture
def live():
    with pc.DemoProducer(pairs=PAIRS, candles=300, ws_token=TOKEN, tick=None) as producer:
        consumer = pc.Consumer({"producers": [producer.producer_config()]})
        with consumer:
            consumer.wait_ready(timeout=30)
            yield producer, consumer


def newest(consumer, pair="BTC/USDT"):
    return consumer.get_producer_df(pair)[0]["date"].iloc[-1]


def test_dashboard_follows_new_candles(live):
    producer, consumer = live
    dashboard = Dashboard(consumer, window=120)
    try:
        assert dashboard.producer.options == ("default",)
        assert list(dashboard.pair.options) == PAIRS and dashboard.pair.value == "BTC/USDT"
        first = bytes(dashboard.plot.value)
        assert first.startswith(b"\x89PNG") and dashboard.renders == 1
        assert "tema" in dashboard.indicators.value and "rsi" in dashboard.indicators.options
        bundle = dashboard._repr_mimebundle_()
        assert WIDGET_VIEW in bundle and base64.b64decode(bundle["image/png"]) == first

        renders = dashboard.renders
        producer.advance(1)
        dashboard.wait_until(lambda: dashboard.renders > renders, timeout=15)
        assert bytes(dashboard.plot.value) != first
        assert newest(consumer) == producer.last_candle
        dashboard.wait_until(lambda: "connected" in dashboard.status.value, timeout=15)
        assert TOKEN not in dashboard.status.value
    finally:
        dashboard.close()


def test_bursts_are_coalesced_and_throttled(live):
    producer, consumer = live
    dashboard = Dashboard(consumer, window=60, max_fps=2)
    try:
        renders, started = dashboard.renders, time.monotonic()
        producer.advance(5)
        for _ in range(5):
            producer.advance(1)
        consumer.wait_until(lambda: newest(consumer) == producer.last_candle, timeout=15)
        dashboard.wait_until(lambda: not dashboard._dirty and dashboard.renders > renders, 15)
        elapsed = time.monotonic() - started
        done = dashboard.renders - renders
        # 10 candles; at most 2 renders per second (plus the one that may start at once)
        assert 1 <= done <= 2 * elapsed + 1, (done, elapsed)
        assert done < 10
    finally:
        dashboard.close()


def test_controls_whitelist_and_other_pairs(live):
    producer, consumer = live
    dashboard = Dashboard(consumer, window=50)
    try:
        renders = dashboard.renders
        dashboard.pair.value = "ETH/USDT"  # as the frontend would set it
        dashboard.wait_until(lambda: dashboard.renders > renders, timeout=15)
        producer.set_whitelist([*PAIRS, "XRP/USDT"])
        dashboard.wait_until(lambda: len(dashboard.pair.options) == 3, timeout=15)
        assert dashboard.pair.value == "ETH/USDT"
        producer.set_whitelist(["XRP/USDT"])
        dashboard.wait_until(lambda: dashboard.pair.options == ("XRP/USDT",), timeout=15)
        assert dashboard.pair.value == "XRP/USDT"
        renders = dashboard.renders
        dashboard.indicators.value = ("rsi",)
        dashboard.window.value = 30
        dashboard.wait_until(lambda: dashboard.renders > renders, timeout=15)
    finally:
        dashboard.close()


def test_close_disconnects_and_ends_the_thread(live):
    _producer, consumer = live
    before = (len(consumer.updated), len(consumer.whitelist_changed), len(consumer.status_changed))
    dashboard = Dashboard(consumer)
    assert len(consumer.updated) == before[0] + 1
    thread = dashboard._thread
    dashboard.close()
    assert dashboard.widget.comm is None and dashboard.plot.comm is None
    assert (
        len(consumer.updated),
        len(consumer.whitelist_changed),
        len(consumer.status_changed),
    ) == before
    thread.join(5)
    assert not thread.is_alive()


def test_dropped_view_stops_updating(live):
    """Handlers hold the view weakly: once it is gone, they disconnect and its thread ends."""
    producer, consumer = live
    panel = StatusPanel(consumer)
    thread = panel._thread
    before = len(consumer.status_changed)
    panel.widget.close()  # the widgets are closed but the panel itself was never told
    panel.html.close()
    del panel
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()
    producer.set_whitelist(["BTC/USDT"])  # emits events: the dead handler removes itself
    consumer.wait_until(lambda: consumer.get_producer_pairs() == ["BTC/USDT"], timeout=15)
    assert len(consumer.status_changed) <= before


def test_dashboard_with_runner_shows_both_signal_sets(live):
    producer, consumer = live
    with StrategyRunner(MergeStrategy, consumer) as runner:
        runner.wait_until(lambda: set(runner.latest) == set(PAIRS), timeout=30)
        dashboard = Dashboard(consumer, runner, window=100)
        try:
            frame = dashboard.frame()
            assert {"enter_long", "enter_long_default", "rsi_default"} <= set(frame.columns)
            assert "rsi_default" in dashboard.indicators.options
            renders = dashboard.renders
            producer.advance(1)
            dashboard.wait_until(lambda: dashboard.renders > renders, timeout=15)
            assert dashboard.frame()["date"].iloc[-1] == producer.last_candle
            dashboard.wait_until(lambda: "strategy:" in dashboard.status.value, timeout=15)
        finally:
            dashboard.close()


def test_status_panel_and_mimebundle_outside_a_kernel(live):
    _producer, consumer = live
    panel = StatusPanel(consumer)
    try:
        assert "connected" in panel.html.value and TOKEN not in panel.html.value
    finally:
        panel.close()
    # no kernel here: IPython falls back to the consumer's HTML table
    assert consumer_mimebundle(consumer) is None
    assert consumer._repr_mimebundle_() is None
    status = consumer.status()["default"]
    assert "last update" in status_line(status)


def test_redraws_reuse_the_axes_and_look_like_new_figures():
    """The dashboard draws each update into the axes of the previous one (emptied) when the
    panels are the same: the pixels are those of a new figure, whatever was drawn before."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from producerconsumer.plotting import StableConstrainedLayout, plot_pair
    from producerconsumer.widgets import _draw

    frame = pc.DemoProducer(pairs=["BTC/USDT"], candles=400, tick=None).frame("BTC/USDT")
    frame["enter_long_default"] = frame["enter_long"]

    def pixels(fig: Figure) -> np.ndarray:
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba()).copy()

    live = Figure(figsize=(6, 3.5), dpi=72, layout=StableConstrainedLayout(tolerance=0))
    FigureCanvasAgg(live)
    steps = [
        (frame.iloc[:300], ["tema", "rsi"], 300),
        (frame.iloc[:301], ["tema", "rsi"], 300),  # the next candle
        (frame.iloc[:301], ["tema", "rsi"], 60),  # a shorter window: other y limits
        (frame.iloc[:301], ["tema", "bb_upperband"], 60),  # no lower panel
        (frame.iloc[:302], ["bb_lowerband"], 120),
        (frame.iloc[:302], ["rsi", "bb_lowerband", "tema"], 120),  # the lower panel again
        (frame[["date", "close", "rsi"]], ["rsi"], 100),  # no candles
    ]
    reused = 0
    for data, indicators, window in steps:
        before = list(live.axes)
        _draw(live, data, indicators, "BTC/USDT (default)", window, plot_pair)
        reused += live.axes == before
        fresh = Figure(figsize=(6, 3.5), dpi=72, layout="constrained")
        FigureCanvasAgg(fresh)
        _draw(fresh, data, indicators, "BTC/USDT (default)", window, plot_pair)
        assert np.array_equal(pixels(live), pixels(fresh)), (len(data), indicators, window)
    assert reused == 4


def test_displayed_panel_is_kept_alive_until_its_last_view_goes(live):
    """display(consumer) makes a panel that nothing else holds: it must keep updating while a
    frontend shows it, and be let go (and stop) once no view of it is left."""
    _producer, consumer = live
    panel = StatusPanel(consumer)
    keep_while_displayed(panel)
    ref = weakref.ref(panel)
    del panel
    gc.collect()
    held = ref()
    assert held is not None and not held.closed
    html = held.html
    first = html.value  # "last update N s ago" moves every second
    held.wait_until(lambda: html.value != first, timeout=5)
    held.widget._view_count = 1  # a frontend shows it...
    assert not held.closed
    held.widget._view_count = 0  # ...and then no longer
    assert held.closed
    del held
    gc.collect()
    assert ref() is None
