"""Backtest consumer strategies on producer data with Freqtrade 2026.9's backtesting rules.

:func:`backtest` runs the strategy once per pair (:mod:`.signals`), then the trade simulation
(:mod:`.engine`), which is separate and cheap, so a parameter sweep can rerun it
(:meth:`BacktestResult.resimulate`). :func:`repaint_report` shows how a recording's producer
values changed after the consumer first received them.
"""

from __future__ import annotations

from .api import BacktestResult, backtest, parse_timerange, repaint_report
from .settings import BacktestConfigError

__all__ = ["BacktestConfigError", "BacktestResult", "backtest", "parse_timerange", "repaint_report"]
