"""plot_pair with the producer bot's fills, a backtest's trades and Freqtrade's plot_config."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from test_api import PASSWORD, USER, FakeAPI, server  # noqa: F401

from producerconsumer.demo.bot import PLOT_CONFIG, DemoBot
from producerconsumer.demo.market import SyntheticMarket
from producerconsumer.demo.strategy import ProducerStrategy
from producerconsumer.plotting import plot_pair, resolve_plot_config
from producerconsumer.trades import ProducerTrades
from producerconsumer.wire.rpc import encode_rpc_message, parse_rpc_text

PAIRS = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture(scope="module")
def run() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    market, strategy = SyntheticMarket(0, "5m"), ProducerStrategy()
    frames = {pair: strategy.analyze(market.history(pair, 600)) for pair in PAIRS}
    trades = ProducerTrades()
    trades.extend(parse_rpc_text(encode_rpc_message(m)) for m in DemoBot().run(frames))
    return frames, trades.frame()


def x_of(dates: pd.Series) -> np.ndarray:
    index = pd.DatetimeIndex(pd.to_datetime(dates, utc=True)).tz_convert(None)
    return np.asarray(mdates.date2num(index.to_numpy(dtype="datetime64[us]")), dtype=float)


def by_gid(ax, gid: str) -> PathCollection:
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, [c.get_gid() for c in ax.collections]
    return found[0]


def test_producer_fills_at_their_prices_distinct_from_signals(run) -> None:
    frames, trades = run
    frame = frames["BTC/USDT"]
    fig = plot_pair(frame, trades=trades, pair="BTC/USDT", window=300)
    ax = fig.axes[0]
    shown = frame.tail(300)
    first, last = shown["date"].iloc[0], shown["date"].iloc[-1]
    mine = trades[trades["pair"] == "BTC/USDT"]
    opened = mine[(mine["open_date"] >= first) & (mine["open_date"] <= last)]
    closed = mine[(mine["close_date"] >= first) & (mine["close_date"] <= last)]
    assert len(opened) and len(closed)
    entries = by_gid(ax, "producer-entry-fills")
    np.testing.assert_allclose(
        entries.get_offsets(), np.column_stack([x_of(opened["open_date"]), opened["open_rate"]])
    )
    exits = by_gid(ax, "producer-exit-fills")
    np.testing.assert_allclose(
        exits.get_offsets(), np.column_stack([x_of(closed["close_date"]), closed["close_rate"]])
    )
    wins = closed["profit_abs"].to_numpy() > 0
    colors = exits.get_facecolors()
    assert all(
        tuple(c) == to_rgba("#1b9e1b" if w else "#d62728")
        for c, w in zip(colors, wins, strict=True)
    )
    # Distinct from the signal markers: a black edge, a filled face, their own legend entry.
    assert tuple(entries.get_edgecolors()[0]) == to_rgba("black")
    labels = ax.get_legend_handles_labels()[1]
    assert "producer entry fill" in labels and "enter_long" in labels
    reasons = [t.get_text() for t in ax.texts if t.get_gid() == "producer-exit-reason"]
    assert reasons == list(closed["exit_reason"])


def test_several_pairs_need_a_pair_and_bad_tables_are_named(run) -> None:
    frames, trades = run
    with pytest.raises(ValueError, match="hold 2 pairs: say which with pair="):
        plot_pair(frames["BTC/USDT"], trades=trades)
    with pytest.raises(ValueError, match=r"backtest lacks column\(s\) \['open_date'"):
        plot_pair(frames["BTC/USDT"], backtest=pd.DataFrame({"x": [1]}))
    with pytest.raises(TypeError, match="backtest must be a DataFrame"):
        plot_pair(frames["BTC/USDT"], backtest=3)


def test_backtest_trades_as_diamonds(run) -> None:
    frames, trades = run
    frame = frames["ETH/USDT"]
    # A BacktestResult-like object: anything with a .trades table.
    table = trades[~trades["is_open"]].reset_index()[
        ["pair", "open_date", "close_date", "open_rate", "close_rate", "profit_abs", "exit_reason"]
    ]

    class Result:
        pass

    result = Result()
    result.trades = table  # type: ignore[attr-defined]
    fig = plot_pair(frame, backtest=result, pair="ETH/USDT", signals=[])
    ax = fig.axes[0]
    mine = table[table["pair"] == "ETH/USDT"]
    entries = by_gid(ax, "backtest-entries")
    np.testing.assert_allclose(entries.get_offsets()[:, 1], mine["open_rate"])
    assert (
        entries.get_paths()[0]
        != by_gid(
            plot_pair(frame, trades=trades, pair="ETH/USDT").axes[0], "producer-entry-fills"
        ).get_paths()[0]
    )
    assert "backtest exit" in ax.get_legend_handles_labels()[1]


def test_freqtrades_plot_config(run, caplog) -> None:
    frame = frames_with_extra(run[0]["BTC/USDT"])
    config = {
        "main_plot": {
            **PLOT_CONFIG["main_plot"],
            "not_sent": {"color": "red"},  # skipped, as plot-dataframe does
            "marks": {"type": "scatter", "color": "rgb(255, 0, 0)"},
        },
        "subplots": {
            **PLOT_CONFIG["subplots"],
            "Volume": {"volume": {"type": "bar", "color": "rgba(0,0,255,0.5)"}},
            "Missing": {"nope": {}},
        },
    }
    with caplog.at_level("INFO", logger="producerconsumer.plotting"):
        fig = plot_pair(frame, plot_config=config, window=100, signals=[])
    assert "'not_sent' is not in the frame" in caplog.text
    price, rsi, volume = fig.axes  # the subplot without columns is left out
    lines = {line.get_label(): line for line in price.lines}
    assert to_rgba(lines["tema"].get_color()) == to_rgba("orange")
    band = [c for c in price.collections if c.get_label() == "Bollinger Band"]
    assert len(band) == 1 and tuple(band[0].get_facecolor()[0]) == pytest.approx(
        (128 / 255, 128 / 255, 128 / 255, 0.1)
    )
    marks = [c for c in price.collections if c.get_label() == "marks"]
    assert len(marks) == 1 and tuple(marks[0].get_facecolors()[0]) == to_rgba("red")
    assert rsi.get_ylabel() == "RSI" and to_rgba(rsi.lines[0].get_color()) == to_rgba("purple")
    assert volume.get_ylabel() == "Volume" and len(volume.patches) == 100
    assert tuple(volume.patches[0].get_facecolor()) == pytest.approx((0, 0, 1, 0.5))
    with pytest.raises(ValueError, match=r"subplots\.RSI\.rsi\.type must be one of"):
        plot_pair(frame, plot_config={"subplots": {"RSI": {"rsi": {"type": "area"}}}})


def frames_with_extra(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["marks"] = np.where(frame["enter_long"] == 1, frame["low"], np.nan)
    return frame


def test_the_producers_own_plot_config_from_its_rest_api(run, server) -> None:  # noqa: F811
    server.routes["/api/v1/plot_config"] = lambda s, h: (
        (200, PLOT_CONFIG) if s.authorized(h) else (401, {"detail": "Unauthorized"})
    )
    entry = {
        "name": "bot",
        "host": "127.0.0.1",
        "port": server.port,
        "ws_token": "ws-secret",
        "api_username": USER,
        "api_password": PASSWORD,
    }
    assert resolve_plot_config(entry) == PLOT_CONFIG
    fig = plot_pair(run[0]["BTC/USDT"], plot_config=entry, signals=[])
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "RSI"
    assert "GET plot_config" in server.paths()
