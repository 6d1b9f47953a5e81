"""Freqtrade 2026.9's own hyperopt on the non-consumer equivalent of the docs' ConsumerStrategy.

Runs INSIDE the Freqtrade oracle venv with the repository on ``PYTHONPATH`` (started by
``benchmarks/hyperopt.py --freqtrade``)::

    python benchmarks/_ft_hyperopt.py PAIRS CANDLES EPOCHS

The candles are the synthetic market's (the same as ``hyperopt_strategies.producer_frames``),
stored as Freqtrade feather data; the strategy computes RSI(14), TEMA(9) and the Bollinger bands
with TA-Lib (as the docs' ProducerStrategy) and enters on the ConsumerStrategy's rule, with the
same ROI table, stoploss and ``buy_rsi`` parameter. The exchange is offline (its market
loading patched, one plain spot market per pair). One job (``-j 1``), ``SharpeHyperOptLoss``,
the ``buy`` space. Prints one JSON line: total seconds of ``Hyperopt.start()`` (data load and
indicators included, as a user waits for them) and of its epoch loop alone.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, PropertyMock, patch

sys.path.insert(0, str(Path(__file__).resolve().parent))

STRATEGY = """
import talib.abstract as ta
from freqtrade.strategy import IntParameter, IStrategy
import freqtrade.vendor.qtpylib.indicators as qtpylib


class ProducerEquivalent(IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 0.04, "60": 0.02}
    stoploss = -0.05
    buy_rsi = IntParameter(1, 50, default=30, space="buy")

    def populate_indicators(self, dataframe, metadata):
        dataframe["rsi"] = ta.RSI(dataframe)
        dataframe["tema"] = ta.TEMA(dataframe, timeperiod=9)
        bollinger = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20, stds=2)
        dataframe["bb_middleband"] = bollinger["mid"]
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[
            (qtpylib.crossed_above(dataframe["rsi"], self.buy_rsi.value))
            & (dataframe["tema"] <= dataframe["bb_middleband"])
            & (dataframe["tema"] > dataframe["tema"].shift(1))
            & (dataframe["volume"] > 0),
            "enter_long",
        ] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe
"""


def market(pair: str) -> dict[str, Any]:
    base, quote = pair.split("/")
    limits = {"min": None, "max": None}
    return {
        "id": pair.replace("/", ""),
        "symbol": pair,
        "base": base,
        "quote": quote,
        "active": True,
        "spot": True,
        "type": "spot",
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "linear": None,
        "contract": False,
        "contractSize": None,
        "precision": {"amount": None, "price": None},
        "limits": {"amount": limits, "cost": limits, "price": limits, "leverage": limits},
        "info": {},
    }


def main() -> int:
    pairs, candles, epochs = (int(a) for a in sys.argv[1:4])
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    import hyperopt_strategies as strategies
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType, RunMode
    from freqtrade.optimize.hyperopt import Hyperopt

    frames = strategies.producer_frames(pairs, candles)
    workdir = Path(tempfile.mkdtemp(prefix="ft-hyperopt-"))
    (workdir / "strategies").mkdir()
    (workdir / "hyperopt_results").mkdir()
    (workdir / "strategies" / "producer_equivalent.py").write_text(STRATEGY)
    handler = get_datahandler(workdir, "feather")
    for pair, frame in frames.items():
        ohlcv = frame[["date", "open", "high", "low", "close", "volume"]].reset_index(drop=True)
        handler.ohlcv_store(pair, "5m", ohlcv, CandleType.SPOT)
    markets = {pair: market(pair) for pair in frames}
    config = {
        "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": list(frames)},
        "stake_currency": "USDT",
        "stake_amount": 100,
        "max_open_trades": 5,
        "dry_run_wallet": 10_000,
        "fee": 0.001,
        "timeframe": "5m",
        "pairlists": [{"method": "StaticPairList"}],
        "strategy": "ProducerEquivalent",
        "strategy_path": str(workdir / "strategies"),
        "datadir": workdir,
        "user_data_dir": workdir,
        "dataformat_ohlcv": "feather",
        "runmode": RunMode.HYPEROPT,
        "dry_run": True,
        "candle_type_def": CandleType.SPOT,
        "trading_mode": "spot",
        "margin_mode": "",
        "export": "none",
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "unfilledtimeout": {"entry": 10, "exit": 10, "unit": "minutes"},
        "internals": {},
        "original_config": {},
        "spaces": ["buy"],
        "epochs": epochs,
        "hyperopt_loss": "SharpeHyperOptLoss",
        "hyperopt_jobs": 1,
        "hyperopt_random_state": 1,
        "hyperopt_min_trades": 1,
        "print_all": False,
        "print_json": False,
        "verbosity": 0,
        "disableparamexport": True,
        "tradable_balance_ratio": 0.99,
    }
    patches = [
        patch("freqtrade.exchange.exchange.Exchange._init_ccxt", MagicMock()),
        patch("freqtrade.exchange.exchange.Exchange.reload_markets", MagicMock()),
        patch("freqtrade.exchange.exchange.Exchange.validate_config", MagicMock()),
        patch(
            "freqtrade.exchange.exchange.Exchange.validate_required_startup_candles",
            MagicMock(return_value=0),
        ),
        patch("freqtrade.exchange.exchange.Exchange.markets", PropertyMock(return_value=markets)),
        patch("freqtrade.exchange.exchange.Exchange.precisionMode", PropertyMock(return_value=4)),
        patch(
            "freqtrade.exchange.exchange.Exchange.precision_mode_price",
            PropertyMock(return_value=4),
        ),
    ]
    for p in patches:
        p.start()
    loop: dict[str, float] = {}
    from freqtrade.optimize.hyperopt import hyperopt_optimizer

    original = hyperopt_optimizer.HyperOptimizer.prepare_hyperopt

    def prepare(self: Any) -> None:
        original(self)
        loop["start"] = time.perf_counter()  # data loaded, indicators computed

    with patch.object(hyperopt_optimizer.HyperOptimizer, "prepare_hyperopt", prepare):
        started = time.perf_counter()
        hyperopt = Hyperopt(config)
        hyperopt.start()
        ended = time.perf_counter()
    print(
        json.dumps(
            {
                "pairs": pairs,
                "candles": candles,
                "epochs": epochs,
                "saved_epochs": hyperopt.num_epochs_saved,
                "skipped_duplicates": hyperopt.count_skipped_epochs,
                "total_seconds": ended - started,
                "loop_seconds": ended - loop.get("start", started),
                "best": (hyperopt.current_best_epoch or {}).get("params_dict"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
