"""pc.hyperopt's study: optuna asks, the stand-in backtest answers (tests/hyperopt_standin.py).

The backtest engine is replaced by a deterministic stand-in at the documented seam
(``objective(TrialSettings) -> result``); the study, storage, samplers and losses are real.
Dask runs are in test_hyperopt_dask.py.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest
from hyperopt_standin import START, StandInBacktest, StandInStrategy

import producerconsumer as pc
from producerconsumer.hyperopt import (
    MAX_LOSS,
    BacktestObjective,
    NoParametersError,
    TrialSettings,
    optimize,
    read_params,
)
from producerconsumer.hyperopt import objective as objective_module
from producerconsumer.hyperopt.objective import evaluate, loss_inputs


def run(backtest: StandInBacktest, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "spaces": ("buy", "sell"),
        "epochs": 40,
        "loss": "OnlyProfitHyperOptLoss",
        "seed": 7,
        "progress": False,
    }
    options.update(kwargs)
    return optimize(backtest, StandInStrategy, **options)


def test_study_finds_the_optimum_and_reports_it_as_freqtrade_writes_it() -> None:
    backtest = StandInBacktest()
    result = run(backtest, epochs=60)

    assert result.best_params is not None
    assert result.best_params["buy"] == {"buy_ma": "ema", "buy_rsi": 37}
    assert result.best_params["sell"]["sell_fast"] is True
    # Not searched: the parameters outside the spaces and the trading settings of the backtest.
    assert result.best_params["other"] == {"other_level": 0.5}
    assert result.best_params["roi"] == {"0": 0.1, "30": 0.02}
    assert result.best_params["stoploss"] == {"stoploss": -0.08}
    assert result.best_params["trailing"]["trailing_stop"] is False
    assert result.best_params["max_open_trades"] == {"max_open_trades": 3}
    assert result.best_loss == -12.0  # (10 + 2) * (-0.5 + 1 + 1 - 0.5) over 4 trades
    # The best backtest is the best parameters, run again; "sell" forces use_exit_signal.
    given = result.best_backtest.settings_given
    assert given.params["buy_rsi"] == 37 and given.params["sell_fast"] is True
    assert given.overrides == {"use_exit_signal": True}
    assert "buy_ma" not in given.params  # optimize=False: not searched


def test_trials_frame_has_one_row_per_epoch_with_params_metrics_and_state() -> None:
    result = run(StandInBacktest(), epochs=25)
    trials = result.trials

    assert list(trials["epoch"]) == list(range(1, 26))
    assert set(trials["state"]) == {"COMPLETE"}
    assert trials["is_best"].sum() == 1
    assert trials.loc[trials["is_best"], "loss"].item() == trials["loss"].min()
    assert {"params_buy_rsi", "params_sell_fast", "params_sell_ratio"} <= set(trials.columns)
    assert {"total_trades", "profit_total_abs", "backtest_start"} <= set(trials.columns)
    assert "results_per_day" not in trials.columns  # only scalar metrics are kept
    assert trials["backtest_start"].iloc[0] == START.isoformat()
    assert trials["params_buy_rsi"].between(30, 40).all()
    assert (trials["params_sell_ratio"] * 100).round(9).mod(1).eq(0).all()  # 2 decimals


def test_repeated_points_reuse_the_first_evaluation() -> None:
    backtest = StandInBacktest()
    result = run(backtest, spaces=("sell",), epochs=12)  # sell_fast x sell_ratio: 82 points

    trials = result.trials
    duplicates = trials[trials["duplicate_of"].notna()]
    assert len(backtest.calls) - 1 + len(duplicates) == 12  # - the best backtest, again
    for _, row in duplicates.iterrows():
        original = trials[trials["epoch"] == row["duplicate_of"]].iloc[0]
        assert row["loss"] == original["loss"]
        assert row["params_sell_ratio"] == original["params_sell_ratio"]


def test_a_failing_trial_is_recorded_with_its_error_and_the_study_goes_on() -> None:
    result = run(StandInBacktest(fail_on={"buy_rsi": 35}), epochs=40)
    trials = result.trials

    failed = trials[trials["state"] == "FAIL"]
    assert len(failed) > 0, "seed 7 samples buy_rsi 35 within 40 epochs"
    assert (failed["params_buy_rsi"] == 35).all()
    assert failed["error"].str.startswith("RuntimeError: strategy failed on").all()
    assert "hyperopt_standin.py" in failed["error"].iloc[0]  # where it failed
    assert (trials["state"] == "COMPLETE").sum() == 40 - len(failed)
    assert result.best_params is not None and result.best_params["buy"]["buy_rsi"] != 35


def test_all_failures_leave_no_best(tmp_path: Path) -> None:
    class Broken(StandInBacktest):
        def __call__(self, settings: TrialSettings) -> Any:
            raise ValueError("no candles for BTC/USDT")

    result = run(Broken(), epochs=4)
    assert list(result.trials["state"]) == ["FAIL"] * 4
    assert result.trials["error"].str.contains("ValueError: no candles for BTC/USDT").all()
    assert result.best_params is None and result.best_trial is None
    assert "no finished trial" in repr(result)
    with pytest.raises(ValueError, match="no trial finished"):
        result.to_freqtrade(tmp_path)


def test_too_few_trades_get_freqtrades_max_loss() -> None:
    result = run(
        StandInBacktest(trades_for={r: 0 for r in range(30, 41)}), spaces=("buy",), epochs=5
    )
    assert (result.trials["loss"] == MAX_LOSS).all()
    result = run(StandInBacktest(), spaces=("buy",), epochs=5, min_trades=5)
    assert (result.trials["loss"] == MAX_LOSS).all()


def test_same_seed_same_trials() -> None:
    first = run(StandInBacktest(), epochs=35).trials
    second = run(StandInBacktest(), epochs=35).trials
    columns = ["params_buy_rsi", "params_sell_fast", "params_sell_ratio", "loss"]
    pd.testing.assert_frame_equal(first[columns], second[columns])


def test_the_default_sampler_is_freqtrades_nsga3_with_population_30() -> None:
    result = run(StandInBacktest(), epochs=2)
    sampler = result.study.sampler
    assert type(sampler).__name__ == "NSGAIIISampler"
    assert sampler._population_size == 30
    other = run(StandInBacktest(), epochs=2, sampler="TPESampler")
    assert type(other.study.sampler).__name__ == "TPESampler"
    with pytest.raises(ValueError, match="unknown sampler 'Random'"):
        run(StandInBacktest(), epochs=2, sampler="Random")


def test_storage_resumes_an_interrupted_study(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    interrupted = StandInBacktest(interrupt_after=6)
    with pytest.raises(KeyboardInterrupt):
        run(interrupted, epochs=15, storage=storage)
    running_params = interrupted.calls[-1].params

    resumed = StandInBacktest()
    result = run(resumed, epochs=15, storage=storage)
    trials = result.trials
    finished = trials[trials["error"] != "interrupted before it finished"]
    assert len(finished) == 15
    assert len(trials) == 16
    lost = trials[trials["error"] == "interrupted before it finished"]
    assert list(lost["epoch"]) == [6] and list(lost["state"]) == ["FAIL"]
    # The interrupted point is asked again first; the resumed run did only what was left.
    assert resumed.calls[0].params == running_params
    resumed_duplicates = trials.loc[trials["epoch"] > 6, "duplicate_of"].notna().sum()
    assert len(resumed.calls) - 1 + resumed_duplicates == 15 - 5  # - the best backtest
    assert result.study.study_name == "StandInStrategy-buy-sell-OnlyProfitHyperOptLoss"

    # Finished: a further call runs nothing.
    again = StandInBacktest()
    assert len(run(again, epochs=15, storage=storage).trials) == 16
    assert len(again.calls) == 1  # only the best backtest


def test_a_trial_left_running_by_a_killed_process_is_failed_and_asked_again(
    tmp_path: Path,
) -> None:
    from producerconsumer.hyperopt import SearchSpace

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    name = "StandInStrategy-buy-OnlyProfitHyperOptLoss"
    study = optuna.create_study(storage=storage, study_name=name)
    space = SearchSpace.from_strategy(StandInStrategy, ("buy",))
    stale = study.ask(space.distributions)  # the process died here: the trial stays RUNNING

    resumed = StandInBacktest()
    result = run(resumed, spaces=("buy",), epochs=3, storage=storage)
    assert resumed.calls[0].params == stale.params
    assert list(result.trials["state"]) == ["FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]
    assert result.trials["error"].iloc[0] == "interrupted before it finished"


def test_roi_stoploss_trailing_and_trades_spaces_reach_the_backtest() -> None:
    backtest = StandInBacktest()
    result = run(backtest, spaces=("roi", "stoploss", "trailing", "trades"), epochs=3)
    given = backtest.calls[0]
    assert given.params == {}
    roi = given.overrides["minimal_roi"]
    assert list(roi) == ["0", *list(roi)[1:]] and list(roi.values())[-1] == 0
    assert -0.35 <= given.overrides["stoploss"] <= -0.02
    assert given.overrides["trailing_stop"] is True
    assert (
        given.overrides["trailing_stop_positive_offset"] > given.overrides["trailing_stop_positive"]
    )
    params = result.best_params
    assert set(params) >= {"buy", "sell", "other", "roi", "stoploss", "trailing"}
    assert set(params["trailing"]) == {
        "trailing_stop",
        "trailing_stop_positive",
        "trailing_stop_positive_offset",
        "trailing_only_offset_is_reached",
    }
    assert params["buy"] == {"buy_ma": "ema", "buy_rsi": 33}  # not searched: defaults
    assert -1 <= params["max_open_trades"]["max_open_trades"] <= 10


def test_to_freqtrade_writes_the_parameter_file(tmp_path: Path) -> None:
    result = run(StandInBacktest(), epochs=20)
    path = result.to_freqtrade(tmp_path)

    assert path == tmp_path / "hyperopt_standin.json"  # Freqtrade: <strategy file>.json
    content = json.loads(path.read_text())
    assert content["strategy_name"] == "StandInStrategy"
    assert content["ft_stratparam_v"] == 1
    assert content["params"] == result.best_params
    assert pd.Timestamp(content["export_time"]).tzinfo is not None
    assert read_params(path, "StandInStrategy") == content
    with pytest.raises(ValueError, match="holds parameters of 'StandInStrategy'"):
        read_params(path, "OtherStrategy")


def test_plot_shows_losses_and_importances() -> None:
    import matplotlib

    matplotlib.use("Agg")
    result = run(StandInBacktest(fail_on={"buy_rsi": 35}), epochs=40)
    figure = result.plot()
    losses, importance = figure.axes
    assert "OnlyProfitHyperOptLoss" in losses.get_ylabel()
    assert {t.get_text() for t in importance.get_yticklabels()} == {
        "buy_rsi",
        "sell_fast",
        "sell_ratio",
    }


def test_a_strategy_without_parameters_in_the_asked_space_is_a_clear_error() -> None:
    with pytest.raises(NoParametersError) as error:
        run(StandInBacktest(), spaces=("buy", "enter", "exit"))
    message = str(error.value)
    assert "'enter', 'exit'" in message
    assert "buy: buy_rsi" in message and "other: other_level" in message


def test_a_callable_loss_gets_freqtrades_arguments() -> None:
    seen: list[dict[str, Any]] = []

    def loss(results: pd.DataFrame, trade_count: int, **kwargs: Any) -> float:
        seen.append({"trade_count": trade_count, **kwargs})
        return -float(results["profit_abs"].max())

    result = run(StandInBacktest(), spaces=("buy",), epochs=3, loss=loss)
    assert result.loss_name == "loss"
    assert seen[0]["trade_count"] == 4
    assert seen[0]["starting_balance"] == 1000.0
    assert seen[0]["min_date"] == START
    assert seen[0]["config"]["stake_currency"] == "USDT"
    assert set(seen[0]) >= {"max_date", "processed", "backtest_stats"}


def test_loss_inputs_take_the_wallet_of_the_stake_currency_and_derive_per_pair_rows() -> None:
    backtest = StandInBacktest(wallet={"USDT": 500.0, "BTC": 0.1})
    inputs = loss_inputs(backtest(TrialSettings(params={"buy_rsi": 37})))
    assert inputs["starting_balance"] == 500.0
    rows = inputs["backtest_stats"]["results_per_pair"]
    assert [r["key"] for r in rows] == ["BTC/USDT", "ETH/USDT", "TOTAL"]
    assert rows[-1]["profit_total_abs"] == pytest.approx(10.0)


def test_a_trial_whose_metrics_fail_still_counts_and_says_why() -> None:
    class NoMetrics(StandInBacktest):
        def __call__(self, settings: TrialSettings) -> Any:
            result = super().__call__(settings)

            class Broken(type(result)):  # type: ignore[misc]
                @property
                def metrics(self) -> dict[str, Any]:
                    raise ImportError("no metrics module")

            result.__class__ = Broken
            return result

    result = run(NoMetrics(), spaces=("buy",), epochs=3)
    trials = result.trials
    assert set(trials["state"]) == {"COMPLETE"}
    assert trials["metrics_error"].str.startswith("ImportError: no metrics module").all()
    assert (trials["trade_count"] == 4).all()


def test_evaluate_turns_a_nan_loss_into_a_failed_trial() -> None:
    outcome = evaluate(StandInBacktest(), lambda **_: float("nan"), TrialSettings())
    assert outcome.loss is None and outcome.error is not None
    assert "NaN" in outcome.error


# --- pc.hyperopt itself, with the stand-in as the engine module ------------------------------


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``producerconsumer.backtest`` replaced by a module whose ``backtest`` records its
    arguments and answers with the stand-in."""
    calls: list[dict[str, Any]] = []
    standin = StandInBacktest()

    def backtest(strategy: Any, data: Any, **kwargs: Any) -> Any:
        calls.append({"strategy": strategy, "data": data, **kwargs})
        overrides = {
            k: v for k, v in kwargs.items() if k not in ("config", "params", "timerange", "mode")
        }
        params = kwargs["params"] or {}
        result = standin(TrialSettings(params=params, overrides=overrides))

        def resimulate(**new: Any) -> Any:  # the engine's "same signals, other settings"
            calls.append({"resimulate": new})
            return standin(TrialSettings(params=params, overrides={**overrides, **new}))

        result.resimulate = resimulate  # type: ignore[attr-defined]
        return result

    module = types.ModuleType("producerconsumer.backtest")
    module.backtest = backtest  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "producerconsumer.backtest", module)
    monkeypatch.setattr(objective_module, "load_data", lambda data, mode="history": data)
    return calls


