"""Differential test, run INSIDE the Freqtrade oracle venv (with Freqtrade's hyperopt extra):
``producerconsumer.hyperopt`` against Freqtrade 2026.9's hyperopt.

* every loss class gives the same value as Freqtrade's on generated backtest results (exactly, or
  to 1e-12 relative; the same exception type where Freqtrade raises);
* the distributions of every parameter type equal Freqtrade's ``get_space``, and values sampled
  from ours lie in Freqtrade's distributions (range and step);
* the roi / stoploss / trailing / trades spaces and the ROI table / trailing settings built from
  a point equal Freqtrade's ``IHyperOpt`` defaults;
* the parameter file we write is read back by Freqtrade's ``StrategyResolver`` with our values.

Started by ``tests/interop/test_oracle_hyperopt.py`` (``-m oracle -k hyperopt``); the example
counts are fixed here, not by the hypothesis profile.
"""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from freqtrade.optimize.hyperopt.hyperopt_interface import IHyperOpt
from freqtrade.optimize.optimize_reports.optimize_reports import generate_pair_metrics
from freqtrade.strategy import parameters as ft_parameters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producerconsumer.hyperopt import loss as ours
from producerconsumer.hyperopt import spaces as our_spaces
from producerconsumer.hyperopt.params import parameter_file_path, write_params
from producerconsumer.strategy import parameters as our_parameters

LOSS_NAMES = sorted(ours.LOSSES)
PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT", "ADA/USDT"]
ANCHOR = datetime(2026, 10, 1, tzinfo=UTC)
FIXED = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _freqtrade_losses() -> dict[str, Any]:
    """Every loss class Freqtrade ships, by name (from its hyperopt_loss package)."""
    import importlib

    import freqtrade.optimize.hyperopt_loss as package
    from freqtrade.optimize.hyperopt import IHyperOptLoss

    found = {}
    for path in Path(package.__path__[0]).glob("hyperopt_loss_*.py"):
        module = importlib.import_module(f"{package.__name__}.{path.stem}")
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, IHyperOptLoss)
                and value is not IHyperOptLoss
            ):
                found[name] = value
    return found


FREQTRADE_LOSSES = _freqtrade_losses()


def freqtrade_loss(name: str) -> Any:
    return FREQTRADE_LOSSES[name].hyperopt_loss_function


def test_we_ship_every_loss_freqtrade_ships() -> None:
    from freqtrade.constants import HYPEROPT_LOSS_BUILTIN

    assert set(FREQTRADE_LOSSES) == set(ours.LOSSES)
    assert set(HYPEROPT_LOSS_BUILTIN) <= set(ours.LOSSES)


# --- losses -----------------------------------------------------------------------------------


