"""The seam between a study and the backtest engine: one trial = one call of an objective.

``objective(settings) -> result`` takes the :class:`~.spaces.TrialSettings` of one trial and
returns a backtest result: anything with ``trades`` (Freqtrade's backtest result columns),
``metrics`` (Freqtrade's names), ``start`` / ``end`` (the backtested period) and ``settings``
(the effective trading settings, ``dry_run_wallet`` ...), as ``pc.backtest`` returns.
:class:`BacktestObjective` is the one the study uses; tests may pass any callable of that shape.

:func:`evaluate` runs one trial where the study sends it (this process, a local worker process
or a Dask worker) and returns only what the study records (:class:`TrialOutcome`): the loss and
the scalar metrics, not the trades or frames.
"""

from __future__ import annotations

import inspect
import math
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .indicators_once import indicators_once, supports_indicators_once
from .loss import LossFunction, results_per_pair
from .spaces import TrialSettings

__all__ = [
    "MAX_LOSS",
    "BacktestObjective",
    "BacktestResultLike",
    "TrialObjective",
    "TrialOutcome",
    "evaluate",
    "loss_inputs",
]

MAX_LOSS = 100_000.0
"""Freqtrade's loss for a trial with fewer trades than ``min_trades``."""


class BacktestResultLike(Protocol):
    """What a trial's backtest returns (``pc.backtest``'s ``BacktestResult`` is one)."""

    @property
    def trades(self) -> pd.DataFrame: ...
    @property
    def metrics(self) -> Mapping[str, Any]: ...
    @property
    def start(self) -> datetime | None: ...
    @property
    def end(self) -> datetime | None: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...


TrialObjective = Callable[[TrialSettings], BacktestResultLike]


class BacktestObjective:
    """Backtests ``strategy`` on ``data`` with one trial's parameters and settings.

    ``config``, ``timerange``, ``mode``, ``params`` (fixed parameter values) and ``overrides``
    are passed to ``pc.backtest`` on every trial; the trial's parameters and settings win over
    them. A live consumer as ``data`` is frozen into a snapshot once, so every trial sees the
    same candles and the objective can be sent to worker processes.

    Cheap trials, as in Freqtrade's hyperopt: ``populate_indicators`` runs once per pair and
    process (searched parameters at their start values, their ``.range`` over the whole space;
    see :mod:`.indicators_once`), each trial only the entry / exit trends and the simulation;
    ``analyze_per_epoch=True`` (Freqtrade's ``--analyze-per-epoch``) analyses every trial in
    full. A trial that changes only trading settings (the ``roi``, ``stoploss``, ``trailing``
    and ``trades`` spaces) reuses the signals of one backtest and re-runs only the simulation
    (``BacktestResult.resimulate``).

    ``data`` is read once, here, into ``{pair: producer frame}`` (:func:`load_data`): a
    recording, a snapshot directory or a source string is not read again by every trial, a
    live consumer is frozen at this moment, and Dask workers on other machines need neither
    the file nor the producer.
    """

    def __init__(
        self,
        strategy: Any,
        data: Any,
        *,
        config: Mapping[str, Any] | str | None = None,
        params: Mapping[str, Any] | None = None,
        timerange: str | None = None,
        mode: str = "history",
        analyze_per_epoch: bool = False,
        **overrides: Any,
    ) -> None:
        self.strategy = strategy
        self.analyze_per_epoch = analyze_per_epoch
        self.data = load_data(data, mode)
        self.config = config
        self.params = dict(params or {})
        self.timerange = timerange
        self.mode = mode
        self.overrides = overrides
        self._base: BacktestResultLike | None = None
        self._once: tuple[tuple[str, ...], Any] | None = None
        self._ticks: dict[Any, Any] = {}

    def __call__(self, settings: TrialSettings) -> BacktestResultLike:
        if not settings.params:  # only trading settings change: same signals
            if self._base is None:
                self._base = self._backtest(TrialSettings())
            resimulate = getattr(self._base, "resimulate", None)
            if callable(resimulate):
                return resimulate(**settings.overrides)
        return self._backtest(settings)

    def _backtest(self, settings: TrialSettings) -> BacktestResultLike:
        backtest = _engine()
        options = {**self.overrides, **settings.overrides}
        if _takes_tick_cache(backtest):  # the candles' price ticks: once per study and process
            options["tick_cache"] = self._ticks
        return backtest(
            self._strategy_for(settings),
            self.data,
            config=self.config,
            params={**self.params, **settings.params} or None,
            timerange=self.timerange,
            mode=self.mode,
            **options,
        )

    def _strategy_for(self, settings: TrialSettings) -> Any:
        searched = tuple(sorted(settings.params))
        if self.analyze_per_epoch or not supports_indicators_once(self.strategy, searched):
            return self.strategy
        if self._once is None or self._once[0] != searched:
            self._once = (searched, indicators_once(self.strategy, searched, {}))
        return self._once[1]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_base"] = state["_once"] = None  # each process makes its own
        state["_ticks"] = {}
        state["strategy"] = _ByValue.wrap(self.strategy)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        strategy = state["strategy"]
        state["strategy"] = strategy.load() if isinstance(strategy, _ByValue) else strategy
        self.__dict__.update(state)

    @property
    def stake_amount(self) -> Any:
        if "stake_amount" in self.overrides:
            return self.overrides["stake_amount"]
        return self.config.get("stake_amount") if isinstance(self.config, Mapping) else None

    def __repr__(self) -> str:
        name = getattr(self.strategy, "__name__", type(self.strategy).__name__)
        return f"<BacktestObjective {name} mode={self.mode!r}>"


