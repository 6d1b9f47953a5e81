"""Strategies against Freqtrade 2026.9: qtpylib parity, and a real Freqtrade ``IStrategy``
subclass run through ``StrategyRunner`` (``oracle/ft_qtpylib.py``, ``oracle/ft_strategy.py``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from producerconsumer import qtpylib

from .conftest import ORACLE_DIR, REPO, OracleError, framejson

pytestmark = pytest.mark.oracle


def run_script(python: Path, script: str, *args: str, timeout: float = 300) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ORACLE_DIR), str(REPO)])}
    try:
        done = subprocess.run(
            [str(python), str(ORACLE_DIR / script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OracleError(f"{script} timed out: {exc.stderr}") from None
    if done.returncode != 0:
        raise OracleError(f"{script} failed ({done.returncode}):\n{done.stderr[-4000:]}")


# --- qtpylib


def bars(n: int = 1500, seed: int = 11) -> pd.DataFrame:
    """Random-walk candles with zero-volume stretches, a NaN and an RSI-like oscillator."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, n))),
            "low": np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, n))),
            "close": close,
            "volume": np.round(rng.uniform(0, 20, n)),
            "osc": np.clip(50 + np.cumsum(rng.normal(0, 4, n)), 0, 100),
        }
    )
    frame.loc[100:120, "volume"] = 0.0
    frame["ma"] = frame["close"].rolling(20).mean()
    frame["gappy"] = frame["close"].where(frame.index % 97 != 5)  # NaN now and then
    frame["short"] = frame["close"].where(frame.index < 15)  # windows longer than the data
    return frame


# (name, our function, their function, input, keyword arguments)
CASES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("rolling_mean", "rolling_mean", "rolling_mean", "close", {"window": 20}),
    (
        "rolling_mean_min_periods",
        "rolling_mean",
        "rolling_mean",
        "close",
        {"window": 20, "min_periods": 3},
    ),
    ("rolling_mean_gappy", "rolling_mean", "rolling_mean", "gappy", {"window": 10}),
    ("rolling_std", "rolling_std", "rolling_std", "close", {"window": 20}),
    (
        "rolling_std_min_periods",
        "rolling_std",
        "rolling_std",
        "close",
        {"window": 20, "min_periods": 2},
    ),
    ("rolling_min", "rolling_min", "rolling_min", "close", {"window": 14}),
    ("rolling_max", "rolling_max", "rolling_max", "close", {"window": 14}),
    ("sma", "sma", "sma", "close", {"window": 50}),
    ("sma_default", "sma", "sma", "close", {}),
    ("wma", "wma", "wma", "close", {"window": 30}),
    ("ema_is_wma", "ema", "wma", "close", {"window": 30}),
    (
        "rolling_weighted_mean",
        "rolling_weighted_mean",
        "rolling_weighted_mean",
        "close",
        {"window": 9},
    ),
    ("hull_moving_average", "hull_moving_average", "hull_moving_average", "close", {"window": 16}),
    ("hma", "hma", "hma", "close", {"window": 49}),
    ("typical_price", "typical_price", "typical_price", "bars", {}),
    ("mid_price", "mid_price", "mid_price", "bars", {}),
    ("bollinger_bands", "bollinger_bands", "bollinger_bands", "close", {"window": 20, "stds": 2}),
    ("bollinger_bands_gappy", "bollinger_bands", "bollinger_bands", "gappy", {"window": 20}),
    ("true_range", "true_range", "true_range", "bars", {}),
    ("atr", "atr", "atr", "bars", {"window": 14}),
    ("atr_exp", "atr", "atr", "bars", {"window": 14, "exp": True}),
    ("keltner_channel", "keltner_channel", "keltner_channel", "bars", {"window": 14, "atrs": 2}),
    ("heikinashi", "heikinashi", "heikinashi", "bars", {}),
    ("rolling_vwap", "rolling_vwap", "rolling_vwap", "bars", {"window": 20}),
    (
        "rolling_vwap_min_periods",
        "rolling_vwap",
        "rolling_vwap",
        "bars",
        {"window": 20, "min_periods": 1},
    ),
    ("macd", "macd", "macd", "close", {}),
    ("returns", "returns", "returns", "close", {}),
    ("log_returns", "log_returns", "log_returns", "close", {}),
    ("roc", "roc", "roc", "close", {"window": 10}),
    ("zscore", "zscore", "zscore", "bars", {"window": 20}),
    ("crossed_above_series", "crossed_above", "crossed_above", "close", {"series2": "$ma"}),
    ("crossed_below_level", "crossed_below", "crossed_below", "osc", {"series2": 70}),
    ("crossed_above_level", "crossed_above", "crossed_above", "osc", {"series2": 30.0}),
    ("crossed_both", "crossed", "crossed", "close", {"series2": "$ma"}),
    ("crossed_direction", "crossed", "crossed", "osc", {"series2": 50, "direction": "below"}),
]
CASES += [("short_input_mean", "rolling_mean", "rolling_mean", "short", {"window": 20})]


