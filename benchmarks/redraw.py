"""Time the Dashboard's redraw per new candle with 1500 candles shown, image and ipympl backends.

Run in a dev venv with the notebook extras (ipywidgets, matplotlib; ipympl for its row)::

    python benchmarks/redraw.py

A demo producer (2 pairs x 1500 candles, no timer) feeds a Consumer over loopback; a
``Dashboard(window=1500)`` shows the first pair. Each update is ``producer.advance(1)``; the
dashboard's UI thread redraws and the script waits for ``dashboard.renders`` to move on.
``max_fps`` is raised so the throttle never delays a redraw (at the default 2 fps an update that
comes less than 0.5 s after the previous redraw waits for the rest of that 0.5 s).

* image backend: the redraw builds a new Figure, plots, and ``savefig`` renders it with Agg and
  encodes the PNG that is set on the ``Image`` widget (one comm message in a kernel);
  ``dashboard.last_render_seconds`` times exactly that.
* ipympl backend (``%matplotlib widget``): the redraw rebuilds the artists on the ipympl
  figure and calls ``draw_idle``, which only sends a ``draw`` event; the frontend answers with
  a ``draw`` request, on which the kernel renders with Agg and sends a PNG of the changed
  pixels. Outside a kernel there is no frontend, so this script plays it: it sends the canvas
  the ``initialized`` message a connected frontend sends (so the canvas stops re-encoding a full
  PNG for the saved-notebook fallback on every draw, as it does with no frontend) and after
  each redraw the ``draw`` request, timed. The browser's own work (receiving, decoding and
  painting the PNG, the round trip) is not in these numbers.

Prints markdown: the workload, a table per backend, and where the image backend's time goes.
No timing is asserted.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from typing import Any

import matplotlib

try:
    import ipympl

    matplotlib.use("module://ipympl.backend_nbagg")  # what %matplotlib widget selects
except ImportError:
    ipympl = None
    matplotlib.use("Agg")

import numpy as np
import pandas as pd
from _common import fmt_ms, median_ms, percentile
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

import producerconsumer as pc
from producerconsumer.plotting import plot_pair
from producerconsumer.store import FrameUpdate
from producerconsumer.widgets import Dashboard, _draw

PAIRS = ["BTC/USDT", "ETH/USDT"]
SHOWN = PAIRS[0]
CANDLES = 1500


def _median(values: list[float]) -> str:
    return fmt_ms(statistics.median(values), digits=0)


def _p90(values: list[float]) -> str:
    return fmt_ms(percentile(values, 90), digits=0)


class Timings:
    def __init__(self) -> None:
        self.redraw: list[float] = []  # rebuild (+ the server-side draw for ipympl)
        self.end_to_end: list[float] = []  # advance() called -> new plot ready to send
        self.stored: list[float] = []  # advance() called -> the shown pair's row stored
        self.rebuild: list[float] = []  # the UI thread's redraw alone
        self.draw: list[float] = []  # ipympl: the draw the frontend requests (Agg + PNG diff)


def measure(
    producer: pc.DemoProducer,
    consumer: pc.Consumer,
    backend: str,
    updates: int,
    warmup: int,
    max_fps: float,
) -> Timings:
    dashboard = Dashboard(consumer, window=CANDLES, max_fps=max_fps, backend=backend)
    canvas: Any = dashboard.plot if backend == "ipympl" else None
    if canvas is not None:
        canvas._handle_message(canvas, {"type": "initialized"}, [])
        canvas._handle_message(canvas, {"type": "draw"}, [])  # the first full frame
    stored_at: list[float] = []

    def on_update(update: FrameUpdate) -> None:
        if update.key.pair == SHOWN and update.stored:
            stored_at.append(time.perf_counter())

    consumer.updated += on_update
    timings = Timings()
    try:
        for number in range(warmup + updates):
            renders = dashboard.renders
            stored_at.clear()
            started = time.perf_counter()
            producer.advance(1)
            dashboard.wait_until(lambda renders=renders: dashboard.renders > renders, 30)
            rendered = time.perf_counter()
            redraw = dashboard.last_render_seconds
            assert redraw is not None and stored_at, "rendered without the new candle stored"
            drawn = 0.0
            if canvas is not None:
                with dashboard._lock:  # as the kernel would: not during a redraw
                    before = time.perf_counter()
                    canvas._handle_message(canvas, {"type": "draw"}, [])  # the frontend's reply
                    drawn = time.perf_counter() - before
                redraw += drawn
                rendered += drawn
            if number >= warmup:
                timings.redraw.append(redraw)
                timings.rebuild.append(dashboard.last_render_seconds or 0.0)
                if canvas is not None:
                    timings.draw.append(drawn)
                timings.end_to_end.append(rendered - started)
                timings.stored.append(stored_at[0] - started)
        shown = dashboard.frame()
        assert len(shown) == CANDLES and shown["date"].iloc[-1] == producer.last_candle
    finally:
        consumer.updated -= on_update
        dashboard.close()
    return timings


def time_steps(frame: pd.DataFrame, repeats: int) -> list[tuple[str, float]]:
    """A one-off ``plot_pair`` + ``savefig`` in steps, on the same frame, outside the dashboard
    (a new figure with constrained layout each time: what a script pays; the Dashboard reuses
    its figure and layout, see the table above). Medians in milliseconds."""
    figsize, dpi = (10.0, 5.5), 90  # the Dashboard's defaults
    indicators = ["tema", "bb_lowerband", "bb_middleband", "bb_upperband", "rsi"]

    def build() -> Figure:
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        _draw(fig, frame, indicators, SHOWN, CANDLES, plot_pair)
        return fig

    def draw() -> None:
        FigureCanvasAgg(build()).draw()

    def savefig() -> None:
        build().savefig(io.BytesIO(), format="png", dpi=dpi)

    fig = build()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())

    def encode() -> None:
        Image.fromarray(pixels).save(io.BytesIO(), format="png")

    built, drawn, encoded, saved = median_ms([build, draw, encode, savefig], repeats)
    return [
        ("build the Figure and its artists (plot_pair)", built),
        ("Agg draw, constrained layout included", drawn - built),
        ("PNG encode of the RGBA buffer", encoded),
        ("whole: build + savefig PNG", saved),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--max-fps", type=float, default=1000.0)
    args = parser.parse_args()

    backends = ["image", "ipympl"] if ipympl is not None else ["image"]
    results: dict[str, Timings] = {}
    with (
        pc.DemoProducer(pairs=PAIRS, candles=CANDLES, tick=None) as producer,
        pc.Consumer({"producers": [producer.producer_config()]}) as consumer,
    ):
        consumer.wait_ready(timeout=120)
        for backend in backends:
            results[backend] = measure(
                producer, consumer, backend, args.updates, args.warmup, args.max_fps
            )
        frame = consumer.get_producer_df(SHOWN)[0]
    steps = time_steps(frame, repeats=10)

    print(
        f"matplotlib {matplotlib.__version__}, "
        + (f"ipympl {ipympl.__version__}, " if ipympl is not None else "ipympl not installed, ")
        + f"pandas {pd.__version__}, python {sys.version.split()[0]}"
    )
    print()
    print(
        f"Workload: Dashboard(window={CANDLES}) of a demo producer's {SHOWN} "
        f"({CANDLES} candles, {len(frame.columns)} columns, the default indicators incl. rsi "
        f"panel), 900x495 px; one new candle per update via producer.advance(1), "
        f"{args.updates} updates after {args.warmup} warm-up, max_fps={args.max_fps:g}."
    )
    print()
    print(
        "| backend | redraw median | redraw p90 | advance → plot ready median "
        "| advance → plot ready p90 | of which advance → stored (median) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    names = {
        "image": "image (PNG set on an ipywidgets Image)",
        "ipympl": "ipympl (rebuild + kernel-side draw and PNG diff)",
    }
    for backend, timings in results.items():
        print(
            f"| {names[backend]} | {_median(timings.redraw)} | {_p90(timings.redraw)} "
            f"| {_median(timings.end_to_end)} | {_p90(timings.end_to_end)} "
            f"| {_median(timings.stored)} |"
        )
    if "ipympl" in results:
        timings = results["ipympl"]
        print()
        print(
            f"ipympl split (medians): rebuilding the artists on the UI thread "
            f"{_median(timings.rebuild)}, then the kernel-side draw on the frontend's request "
            f"(Agg render + PNG of the changed pixels) {_median(timings.draw)}; the frontend "
            "round trip between them is not included. At a browser's devicePixelRatio 2 the "
            "canvas renders 4x the pixels."
        )
    else:
        print()
        print("ipympl is not installed: only the image backend was measured.")
    print()
    print("| one-off plot_pair + savefig (new figure), step by step, median of 10 | time |")
    print("|---|---:|")
    for name, ms in steps:
        print(f"| {name} | {ms:.0f} ms |")
    print()
    print(
        "`advance → plot ready` includes the demo producer analysing both pairs, the websocket "
        "and decode, the store, the UI thread's redraw and, for ipympl, the draw the frontend "
        "requests; not the browser's side."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
