"""What the report, export and plot modules need of a backtest result (``BacktestResult`` has
it; so can any object in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import pandas as pd

__all__ = ["BacktestResultLike"]


class BacktestResultLike(Protocol):
    """A finished backtest: its trades (Freqtrade's results columns), statistics
    (:func:`~producerconsumer.backtest.metrics.compute_metrics`' keys), per-pair failures,
    effective settings (``stake_currency``, ``dry_run_wallet``, ``stake_amount``,
    ``max_open_trades``, ``timeframe``, ``minimal_roi``, ``stoploss``, ``trailing_stop``, ...),
    backtested range, strategy name and analyzed frames per pair."""

    @property
    def trades(self) -> pd.DataFrame: ...

    @property
    def metrics(self) -> Mapping[str, Any]: ...

    @property
    def errors(self) -> Mapping[str, str]: ...

    @property
    def settings(self) -> Mapping[str, Any]: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def strategy_name(self) -> str: ...

    @property
    def frames(self) -> Mapping[str, pd.DataFrame]: ...
