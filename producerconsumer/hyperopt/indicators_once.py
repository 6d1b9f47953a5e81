"""Indicators computed once per study, as Freqtrade's hyperopt computes them.

Freqtrade's hyperopt (without ``--analyze-per-epoch``) runs ``populate_indicators`` once, with
every searched parameter's ``.range`` spanning its whole space, and per epoch only the entry and
exit trends. :func:`indicators_once` gives a strategy class the same behaviour under any
backtest engine: a subclass whose ``populate_indicators`` computes each pair's frame on first
use (searched parameters at their start values, their ``.range`` over the whole space) and
returns copies of it afterwards. A searched parameter whose ``.value`` that computation reads
gets a warning, as in Freqtrade: every trial then sees its start value.

Only for strategies with this package's parameters (a Freqtrade ``IStrategy``'s parameters keep
their one-value ``.range`` outside Freqtrade's hyperopt, so they are analysed per trial).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Collection, Hashable
from typing import Any

import pandas as pd

from ..strategy.parameters import BaseParameter, iter_parameters
from .spaces import current_value

__all__ = ["SearchedParameterWarning", "indicators_once", "supports_indicators_once"]


class SearchedParameterWarning(UserWarning):
    """A searched parameter is read in ``populate_indicators``, which runs once per study."""


def supports_indicators_once(strategy: Any, searched: Collection[str]) -> bool:
    """A strategy class whose searched parameters are all this package's."""
    if not isinstance(strategy, type) or not searched:
        return False
    parameters = dict(iter_parameters(strategy))
    return all(isinstance(parameters.get(name), BaseParameter) for name in searched)


def indicators_once(
    strategy: type, searched: Collection[str], cache: dict[Hashable, pd.DataFrame]
) -> type:
    """A subclass of ``strategy`` (same name) computing its indicators once per pair into
    ``cache``; ``searched``: the parameters the study varies."""
    names = frozenset(searched)
    compute = strategy.populate_indicators  # type: ignore[attr-defined]
    warned: set[str] = set()

    def populate_indicators(self: Any, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        key = _key(dataframe, metadata)
        frame = cache.get(key)
        if frame is None:
            frame = _compute_once(self, compute, dataframe, metadata, names, warned)
            cache[key] = frame
        return frame.copy()

    namespace = {
        "populate_indicators": populate_indicators,
        "__module__": strategy.__module__,
        "__qualname__": strategy.__qualname__,
        "__doc__": strategy.__doc__,
    }
    return type(strategy.__name__, (strategy,), namespace)


def _compute_once(
    strategy: Any,
    compute: Any,
    dataframe: pd.DataFrame,
    metadata: dict,
    names: frozenset[str],
    warned: set[str],
) -> pd.DataFrame:
    reads: set[str] = set()
    originals = {}
    cls = type(strategy)
    for name, parameter in iter_parameters(strategy):
        if name not in names:
            continue
        originals[name] = parameter
        start = current_value(cls, parameter.space or "", name, getattr(cls, name, parameter))
        setattr(strategy, name, _watched(parameter, name, start, reads))
    try:
        frame = compute(strategy, dataframe, metadata)
    finally:
        for name, parameter in originals.items():
            setattr(strategy, name, parameter)
    new = sorted(reads - warned)
    if new:
        warned.update(new)
        warnings.warn(
            f"{', '.join(new)}: searched, but read in populate_indicators, which hyperopt runs "
            "once per study (as Freqtrade's hyperopt does): every trial uses the start value. "
            "Loop over the parameter's .range there, or pass analyze_per_epoch=True.",
            SearchedParameterWarning,
            stacklevel=2,
        )
    return frame


def _watched(parameter: BaseParameter, name: str, start: Any, reads: set[str]) -> BaseParameter:
    """A copy of ``parameter`` at ``start`` with its whole ``.range``, noting reads of
    ``.value``."""
    base = type(parameter)

    class Watched(base):  # type: ignore[valid-type,misc]
        @property
        def value(self) -> Any:
            reads.add(name)
            return base.value.fget(self)  # type: ignore[attr-defined]

        @value.setter
        def value(self, new_value: Any) -> None:
            base.value.fset(self, new_value)  # type: ignore[attr-defined]

        @property
        def range(self) -> Any:
            return base.range.fget(self)  # type: ignore[attr-defined]

    watched = copy.copy(parameter)
    watched.__class__ = Watched
    watched.in_space = True
    base.value.fset(watched, start)  # type: ignore[attr-defined]
    return watched


def _key(dataframe: pd.DataFrame, metadata: dict) -> Hashable:
    dates = dataframe["date"] if "date" in dataframe.columns else dataframe.index.to_series()
    edges = (dates.iloc[0], dates.iloc[-1]) if len(dataframe) else (None, None)
    return (metadata.get("pair"), len(dataframe), *edges)
