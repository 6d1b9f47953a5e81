"""A real Freqtrade ``IStrategy`` subclass run through our ``StrategyRunner``, for parity tests.

Runs INSIDE the Freqtrade oracle venv, with the repository on ``PYTHONPATH``. Usage:
``ft_strategy.py OUT``. It serves our ``DemoProducer`` on loopback, consumes it with our
``Consumer``, and runs the consumer strategy of Freqtrade's producer/consumer docs, written
against Freqtrade's own ``IStrategy``, ``IntParameter``, ``merge_informative_pair`` and qtpylib:

* ``StrategyRunner.run`` per pair, compared with Freqtrade's own pipeline
  (``IStrategy.analyze_ticker`` on the same candles, same ``dp``): frames must be equal;
* its ``enter_long`` compared with the producer's (what the demo producer computed);
* ``params=`` on a Freqtrade parameter: that instance only;
* live mode: a new candle is evaluated.

``OUT`` receives a JSON summary; the test asserts on it. Failures inside raise (non-zero exit,
traceback on stderr).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import framejson
import freqtrade
import numpy as np
import pandas as pd
from freqtrade.strategy import IntParameter, IStrategy, merge_informative_pair
from pandas import DataFrame

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import freqtrade.vendor.qtpylib.indicators as qtpylib

import producerconsumer as pc
from producerconsumer.strategy import StrategyRunner, compare_signals

PAIRS = ["BTC/USDT", "ETH/USDT"]
OHLCV = ["date", "open", "high", "low", "close", "volume"]
WAIT = 30.0


class ConsumerStrategy(IStrategy):
    """Freqtrade's docs example, unchanged (plus the minimal ROI / stoploss a bot requires)."""

    timeframe = "5m"
    process_only_new_candles = False  # required for consumers
    minimal_roi = {"0": 0.1}  # noqa: RUF012
    stoploss = -0.1

    _columns_to_expect = ["rsi_default", "tema_default", "bb_middleband_default"]  # noqa: RUF012

    buy_rsi = IntParameter(1, 50, default=30, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        pair = metadata["pair"]
        timeframe = self.timeframe
        producer_dataframe, _ = self.dp.get_producer_df(pair)
        if not producer_dataframe.empty:
            return merge_informative_pair(
                dataframe,
                producer_dataframe,
                timeframe,
                timeframe,
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


def signals(series: pd.Series) -> list[float]:
    return series.fillna(0).astype(float).tolist()


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT")
    out: dict[str, Any] = {"freqtrade": freqtrade.__version__, "pairs": {}}
    with pc.DemoProducer(pairs=PAIRS, candles=400, ws_token="t", tick=None) as producer:
        with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
            consumer.wait_ready(timeout=WAIT)
            strategy = ConsumerStrategy({})
            runner = StrategyRunner(strategy, consumer)
            frames = runner.run_all()
            for pair, frame in frames.items():
                candles = consumer.get_producer_df(pair)[0][OHLCV].reset_index(drop=True)
                # Freqtrade's own analysis of the same candles, through the same dp.
                theirs = strategy.analyze_ticker(candles.copy(), {"pair": pair})
                pd.testing.assert_frame_equal(frame, theirs, check_exact=True)
                out["pairs"][pair] = {
                    "rows": len(frame),
                    "entries": int(frame["enter_long"].fillna(0).sum()),
                    "same_as_freqtrade_pipeline": True,
                    "agrees_with_producer": signals(frame["enter_long"])
                    == signals(producer.frame(pair)["enter_long"]),
                }
            out["compare_agree"] = compare_signals(frames, signals=("enter_long",)).agree

            tuned = StrategyRunner(ConsumerStrategy({}), consumer, params={"buy_rsi": 45})
            tuned_frame = tuned.run(PAIRS[0])
            out["params"] = {
                "tuned": tuned.strategy.buy_rsi.value,
                "class": ConsumerStrategy.buy_rsi.value,
                "other_instance": strategy.buy_rsi.value,
                "tuned_differs": signals(tuned_frame["enter_long"])
                != signals(frames[PAIRS[0]]["enter_long"]),
            }

            with runner:
                runner.wait_until(lambda: set(runner.latest) == set(PAIRS), WAIT)
                producer.advance(1)
                last = producer.last_candle
                runner.wait_until(lambda: all(e.date == last for e in runner.latest.values()), WAIT)
                out["live"] = {
                    "evaluated_newest": all(e.date == last for e in runner.latest.values()),
                    "errors": {p: repr(e) for p, e in runner.errors.items()},
                    "repr": repr(runner),
                }
    out["numpy"] = np.__version__
    framejson.write(sys.argv[1], out)


if __name__ == "__main__":
    main()