def test_pc_hyperopt_passes_the_backtest_config_to_every_trial(
    engine: list[dict[str, Any]],
) -> None:
    result = pc.hyperopt(
        StandInStrategy,
        "replay:session.jsonl",
        spaces=["buy", "stoploss"],
        epochs=4,
        loss="OnlyProfitHyperOptLoss",
        seed=3,
        progress=False,
        config={"stake_currency": "USDT"},
        params={"buy_ma": "sma"},
        timerange="20261101-20261110",
        stake_amount=100,
        stoploss=-0.5,
    )
    assert len(engine) == 5  # 4 trials and the best, again
    first = engine[0]
    assert first["data"] == "replay:session.jsonl"
    assert first["config"] == {"stake_currency": "USDT"}
    assert first["timerange"] == "20261101-20261110" and first["mode"] == "history"
    assert first["stake_amount"] == 100
    assert first["params"]["buy_ma"] == "sma" and 30 <= first["params"]["buy_rsi"] <= 40
    assert first["stoploss"] != -0.5  # the trial's stoploss wins over the fixed one
    assert result.best_params is not None
    assert result.best_params["buy"]["buy_ma"] == "sma"  # a fixed value is what is written


def test_trials_of_trading_settings_only_resimulate_one_backtests_signals(
    engine: list[dict[str, Any]],
) -> None:
    result = pc.hyperopt(
        StandInStrategy,
        "replay:session.jsonl",
        spaces=("roi", "stoploss"),
        epochs=6,
        loss="OnlyProfitHyperOptLoss",
        seed=3,
        progress=False,
        stake_amount=100,
    )
    backtests = [c for c in engine if "resimulate" not in c]
    resimulated = [c["resimulate"] for c in engine if "resimulate" in c]
    assert len(backtests) == 1 and backtests[0]["stake_amount"] == 100
    assert len(resimulated) == 7  # 6 trials and the best
    assert all(set(r) == {"minimal_roi", "stoploss"} for r in resimulated)
    assert result.best_params is not None
    written = result.best_params["stoploss"]["stoploss"]
    assert result.best_backtest.settings["stoploss"] == pytest.approx(written, abs=1e-12)