@dataclass(frozen=True)
class _ByValue:
    """A strategy whose module is registered with ``cloudpickle.register_pickle_by_value`` (a
    strategy file the command line loaded), pickled by value with cloudpickle: Dask pickles
    the objective with the standard pickle, which would refer to the module by a name the
    workers cannot import."""

    payload: bytes

    @classmethod
    def wrap(cls, strategy: Any) -> Any:
        try:
            import cloudpickle
        except ImportError:  # pragma: no cover - comes with dask
            return strategy
        module = getattr(strategy, "__module__", None)
        if module is None or module not in cloudpickle.list_registry_pickle_by_value():
            return strategy
        return cls(cloudpickle.dumps(strategy))

    def load(self) -> Any:
        import cloudpickle

        return cloudpickle.loads(self.payload)


def _engine() -> Callable[..., BacktestResultLike]:
    try:
        from ..backtest import backtest
    except ImportError as exc:
        raise _missing_engine(exc) from exc
    return backtest


def _takes_tick_cache(backtest: Callable[..., Any]) -> bool:
    try:
        return "tick_cache" in inspect.signature(backtest).parameters
    except (TypeError, ValueError):
        return False


def _missing_engine(exc: ImportError) -> RuntimeError:
    return RuntimeError(
        "pc.hyperopt needs pc.backtest (producerconsumer.backtest), which this installation "
        f"lacks ({exc}); update producerconsumer"
    )


def load_data(data: Any, mode: str = "history") -> dict[str, pd.DataFrame]:
    """``{pair: producer frame}`` of ``data``, read once before a study with ``pc.backtest``'s
    loader: a recording (as its frames end, or as first seen with ``mode="as_seen"``), a
    snapshot, a source string, a live consumer (its frames now) or a mapping (as it is)."""
    try:
        from ..backtest.signals import load_frames
    except ImportError as exc:
        raise _missing_engine(exc) from exc
    frames, _ = load_frames(data, mode)
    if not frames:
        what = repr(str(data)) if isinstance(data, str | Path) else type(data).__name__
        raise ValueError(
            f"no producer frames in {what} (mode={mode!r}): record or snapshot a producer "
            "that has sent its analyzed frames, or pass {pair: DataFrame}"
        )
    return frames


@dataclass
class TrialOutcome:
    """What one trial sends back to the study."""

    loss: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    trade_count: int = 0
    error: str | None = None
    duration: float = 0.0


