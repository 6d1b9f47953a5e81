"""Freqtrade strategies for the backtest differential tests (loaded by Freqtrade's resolver from
this directory, inside the oracle venv). Behaviour lives in ``backtest_scenarios``'s mixins."""

from __future__ import annotations

import sys
from pathlib import Path

from freqtrade.strategy import IStrategy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import backtest_scenarios as scenarios


class FT_plain(scenarios.ScenarioRules, IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012
    stoploss = -0.1


class FT_callbacks(scenarios.CallbackRules, IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012
    stoploss = -0.1


class FT_stoploss(scenarios.StoplossRules, IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012
    stoploss = -0.1


class FT_afterfill(scenarios.AfterFillRules, IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012
    stoploss = -0.1


class FT_bench(scenarios.BenchRules, IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012
    stoploss = -0.1
