"""pc.hyperopt on the real engine (pc.backtest): the docs' ConsumerStrategy on the committed
recording of a demo producer session (tests/hyperopt_consumer.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hyperopt_consumer import SETTINGS, SOURCE, ConsumerStrategy, RaisingStrategy

import producerconsumer as pc
from producerconsumer.backtest import BacktestResult, backtest
from producerconsumer.hyperopt import MAX_LOSS, HyperoptResult

# Scalar statistics both the trial rows and BacktestResult.metrics have, whose values do not
# depend on which balance the statistics are relative to.
SHARED = (
    "total_trades",
    "profit_total_abs",
    "wins",
    "draws",
    "losses",
    "max_drawdown_abs",
    "market_change",
    "max_open_trades_setting",
    "rejected_signals",
    "winrate",
)


def run(strategy: type = ConsumerStrategy, **kwargs: Any) -> HyperoptResult:
    options: dict[str, Any] = {
        "spaces": ("buy",),
        "epochs": 12,
        "loss": "OnlyProfitHyperOptLoss",
        "seed": 4,
        "progress": False,
        **SETTINGS,
    }
    options.update(kwargs)
    return pc.hyperopt(strategy, SOURCE, **options)


@pytest.fixture(scope="module")
def result() -> HyperoptResult:
    return run()


def test_trials_record_the_backtests_statistics(result: HyperoptResult) -> None:
    trials = result.trials
    assert len(trials) == 12 and set(trials["state"]) == {"COMPLETE"}
    assert set(SHARED) <= set(trials.columns)
    assert {"winrate", "sharpe", "profit_total", "max_drawdown_account"} <= set(trials.columns)
    assert (trials["total_trades"] == trials["trade_count"]).all()
    # OnlyProfitHyperOptLoss is minus the summed profit: the loss and the statistics agree;
    # without a trade, Freqtrade's maximum loss.
    traded = trials["trade_count"] > 0
    assert 0 < traded.sum() < 12
    assert trials.loc[traded, "loss"].to_numpy() == pytest.approx(
        -trials.loc[traded, "profit_total_abs"].to_numpy()
    )
    assert (trials.loc[~traded, "loss"] == MAX_LOSS).all()
    # Every searched value, backtested on its own, gives the row's statistics.
    for _, row in trials.drop_duplicates("params_buy_rsi").head(3).iterrows():
        alone = backtest(
            ConsumerStrategy, SOURCE, params={"buy_rsi": row["params_buy_rsi"]}, **SETTINGS
        )
        for key in SHARED:
            assert row[key] == pytest.approx(alone.metrics[key], abs=1e-9), key


def test_the_best_backtest_is_a_real_backtest_of_the_best_parameters(
    result: HyperoptResult,
) -> None:
    best = result.best_backtest
    assert isinstance(best, BacktestResult)
    assert result.best_params is not None
    rsi = result.best_params["buy"]["buy_rsi"]
    row = result.trials[result.trials["is_best"]].iloc[0]
    assert row["params_buy_rsi"] == rsi and row["loss"] == result.best_loss
    assert result.best_loss == pytest.approx(-best.trades["profit_abs"].sum())
    for key in SHARED:
        assert row[key] == pytest.approx(best.metrics[key], abs=1e-9), key
    assert result.trials["loss"].min() == result.best_loss
    assert best.settings["stake_amount"] == 100 and best.settings["max_open_trades"] == 3


def test_plot(result: HyperoptResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    figure = result.plot()
    losses, importance = figure.axes
    assert len(losses.collections[0].get_offsets()) == 12  # one point per trial
    assert [t.get_text() for t in importance.get_yticklabels()] == ["buy_rsi"]


def test_a_trial_whose_strategy_raises_is_failed_and_the_study_goes_on() -> None:
    result = run(RaisingStrategy, epochs=20)
    trials = result.trials
    failed = trials[trials["state"] == "FAIL"]
    assert len(failed) > 0, "seed 4 samples buy_rsi < 20 within 20 epochs"
    assert (failed["params_buy_rsi"] < 20).all()
    assert (trials.loc[trials["state"] == "COMPLETE", "params_buy_rsi"] >= 20).all()
    error = failed["error"].iloc[0]
    assert error.startswith("PairsFailed: the backtest failed on 1 of 2 pair(s): ETH/USDT: ")
    assert "ZeroDivisionError: buy_rsi" in error and "is too low" in error
    assert math.isnan(failed["loss"].iloc[0])
    assert result.best_params is not None and result.best_params["buy"]["buy_rsi"] >= 20


def test_storage_resumes_the_study(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = run(epochs=5, storage=storage)
    assert len(first.trials) == 5
    resumed = run(epochs=9, storage=storage)
    trials = resumed.trials
    assert list(trials["epoch"]) == list(range(1, 10))
    columns = ["params_buy_rsi", "loss", "profit_total_abs"]
    assert trials[columns].head(5).equals(first.trials[columns])
    assert isinstance(resumed.best_backtest, BacktestResult)
    assert len(run(epochs=9, storage=storage).trials) == 9  # finished: nothing more to run


def test_the_recording_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from producerconsumer.backtest import signals

    reads: list[Any] = []
    original = signals.recording_frames

    def counted(path: Any, mode: str = "history") -> Any:
        reads.append(path)
        return original(path, mode)

    monkeypatch.setattr(signals, "recording_frames", counted)
    result = run(epochs=6)
    assert len(reads) == 1 and len(result.trials) == 6


# --- the real engine on a Dask LocalCluster with two worker processes and with jobs=2: the
# same trials as in one process ------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.mark.slow
def test_trials_run_on_the_two_dask_workers(client: Any, result: HyperoptResult) -> None:
    from distributed import get_task_stream

    with get_task_stream(client) as stream:
        remote = run(client=client)
    trial_tasks = [t for t in stream.data if str(t["key"]).startswith("hyperopt-trial-")]
    assert len({t["worker"] for t in trial_tasks}) == 2
    assert_same_trials(remote, result)


@pytest.mark.slow
def test_jobs_2_runs_the_same_trials(result: HyperoptResult) -> None:
    assert_same_trials(run(jobs=2), result)


def assert_same_trials(remote: HyperoptResult, here: HyperoptResult) -> None:
    # The first 30 points (NSGA-III's random population) do not depend on the order the losses
    # come back in: same seed, same points, and the same engine gives the same loss.
    columns = ["epoch", "state", "params_buy_rsi", "loss", *SHARED]
    assert remote.trials[columns].equals(here.trials[columns])
    assert isinstance(remote.best_backtest, BacktestResult)
    assert remote.best_params == here.best_params


def test_the_engines_tick_cache_gives_the_same_backtest() -> None:
    """``pc.backtest(tick_cache=...)``, the hook a study uses to derive each pair's price ticks
    from its candles once: the same trades as without it."""
    cache: dict[Any, Any] = {}
    plain = backtest(ConsumerStrategy, SOURCE, params={"buy_rsi": 35}, **SETTINGS)
    first = backtest(ConsumerStrategy, SOURCE, params={"buy_rsi": 35}, tick_cache=cache, **SETTINGS)
    assert len(cache) == 2  # one entry per pair
    again = backtest(ConsumerStrategy, SOURCE, params={"buy_rsi": 35}, tick_cache=cache, **SETTINGS)
    assert len(plain.trades) > 0
    for result in (first, again):
        assert result.trades.drop(columns=["orders"]).equals(plain.trades.drop(columns=["orders"]))


def test_the_loss_gets_the_dry_run_wallet_as_freqtrade_passes_it() -> None:
    """Freqtrade's hyperopt gives its losses ``get_dry_run_wallet(config)``, the whole wallet,
    not the tradable part the backtest starts with."""
    from producerconsumer.hyperopt.objective import loss_inputs

    result = backtest(ConsumerStrategy, SOURCE, params={"buy_rsi": 35}, **SETTINGS)
    inputs = loss_inputs(result)
    assert result.settings["starting_balance"] == pytest.approx(990.0)  # 99 % tradable
    assert inputs["starting_balance"] == 1000
    assert inputs["trade_count"] == len(result.trades) and inputs["min_date"] == result.start
    assert set(inputs["processed"]) == {"BTC/USDT", "ETH/USDT"}
    per_pair = inputs["backtest_stats"]["results_per_pair"]  # from the full statistics
    assert [row["key"] for row in per_pair][-1] == "TOTAL"


@pytest.mark.slow
def test_command_line_on_a_dask_scheduler(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``producerconsumer hyperopt --scheduler``: the strategy file exists only here; its module
    travels to the workers by value."""
    import json

    from distributed import get_task_stream

    from producerconsumer.cli import main as producerconsumer

    strategy = tmp_path / "my_consumer.py"
    strategy.write_text(
        Path(__file__).with_name("hyperopt_consumer.py").read_text().split("\n\nclass Raising")[0]
    )
    config = tmp_path / "config.json"
    config.write_text(json.dumps(SETTINGS))
    args = ["hyperopt", "--strategy", f"{strategy}:ConsumerStrategy", "--source", SOURCE]
    args += ["--config", str(config), "--spaces", "buy", "--epochs", "8", "--seed", "4"]
    args += ["--loss", "OnlyProfitHyperOptLoss", "--scheduler", client.scheduler.address]
    with get_task_stream(client) as stream:
        assert producerconsumer(args) == 0, capsys.readouterr().err
    trial_tasks = [t for t in stream.data if str(t["key"]).startswith("hyperopt-trial-")]
    assert len(trial_tasks) >= 5 and len({t["worker"] for t in trial_tasks}) == 2
    assert "OnlyProfitHyperOptLoss: 8 trials, best loss" in capsys.readouterr().out
    assert json.loads((tmp_path / "my_consumer.json").read_text())["params"]["buy"]["buy_rsi"]


