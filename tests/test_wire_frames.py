"""Dataframe codec: ``decode_dataframe`` must equal Freqtrade's consumer path exactly.

The oracle is ``reference_decode_dataframe`` (``pd.read_json`` + UTC ``date``). Every comparison
is ``check_exact=True`` with strict index and column classes, so dtypes, values to the last bit,
NaN placement, index labels and column labels must all match.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from producerconsumer.wire import frames
from producerconsumer.wire.frames import (
    FrameDecodeError,
    decode_dataframe,
    encode_dataframe,
    reference_decode_dataframe,
)

SAMPLES = Path(__file__).resolve().parent / "data"  # frames captured from Freqtrade 2026.9
PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def assert_same(text: str) -> pd.DataFrame | None:
    """Both decoders agree: equal frames, or both refuse (ours with FrameDecodeError)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = reference_decode_dataframe(text)
        except Exception:
            expected = None
        if expected is None:
            with pytest.raises(FrameDecodeError):
                decode_dataframe(text)
            return None
        got = decode_dataframe(text)
    assert_frame_equal(
        got, expected, check_exact=True, check_index_type=True, check_column_type=True
    )
    return got


# --- (a) real frames captured from a Freqtrade 2026.9 producer ------------------------------


def _sample_payloads() -> Iterator[tuple[str, str]]:
    def walk(node: Any, origin: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            if node.get("__type__") == "dataframe":
                yield origin, node["__value__"]
            for key, value in node.items():
                if key == "reply_raw" and isinstance(value, str):
                    yield from walk(json.loads(value), origin)
                else:
                    yield from walk(value, origin)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value, origin)

    for path in sorted(SAMPLES.glob("*.json")):
        yield from walk(json.loads(path.read_text()), path.name)


def test_real_sample_frames_match_reference_and_take_fast_path() -> None:
    payloads = list(_sample_payloads())
    assert len(payloads) >= 3, "expected the three analyzed_df samples"
    for origin, text in payloads:
        got = assert_same(text)
        assert got is not None, origin
        assert frames._fast_path_refusal(text) is None, origin
        assert str(got["date"].dtype) == (
            "datetime64[us, UTC]" if PANDAS_3 else "datetime64[ns, UTC]"
        )
        assert got.index.tolist()[-1] in {301, 302, 303}


# --- realistic producer frames ---------------------------------------------------------------


def producer_frame(rows: int, indicators: int, seed: int, start: int = 0) -> pd.DataFrame:
    """An analyzed dataframe shaped like Freqtrade's: OHLCV, indicators, signals, tags."""
    rng = np.random.default_rng(seed)
    close = 65_000 + np.cumsum(rng.normal(0, 60, rows))
    data: dict[str, Any] = {
        "date": pd.date_range("2026-01-01", periods=rows, freq="5min", tz="UTC"),
        "open": np.round(close + rng.normal(0, 10, rows), 2),
        "high": np.round(close + 40, 2),
        "low": np.round(close - 40, 2),
        "close": np.round(close, 2),
        "volume": np.round(rng.random(rows) * 100, 5),
    }
    for number in range(indicators):
        values = close * rng.random(rows) / (10 ** rng.integers(0, 9))
        values[: rng.integers(0, min(rows, 200) + 1)] = np.nan
        data[f"ind_{number}"] = values
    data["enter_tag"] = np.where(rng.random(rows) < 0.05, "buy_signal_x", "")
    data["enter_long"] = np.where(rng.random(rows) < 0.1, 1.0, np.nan)
    data["exit_tag"] = ""
    data["exit_long"] = rng.integers(0, 2, rows).astype(float)
    frame = pd.DataFrame(data)
    frame.index = pd.RangeIndex(start, start + rows)
    return frame


@pytest.mark.parametrize(
    ("rows", "indicators", "start"), [(1, 5, 302), (1500, 6, 0), (1500, 91, 500)]
)
def test_producer_frames_take_fast_path(rows: int, indicators: int, start: int) -> None:
    text = encode_dataframe(producer_frame(rows, indicators, seed=rows + indicators, start=start))
    assert frames._fast_path_refusal(text) is None
    got = assert_same(text)
    assert got is not None
    assert got.index[0] == start
    assert got["exit_long"].dtype == np.int64  # integral 0/1 floats are downcast, as read_json does
    assert got["enter_long"].dtype == np.float64


# --- (d) the fast path really avoids read_json -----------------------------------------------


