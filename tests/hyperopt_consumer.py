"""The docs' ConsumerStrategy for hyperopt tests on the real engine, and the committed recording
of a demo producer session it runs on (a module, so Dask worker processes can import it)."""

from __future__ import annotations

from pathlib import Path

from producerconsumer.strategy import (
    DataFrame,
    IntParameter,
    IStrategy,
    merge_informative_pair,
    qtpylib,
)

RECORDING = Path(__file__).resolve().parent.parent / "notebooks" / "data" / "demo-session.pcrec"
SOURCE = f"replay:{RECORDING}"
SETTINGS = {
    "stake_amount": 100,
    "max_open_trades": 3,
    "stake_currency": "USDT",
    "dry_run_wallet": 1000,
}


class ConsumerStrategy(IStrategy):
    timeframe = "5m"
    process_only_new_candles = False
    minimal_roi = {"0": 0.02}  # noqa: RUF012
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


class RaisingStrategy(ConsumerStrategy):
    """Raises on ETH/USDT when ``buy_rsi`` is below 20."""

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        if metadata["pair"] == "ETH/USDT" and self.buy_rsi.value < 20:
            raise ZeroDivisionError(f"buy_rsi {self.buy_rsi.value} is too low")
        return super().populate_entry_trend(dataframe, metadata)