def loss_inputs(
    result: BacktestResultLike,
    config: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Freqtrade's loss keyword arguments from a backtest result (``metrics``: its metrics,
    if already read)."""
    trades = result.trades
    settings = dict(getattr(result, "settings", {}) or {})
    if metrics is None:
        metrics = _read_metrics(result)
    # Freqtrade's hyperopt passes get_dry_run_wallet(config): the whole dry-run wallet (not
    # the tradable part the backtest starts with, settings["starting_balance"]).
    balance = settings.get("dry_run_wallet", (config or {}).get("dry_run_wallet"))
    if balance is None:
        balance = settings.get("starting_balance", 1000)
    if isinstance(balance, Mapping):
        currency = settings.get("stake_currency", (config or {}).get("stake_currency"))
        balance = balance.get(currency, 0.0)
    frames = getattr(result, "frames", None) or {}
    if frames:
        pairs = list(frames)
    else:
        pairs = sorted(trades["pair"].unique()) if "pair" in trades.columns else []
    return {
        "results": trades,
        "trade_count": len(trades),  # Freqtrade: total_trades, every trade of the results
        "min_date": result.start,
        "max_date": result.end,
        "config": {**(config or {}), **settings},
        "processed": frames,
        "backtest_stats": _Stats(dict(metrics), result, trades, pairs, balance),
        "starting_balance": balance,
    }


class _Stats(dict[str, Any]):
    """The trial's statistics (the scalar ones, see :func:`trial_metrics`); a key they lack
    (``results_per_pair``, ``exit_reason_summary``, ...) is looked up in the result's full
    metrics on first use, or, for ``results_per_pair``, computed from the trades if the result
    has none (MaxDrawDownPerPairHyperOptLoss reads it)."""

    def __init__(
        self,
        metrics: Mapping[str, Any],
        result: Any,
        trades: pd.DataFrame,
        pairs: list[str],
        balance: float,
    ) -> None:
        super().__init__(metrics)
        self._result = result
        self._source = (trades, pairs, balance)

    def __missing__(self, key: str) -> Any:
        full = _read_metrics(self._result, full=True)
        if key in full:
            value = full[key]
        elif key == "results_per_pair":
            value = results_per_pair(*self._source)
        else:
            raise KeyError(key)
        self[key] = value
        return value


def evaluate(
    objective: TrialObjective,
    loss: LossFunction,
    settings: TrialSettings,
    min_trades: int = 1,
    config: Mapping[str, Any] | None = None,
) -> TrialOutcome:
    """Run one trial; an exception (from the backtest or the loss) becomes the outcome's
    ``error`` (type, message and the innermost frames), never an exception here."""
    started = time.perf_counter()
    metrics: dict[str, Any] = {}
    trade_count = 0
    try:
        result = objective(settings)
        _raise_pair_errors(result)
        stats = _read_metrics(result)
        metrics = scalar_metrics(stats)
        inputs = loss_inputs(result, config, stats)
        trade_count = inputs["trade_count"]
        value = MAX_LOSS if trade_count < min_trades else float(loss(**inputs))
        if math.isnan(value):
            raise ValueError("the loss function returned NaN")
    except Exception as exc:
        return TrialOutcome(
            loss=None,
            metrics=metrics,
            trade_count=trade_count,
            error=_describe(exc),
            duration=time.perf_counter() - started,
        )
    return TrialOutcome(
        loss=value,
        metrics=metrics,
        trade_count=trade_count,
        duration=time.perf_counter() - started,
    )


class PairsFailed(RuntimeError):
    """The trial's backtest could not run some pairs (``pc.backtest``'s ``result.errors``:
    the strategy raised on them, or their candles are unusable)."""


def _raise_pair_errors(result: BacktestResultLike) -> None:
    """A backtest that failed on any pair is a failed trial (its loss would be of the other
    pairs only), with the pairs' errors."""
    errors = getattr(result, "errors", None)
    if not errors:
        return
    shown = "; ".join(f"{pair}: {message}" for pair, message in list(errors.items())[:3])
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    total = len(errors) + len(getattr(result, "pairs", ()) or ())
    raise PairsFailed(f"the backtest failed on {len(errors)} of {total} pair(s): {shown}{more}")


def _read_metrics(result: BacktestResultLike, full: bool = False) -> dict[str, Any]:
    """The result's statistics (:func:`trial_metrics`, or all of ``result.metrics`` with
    ``full``); if computing them fails, ``metrics_error`` says why (the losses need only the
    trades, so the trial still counts)."""
    try:
        if full:
            return dict(getattr(result, "metrics", {}) or {})
        return trial_metrics(result)
    except Exception as exc:
        return {"metrics_error": _describe(exc)}


def trial_metrics(result: BacktestResultLike) -> dict[str, Any]:
    """What a trial records of its backtest: for ``pc.backtest``'s result, Freqtrade's
    statistics without the per-pair, per-tag, periodic and wallet tables (the scalars, which
    are what the trials frame keeps; the tables cost most of the time) and the reported
    settings, as its ``metrics`` computes them; any other result's ``metrics``."""
    try:
        from ..backtest.api import BacktestResult
        from ..backtest.metrics import compute_metrics, market_change, settings_metrics
    except ImportError:
        return dict(result.metrics or {})
    if not isinstance(result, BacktestResult):
        return dict(result.metrics or {})
    # The arguments BacktestResult.metrics gives compute_metrics, without the wallet history
    # (for wallet_stats, a table) and with tables=False; tests compare the two.
    settings = dict(result.settings)
    slots = settings.get("max_open_trades", -1)
    if isinstance(slots, float) and slots.is_integer():
        settings["max_open_trades"] = int(slots)  # as given (an int), not the float
    market = getattr(result, "_market", None)  # each pair's candles, where the engine keeps them
    statistics = compute_metrics(
        result.trades,
        starting_balance=float(settings["dry_run_wallet"]),
        stake_currency=str(settings.get("stake_currency") or ""),
        start=result.start or _EPOCH,
        end=result.end or result.start or _EPOCH,
        market_change=market_change(
            market if market is not None else result.frames, min_date=result.start
        ),
        max_open_trades=settings["max_open_trades"],
        pairs=result.pairs,
        final_balance=result.final_balance,
        rejected_signals=result.rejected_signals,
        tables=False,
    )
    statistics.update(settings_metrics(settings, strategy_name=result.strategy_name))
    return statistics


_EPOCH = datetime.fromtimestamp(0, UTC)


def scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics a trial stores: numbers, strings, booleans and dates (as ISO strings)."""
    kept: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, datetime | date | pd.Timestamp):
            value = value.isoformat()
        if value is None or isinstance(value, bool | int | float | str):
            kept[str(key)] = value
    return kept


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PairsFailed):  # the pairs' messages say where
        return f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames)
    return f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