def test_fast_path_does_not_call_read_json(monkeypatch: pytest.MonkeyPatch) -> None:
    warm = encode_dataframe(producer_frame(3, 4, seed=1))
    decode_dataframe(warm)  # column-label probe and dtype calibration are cached per process

    def refuse(*_args: object, **_kwargs: object) -> pd.DataFrame:
        raise AssertionError("the fast path called into the reference decoder")

    monkeypatch.setattr(pd, "read_json", refuse)
    monkeypatch.setattr(frames, "reference_decode_dataframe", refuse)
    frame = decode_dataframe(encode_dataframe(producer_frame(1500, 5, seed=2, start=500)))
    assert frame.shape == (1500, 15)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ('{"columns":[],"index":[],"data":[]}', "empty"),
        ('{"columns":["close_time"],"index":[0],"data":[[1]]}', "date-like"),
        ('{"columns":["Date"],"index":[0],"data":[[1]]}', "date-like"),
        ('{"columns":["1"],"index":[0],"data":[[1]]}', "column labels"),
        ('{"columns":["a","a"],"index":[0],"data":[[1,2]]}', "column labels"),
        ('{"columns":["a"],"index":[99999999999],"data":[[1]]}', "timestamps"),
        ('{"columns":["a"],"index":[0],"data":[["1.5"]]}', "could all be numbers"),
        ('{"columns":["a"],"index":[0],"data":[[9007199254740993]]}', "2**53"),
        ('{"columns":["a"],"index":[0],"data":[[[1]]]}', "non-numeric"),
        ('{"columns":["date"],"index":[0],"data":[[null]]}', "'date'"),
        ('{"columns":["date"],"index":[0],"data":[[1000]]}', "millisecond range"),
    ],
)
def test_unusual_shapes_use_reference_path(payload: str, reason: str) -> None:
    refusal = frames._fast_path_refusal(payload)
    assert refusal is not None and reason in refusal
    assert_same(payload)


@pytest.mark.parametrize(
    "payload",
    [
        r'{"columns":["\ud800","a"],"index":[0],"data":[[1,2]]}',
        r'{"columns":["\u00e9t\u00e9","a"],"index":[0,1],"data":[[1,"x\u00e9"],[2,"\""]]}',
        r'{"columns":["a","b"],"index":[0,1],"data":[[1,"\"q\""],[2,""]]}',
        '{"columns":["a","b"],"index":[0,1],"data":[[1,"x"],[2,"1"]]}',
        '{"columns":["a","b"],"index":[0,1],"data":[[1,""],["2",""]]}',
        '{"columns":["a","b"],"index":[0,1],"data":[[1.0,true],[2.0,false]]}',
        '{"columns":["a","b"],"index":[0,1],"data":[[true,1.5],[2.0,null]]}',
        '{"columns":["a", "b"],\n "index":[0, 1], "data":[[NaN, 1],[Infinity, 2]]}',
    ],
)
def test_escapes_and_mixed_values_match_reference(payload: str) -> None:
    assert_same(payload)


# --- (c) malformed payloads ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "not valid JSON"),
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "must be a JSON object"),
        ('"columns"', "must be a JSON object"),
        ('{"columns":["a"],"index":[0]}', "missing key(s): 'data'"),
        ('{"columns":["a"],"index":[0],"data":[[1]],"extra":1}', "unexpected key(s): 'extra'"),
        ('{"columns":"a","index":[0],"data":[[1]]}', "'columns' must be a JSON array, got string"),
        ('{"columns":["a"],"index":{},"data":[[1]]}', "'index' must be a JSON array, got object"),
        ('{"columns":["a"],"index":[0],"data":5}', "'data' must be a JSON array, got number"),
        ('{"columns":["a","b"],"index":[0,1],"data":[[1,2],3]}', "row 1 must be a JSON array"),
        (
            '{"columns":["a","b","c"],"index":[0,1,2,3],"data":[[1,2,3],[1,2,3],[1,2,3],[1,2]]}',
            "row 3 has 2 values, expected 3",
        ),
        ('{"columns":["a"],"index":[0],"data":[[1,2]]}', "row 0 has 2 values, expected 1"),
        ('{"columns":["a"],"index":[0,1],"data":[[1]]}', "'index' has 2 labels but 'data' has 1"),
    ],
)
def test_malformed_payloads_raise_value_error_naming_the_problem(
    payload: str, message: str
) -> None:
    with pytest.raises(FrameDecodeError, match=_escape(message)) as caught:
        decode_dataframe(payload)
    assert isinstance(caught.value, ValueError)


def test_non_string_payload_is_rejected() -> None:
    with pytest.raises(FrameDecodeError, match="must be a str"):
        decode_dataframe(b'{"columns":[],"index":[],"data":[]}')  # type: ignore[arg-type]


def _escape(text: str) -> str:
    import re

    return re.escape(text)


