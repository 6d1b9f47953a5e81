"""The strategies of benchmarks/hyperopt.py (a module, so Dask worker processes can import it).

``ConsumerStrategy`` is the docs' consumer strategy (with a ROI table and stoploss);
:func:`producer_frames` gives what the docs' ProducerStrategy would send for each pair: the
demo producer's analyzed frames (RSI, TEMA, Bollinger bands, its own signals) on the
deterministic synthetic market.
"""

from __future__ import annotations

import pandas as pd

from producerconsumer.demo.market import SyntheticMarket
from producerconsumer.demo.strategy import analyze
from producerconsumer.strategy import (
    DataFrame,
    IntParameter,
    IStrategy,
    merge_informative_pair,
    qtpylib,
)

PAIRS = [f"{base}/USDT" for base in ("BTC", "ETH", "XRP", "ADA", "SOL", "DOT", "LTC", "BNB")] + [
    "LINK/USDT",
    "AVAX/USDT",
]
END = pd.Timestamp("2026-11-01", tz="UTC")


def producer_frames(pairs: int, candles: int, seed: int = 3) -> dict[str, pd.DataFrame]:
    market = SyntheticMarket(seed=seed, timeframe="5m")
    names = (PAIRS * (pairs // len(PAIRS) + 1))[:pairs]
    names = [n if i < len(PAIRS) else f"X{i}/USDT" for i, n in enumerate(names)]
    return {pair: analyze(market.history(pair, candles, end=END)) for pair in names}


class ConsumerStrategy(IStrategy):
    timeframe = "5m"
    process_only_new_candles = False
    minimal_roi = {"0": 0.04, "60": 0.02}  # noqa: RUF012
    stoploss = -0.05

    _columns_to_expect = ["rsi_default", "tema_default", "bb_middleband_default"]  # noqa: RUF012
    buy_rsi = IntParameter(1, 50, default=30, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        producer_dataframe, _ = self.dp.get_producer_df(metadata["pair"])  # type: ignore[union-attr]
        if not producer_dataframe.empty:
            return merge_informative_pair(
                dataframe,
                producer_dataframe,
                self.timeframe,
                self.timeframe,
                append_timeframe=False,
                suffix="default",
            )
        dataframe[self._columns_to_expect] = 0
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (qtpylib.crossed_above(dataframe["rsi_default"], self.buy_rsi.value))
            & (dataframe["tema_default"] <= dataframe["bb_middleband_default"])
            & (dataframe["tema_default"] > dataframe["tema_default"].shift(1))
            & (dataframe["volume"] > 0),
            "enter_long",
        ] = 1
        return dataframe
