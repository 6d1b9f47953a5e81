"""The column names every analyzed dataframe shares: candles, signals and tags.

One home for them, as Freqtrade names them; the store, the strategy runner, plotting, the widgets,
the demo market and the command line read them from here.
"""

from __future__ import annotations

__all__ = ["OHLCV_COLUMNS", "OHLC_COLUMNS", "SIGNAL_COLUMNS", "TAG_COLUMNS"]

#: A candle's prices.
OHLC_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
#: A candle: its open date, prices and volume (the columns a strategy starts from).
OHLCV_COLUMNS: tuple[str, ...] = ("date", *OHLC_COLUMNS, "volume")
#: Entry and exit signals (1 where a strategy signals, else 0 or missing).
SIGNAL_COLUMNS: tuple[str, ...] = ("enter_long", "exit_long", "enter_short", "exit_short")
#: The tags that go with the signals.
TAG_COLUMNS: tuple[str, ...] = ("enter_tag", "exit_tag")
