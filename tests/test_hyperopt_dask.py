"""Parallel trials: on a Dask LocalCluster with two worker processes (``client``) and on local
worker processes (``jobs=2``); the same study and result type as in one process.

The stand-in backtest (tests/hyperopt_standin.py) records the worker's process id in each
trial's metrics, so the tests can see that trials really ran in the workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hyperopt_standin import StandInBacktest, StandInResult, StandInStrategy

from producerconsumer.hyperopt import HyperoptResult, TrialSettings, optimize

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow  # worker processes start in a few seconds each


class RecordingBacktest(StandInBacktest):
    """The stand-in, with the process that ran it in the metrics."""

    def __call__(self, settings: TrialSettings) -> StandInResult:
        result = super().__call__(settings)
        result.metrics["worker_pid"] = os.getpid()
        return result


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


def run(backtest: StandInBacktest, **kwargs: Any) -> HyperoptResult:
    return optimize(
        backtest,
        StandInStrategy,
        spaces=("buy", "sell"),
        loss="OnlyProfitHyperOptLoss",
        seed=11,
        progress=False,
        **kwargs,
    )


def test_trials_run_on_the_clusters_two_workers(client: Any) -> None:
    result = run(RecordingBacktest(), epochs=40, client=client)

    trials = result.trials
    assert len(trials) == 40 and set(trials["state"]) == {"COMPLETE"}
    evaluated = trials[trials["duplicate_of"].isna()]
    worker_pids = set(evaluated["worker_pid"])
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    assert result.best_params is not None
    assert result.best_params["buy"]["buy_rsi"] in range(35, 40)
    assert result.best_backtest.metrics["worker_pid"] == os.getpid()  # rerun here


def test_a_failing_trial_on_a_worker_is_recorded_and_the_study_goes_on(client: Any) -> None:
    result = run(RecordingBacktest(fail_on={"sell_fast": False}), epochs=20, client=client)

    trials = result.trials
    failed = trials[trials["state"] == "FAIL"]
    assert len(failed) > 0 and (failed["params_sell_fast"] == False).all()  # noqa: E712
    assert failed["error"].str.startswith("RuntimeError: strategy failed on").all()
    assert (trials["state"] == "COMPLETE").sum() == 20 - len(failed)


def test_jobs_runs_trials_in_local_worker_processes() -> None:
    result = run(RecordingBacktest(), epochs=12, jobs=2)

    trials = result.trials
    assert len(trials) == 12 and set(trials["state"]) == {"COMPLETE"}
    evaluated = trials[trials["duplicate_of"].isna()]
    assert os.getpid() not in set(evaluated["worker_pid"])
    assert len(set(evaluated["worker_pid"])) == 2
