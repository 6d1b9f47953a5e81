"""plot_pair on demo producer frames, with the Agg backend (no pyplot, no IPython)."""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from producerconsumer.demo import DemoProducer  # noqa: E402
from producerconsumer.plotting import lower_panel, plot_pair, signal_columns  # noqa: E402


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    frame = DemoProducer(pairs=["BTC/USDT"], candles=1500, tick=None).frame("BTC/USDT")
    # A consumer-side frame: the producer's merged signals next to the consumer's own.
    frame["enter_long_default"] = frame["enter_long"]
    frame["exit_long_default"] = frame["exit_long"]
    frame["rsi_default"] = frame["rsi"]
    return frame


def labels(ax) -> list[str]:
    return ax.get_legend_handles_labels()[1]


def test_candles_indicators_lower_panel_and_signals(frame):
    fig = plot_pair(frame, indicators=["tema", "bb_upperband", "rsi"], title="BTC/USDT")
    assert isinstance(fig, Figure)
    price_ax, lower_ax = fig.axes
    assert price_ax.get_title() == "BTC/USDT"
    polys = [c for c in price_ax.collections if isinstance(c, PolyCollection)]
    wicks = [c for c in price_ax.collections if isinstance(c, LineCollection)]
    assert len(polys[0].get_paths()) == len(wicks[0].get_segments()) == 1500
    assert {"tema", "bb_upperband"} <= set(labels(price_ax))
    assert labels(lower_ax) == ["rsi"] and lower_ax.get_ylim() == (0, 100)
    signal_labels = [
        "enter_long",
        "exit_long",
        "enter_long_default (producer default)",
        "exit_long_default (producer default)",
    ]
    assert set(signal_labels) <= set(labels(price_ax))
    # producer markers are hollow and larger, consumer markers filled
    scatters = {c.get_label(): c for c in price_ax.collections if c.get_label() in signal_labels}
    consumer, producer = scatters["enter_long"], scatters["enter_long_default (producer default)"]
    assert len(consumer.get_offsets()) == (frame["enter_long"] == 1).sum() > 0
    assert consumer.get_facecolors()[0][3] == 1 and len(producer.get_facecolors()) == 0
    assert producer.get_sizes()[0] > consumer.get_sizes()[0]
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_window_close_only_lower_option_and_no_signals(frame):
    close_only = frame[["date", "close", "rsi", "tema"]]
    fig = plot_pair(close_only, indicators=["tema"], lower=["tema"], signals=[], window=100)
    price_ax, lower_ax = fig.axes
    assert labels(price_ax) == ["close"] and labels(lower_ax) == ["tema"]
    (line,) = [ln for ln in price_ax.get_lines() if ln.get_label() == "close"]
    assert len(line.get_xdata()) == 100
    assert np.allclose(line.get_ydata(), close_only["close"].tail(100))


def test_draws_into_given_axes(frame):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_pair(frame.tail(50), indicators=["rsi"], ax=ax) is fig
    assert len(fig.axes) == 2  # the 0-100 panel became a twin axis
    price_ax, lower_ax = Figure().subplots(2, 1)
    plot_pair(frame.tail(50), indicators=["rsi"], ax=(price_ax, lower_ax))
    assert labels(lower_ax) == ["rsi"]


def test_helpers_and_errors(frame):
    assert signal_columns(frame) == [
        "enter_long",
        "exit_long",
        "enter_long_default",
        "exit_long_default",
    ]
    assert lower_panel(frame, "rsi") and lower_panel(frame, "rsi_default")
    assert not lower_panel(frame, "tema") and not lower_panel(frame, "close")
    with pytest.raises(ValueError, match=r"no column\(s\) \['macd'\]"):
        plot_pair(frame, indicators=["macd"])
    with pytest.raises(ValueError, match="needs `close`"):
        plot_pair(frame[["date", "rsi"]])
    with pytest.raises(ValueError, match="window"):
        plot_pair(frame, window=0)


def test_datetime_index_and_naive_dates(frame):
    indexed = frame.set_index("date")[["open", "high", "low", "close"]]
    plot_pair(indexed.tail(20))
    naive = frame.assign(date=frame["date"].dt.tz_localize(None)).tail(20)
    plot_pair(naive)


def test_redraw_time_1500_candles(frame):
    """Build + render one 1500-candle figure to PNG (what the dashboard does per update)."""
    indicators = ["tema", "bb_lowerband", "bb_middleband", "bb_upperband", "rsi"]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        buffer = io.BytesIO()
        plot_pair(frame, indicators=indicators).savefig(buffer, format="png", dpi=90)
        times.append(time.perf_counter() - started)
    print(f"redraw 1500 candles: best {min(times) * 1000:.0f} ms of {len(times)}")
    assert min(times) < 5.0  # generous: shared 2-core CI machines
