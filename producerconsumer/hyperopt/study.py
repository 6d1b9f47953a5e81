"""Running a study: optuna asks, trials run here, in local worker processes or on Dask.

The study (its sampler and storage) lives in the calling process; only trials travel. Each
trial's :class:`~.spaces.TrialSettings` goes to :func:`~.objective.evaluate` in this process
(``jobs`` None or 1), on a ``dask.distributed.LocalCluster`` of ``jobs`` worker processes, or on
the workers of a given ``dask.distributed.Client``; the objective is sent to the workers once.
As soon as a trial finishes, optuna is told its loss and asked for the next point; two trials
per worker thread are in flight, so every worker stays busy. Optuna's ``storage`` (e.g.
``"sqlite:///study.db"``) makes a study resumable: it continues to ``epochs`` finished trials.
A trial that raises is stored as failed with its error; the study goes on.
"""

from __future__ import annotations

import math
import os
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.trial import FrozenTrial, Trial, TrialState

from .loss import LossFunction
from .objective import TrialObjective, TrialOutcome, evaluate
from .spaces import SearchSpace, TrialSettings

__all__ = ["INITIAL_POINTS", "SAMPLERS", "make_sampler", "run_study"]

INITIAL_POINTS = 30
"""Freqtrade's population size / number of random startup trials."""

SAMPLERS = (
    "NSGAIIISampler",
    "NSGAIISampler",
    "TPESampler",
    "GPSampler",
    "CmaEsSampler",
    "QMCSampler",
)
"""Freqtrade's sampler names; ``NSGAIIISampler`` is Freqtrade 2026.9's default."""

ERROR_ATTR = "error"


