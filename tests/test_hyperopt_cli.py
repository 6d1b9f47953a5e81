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


def test_producerconsumer_hyperopt_on_the_real_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``producerconsumer hyperopt`` (the main command line) on the committed recording."""
    from hyperopt_consumer import SETTINGS, SOURCE

    from producerconsumer.cli import main as producerconsumer

    strategy = tmp_path / "consumer_strategy.py"
    strategy.write_text(
        Path(__file__).with_name("hyperopt_consumer.py").read_text().split("\n\nclass Raising")[0]
    )
    config = tmp_path / "config.json"
    config.write_text(json.dumps(SETTINGS))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    args = [
        "hyperopt",
        "--config",
        str(config),
        "--strategy",
        f"{strategy}:ConsumerStrategy",
        "--source",
        SOURCE,
        "--spaces",
        "buy",
        "--epochs",
        "6",
        "--loss",
        "OnlyProfitHyperOptLoss",
        "--seed",
        "2",
        "--storage",
        storage,
        "--print-json",
    ]
    assert producerconsumer(args) == 0
    out = capsys.readouterr().out
    assert "<HyperoptResult ConsumerStrategy spaces=['buy'] OnlyProfitHyperOptLoss: 6 trials" in out
    written = json.loads((tmp_path / "consumer_strategy.json").read_text())
    assert written["strategy_name"] == "ConsumerStrategy"
    assert 1 <= written["params"]["buy"]["buy_rsi"] <= 50
    assert f"parameters written to {tmp_path / 'consumer_strategy.json'}" in out
    # The same study, resumed to 9 epochs.
    args[args.index("--epochs") + 1] = "9"
    assert producerconsumer(args) == 0
    assert "OnlyProfitHyperOptLoss: 9 trials" in capsys.readouterr().out


def test_producerconsumer_hyperopt_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from producerconsumer.cli import main as producerconsumer

    source = tmp_path / "file_strategy.py"
    source.write_text(STRATEGY)
    missing = str(tmp_path / "absent.pcrec")
    args = ["hyperopt", "--strategy", f"{source}:FileStrategy", "--source", missing]
    assert producerconsumer(args) == 1
    assert "absent.pcrec" in capsys.readouterr().err
    args = ["hyperopt", "--strategy", f"{source}:Nope", "--source", missing]
    assert producerconsumer(args) == 1
    assert "no strategy class 'Nope'" in capsys.readouterr().err