def test_roi_and_stoploss_trials_resimulate_one_backtests_signals() -> None:
    result = run(spaces=("roi", "stoploss"), epochs=6, seed=8)
    trials = result.trials
    assert set(trials["state"]) == {"COMPLETE"} and trials["stoploss"].nunique() == 6
    assert result.best_params is not None
    best = result.best_backtest
    assert isinstance(best, BacktestResult)
    assert best.settings["stoploss"] == pytest.approx(result.best_params["stoploss"]["stoploss"])
    assert best.settings["minimal_roi"] == pytest.approx(result.best_params["roi"])
    assert best.timings["signals"] == 0.0  # resimulated: no strategy call
    assert result.best_params["buy"] == {"buy_rsi": 30}  # not searched: the default
    # The same settings in a full backtest give the same trades.
    again = backtest(
        ConsumerStrategy,
        SOURCE,
        stoploss=best.settings["stoploss"],
        minimal_roi=best.settings["minimal_roi"],
        **SETTINGS,
    )
    columns = ["pair", "open_date", "close_date", "close_rate", "exit_reason"]
    assert len(best.trades) > 0 and again.trades[columns].equals(best.trades[columns])


def test_as_seen_mode_reads_the_recording_as_first_seen() -> None:
    result = run(epochs=4, mode="as_seen")
    for _, row in result.trials.iterrows():
        params = {"buy_rsi": row["params_buy_rsi"]}
        alone = backtest(ConsumerStrategy, SOURCE, params=params, mode="as_seen", **SETTINGS)
        assert row["total_trades"] == alone.metrics["total_trades"]
        assert row["profit_total_abs"] == pytest.approx(alone.metrics["profit_total_abs"])