# --- number literals: the doubles must be pandas' (not correctly rounded) ones ----------------


def test_ten_decimal_values_keep_pandas_parser_rounding() -> None:
    # pandas' parser (precise_float=False) returns 0.00033585580000000003 for this literal, where
    # orjson/json return 0.0003358558; read_json keeps the former, so must we.
    text = '{"columns":["x","y"],"index":[0,1],"data":[[0.0003358558,8.6e-09],[0.5,1e-05]]}'
    got = assert_same(text)
    assert got is not None
    assert got["x"].iloc[0] == 0.00033585580000000003
    assert got["x"].iloc[0] != json.loads(text)["data"][0][0]


def _literals(digits: str) -> list[str]:
    whole = str(int(digits[:3]))
    rest = digits[3:] or "0"
    return [
        f"{whole}.{rest}",
        f"-{int(digits)}",
        f"0.{digits}",
        f"-0.{digits}",
        f"{whole}e-{len(digits)}",
        f"{digits[0]}.{rest}E+{len(digits) % 4}",
        f"0.{digits}00",
    ]


@given(st.lists(st.text("0123456789", min_size=1, max_size=17), min_size=1, max_size=6))
@settings(max_examples=300, deadline=None)
def test_number_literal_forms(digit_strings: list[str]) -> None:
    literals = [literal for digits in digit_strings for literal in _literals(digits)]
    rows = ",".join(f"[{literal}]" for literal in literals)
    text = f'{{"columns":["v"],"index":{list(range(len(literals)))},"data":[{rows}]}}'
    assert_same(text)


# --- (b) differential tests over generated frames --------------------------------------------

COLUMN_KINDS = (
    "float10",
    "float_wide",
    "float_special",
    "integral_float",
    "int_small",
    "int_wide",
    "signal",
    "signal01",
    "bool",
    "bool_null",
    "tag",
    "text_null",
    "numeric_text",
    "mixed",
    "all_null",
    "datetime",
)
# Producer-like columns are listed more than once so most frames can take the fast path; the
# rest exercise the reference fallback.
WEIGHTED_KINDS = (
    *COLUMN_KINDS,
    *("float10", "signal", "signal01", "tag", "integral_float", "int_small", "bool", "datetime")
    * 3,
)
PLAIN_NAMES = ("open", "close", "rsi", "tema", "x", "bb_upperband", "enter_long", "%-feature", "ü")
DATE_LIKE_NAMES = ("close_time", "created_at", "timestamp", "modified", "datetime", "Date", "DATE")


def column_values(kind: str, rows: int, rng: np.random.Generator) -> Any:
    if kind == "float10":
        values = np.round(rng.random(rows) * 10.0 ** rng.integers(-9, 7), 10)
        values[rng.random(rows) < 0.2] = np.nan
        return values
    if kind == "float_wide":
        return rng.standard_normal(rows) * 10.0 ** rng.integers(
            -20, 13 if rng.random() < 0.8 else 22, rows
        )
    if kind == "float_special":
        choices = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-12, 2.0**53, 1.5, 1e300])
        return rng.choice(choices, rows)
    if kind == "integral_float":
        return rng.integers(-1000, 1000, rows).astype(float)
    if kind == "int_small":
        return rng.integers(-5, 5, rows)
    if kind == "int_wide":
        return rng.integers(-(2**63), 2**63 - 1, rows, dtype=np.int64)
    if kind == "signal":
        return np.where(rng.random(rows) < 0.2, 1.0, np.nan)
    if kind == "signal01":
        return rng.integers(0, 2, rows).astype(float)
    if kind == "bool":
        return rng.random(rows) < 0.5
    if kind == "bool_null":
        return np.array(rng.choice(np.array([True, False, None], dtype=object), rows), dtype=object)
    if kind == "tag":
        return np.array(rng.choice(["", "", "buy_signal_x", "exit 2"], rows), dtype=object)
    if kind == "text_null":
        return np.array(rng.choice(np.array(["a", None, "Jan", 'q"uote', "é"], dtype=object), rows))
    if kind == "numeric_text":
        return np.array(rng.choice(["1", "2.5", "-3", "nan", " 4 ", "1e3"], rows), dtype=object)
    if kind == "mixed":
        pool = np.array([1.5, "x", None, True, 3, "", 0.1], dtype=object)
        return np.array(rng.choice(pool, rows), dtype=object)
    if kind == "all_null":
        return np.full(rows, None, dtype=object) if rng.random() < 0.5 else np.full(rows, np.nan)
    start = pd.Timestamp("2026-01-01", tz="UTC" if rng.random() < 0.5 else None)
    dates = pd.Series(pd.date_range(start, periods=rows, freq="5min"))
    if rows and rng.random() < 0.3:
        dates.iloc[int(rng.integers(0, rows))] = pd.NaT
    return dates.to_numpy() if dates.dt.tz is None else dates.array


