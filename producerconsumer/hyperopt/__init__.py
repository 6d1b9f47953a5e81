"""Hyperopt consumer strategies with optuna, on one machine or a Dask cluster.

::

    result = pc.hyperopt(ConsumerStrategy, "replay:session.jsonl.gz",
                         spaces=("buy",), epochs=200, loss="SharpeHyperOptLoss", jobs=2)
    result.best_params        # {"buy": {"buy_rsi": 32}, "roi": {...}, ...} as Freqtrade writes them
    result.trials             # one row per epoch
    result.best_backtest      # pc.backtest of the best parameters
    result.to_freqtrade()     # ConsumerStrategy.json next to the strategy file, for Freqtrade

Freqtrade's spaces (:mod:`.spaces`), losses (:mod:`.loss`), sampler (``NSGAIIISampler``,
population 30) and parameter file (:mod:`.params`); the study's mechanics are in :mod:`.study`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Mapping
from typing import Any

try:
    import optuna  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "pc.hyperopt needs optuna (and dask.distributed for jobs/client, tqdm for progress): "
        "pip install 'producerconsumer[hyperopt]'"
    ) from exc

from .loss import LOSSES, resolve_loss
from .objective import MAX_LOSS, BacktestObjective, BacktestResultLike, TrialObjective
from .params import parameter_file_path, read_params, write_params
from .result import HyperoptResult, freqtrade_params, trials_frame
from .spaces import NoParametersError, SearchSpace, TrialSettings
from .study import best_trial, run_study

__all__ = [
    "LOSSES",
    "MAX_LOSS",
    "BacktestObjective",
    "BacktestResultLike",
    "HyperoptResult",
    "NoParametersError",
    "SearchSpace",
    "TrialObjective",
    "TrialSettings",
    "hyperopt",
    "optimize",
    "parameter_file_path",
    "read_params",
    "resolve_loss",
    "write_params",
]


def hyperopt(
    strategy: Any,
    data: Any,
    spaces: str | Iterable[str] = ("buy", "sell"),
    epochs: int = 200,
    loss: Any = "SharpeHyperOptLoss",
    jobs: int | None = None,
    client: Any = None,
    storage: Any = None,
    seed: int | None = None,
    *,
    sampler: Any = None,
    study_name: str | None = None,
    min_trades: int = 1,
    progress: bool = True,
    **backtest_config: Any,
) -> HyperoptResult:
    """Search ``strategy``'s parameters in ``spaces`` for the lowest ``loss`` over ``epochs``
    trials, each a ``pc.backtest`` of ``data`` (read once, before the first trial).

    ``spaces``: Freqtrade's space names (``"buy"``, ``"sell"``, any parameter space, ``"roi"``,
    ``"stoploss"``, ``"trailing"``, ``"trades"``, ``"default"``, ``"all"``). ``loss``: a
    Freqtrade loss name (:data:`LOSSES`), a loss class or a callable taking Freqtrade's loss
    keyword arguments. ``jobs``: trials in parallel in that many local worker processes (a Dask
    ``LocalCluster``; ``-1``: one per core). ``client``: a ``dask.distributed.Client``, whose
    workers run the trials. ``storage``: an optuna storage (``"sqlite:///study.db"``) that makes
    the study resumable: calling again continues to ``epochs`` finished trials. ``seed``: the
    sampler's seed. ``sampler``: Freqtrade's sampler names or an optuna sampler (default
    ``NSGAIIISampler``, as Freqtrade). ``min_trades``: trials with fewer trades get Freqtrade's
    ``MAX_LOSS`` (its ``--min-trades``). ``backtest_config``: ``config``, ``params``,
    ``timerange``, ``mode`` and config keys (``stake_amount``, ``max_open_trades``, ...) as
    ``pc.backtest`` takes them; ``analyze_per_epoch=True`` runs ``populate_indicators`` in every
    trial instead of once per study (Freqtrade's ``--analyze-per-epoch``).
    """
    objective = BacktestObjective(strategy, data, **backtest_config)
    config = objective.config if isinstance(objective.config, Mapping) else {}
    return optimize(
        objective,
        strategy,
        spaces=spaces,
        epochs=epochs,
        loss=loss,
        jobs=jobs,
        client=client,
        storage=storage,
        seed=seed,
        sampler=sampler,
        study_name=study_name,
        min_trades=min_trades,
        progress=progress,
        stake_amount=objective.stake_amount,
        fixed_params=objective.params,
        config={**config, **objective.overrides},
    )


def optimize(
    objective: TrialObjective,
    strategy: Any,
    *,
    spaces: str | Iterable[str] = ("buy", "sell"),
    epochs: int = 200,
    loss: Any = "SharpeHyperOptLoss",
    jobs: int | None = None,
    client: Any = None,
    storage: Any = None,
    seed: int | None = None,
    sampler: Any = None,
    study_name: str | None = None,
    min_trades: int = 1,
    progress: bool = True,
    stake_amount: Any = None,
    fixed_params: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> HyperoptResult:
    """:func:`hyperopt` with your own ``objective(TrialSettings) -> backtest result`` (see
    :mod:`.objective`): the same study, spaces, losses and result."""
    space = SearchSpace.from_strategy(strategy, spaces, timeframe=(config or {}).get("timeframe"))
    loss_function = resolve_loss(loss)
    loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", repr(loss))
    if storage is not None and study_name is None:
        study_name = f"{space.strategy_name}-{'-'.join(space.spaces)}-{loss_name}"
    study = run_study(
        objective,
        space,
        loss_function,
        epochs=epochs,
        jobs=jobs,
        client=client,
        storage=storage,
        study_name=study_name,
        sampler=sampler,
        seed=seed,
        min_trades=min_trades,
        stake_amount=stake_amount,
        config=config,
        progress=progress,
    )
    best = best_trial(study)
    best_backtest = best_params = None
    if best is not None:
        settings = space.settings(best.params, stake_amount=stake_amount)
        best_backtest = objective(settings)
        effective = dict(getattr(best_backtest, "settings", {}) or {})
        best_params = freqtrade_params(space, strategy, best.params, effective, fixed_params)
    return HyperoptResult(
        strategy=strategy,
        space=space,
        study=study,
        loss_name=loss_name,
        best_trial=best,
        best_backtest=best_backtest,
        best_params=best_params,
        trials=trials_frame(study, best),
    )


class _CallableModule(types.ModuleType):
    """``pc.hyperopt(...)`` calls :func:`hyperopt` even where ``pc.hyperopt`` is this package
    (which Python binds as the attribute once any of its modules is imported)."""

    def __call__(self, *args: Any, **kwargs: Any) -> HyperoptResult:
        return hyperopt(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
