"""Indicators: TA-Lib agreement (when talib or the oracle venv is there) and plain properties."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from producerconsumer import indicators as ind

sys.path.insert(0, str(Path(__file__).resolve().parent / "interop" / "oracle"))
from locate import REPO, find_oracle_python  # the one oracle-locating rule


def _oracle_python() -> str:
    """The Freqtrade oracle venv's Python (it has talib): skipped without one, failed under CI."""
    path, why_not = find_oracle_python()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{why_not} (CI is set: oracle tests must run, not skip)", pytrace=False)
        pytest.skip(why_not)
    return str(path)


def _walk(n: int = 3000, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))))


# --- against TA-Lib


CASES = [("sma", "SMA", 30), ("ema", "EMA", 9), ("ema", "EMA", 30), ("rsi", "RSI", 14)]
CASES += [("tema", "TEMA", 9), ("tema", "TEMA", 30)]


def _compare_with_talib(talib: object) -> dict[str, tuple[float, float]]:
    """Max abs/rel errors per case; asserts identical NaN lookback and rtol 1e-9."""
    errors = {}
    x = _walk()
    y = x.copy()
    y.iloc[:7] = np.nan  # TA-Lib's wrapper skips leading NaN; so must we
    for ours, theirs, period in CASES:
        for label, series in (("", x), ("+leading-nan", y)):
            got = getattr(ind, ours)(series, period).to_numpy()
            want = getattr(talib, theirs)(series.to_numpy(), timeperiod=period)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)
            ok = ~np.isnan(want)
            diff = np.abs(got[ok] - want[ok])
            errors[f"{ours}({period}){label}"] = (
                float(diff.max()),
                float((diff / np.abs(want[ok])).max()),
            )
    return errors


def test_matches_talib_in_process() -> None:
    talib = pytest.importorskip("talib", reason="TA-Lib (talib) is not installed in this venv")
    errors = _compare_with_talib(talib)
    assert max(rel for _, rel in errors.values()) < 1e-12