def make_sampler(sampler: str | optuna.samplers.BaseSampler | None, seed: int | None) -> Any:
    """Freqtrade's samplers by name, configured as Freqtrade configures them; an optuna sampler
    instance is used as it is."""
    if sampler is None:
        sampler = "NSGAIIISampler"
    if not isinstance(sampler, str):
        return sampler
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; one of {', '.join(SAMPLERS)}")
    cls = getattr(optuna.samplers, sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if sampler in ("NSGAIIISampler", "NSGAIISampler"):
            return cls(seed=seed, population_size=INITIAL_POINTS)
        if sampler in ("TPESampler", "GPSampler", "CmaEsSampler"):
            return cls(seed=seed, n_startup_trials=INITIAL_POINTS)
        return cls(seed=seed)


def run_study(
    objective: TrialObjective,
    space: SearchSpace,
    loss: LossFunction,
    *,
    epochs: int,
    jobs: int | None = None,
    client: Any = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    sampler: Any = None,
    seed: int | None = None,
    min_trades: int = 1,
    stake_amount: Any = None,
    config: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> optuna.Study:
    """Run the study to ``epochs`` finished trials and return it."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        sampler=make_sampler(sampler, seed),
        direction="minimize",
        load_if_exists=storage is not None,
    )
    _requeue_interrupted(study)
    to_run = max(0, epochs - finished_epochs(study))
    if to_run == 0:
        return study
    runner = _Runner(study, space, loss, min_trades, stake_amount, config)
    with _progress(to_run, space.strategy_name, progress) as bar:
        runner.bar = bar
        if client is not None:
            runner.run_dask(objective, client, to_run)
        elif jobs is not None and jobs not in (0, 1):
            with _local_cluster(jobs) as local:
                runner.run_dask(objective, local, to_run)
        else:
            runner.run_here(objective, to_run)
    return study


def finished_epochs(study: optuna.Study) -> int:
    """Trials that ran to an end: complete, or failed with an error (not interrupted)."""
    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.state == TrialState.COMPLETE
        or (t.state == TrialState.FAIL and ERROR_ATTR in t.user_attrs)
    )


def _requeue_interrupted(study: optuna.Study) -> None:
    """Trials left running by an interrupted run: mark them failed (without an error, so they
    do not count as epochs) and ask for their points again."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        if trial.params:
            study.enqueue_trial(trial.params, skip_if_exists=False)


class _Runner:
    def __init__(
        self,
        study: optuna.Study,
        space: SearchSpace,
        loss: LossFunction,
        min_trades: int,
        stake_amount: Any,
        config: Mapping[str, Any] | None,
    ) -> None:
        self.study = study
        self.space = space
        self.loss = loss
        self.min_trades = min_trades
        self.stake_amount = stake_amount
        self.config = dict(config or {})
        self.distributions = space.distributions
        self.bar: Any = None
        # Points already evaluated: a repeated point reuses its loss (Freqtrade skips them).
        self.seen: dict[tuple[Any, ...], FrozenTrial] = {
            _key(t.params): t
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        }

    def ask(self) -> tuple[Trial, TrialSettings, FrozenTrial | None]:
        trial = self.study.ask(self.distributions)
        settings = self.space.settings(trial.params, stake_amount=self.stake_amount)
        return trial, settings, self.seen.get(_key(trial.params))

    def tell(self, trial: Trial, outcome: TrialOutcome) -> None:
        trial.set_user_attr("metrics", outcome.metrics)
        trial.set_user_attr("trade_count", outcome.trade_count)
        trial.set_user_attr("duration", outcome.duration)
        if outcome.error is not None or outcome.loss is None:
            trial.set_user_attr(ERROR_ATTR, outcome.error or "no loss")
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            frozen = self.study.tell(trial, outcome.loss)
            self.seen.setdefault(_key(frozen.params), frozen)
        self._advance()

    def tell_duplicate(self, trial: Trial, original: FrozenTrial) -> None:
        trial.set_user_attr("duplicate_of", original.number + 1)
        self.tell(
            trial,
            TrialOutcome(
                loss=original.value,
                metrics=original.user_attrs.get("metrics", {}),
                trade_count=original.user_attrs.get("trade_count", 0),
            ),
        )

    def interrupted(self, trial: Trial) -> None:
        """Leave no trial running: failed, without an error (not an epoch), and its point
        queued, so a resumed study evaluates it first."""
        self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        if trial.params:
            self.study.enqueue_trial(trial.params, skip_if_exists=False)

    def _advance(self) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        try:
            best = self.study.best_value
        except ValueError:
            return
        self.bar.set_postfix(best_loss=f"{best:.5g}", refresh=False)

    # --- in this process ---

    def run_here(self, objective: TrialObjective, to_run: int) -> None:
        for _ in range(to_run):
            trial, settings, duplicate = self.ask()
            try:
                if duplicate is not None:
                    self.tell_duplicate(trial, duplicate)
                    continue
                outcome = evaluate(objective, self.loss, settings, self.min_trades, self.config)
            except BaseException:
                self.interrupted(trial)
                raise
            self.tell(trial, outcome)

    # --- on Dask workers ---

    def run_dask(self, objective: TrialObjective, client: Any, to_run: int) -> None:
        from distributed import as_completed

        # Two trials in flight per worker thread: one running, one queued, so a worker does not
        # wait for the round trip of a result (tell, ask, submit) before its next trial.
        slots = 2 * max(1, sum(client.nthreads().values()))
        shared = client.scatter(objective, broadcast=True, hash=False)
        running: dict[Any, Trial] = {}
        pending = as_completed()
        submitted = 0

        def submit() -> None:
            nonlocal submitted
            while submitted < to_run and len(running) < slots:
                trial, settings, duplicate = self.ask()
                submitted += 1
                if duplicate is not None:
                    self.tell_duplicate(trial, duplicate)
                    continue
                future = client.submit(
                    evaluate,
                    shared,
                    self.loss,
                    settings,
                    self.min_trades,
                    self.config,
                    pure=False,
                    key=f"hyperopt-trial-{trial.number}-{uuid.uuid4().hex[:12]}",
                )
                running[future] = trial
                pending.add(future)

        try:
            submit()
            for future in pending:
                trial = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died or could not run it
                    outcome = TrialOutcome(loss=None, error=f"{type(exc).__name__}: {exc}")
                self.tell(trial, outcome)
                submit()
        except BaseException:
            for future, trial in running.items():
                future.cancel()
                self.interrupted(trial)
            raise
        finally:
            client.cancel([shared])


def _key(params: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, _hashable(v)) for k, v in params.items()))


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


@contextmanager
def _local_cluster(jobs: int) -> Iterator[Any]:
    """``jobs`` Dask worker processes on this machine (``-1``: one per core), one thread each
    (strategies and pandas code are not all thread-safe)."""
    from distributed import Client, LocalCluster

    workers = (os.cpu_count() or 1) if jobs < 0 else jobs
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: several studies may run at once
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def _progress(total: int, name: str, enabled: bool) -> Iterator[Any]:
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=f"hyperopt {name}", unit="epoch", disable=not enabled)
    try:
        yield bar
    finally:
        bar.close()


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The complete trial with the lowest loss (the first of equals), or None."""
    complete = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None and not math.isnan(t.value)
    ]
    return min(complete, key=lambda t: (t.value, t.number)) if complete else None