@st.composite
def backtest_results(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(0, 40))
    days = draw(st.sampled_from([0, 1, 2, 5, 30, 90]))
    min_date = ANCHOR + timedelta(minutes=5 * draw(st.integers(0, 300)))
    max_date = min_date + timedelta(days=days, minutes=5 * draw(st.integers(0, 287)))
    span = max(1, int((max_date - min_date).total_seconds() // 300))
    # Close dates on the 5m grid within the period; few distinct ones give ties.
    grid = draw(st.sampled_from([3, 10, span]))
    steps = draw(st.lists(st.integers(0, min(grid, span)), min_size=count, max_size=count))
    profit_kind = draw(st.sampled_from(["mixed", "winners", "losers", "zeros", "tiny"]))
    raw = draw(
        st.lists(
            st.floats(-50, 50, allow_nan=False, allow_subnormal=False),
            min_size=count,
            max_size=count,
        )
    )
    profit = np.array(raw, dtype=float)
    if profit_kind == "winners":
        profit = np.abs(profit) + 0.01
    elif profit_kind == "losers":
        profit = -np.abs(profit) - 0.01
    elif profit_kind == "zeros":
        profit = profit * draw(st.sampled_from([0.0, 1.0]))
    elif profit_kind == "tiny":
        profit = profit * 1e-9
    stake = draw(st.sampled_from([10.0, 100.0, 250.0]))
    close = [min_date + timedelta(minutes=5 * s) for s in steps]
    durations = draw(st.lists(st.integers(0, 3000), min_size=count, max_size=count))
    results = pd.DataFrame(
        {
            "pair": [PAIRS[draw(st.integers(0, len(PAIRS) - 1))] for _ in range(count)],
            "open_date": pd.to_datetime(
                [c - timedelta(minutes=d) for c, d in zip(close, durations, strict=True)],
                utc=True,
            ),
            "close_date": pd.to_datetime(close, utc=True),
            "profit_abs": profit,
            "profit_ratio": profit / stake,
            "trade_duration": np.array(durations, dtype=np.int64),
            "is_open": np.zeros(count, dtype=bool),
        }
    )
    if count == 0:
        results["close_date"] = pd.Series([], dtype="datetime64[ns, UTC]")
        results["open_date"] = pd.Series([], dtype="datetime64[ns, UTC]")
    balance = draw(st.sampled_from([100.0, 1000.0, 12345.6, 0.5]))
    return {
        "results": results,
        "trade_count": count,
        "min_date": min_date,
        "max_date": max_date,
        "config": {"dry_run_wallet": balance, "stake_currency": "USDT"},
        "processed": {},
        "starting_balance": balance,
    }


def _same(a: Any, b: Any) -> bool:
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def _call(function: Any, inputs: dict[str, Any]) -> tuple[str, Any]:
    copied = {k: (v.copy() if isinstance(v, pd.DataFrame) else v) for k, v in inputs.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return "value", function(**copied)
    except Exception as exc:
        return "error", type(exc).__name__


def _assert_same_loss(name: str, ft_inputs: dict[str, Any], our_inputs: dict[str, Any]) -> None:
    expected = _call(freqtrade_loss(name), ft_inputs)
    got = _call(ours.resolve_loss(name), our_inputs)
    assert expected[0] == got[0], (name, expected, got)
    if expected[0] == "value":
        assert _same(expected[1], got[1]), (name, expected[1], got[1])
    else:
        assert expected[1] == got[1], (name, expected, got)


PER_PAIR = "MaxDrawDownPerPairHyperOptLoss"


@settings(FIXED, max_examples=300)
@given(backtest_results())
def test_every_loss_equals_freqtrades(inputs: dict[str, Any]) -> None:
    for name in LOSS_NAMES:
        if name != PER_PAIR:
            _assert_same_loss(name, inputs, inputs)


@settings(FIXED, max_examples=60)
@given(backtest_results())
def test_the_per_pair_loss_on_our_per_pair_rows_equals_freqtrades_on_its_own(
    inputs: dict[str, Any],
) -> None:
    """Freqtrade's per-pair loss reads its backtest report's per-pair rows; ours derives them
    from the trades when the engine does not provide them."""
    results = inputs["results"]
    pairs = [*sorted(set(results["pair"])), "DOGE/USDT"]  # and a pair without trades
    balance = inputs["starting_balance"]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ft_rows = generate_pair_metrics(
            pairs, "USDT", balance, results, inputs["min_date"], inputs["max_date"]
        )
    our_rows = ours.results_per_pair(results, pairs, balance)
    _assert_same_loss(
        PER_PAIR,
        {**inputs, "backtest_stats": {"results_per_pair": ft_rows}},
        {**inputs, "backtest_stats": {"results_per_pair": our_rows}},
    )


# --- parameter spaces ----------------------------------------------------------------------


def _describe(distribution: Any) -> dict[str, Any]:
    base = next(
        cls.__name__
        for cls in type(distribution).__mro__
        if cls.__module__.startswith("optuna.distributions")
    )
    described: dict[str, Any] = {"type": base}
    for attr in ("low", "high", "step", "log", "choices"):
        if hasattr(distribution, attr):
            value = getattr(distribution, attr)
            described[attr] = tuple(value) if attr == "choices" else value
    return described


@st.composite
def parameter_args(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    kind = draw(st.sampled_from(["Int", "Decimal", "Real", "Categorical", "Boolean"]))
    if kind == "Int":
        low = draw(st.integers(-100, 100))
        high = low + draw(st.integers(1, 200))
        extra = draw(st.sampled_from([{}, {"step": 2}, {"log": True}])) if low > 0 else {}
        if extra.get("step"):
            high = low + 2 * ((high - low) // 2 or 1)
        return kind, (low, high), {"default": low, **extra}
    if kind == "Decimal":
        decimals = draw(st.integers(0, 4))
        low = draw(st.floats(-5, 5, allow_nan=False, allow_subnormal=False))
        high = low + draw(st.floats(0.01, 10, allow_nan=False, allow_subnormal=False))
        if round(high, decimals) <= round(low, decimals) or decimals == 0:
            low, high = math.floor(low), math.floor(low) + 3
        return kind, (low, high), {"default": low, "decimals": decimals}
    if kind == "Real":
        low = draw(st.floats(0.001, 5, allow_nan=False, allow_subnormal=False))
        high = low + draw(st.floats(0.01, 10, allow_nan=False, allow_subnormal=False))
        extra = draw(st.sampled_from([{}, {"log": True}, {"step": 0.5}]))
        if extra.get("step"):
            high = low + 0.5 * draw(st.integers(1, 10))
        return kind, (low, high), {"default": low, **extra}
    if kind == "Categorical":
        choices = draw(
            st.lists(
                st.sampled_from(["sma", "ema", "tema", 1, 2.5, None, True]),
                min_size=2,
                max_size=5,
                unique_by=repr,
            )
        )
        return kind, (choices,), {"default": choices[0]}
    return kind, (), {"default": draw(st.booleans())}


@settings(FIXED, max_examples=400)
@given(parameter_args(), st.integers(0, 2**16))
def test_parameter_distributions_and_samples_match_freqtrades(
    args: tuple[str, tuple[Any, ...], dict[str, Any]], seed: int
) -> None:
    kind, positional, keywords = args
    ft_param = getattr(ft_parameters, f"{kind}Parameter")(*positional, space="buy", **keywords)
    our_param = getattr(our_parameters, f"{kind}Parameter")(*positional, space="buy", **keywords)
    ft_space = ft_param.get_space("buy_x")
    our_space = our_spaces.parameter_distribution(our_param)
    assert _describe(our_space) == _describe(ft_space)

    sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    for _ in range(20):
        trial = study.ask({"buy_x": our_space})
        value = trial.params["buy_x"]
        study.tell(trial, 0.0)
        assert ft_space._contains(ft_space.to_internal_repr(value)), (value, ft_space)
        if kind == "Decimal":
            steps = (value - ft_space.low) / ft_space.step
            assert abs(steps - round(steps)) < 1e-6, (value, ft_space)
            ft_param.value = value
            our_param.value = value
            assert our_param.value == ft_param.value


TIMEFRAMES = ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w"]


@pytest.mark.parametrize("timeframe", TIMEFRAMES)
def test_roi_stoploss_trailing_and_trades_spaces_match_freqtrades(timeframe: str) -> None:
    freqtrade = IHyperOpt({"timeframe": timeframe})
    expected = {
        "roi": freqtrade.roi_space(),
        "stoploss": freqtrade.stoploss_space(),
        "trailing": freqtrade.trailing_space(),
        "trades": freqtrade.max_open_trades_space(),
    }
    got = {
        "roi": our_spaces.roi_space(timeframe),
        "stoploss": our_spaces.stoploss_space(),
        "trailing": our_spaces.trailing_space(),
        "trades": our_spaces.trades_space(),
    }
    for space, dimensions in expected.items():
        assert list(got[space]) == [d.name for d in dimensions], space
        for dimension in dimensions:
            assert _describe(got[space][dimension.name]) == _describe(dimension), (
                space,
                dimension.name,
            )

    # Points sampled from our spaces build the same ROI tables and trailing settings.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=len(timeframe)))
    distributions = {name: d for space in got.values() for name, d in space.items()}
    for _ in range(50):
        trial = study.ask(distributions)
        point = trial.params
        study.tell(trial, 0.0)
        assert our_spaces.generate_roi_table(point) == freqtrade.generate_roi_table(point)
        assert our_spaces.generate_trailing_params(point) == (
            freqtrade.generate_trailing_params(point)
        )


# --- the parameter file ----------------------------------------------------------------------

STRATEGY_FILE = """
from freqtrade.strategy import (
    BooleanParameter, CategoricalParameter, DecimalParameter, IntParameter, IStrategy,
    RealParameter,
)


class ParamFileStrategy(IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 0.5}
    stoploss = -0.3
    buy_rsi = IntParameter(1, 50, default=30)
    buy_ma = CategoricalParameter(["sma", "ema", "tema"], default="sma", space="buy")
    buy_fixed = IntParameter(1, 5, default=2, optimize=False)
    sell_ratio = DecimalParameter(0.0, 1.0, default=0.5, decimals=3)
    sell_fast = BooleanParameter(default=False)
    sell_not_loaded = IntParameter(1, 9, default=4, load=False)
    guard_level = RealParameter(0.1, 2.0, default=1.0, space="guard")

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe
"""


def _load_with_freqtrade(directory: Path) -> Any:
    from freqtrade.resolvers import StrategyResolver

    config = {
        "strategy": "ParamFileStrategy",
        "strategy_path": str(directory),
        "stake_currency": "USDT",
        "stake_amount": 10,
        "dry_run": True,
        "dry_run_wallet": 1000,
        "runmode": "backtest",
        "exchange": {"name": "binance", "pair_whitelist": []},
        "pairlists": [{"method": "StaticPairList"}],
        "user_data_dir": directory,
    }
    strategy = StrategyResolver.load_strategy(config)
    strategy.ft_load_hyper_params(hyperopt=False)
    return strategy


def _import_strategy(path: Path) -> type:
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ParamFileStrategy  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "spaces", [("buy", "sell"), ("buy", "roi", "stoploss"), ("all",), ("sell", "trailing")]
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_freqtrade_loads_the_parameter_file_we_write(
    tmp_path: Path, spaces: tuple[str, ...], seed: int
) -> None:
    source = tmp_path / "param_file_strategy.py"
    source.write_text(STRATEGY_FILE)
    cls = _import_strategy(source)
    space = our_spaces.SearchSpace.from_strategy(cls, spaces)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask(space.distributions)
    point = trial.params
    # What a backtest reports as its effective settings (the strategy's, as the engine would).
    effective = {
        "minimal_roi": {"0": 0.5},
        "stoploss": -0.3,
        "trailing_stop": False,
        "trailing_stop_positive": None,
        "trailing_stop_positive_offset": 0.0,
        "trailing_only_offset_is_reached": False,
        "max_open_trades": 3,
    }
    settings_ = space.settings(point)
    effective.update({k: v for k, v in settings_.overrides.items() if k in effective})
    from producerconsumer.hyperopt.result import freqtrade_params

    params = freqtrade_params(space, cls, point, effective, {"buy_fixed": 4})
    path = write_params(parameter_file_path(cls, source), "ParamFileStrategy", params)
    assert path == tmp_path / "param_file_strategy.json"

    strategy = _load_with_freqtrade(tmp_path)

    for name, value in settings_.params.items():
        if name == "sell_not_loaded":
            continue  # load=False: searched, written, but not loaded (checked below)
        # Written rounded to 13 places, as Freqtrade writes; a DecimalParameter rounds on load.
        expected = round(value, 13) if isinstance(value, float) else value
        if name == "sell_ratio":
            expected = round(value, 3)
        assert getattr(strategy, name).value == expected, name
    assert strategy.buy_fixed.value == 4  # a fixed value, written as not optimised
    assert strategy.sell_not_loaded.value == 4  # load=False: Freqtrade keeps the default
    roi = {int(k): v for k, v in params["roi"].items()}
    assert strategy.minimal_roi == dict(sorted(roi.items()))
    assert strategy.stoploss == params["stoploss"]["stoploss"]
    for key, value in params["trailing"].items():
        if value is not None:
            assert getattr(strategy, key) == value, key
    if "roi" in space.dimensions:
        assert strategy.minimal_roi == {
            int(k): round(v, 13) for k, v in settings_.overrides["minimal_roi"].items()
        }
    if "stoploss" in space.dimensions:
        assert strategy.stoploss == round(settings_.overrides["stoploss"], 13)