def test_pc_hyperopt_is_callable_after_its_modules_are_imported() -> None:
    import producerconsumer.hyperopt as package
    import producerconsumer.hyperopt.loss  # noqa: F401  (binds pc.hyperopt to the package)

    assert callable(pc.hyperopt)
    assert pc.hyperopt is package and callable(package.hyperopt)


def test_without_the_engine_the_error_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "producerconsumer.backtest", None)  # import fails
    monkeypatch.setitem(sys.modules, "producerconsumer.backtest.signals", None)
    with pytest.raises(RuntimeError, match=r"needs pc\.backtest"):
        BacktestObjective(StandInStrategy, "replay:x")


def test_a_live_consumer_is_frozen_into_frames_once() -> None:
    from producerconsumer.backtest.signals import FramesSource

    frame = pd.DataFrame({"date": [START], "close": [1.0]})

    class Live(FramesSource):
        snapshots = 0

        def snapshot(self) -> FramesSource:
            Live.snapshots += 1
            return FramesSource({pair: f.copy() for pair, f in self.frames.items()})

    live = Live({"BTC/USDT": frame})
    objective = BacktestObjective(StandInStrategy, live)
    assert Live.snapshots == 1 and list(objective.data) == ["BTC/USDT"]
    live.frames["BTC/USDT"].loc[0, "close"] = 2.0  # the consumer moves on; the study does not
    assert objective.data["BTC/USDT"]["close"].tolist() == [1.0]


def test_a_source_without_frames_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"no producer frames in dict \(mode='history'\)"):
        BacktestObjective(StandInStrategy, {})


def test_optuna_study_is_the_real_one() -> None:
    result = run(StandInBacktest(), epochs=3)
    assert isinstance(result.study, optuna.Study)
    assert len(result.study.trials) == 3


def test_progress_is_a_tqdm_bar_with_the_best_loss(capsys: pytest.CaptureFixture[str]) -> None:
    run(StandInBacktest(), spaces=("buy",), epochs=5, progress=True)
    err = capsys.readouterr().err
    assert "hyperopt StandInStrategy" in err and "5/5" in err and "best_loss=" in err