def ours(frame: pd.DataFrame, fn: str, source: str, kwargs: dict[str, Any]) -> pd.DataFrame:
    data = frame if source == "bars" else frame[source]
    args = {
        k: frame[v[1:]] if isinstance(v, str) and v.startswith("$") else v
        for k, v in kwargs.items()
    }
    result = getattr(qtpylib, fn)(data, **args)
    return result.to_frame("value") if isinstance(result, pd.Series) else result


def test_qtpylib_matches_freqtrades_exactly(oracle_python: Path, tmp_path: Path) -> None:
    frame = bars()
    job = {
        "bars": framejson.dump_frame(frame),
        "cases": [
            {"name": name, "fn": theirs, "input": source, "kwargs": kwargs}
            for name, _, theirs, source, kwargs in CASES
        ],
    }
    framejson.write(tmp_path / "in.json", job)
    run_script(
        oracle_python, "ft_qtpylib.py", str(tmp_path / "in.json"), str(tmp_path / "out.json")
    )
    answer = framejson.read(tmp_path / "out.json")
    assert answer["module"] == "freqtrade.vendor.qtpylib.indicators"
    results = answer["results"]
    for name, fn, _, source, kwargs in CASES:
        assert "error" not in results[name], f"{name}: Freqtrade's qtpylib raised {results[name]}"
        expected = framejson.load_frame(results[name])
        got = ours(frame, fn, source, kwargs)
        # Values, NaN positions and dtypes bit for bit; only Series names are not compared.
        got.columns = expected.columns
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=name)


def test_vwap_is_refused_like_freqtrades(oracle_python: Path, tmp_path: Path) -> None:
    job = {
        "bars": framejson.dump_frame(bars(50)),
        "cases": [{"name": "vwap", "fn": "vwap", "input": "bars", "kwargs": {}}],
    }
    framejson.write(tmp_path / "in.json", job)
    run_script(
        oracle_python, "ft_qtpylib.py", str(tmp_path / "in.json"), str(tmp_path / "out.json")
    )
    assert framejson.read(tmp_path / "out.json")["results"]["vwap"]["error"].startswith(
        "ValueError"
    )
    with pytest.raises(ValueError, match="rolling_vwap"):
        qtpylib.vwap(bars(50))


# --- a real Freqtrade IStrategy


def test_freqtrade_istrategy_runs_through_our_runner(oracle_python: Path, tmp_path: Path) -> None:
    out = tmp_path / "strategy.json"
    run_script(oracle_python, "ft_strategy.py", str(out))
    summary = framejson.read(out)
    assert summary["freqtrade"] == "2026.9"
    assert set(summary["pairs"]) == {"BTC/USDT", "ETH/USDT"}
    for pair, result in summary["pairs"].items():
        # run() gave exactly Freqtrade's analyze_ticker frame, and the producer's entries.
        assert result["same_as_freqtrade_pipeline"], pair
        assert result["agrees_with_producer"], pair
        assert result["rows"] == 400
    assert sum(result["entries"] for result in summary["pairs"].values()) >= 3
    assert summary["compare_agree"]
    assert summary["params"] == {
        "tuned": 45,
        "class": 30,
        "other_instance": 30,
        "tuned_differs": True,
    }
    assert summary["live"]["evaluated_newest"] and summary["live"]["errors"] == {}
    assert "live evaluated=2" in summary["live"]["repr"]
