"""Indicators once per study (producerconsumer.hyperopt.indicators_once), as Freqtrade's
hyperopt computes them: populate_indicators once per pair, .range over the searched space."""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

import pandas as pd
import pytest

from producerconsumer.hyperopt import BacktestObjective, TrialSettings
from producerconsumer.hyperopt import objective as objective_module
from producerconsumer.hyperopt.indicators_once import (
    SearchedParameterWarning,
    indicators_once,
    supports_indicators_once,
)
from producerconsumer.strategy import (
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    IStrategy,
)
from producerconsumer.strategy.parameters import apply_params

CANDLES = pd.DataFrame(
    {
        "date": pd.date_range("2026-11-01", periods=30, freq="5min", tz="UTC"),
        "close": [float(i % 7) for i in range(30)],
    }
)


class Ranged(IStrategy):
    """Freqtrade's pattern: one column per value of the searched window."""

    calls: list[str] = []  # noqa: RUF012 - pairs analysed, across subclasses
    buy_window = IntParameter(3, 6, default=4, space="buy")
    sell_level = IntParameter(1, 9, default=5, space="sell")

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        Ranged.calls.append(metadata["pair"])
        for window in self.buy_window.range:
            dataframe[f"ma_{window}"] = dataframe["close"].rolling(window).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["enter_long"] = dataframe["close"] > dataframe[f"ma_{self.buy_window.value}"]
        return dataframe


class ReadsValue(IStrategy):
    buy_window = IntParameter(3, 6, default=4, space="buy")

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["ma"] = dataframe["close"].rolling(self.buy_window.value).mean()
        return dataframe


def trial(cls: type, **params: Any) -> Any:
    strategy = cls()
    apply_params(strategy, params)
    return strategy


def test_indicators_are_computed_once_per_pair_with_the_whole_range() -> None:
    Ranged.calls.clear()
    once = indicators_once(Ranged, ["buy_window"], {})
    assert once.__name__ == "Ranged" and issubclass(once, Ranged)

    first = trial(once, buy_window=6)
    frame = first.populate_indicators(CANDLES.copy(), {"pair": "BTC/USDT"})
    assert [c for c in frame.columns if c.startswith("ma_")] == ["ma_3", "ma_4", "ma_5", "ma_6"]
    assert first.buy_window.value == 6 and not first.buy_window.in_space  # restored

    second = trial(once, buy_window=3)
    again = second.populate_indicators(CANDLES.copy(), {"pair": "BTC/USDT"})
    pd.testing.assert_frame_equal(again, frame)
    assert again is not frame
    assert Ranged.calls == ["BTC/USDT"]
    second.populate_indicators(CANDLES.copy(), {"pair": "ETH/USDT"})
    assert Ranged.calls == ["BTC/USDT", "ETH/USDT"]
    entries = second.populate_entry_trend(again, {"pair": "BTC/USDT"})
    assert entries["enter_long"].equals(again["close"] > again["ma_3"])


def test_a_searched_parameter_read_in_populate_indicators_warns_and_uses_its_start_value() -> None:
    once = indicators_once(ReadsValue, ["buy_window"], {})
    with pytest.warns(SearchedParameterWarning, match="buy_window: searched, but read"):
        frame = trial(once, buy_window=6).populate_indicators(CANDLES.copy(), {"pair": "A/B"})
    expected = CANDLES["close"].rolling(4).mean()  # the default, not the trial's 6
    assert frame["ma"].equals(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per study
        trial(once, buy_window=5).populate_indicators(CANDLES.copy(), {"pair": "C/D"})


def test_only_classes_with_our_parameters_are_analysed_once() -> None:
    assert supports_indicators_once(Ranged, ["buy_window"])
    assert not supports_indicators_once(Ranged(), ["buy_window"])
    assert not supports_indicators_once(Ranged, [])

    class ForeignParameter:  # e.g. Freqtrade's, whose .range stays one value here
        value = 3
        space = "buy"
        optimize = True
        load = True

    class Foreign(IStrategy):
        buy_window = ForeignParameter()

    assert not supports_indicators_once(Foreign, ["buy_window"])


def test_range_spans_the_space_only_while_in_space() -> None:
    window = IntParameter(2, 5, default=3)
    ratio = DecimalParameter(0.1, 0.3, default=0.2, decimals=1)
    kind = CategoricalParameter(["sma", "ema", "tema"], default="ema")
    assert list(window.range) == [3] and ratio.range == [0.2] and kind.range == ["ema"]
    for parameter in (window, ratio, kind):
        parameter.in_space = True
    assert list(window.range) == [2, 3, 4, 5]
    assert ratio.range == [0.1, 0.2, 0.3]
    assert kind.range == ["sma", "ema", "tema"]
    window.optimize = False
    assert list(window.range) == [3]


def test_the_objective_backtests_the_analysed_once_class_unless_per_epoch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Any] = []

    def backtest(strategy: Any, data: Any, **kwargs: Any) -> Any:
        seen.append(strategy)
        return types.SimpleNamespace(trades=pd.DataFrame(), metrics={}, settings={})

    module = types.ModuleType("producerconsumer.backtest")
    module.backtest = backtest  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "producerconsumer.backtest", module)
    monkeypatch.setattr(objective_module, "load_data", lambda data, mode="history": data)

    frames = {"BTC/USDT": pd.DataFrame({"close": [1.0]})}
    objective = BacktestObjective(Ranged, frames)
    objective(TrialSettings(params={"buy_window": 5}))
    objective(TrialSettings(params={"buy_window": 3}))
    assert seen[0] is seen[1] and seen[0] is not Ranged and issubclass(seen[0], Ranged)

    per_epoch = BacktestObjective(Ranged, frames, analyze_per_epoch=True)
    per_epoch(TrialSettings(params={"buy_window": 5}))
    assert seen[-1] is Ranged
