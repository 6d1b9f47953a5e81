"""The parts of pc.hyperopt: spaces, losses, the parameter file (fast; Freqtrade parity itself is
checked in tests/interop/oracle_tests/test_hyperopt_parity.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hyperopt_standin import StandInStrategy
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from producerconsumer.hyperopt import (
    LOSSES,
    NoParametersError,
    SearchSpace,
    parameter_file_path,
    read_params,
    resolve_loss,
    write_params,
)
from producerconsumer.hyperopt import spaces as sp
from producerconsumer.strategy import (
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    IStrategy,
    RealParameter,
)

# --- spaces ---------------------------------------------------------------------------------


def test_each_parameter_type_has_freqtrades_distribution() -> None:
    assert sp.parameter_distribution(IntParameter(1, 50, default=3)) == IntDistribution(1, 50)
    assert sp.parameter_distribution(IntParameter([2, 20], default=4, step=2)) == IntDistribution(
        2, 20, step=2
    )
    assert sp.parameter_distribution(
        RealParameter(0.1, 2.0, default=1.0, log=True)
    ) == FloatDistribution(0.1, 2.0, log=True)
    assert sp.parameter_distribution(
        DecimalParameter(0.01234, 0.98765, default=0.5, decimals=2)
    ) == FloatDistribution(0.01, 0.99, step=0.01)
    assert sp.parameter_distribution(
        DecimalParameter(1, 7, default=2, decimals=0)
    ) == FloatDistribution(1, 7, step=1)
    assert sp.parameter_distribution(
        CategoricalParameter(["sma", "ema"], default="sma")
    ) == CategoricalDistribution(["sma", "ema"])
    assert sp.parameter_distribution(BooleanParameter(default=True)) == CategoricalDistribution(
        [True, False]
    )


def test_spaces_are_detected_as_freqtrade_detects_them() -> None:
    class Strategy(IStrategy):
        buy_a = IntParameter(1, 5, default=1)
        enter_b = IntParameter(1, 5, default=1)
        exit_c = IntParameter(1, 5, default=1)
        protection_d = IntParameter(1, 5, default=1)
        mine = IntParameter(1, 5, default=1, space="custom")

    found = sp.detect_parameters(Strategy)
    assert {space: list(params) for space, params in found.items()} == {
        "buy": ["buy_a"],
        "custom": ["mine"],
        "enter": ["enter_b"],
        "exit": ["exit_c"],
        "protection": ["protection_d"],
    }

    class Unplaced(IStrategy):
        level = IntParameter(1, 5, default=1)

    with pytest.raises(ValueError, match="cannot tell the hyperopt space of parameter 'level'"):
        sp.detect_parameters(Unplaced)


def test_roi_space_is_freqtrades_legacy_space_at_5m_and_scales_with_the_timeframe() -> None:
    at_5m = sp.roi_space("5m")
    assert at_5m["roi_t1"] == IntDistribution(10, 120)
    assert at_5m["roi_t2"] == IntDistribution(10, 60)
    assert at_5m["roi_t3"] == IntDistribution(10, 40)
    assert at_5m["roi_p1"] == FloatDistribution(0.01, 0.04, step=0.001)
    assert at_5m["roi_p3"] == FloatDistribution(0.01, 0.2, step=0.001)
    at_1h = sp.roi_space("1h")
    assert at_1h["roi_t1"] == IntDistribution(120, 1440)
    scale = math.log1p(60) / math.log1p(5)
    assert at_1h["roi_p2"] == FloatDistribution(
        round(0.01 * scale, 3), round(0.07 * scale, 3), step=0.001
    )
    table = sp.generate_roi_table(
        {"roi_t1": 100, "roi_t2": 50, "roi_t3": 20, "roi_p1": 0.01, "roi_p2": 0.02, "roi_p3": 0.04}
    )
    assert table == {0: 0.07, 20: 0.03, 70: 0.01, 170: 0}


def test_all_and_default_spaces() -> None:
    everything = SearchSpace.from_strategy(StandInStrategy, "all")
    assert everything.spaces == ["buy", "sell", "roi", "stoploss", "trailing", "trades", "other"]
    default = SearchSpace.from_strategy(StandInStrategy, ["default"])
    assert default.spaces == ["buy", "sell", "roi", "stoploss", "other"]
    assert "buy_ma" not in default.dimensions["buy"]  # optimize=False


def test_asking_for_a_space_without_parameters_names_it() -> None:
    with pytest.raises(NoParametersError, match=r"space\(s\) 'exit', 'nonsense'"):
        SearchSpace.from_strategy(StandInStrategy, ("buy", "exit", "nonsense"))

    class NoParameters(IStrategy):
        pass

    with pytest.raises(NoParametersError, match="Its parameters by space: none"):
        SearchSpace.from_strategy(NoParameters, "buy")
    # "default" and "all" skip parameter spaces without parameters (roi, stoploss remain).
    assert SearchSpace.from_strategy(NoParameters, "default").spaces == ["roi", "stoploss"]
    with pytest.raises(ValueError, match="no hyperopt space asked for"):
        SearchSpace.from_strategy(StandInStrategy, ())


def test_the_protection_space_is_refused_clearly() -> None:
    class Protected(IStrategy):
        protection_cooldown = IntParameter(1, 10, default=2)

    with pytest.raises(ValueError, match="'protection' space needs Freqtrade's protections"):
        SearchSpace.from_strategy(Protected, ("protection",))


def test_a_strategys_hyperopt_class_overrides_the_default_spaces() -> None:
    class Custom(IStrategy):
        buy_x = IntParameter(1, 3, default=1)

        class HyperOpt:
            def stoploss_space() -> list[Any]:  # type: ignore[misc]  # Freqtrade: no self
                dimension = FloatDistribution(-0.2, -0.1, step=0.01)
                dimension.name = "stoploss"  # type: ignore[attr-defined]
                return [dimension]

            def generate_roi_table(params: dict[str, Any]) -> dict[int, float]:  # type: ignore[misc]
                return {0: params["roi_p1"]}

    space = SearchSpace.from_strategy(Custom, ("stoploss", "roi"))
    stoploss = space.dimensions["stoploss"]["stoploss"]
    assert isinstance(stoploss, FloatDistribution)
    assert (stoploss.low, stoploss.high, stoploss.step) == (-0.2, -0.1, 0.01)
    point = {name: 1 for name in space.dimensions["roi"]} | {"roi_p1": 0.05, "stoploss": -0.15}
    assert space.settings(point).overrides == {"minimal_roi": {"0": 0.05}, "stoploss": -0.15}


def test_trial_settings_follow_freqtrades_hyperopt() -> None:
    space = SearchSpace.from_strategy(StandInStrategy, ("sell", "trailing", "trades"))
    point = {
        "sell_fast": True,
        "sell_ratio": 0.2,
        "trailing_stop": True,
        "trailing_stop_positive": 0.02,
        "trailing_stop_positive_offset_p1": 0.015,
        "trailing_only_offset_is_reached": False,
        "max_open_trades": 0,
    }
    settings = space.settings(point)
    assert settings.params == {"sell_fast": True, "sell_ratio": 0.2}
    assert settings.overrides == {
        "trailing_stop": True,
        "trailing_stop_positive": 0.02,
        "trailing_stop_positive_offset": 0.035,
        "trailing_only_offset_is_reached": False,
        "max_open_trades": -1,  # 0 and -1: unlimited
        "use_exit_signal": True,  # forced when "sell" is searched
    }
    # With an unlimited stake Freqtrade keeps the configured count instead of unlimited.
    assert "max_open_trades" not in space.settings(point, stake_amount="unlimited").overrides
    assert space.details(point)["trailing"]["trailing_stop_positive_offset"] == 0.035
    assert space.details(point | {"max_open_trades": 4})["max_open_trades"] == {
        "max_open_trades": 4
    }


# --- losses -------------------------------------------------------------------------------


def trades(profits: list[float], days: list[int]) -> pd.DataFrame:
    start = pd.Timestamp("2026-11-01", tz="UTC")
    return pd.DataFrame(
        {
            "pair": ["BTC/USDT"] * len(profits),
            "close_date": [start + pd.Timedelta(days=d) for d in days],
            "profit_abs": profits,
            "profit_ratio": [p / 100 for p in profits],
            "trade_duration": [60] * len(profits),
        }
    )


def inputs(results: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    return {
        "results": results,
        "trade_count": len(results),
        "min_date": pd.Timestamp("2026-11-01", tz="UTC"),
        "max_date": pd.Timestamp("2026-11-11", tz="UTC"),
        "config": {},
        "processed": {},
        "backtest_stats": {},
        "starting_balance": 1000.0,
        **extra,
    }


def test_losses_on_hand_computed_trades() -> None:
    # Cumulative 10, 4, 9, 1: the deepest drawdown is 10 -> 1 = 9.
    results = trades([10.0, -6.0, 5.0, -8.0], [1, 2, 3, 4])
    assert resolve_loss("OnlyProfitHyperOptLoss")(**inputs(results)) == -1.0
    assert resolve_loss("MaxDrawDownHyperOptLoss")(**inputs(results)) == pytest.approx(-1 / 9)
    relative = 9 / 1010
    assert resolve_loss("ProfitDrawDownHyperOptLoss")(**inputs(results)) == pytest.approx(
        -(1 - relative * 1 * 0.925)
    )
    short = resolve_loss("ShortTradeDurHyperOptLoss")(**inputs(results))
    expected = (1 - 0.25 * math.exp(-((4 - 600) ** 2) / 10**5.8)) + (1 - 0.01 / 3) + 0.4 * 0.2
    assert short == pytest.approx(expected)
    # No losing trade: Sortino's deviation is undefined, Freqtrade's ratio is -100.
    assert resolve_loss("SortinoHyperOptLoss")(**inputs(trades([1.0, 2.0], [1, 2]))) == 100.0


def test_resolve_loss_suggests_the_closest_name_and_lists_them_all() -> None:
    with pytest.raises(ValueError) as error:
        resolve_loss("SharpeHyperoptLoss")
    message = str(error.value)
    assert "Did you mean 'SharpeHyperOptLoss'?" in message
    assert all(name in message for name in LOSSES)
    with pytest.raises(TypeError, match="loss must be"):
        resolve_loss(42)  # type: ignore[arg-type]


def test_a_loss_may_be_a_class_with_freqtrades_interface() -> None:
    class MyLoss:
        @staticmethod
        def hyperopt_loss_function(results: pd.DataFrame, **kwargs: Any) -> float:
            return float(len(results))

    assert resolve_loss(MyLoss)(**inputs(trades([1.0], [1]))) == 1.0


def test_freqtrades_losses_are_all_there() -> None:
    assert set(LOSSES) == {
        "CalmarHyperOptLoss",
        "DefaultHyperOptLoss",
        "MaxDrawDownHyperOptLoss",
        "MaxDrawDownPerPairHyperOptLoss",
        "MaxDrawDownRelativeHyperOptLoss",
        "MultiMetricHyperOptLoss",
        "OnlyProfitHyperOptLoss",
        "ProfitDrawDownHyperOptLoss",
        "SharpeHyperOptLoss",
        "SharpeHyperOptLossDaily",
        "ShortTradeDurHyperOptLoss",
        "SortinoHyperOptLoss",
        "SortinoHyperOptLossDaily",
    }


# --- the parameter file --------------------------------------------------------------------


def test_the_parameter_file_goes_where_freqtrade_looks(tmp_path: Path) -> None:
    source = Path(__file__).with_name("hyperopt_standin.py")
    assert parameter_file_path(StandInStrategy) == source.with_suffix(".json")
    assert parameter_file_path(StandInStrategy, tmp_path) == tmp_path / "hyperopt_standin.json"
    assert parameter_file_path(StandInStrategy, tmp_path / "s.py") == tmp_path / "s.json"
    assert parameter_file_path(StandInStrategy(), tmp_path / "x.json") == tmp_path / "x.json"

    notebook_class = type("NotebookStrategy", (IStrategy,), {"__module__": "__main__"})
    with pytest.raises(ValueError, match="has no source file"):
        parameter_file_path(notebook_class)
    assert parameter_file_path(notebook_class, tmp_path) == tmp_path / "NotebookStrategy.json"


def test_parameter_file_round_trip_with_infinity(tmp_path: Path) -> None:
    params: dict[str, dict[str, Any]] = {
        "buy": {"buy_rsi": 31},
        "max_open_trades": {"max_open_trades": math.inf},
    }
    path = write_params(tmp_path / "deep" / "S.json", "S", params)
    content = read_params(path, "S")
    assert content["params"] == params
    assert content["ft_stratparam_v"] == 1 and content["strategy_name"] == "S"
    assert '"max_open_trades": Infinity' in path.read_text()  # as Freqtrade writes it

    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a parameter file"):
        read_params(path)
    path.write_text(json.dumps({"params": []}))
    with pytest.raises(ValueError, match="no 'params' mapping"):
        read_params(path)
