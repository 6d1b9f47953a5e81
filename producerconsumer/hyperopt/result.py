"""What ``pc.hyperopt`` returns: :class:`HyperoptResult`."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from .params import parameter_file_path, write_params
from .spaces import SearchSpace
from .study import ERROR_ATTR

if TYPE_CHECKING:
    import optuna
    from matplotlib.figure import Figure

__all__ = ["HyperoptResult", "trials_frame"]


@dataclass
class HyperoptResult:
    """A finished study.

    ``best_params``: the parameter file's ``params`` as Freqtrade writes them (``{"buy": {...},
    "sell": {...}, "roi": {...}, "stoploss": {...}, "trailing": {...}, "max_open_trades": {...}}``:
    the searched spaces' best values and the values not searched); None if no trial finished.
    ``trials``: one row per trial (``epoch``, ``state``, ``loss``, ``is_best``, ``params_<name>``,
    the backtest's scalar statistics with Freqtrade's names (``total_trades``,
    ``profit_total_abs``, ``winrate``, ``sharpe``, ``max_drawdown_account``, ..., see
    :func:`~.objective.trial_metrics`), ``error``, ``duplicate_of``). ``best_backtest``: the
    backtest of the best parameters, run again in this process. ``study``: the optuna study.
    """

    strategy: Any
    space: SearchSpace
    study: optuna.Study
    loss_name: str
    best_trial: FrozenTrial | None
    best_backtest: Any = None
    best_params: dict[str, dict[str, Any]] | None = None
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def strategy_name(self) -> str:
        return self.space.strategy_name

    @property
    def best_loss(self) -> float | None:
        return None if self.best_trial is None else self.best_trial.value

    @property
    def best_epoch(self) -> int | None:
        return None if self.best_trial is None else self.best_trial.number + 1

    def to_freqtrade(self, path: str | Path | None = None) -> Path:
        """Write the strategy's parameter file Freqtrade loads (``<strategy file>.json``);
        returns its path. ``path``: see :func:`~.params.parameter_file_path` (default: next
        to the strategy's source file)."""
        if self.best_params is None:
            raise ValueError("no trial finished, so there are no parameters to write")
        target = parameter_file_path(self.strategy, path)
        return write_params(target, self.strategy_name, self.best_params)

    def plot(self) -> Figure:
        """Loss per epoch (best so far as a line, failed trials marked) and optuna's parameter
        importances."""
        import matplotlib.pyplot as plt

        figure, (losses, importance) = plt.subplots(
            1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 2]}
        )
        frame = self.trials
        done = frame[frame["state"] == "COMPLETE"] if len(frame) else frame
        if len(done):
            losses.scatter(done["epoch"], done["loss"], s=12, alpha=0.6, label="trial")
            losses.step(
                done["epoch"], done["loss"].cummin(), where="post", color="C3", label="best so far"
            )
        failed = frame[frame["state"] == "FAIL"] if len(frame) else frame
        for epoch in failed.get("epoch", []):
            losses.axvline(epoch, color="0.8", linewidth=0.8, zorder=0)
        losses.set_xlabel("epoch")
        losses.set_ylabel(f"loss ({self.loss_name})")
        losses.set_title(f"{self.strategy_name}: {len(done)} trials, {len(failed)} failed")
        if len(done):
            losses.legend(loc="upper right")
        try:
            import optuna

            values = optuna.importance.get_param_importances(self.study)
        except Exception as exc:  # too few or identical trials
            importance.text(0.5, 0.5, f"no importances:\n{exc}", ha="center", va="center")
            importance.set_axis_off()
        else:
            names = list(values)[::-1]
            importance.barh(names, [values[n] for n in names])
            importance.set_xlabel("importance")
            importance.set_title("parameter importance")
        figure.tight_layout()
        return figure

    def __repr__(self) -> str:
        best = (
            "no finished trial"
            if self.best_trial is None
            else f"best loss {self.best_loss:.6g} at epoch {self.best_epoch}"
        )
        return (
            f"<HyperoptResult {self.strategy_name} spaces={self.space.spaces} "
            f"{self.loss_name}: {len(self.trials)} trials, {best}>"
        )


def freqtrade_params(
    space: SearchSpace,
    strategy: Any,
    sampled: Mapping[str, Any],
    settings: Mapping[str, Any],
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Freqtrade's exported ``params``: values not searched, overlaid by the searched ones."""
    result = copy.deepcopy(space.not_optimized(strategy, settings, fixed))
    for key, values in space.details(sampled, settings).items():
        result.setdefault(key, {}).update(values)
    return result


def trials_frame(study: optuna.Study, best: FrozenTrial | None) -> pd.DataFrame:
    """One row per trial, in epoch order."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.WAITING:  # queued for a resumed run
            continue
        attrs = trial.user_attrs
        error = attrs.get(ERROR_ATTR)
        if trial.state == TrialState.FAIL and error is None:
            error = "interrupted before it finished"
        row: dict[str, Any] = {
            "epoch": trial.number + 1,
            "state": trial.state.name,
            "loss": trial.value if trial.value is not None else math.nan,
            "is_best": best is not None and trial.number == best.number,
            "duration": attrs.get("duration", math.nan),
            "trade_count": attrs.get("trade_count"),
        }
        row.update({f"params_{k}": v for k, v in trial.params.items()})
        row.update(attrs.get("metrics", {}))
        row["error"] = error
        row["duplicate_of"] = attrs.get("duplicate_of")
        rows.append(row)
    return pd.DataFrame(rows)