ORACLE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np, pandas as pd, talib
    sys.path.insert(0, {repo!r})
    from producerconsumer import indicators as ind
    x = pd.Series(100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 3000))))
    y = x.copy()
    y.iloc[:7] = np.nan
    out = {{}}
    for ours, theirs, period in {cases!r}:
        for label, series in (("", x), ("+leading-nan", y)):
            got = getattr(ind, ours)(series, period).to_numpy()
            want = getattr(talib, theirs)(series.to_numpy(), timeperiod=period)
            ok = ~np.isnan(want)
            diff = np.abs(got[ok] - want[ok])
            out[f"{{ours}}({{period}}){{label}}"] = [
                bool((np.isnan(got) == np.isnan(want)).all()),
                float(diff.max()),
                float((diff / np.abs(want[ok])).max()),
            ]
    print(json.dumps(out))
    """
)


@pytest.mark.oracle
def test_matches_talib_in_oracle_venv() -> None:
    """The same comparison run by the Freqtrade oracle venv's Python, which has talib."""
    python = _oracle_python()
    script = ORACLE_SCRIPT.format(repo=str(REPO), cases=CASES)
    done = subprocess.run(
        [python, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    errors = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(errors) == 2 * len(CASES)
    for name, (same_nans, _abs_err, rel_err) in errors.items():
        assert same_nans, f"{name}: NaN lookback differs from TA-Lib"
        assert rel_err < 1e-9, f"{name}: max relative error {rel_err}"


QTPYLIB_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    sys.path.insert(0, {repo!r})
    from freqtrade.vendor.qtpylib import indicators as q
    from producerconsumer import indicators as ind
    rng = np.random.default_rng(3)
    c = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 2000))))
    bars = pd.DataFrame({{"high": c * 1.01, "low": c * 0.99, "close": c}})
    tp = ind.typical_price(bars)
    pd.testing.assert_series_equal(tp, q.typical_price(bars), check_names=False)
    pd.testing.assert_frame_equal(ind.bollinger_bands(tp, 20, 2), q.bollinger_bands(tp, 20, 2))
    rsi = pd.Series(np.clip(50 + np.cumsum(rng.normal(0, 5, 2000)), 0, 100))
    for level in (30, 70):
        assert (ind.crossed_above(rsi, level) == q.crossed_above(rsi, level)).all()
        assert (ind.crossed_below(rsi, level) == q.crossed_below(rsi, level)).all()
    ma = c.rolling(5).mean()
    assert (ind.crossed_above(c, ma) == q.crossed_above(c, ma)).all()
    print("ok")
    """
)


@pytest.mark.oracle
def test_matches_qtpylib_in_oracle_venv() -> None:
    python = _oracle_python()
    done = subprocess.run(
        [python, "-c", QTPYLIB_SCRIPT.format(repo=str(REPO))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


# --- without TA-Lib


def test_lookbacks() -> None:
    x = _walk(200)
    assert ind.sma(x, 30).isna().sum() == 29
    assert ind.ema(x, 9).isna().sum() == 8
    assert ind.rsi(x, 14).isna().sum() == 14
    assert ind.tema(x, 9).isna().sum() == 24


def test_ema_seeded_with_sma_then_recursive() -> None:
    x = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    got = ind.ema(x, 3)
    assert got.iloc[2] == pytest.approx(2.0)  # mean of 1, 2, 3
    assert got.iloc[3] == pytest.approx(2.0 + 0.5 * (4.0 - 2.0))
    assert got.iloc[5] == pytest.approx(5.0)


def test_rsi_hand_computed() -> None:
    x = pd.Series([10.0, 11.0, 10.0, 12.0, 12.0])
    got = ind.rsi(x, 2)
    # changes +1, -1: gain 0.5, loss 0.5 -> 50; then +2: gain 1.25, loss 0.25
    assert got.iloc[2] == pytest.approx(50.0)
    assert got.iloc[3] == pytest.approx(100 * 1.25 / 1.5)
    assert ind.rsi(pd.Series([5.0] * 30), 14).iloc[14:].eq(0.0).all()  # flat: TA-Lib says 0


def test_monotonic_series_rsi_extremes() -> None:
    up = pd.Series(np.arange(1.0, 50.0))
    assert ind.rsi(up, 14).iloc[14:].eq(100.0).all()
    assert ind.rsi(up[::-1].reset_index(drop=True), 14).iloc[14:].eq(0.0).all()


def test_tema_tracks_a_line_without_lag() -> None:
    line = pd.Series(np.arange(100, dtype=float) * 2 + 5)
    got = ind.tema(line, 9)
    np.testing.assert_allclose(got.iloc[60:], line.iloc[60:], rtol=1e-6)


def test_bollinger_bands_like_qtpylib() -> None:
    x = _walk(50)
    bands = ind.bollinger_bands(x, window=20, stds=2)
    assert list(bands.columns) == ["upper", "mid", "lower"]
    assert bands["mid"].iloc[0] == x.iloc[0]  # min_periods=1
    assert np.isnan(bands["upper"].iloc[0])  # std of one value (ddof=1)
    window = x.iloc[10:30]
    assert bands["mid"].iloc[29] == pytest.approx(window.mean())
    assert bands["upper"].iloc[29] == pytest.approx(window.mean() + 2 * window.std())
    assert bands["lower"].iloc[29] == pytest.approx(window.mean() - 2 * window.std())


def test_typical_price() -> None:
    bars = pd.DataFrame({"high": [3.0], "low": [1.0], "close": [2.0]}, index=[7])
    assert ind.typical_price(bars).to_dict() == {7: 2.0}


def test_crossings() -> None:
    s = pd.Series([20.0, 29.0, 31.0, 35.0, 30.0, 29.0, np.nan, 40.0])
    assert ind.crossed_above(s, 30).tolist() == [False, False, True] + [False] * 5
    assert ind.crossed_below(s, 30).tolist() == [False] * 5 + [True, False, False]
    other = pd.Series([25.0] * 8)
    assert ind.crossed_above(s, other).tolist()[:3] == [False, True, False]
    # Touching the level from above is not a cross below until it goes under.
    assert not ind.crossed_below(s, 30).iloc[4]


def test_index_preserved_and_input_untouched() -> None:
    x = _walk(100)
    x.index = range(1000, 1100)
    before = x.copy()
    for result in (ind.sma(x, 5), ind.ema(x, 5), ind.rsi(x, 5), ind.tema(x, 5)):
        assert result.index.equals(x.index)
    pd.testing.assert_series_equal(x, before)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_period(bad: object) -> None:
    with pytest.raises(ValueError):
        ind.ema(_walk(10), bad)  # type: ignore[arg-type]


def test_short_input_is_all_nan() -> None:
    x = pd.Series([1.0, 2.0])
    assert ind.ema(x, 5).isna().all() and ind.rsi(x, 5).isna().all()
    assert ind.tema(x, 5).isna().all() and ind.sma(x, 5).isna().all()


def test_module_is_pure_python() -> None:
    assert "talib" not in sys.modules or ind.__dict__.get("talib") is None
