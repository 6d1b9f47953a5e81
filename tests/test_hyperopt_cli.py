"""``producerconsumer hyperopt`` (producerconsumer.hyperopt.cli), with the stand-in backtest as
the engine module."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hyperopt_standin import StandInBacktest

from producerconsumer.hyperopt import TrialSettings
from producerconsumer.hyperopt import objective as objective_module
from producerconsumer.hyperopt.cli import load_strategy, main

STRATEGY = """
from producerconsumer.strategy import IntParameter, IStrategy


class FileStrategy(IStrategy):
    minimal_roi = {"0": 0.1}
    buy_rsi = IntParameter(30, 40, default=33, space="buy")

    def populate_indicators(self, dataframe, metadata):
        return dataframe
"""


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    standin = StandInBacktest()

    def backtest(strategy: Any, data: Any, **kwargs: Any) -> Any:
        calls.append({"strategy": strategy, "data": data, **kwargs})
        return standin(TrialSettings(params=kwargs["params"] or {}))

    module = types.ModuleType("producerconsumer.backtest")
    module.backtest = backtest  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "producerconsumer.backtest", module)
    monkeypatch.setattr(objective_module, "load_data", lambda data, mode="history": data)
    return calls


def test_hyperopt_command_prints_the_best_and_writes_the_parameter_file(
    tmp_path: Path, engine: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "file_strategy.py"
    source.write_text(STRATEGY)
    code = main(
        [
            "hyperopt",
            "--strategy",
            f"{source}:FileStrategy",
            "--source",
            "replay:session.pcrec",
            "--spaces",
            "buy",
            "--epochs",
            "60",
            "--loss",
            "OnlyProfitHyperOptLoss",
            "--seed",
            "5",
            "--timerange",
            "20261101-",
            "--print-json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert (
        "<HyperoptResult FileStrategy spaces=['buy'] OnlyProfitHyperOptLoss: 60 trials" in out.out
    )
    written = json.loads((tmp_path / "file_strategy.json").read_text())
    assert written["strategy_name"] == "FileStrategy"
    assert written["params"]["buy"] == {"buy_rsi": 37}
    assert f"parameters written to {tmp_path / 'file_strategy.json'}" in out.out
    assert engine[0]["data"] == "replay:session.pcrec"
    assert engine[0]["timerange"] == "20261101-" and engine[0]["mode"] == "history"
    assert engine[0]["strategy"].__name__ == "FileStrategy"


def test_every_trial_failing_is_exit_code_1_with_the_first_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def backtest(strategy: Any, data: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError("no recording session.pcrec")

    module = types.ModuleType("producerconsumer.backtest")
    module.backtest = backtest  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "producerconsumer.backtest", module)
    monkeypatch.setattr(objective_module, "load_data", lambda data, mode="history": data)
    source = tmp_path / "file_strategy.py"
    source.write_text(STRATEGY)
    args = ["hyperopt", "--strategy", str(source), "--source", "replay:session.pcrec"]
    assert main([*args, "--epochs", "2", "--spaces", "buy"]) == 1
    assert "FileNotFoundError: no recording session.pcrec" in capsys.readouterr().err
    assert not (tmp_path / "file_strategy.json").exists()


def test_strategy_specs(tmp_path: Path) -> None:
    source = tmp_path / "two.py"
    source.write_text(STRATEGY + STRATEGY.replace("FileStrategy", "OtherStrategy"))
    assert load_strategy(f"{source}:OtherStrategy").__name__ == "OtherStrategy"
    with pytest.raises(ValueError, match="name the class"):
        load_strategy(str(source))
    with pytest.raises(
        ValueError, match=r"no strategy class 'Missing' in .*: FileStrategy, OtherStrategy"
    ):
        load_strategy(f"{source}:Missing")
    with pytest.raises(ValueError, match=r"give an existing FILE\.py"):
        load_strategy(str(tmp_path / "absent.py"))