@st.composite
def generated_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.sampled_from([1, 1, 2, 3, 7, 30, 1500, 0]))
    width = draw(st.integers(1, 12)) if rows == 1500 else draw(st.sampled_from([1, 2, 3, 5, 8, 0]))
    kinds = draw(st.lists(st.sampled_from(WEIGHTED_KINDS), min_size=width, max_size=width))
    names: list[str] = []
    for position, kind in enumerate(kinds):
        pool = st.sampled_from(PLAIN_NAMES).map(lambda name, p=position: f"{name}{p}")
        if kind in {"datetime", "int_wide"} and draw(st.booleans()):
            pool = st.just("date") if "date" not in names else pool
        elif draw(st.integers(0, 29)) == 0:
            # Not "now": read_json turns that label into the current time, so the reference
            # itself differs from call to call.
            pool = st.sampled_from((*DATE_LIKE_NAMES, "date", "1", "2.5", "2026-01-01"))
        names.append(draw(pool))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {position: column_values(kind, rows, rng) for position, kind in enumerate(kinds)}
    )
    frame.columns = names
    start = draw(st.sampled_from([0, 0, 0, 302, 500, 1499, -3, 31_536_001, 10**11]))
    if draw(st.integers(0, 4)) == 0 and rows:
        frame.index = rng.integers(0, 10**6, rows)
    else:
        frame.index = pd.RangeIndex(start, start + rows)
    return frame


@pytest.mark.slow
@given(generated_frames())
@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_generated_frames_match_reference(frame: pd.DataFrame) -> None:
    try:
        text = encode_dataframe(frame)
    except (ValueError, OverflowError, AttributeError):
        # Not something a producer can send (e.g. duplicate datetime column names break
        # Freqtrade's datetime cast exactly as they break encode_dataframe).
        return
    assert_same(text)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e6, 1e6).map(lambda value: round(value, 10)),
    st.text(max_size=4),
    st.sampled_from(["", "buy", "1", "0.5", "NaN", "inf", "2026-01-01"]),
)


@st.composite
def value_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 6) if draw(st.integers(0, 5)) == 0 else st.integers(1, 6))
    width = draw(st.integers(1, 4))
    columns: dict[str, list[Any]] = {}
    for position in range(width):
        element = draw(SCALARS) if draw(st.integers(0, 3)) == 0 else None
        homogeneous = draw(st.booleans())
        strategy = st.sampled_from([element, None]) if homogeneous else SCALARS
        name = draw(st.sampled_from([f"c{position}"] * 4 + ["date", "open", f"{position}_at"]))
        if name in columns:
            name = f"c{position}"
        columns[name] = draw(st.lists(strategy, min_size=rows, max_size=rows))
    return pd.DataFrame(columns)


@pytest.mark.slow
@given(value_frames())
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_value_level_frames_match_reference(frame: pd.DataFrame) -> None:
    try:
        text = encode_dataframe(frame)
    except (ValueError, OverflowError, TypeError):
        return
    assert_same(text)


@given(st.integers(0, 2**32 - 1), st.integers(1, 1500), st.integers(0, 20))
@settings(max_examples=60, deadline=None)
def test_producer_shaped_frames_match_reference(seed: int, rows: int, indicators: int) -> None:
    text = encode_dataframe(producer_frame(rows, indicators, seed, start=seed % 1000))
    assert frames._fast_path_refusal(text) is None
    assert_same(text)


def test_encode_matches_pandas_split_output() -> None:
    frame = producer_frame(5, 2, seed=3)
    expected = frame.copy()
    expected["date"] = expected["date"].dt.as_unit("ms").astype("int64")
    assert encode_dataframe(frame) == expected.to_json(orient="split")
    assert frame["date"].dtype.kind == "M"  # the caller's frame is untouched


def test_decoded_frames_do_not_share_a_mutable_index() -> None:
    """Producers' 0..n-1 row labels come from a cache; each frame still owns its index."""
    text = encode_dataframe(pd.DataFrame({"close": [1.5, 2.5, 3.5]}))
    first, second = decode_dataframe(text), decode_dataframe(text)
    first.index.name = "renamed"
    second.index = second.index + 10
    again = decode_dataframe(text)
    assert again.index.name is None and list(again.index) == [0, 1, 2]
    assert_frame_equal(again, reference_decode_dataframe(text), check_exact=True)
