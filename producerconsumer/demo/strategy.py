"""The producer strategy of Freqtrade's producer/consumer documentation, in plain pandas.

Freqtrade's docs pair a consumer example with a producer ("ProducerStrategy") that adds RSI(14),
TEMA(9) and Bollinger bands (20, 2) of the typical price, and enters/exits long on RSI crossings.
:func:`analyze` produces the same analyzed dataframe, with the columns in the order a real
Freqtrade producer sends them::

    date, open, high, low, close, volume, rsi, tema, bb_lowerband, bb_middleband, bb_upperband,
    enter_tag, enter_long, exit_tag, exit_long

``enter_tag``/``exit_tag`` are ``""`` (Freqtrade initialises them before the entry/exit trend
methods run) and ``enter_long``/``exit_long`` are ``1.0`` on a signal and NaN elsewhere (what
``dataframe.loc[condition, "enter_long"] = 1`` leaves in a new column).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..indicators import bollinger_bands, crossed_above, rsi, tema, typical_price

__all__ = ["ANALYZED_COLUMNS", "ProducerStrategy", "analyze"]

ANALYZED_COLUMNS: tuple[str, ...] = (
    "date",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "rsi",
    "tema",
    "bb_lowerband",
    "bb_middleband",
    "bb_upperband",
    "enter_tag",
    "enter_long",
    "exit_tag",
    "exit_long",
)


@dataclass(frozen=True, slots=True)
class ProducerStrategy:
    """The docs' producer strategy with its RSI thresholds as parameters.

    ``buy_rsi``: enter when RSI crosses above it while TEMA is at or below the middle band and
    rising. ``sell_rsi``: exit when RSI crosses above it while TEMA is above the middle band and
    falling.
    """

    buy_rsi: float = 30
    sell_rsi: float = 70
    rsi_period: int = 14
    tema_period: int = 9
    bb_window: int = 20
    bb_stds: float = 2

    def populate_indicators(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        """Add ``rsi``, ``tema`` and the three Bollinger band columns (in place)."""
        dataframe["rsi"] = rsi(dataframe["close"], self.rsi_period)
        dataframe["tema"] = tema(dataframe["close"], self.tema_period)
        bands = bollinger_bands(typical_price(dataframe), window=self.bb_window, stds=self.bb_stds)
        dataframe["bb_lowerband"] = bands["lower"]
        dataframe["bb_middleband"] = bands["mid"]
        dataframe["bb_upperband"] = bands["upper"]
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        """Set ``enter_long`` to 1 on entry signals (NaN elsewhere), in place."""
        signal = (
            crossed_above(dataframe["rsi"], self.buy_rsi)
            & (dataframe["tema"] <= dataframe["bb_middleband"])
            & (dataframe["tema"] > dataframe["tema"].shift(1))
            & (dataframe["volume"] > 0)
        )
        dataframe["enter_long"] = np.where(signal, 1.0, np.nan)
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        """Set ``exit_long`` to 1 on exit signals (NaN elsewhere), in place."""
        signal = (
            crossed_above(dataframe["rsi"], self.sell_rsi)
            & (dataframe["tema"] > dataframe["bb_middleband"])
            & (dataframe["tema"] < dataframe["tema"].shift(1))
            & (dataframe["volume"] > 0)
        )
        dataframe["exit_long"] = np.where(signal, 1.0, np.nan)
        return dataframe

    def analyze(self, ohlcv: pd.DataFrame) -> pd.DataFrame:
        """The analyzed dataframe for ``ohlcv`` (not modified), in Freqtrade's column order."""
        dataframe = self.populate_indicators(ohlcv.copy())
        # Freqtrade resets the tags to "" before calling the entry/exit trend methods.
        dataframe["enter_tag"] = ""
        dataframe = self.populate_entry_trend(dataframe)
        dataframe["exit_tag"] = ""
        return self.populate_exit_trend(dataframe)


def analyze(ohlcv: pd.DataFrame, buy_rsi: float = 30, sell_rsi: float = 70) -> pd.DataFrame:
    """Analyze ``ohlcv`` with :class:`ProducerStrategy` (``buy_rsi``, ``sell_rsi``)."""
    return ProducerStrategy(buy_rsi=buy_rsi, sell_rsi=sell_rsi).analyze(ohlcv)
