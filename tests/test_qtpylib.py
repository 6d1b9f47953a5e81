"""qtpylib helpers: semantics checked by hand here; bit-for-bit parity with Freqtrade's copy is
tested against the oracle in ``tests/interop/test_oracle_strategy.py``."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from producerconsumer import qtpylib


def candles(n: int = 300, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + 0.5,
            "low": np.minimum(open_, close) - 0.5,
            "close": close,
            "volume": rng.uniform(1, 10, n),
        }
    )


def test_strategy_module_exposes_this_module():
    from producerconsumer.strategy import qtpylib as exported

    assert exported is qtpylib


def test_rolling_mean_and_std_are_rolling_statistics():
    close = candles()["close"]
    for ours, method in ((qtpylib.rolling_mean, "mean"), (qtpylib.rolling_std, "std")):
        got = ours(close, 20)
        want = getattr(close.rolling(20), method)()
        assert got.isna().sum() == 19 and got.index.equals(close.index)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        partial = ours(close, 20, min_periods=1 if method == "mean" else 2)
        assert partial.isna().sum() == (0 if method == "mean" else 1)
    assert qtpylib.sma(close).isna().sum() == 199  # qtpylib's default window is 200


def test_numpy_array_input_gives_a_series():
    values = candles()["close"].to_numpy()
    result = qtpylib.rolling_mean(values, 10)
    assert isinstance(result, pd.Series) and len(result) == len(values)


def test_weighted_means():
    close = candles()["close"]
    pd.testing.assert_series_equal(
        qtpylib.wma(close, 10), close.ewm(span=10, min_periods=10).mean()
    )
    assert qtpylib.ema is qtpylib.wma  # qtpylib's "ema" is its weighted mean, not TA-Lib's EMA
    hull = qtpylib.hull_moving_average(close, 16)
    assert hull.isna().sum() == 30 and hull.notna().iloc[-1]  # two chained 16-row warm-ups
    pd.testing.assert_series_equal(qtpylib.hma(close, 16), hull)


def test_crossed():
    series = pd.Series([1.0, 3.0, 1.0, np.nan, 3.0])
    assert qtpylib.crossed_above(series, 2).tolist() == [False, True, False, False, False]
    assert qtpylib.crossed_below(series, 2).tolist() == [False, False, True, False, False]
    assert qtpylib.crossed(series, 2).tolist() == [False, True, True, False, False]
    assert qtpylib.crossed(series.to_numpy(), np.full(5, 2.0), "above").tolist() == [
        False,
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="direction"):
        qtpylib.crossed(series, 2, "sideways")  # type: ignore[arg-type]


def test_true_range_atr_and_keltner():
    bars = pd.DataFrame(
        {"high": [10.0, 12.0, 11.0], "low": [8.0, 11.0, 7.0], "close": [9.0, 11.5, 8.0]}
    )
    assert qtpylib.true_range(bars).tolist() == [2.0, 3.0, 4.5]
    assert qtpylib.atr(bars, 2).tolist()[1:] == [2.5, 3.75]
    channel = qtpylib.keltner_channel(candles(), 14, 2)
    assert channel.columns.tolist() == ["upper", "mid", "lower"]
    np.testing.assert_allclose(
        (channel["upper"] - channel["lower"]).dropna(), 4 * qtpylib.atr(candles(), 14).dropna()
    )


def test_heikinashi_by_hand():
    bars = pd.DataFrame(
        {"open": [10.0, 11.0], "high": [12.0, 13.0], "low": [9.0, 10.0], "close": [11.0, 12.0]},
        index=[5, 6],  # any index (qtpylib itself needs 0-based labels)
    )
    ha = qtpylib.heikinashi(bars)
    assert ha.columns.tolist() == ["open", "high", "low", "close"]
    assert ha["close"].tolist() == [10.5, 11.5]
    assert ha["open"].tolist() == [10.5, 10.5]  # (10 + 11) / 2, then (10.5 + 10.5) / 2
    assert ha["high"].tolist() == [12.0, 13.0] and ha["low"].tolist() == [9.0, 10.0]
    assert ha.index.tolist() == [5, 6]


def test_vwap_refuses_and_rolling_vwap_carries_over_zero_volume():
    bars = candles(50)
    with pytest.raises(ValueError, match="lookahead"):
        qtpylib.vwap(bars)
    bars.loc[30:, "volume"] = 0.0
    vwap = qtpylib.rolling_vwap(bars, 5)
    price = (bars["high"] + bars["low"] + bars["close"]) / 3
    assert vwap.iloc[4] == pytest.approx(
        (price * bars["volume"])[:5].sum() / bars["volume"][:5].sum()
    )
    assert (vwap.iloc[34:] == vwap.iloc[34]).all()  # no volume in the window: last value kept


def test_returns_zscore_macd():
    close = pd.Series([1.0, 2.0, 1.0, 0.0, 1.0])
    assert qtpylib.returns(close).tolist()[1:4] == [1.0, -0.5, -1.0]
    assert np.isnan(qtpylib.returns(close).iloc[4])  # 1 / 0: infinity becomes NaN
    assert qtpylib.log_returns(close).iloc[1] == pytest.approx(np.log(2))
    assert np.isnan(qtpylib.log_returns(close).iloc[3])  # log(0): NaN, no warning
    bars = candles()
    z = qtpylib.zscore(bars, 20)
    want = (bars["close"] - bars["close"].rolling(20).mean()) / bars["close"].rolling(20).std()
    np.testing.assert_allclose(z, want, rtol=1e-9)
    macd = qtpylib.macd(bars["close"])
    np.testing.assert_allclose(macd["histogram"], macd["macd"] - macd["signal"])
    assert qtpylib.roc(close, 1).iloc[1] == 1.0


def test_pandas_is_not_monkey_patched():
    assert not hasattr(pd.Series, "crossed_above")
    assert "talib" not in sys.modules and "freqtrade" not in sys.modules
