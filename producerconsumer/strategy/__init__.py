"""Run Freqtrade consumer strategies in a notebook, against live producer data.

Change only a strategy's imports::

    from producerconsumer.strategy import (
        DataFrame,
        IntParameter,
        IStrategy,
        merge_informative_pair,
        qtpylib,
    )

and run it with :class:`StrategyRunner` on a :class:`~producerconsumer.Consumer`::

    runner = StrategyRunner(ConsumerStrategy, consumer)
    frame = runner.run("BTC/USDT")
    compare_signals(frame, pair="BTC/USDT")   # its signals vs the producer's

Also here: the parameters (``IntParameter``, ``DecimalParameter``, ``RealParameter``,
``BooleanParameter``, ``CategoricalParameter``), ``qtpylib`` (:mod:`producerconsumer.qtpylib`)
and the TA-Lib-compatible indicators of :mod:`producerconsumer.indicators` (``sma``, ``ema``,
``rsi``, ``tema``, ...). TA-Lib itself is optional: if ``talib`` is installed, strategies may
keep ``import talib.abstract as ta``.
"""

from __future__ import annotations

from pandas import DataFrame

from .. import qtpylib
from ..indicators import (
    bollinger_bands,
    crossed_above,
    crossed_below,
    ema,
    rsi,
    sma,
    tema,
    typical_price,
)
from ..merge import merge_informative_pair
from .compare import SignalComparison, compare_signals
from .expiry import SignalAge
from .interface import DataProvider, IStrategy, ProducerSource, RunMode, StrategyError, analyze
from .parameters import (
    BaseParameter,
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    RealParameter,
)
from .runner import Evaluation, NoCandles, StrategyRunner

__all__ = [
    "BaseParameter",
    "BooleanParameter",
    "CategoricalParameter",
    "DataFrame",
    "DataProvider",
    "DecimalParameter",
    "Evaluation",
    "IStrategy",
    "IntParameter",
    "NoCandles",
    "ProducerSource",
    "RealParameter",
    "RunMode",
    "SignalAge",
    "SignalComparison",
    "StrategyError",
    "StrategyRunner",
    "analyze",
    "bollinger_bands",
    "compare_signals",
    "crossed_above",
    "crossed_below",
    "ema",
    "merge_informative_pair",
    "qtpylib",
    "rsi",
    "sma",
    "tema",
    "typical_price",
]
