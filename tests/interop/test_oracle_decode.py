"""Decode parity: our wire codec decodes every analyzed_df payload exactly as Freqtrade's
consumer does (``HybridJSONWebSocketSerializer`` -> ``json_to_dataframe``), on the captured
samples and on frames sent over the socket by Freqtrade's real producer, including hostile
values (10-decimal rounding, NaN/inf, NaT sentinels, ``read_json``'s dtype guessing)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
import websockets

import producerconsumer as pc

from .conftest import SAMPLES, FtProducer, assert_frame_matches, make_frame, next_rows

pytestmark = pytest.mark.oracle

RECV_TIMEOUT = 10.0


def _sample_messages() -> dict[str, str]:
    return {
        "analyzed_df_broadcast": (SAMPLES / "analyzed_df_broadcast.json").read_text(),
        "analyzed_df_initial": (SAMPLES / "analyzed_df_initial.json").read_text(),
        "analyzed_df_pair_limit2": orjson.loads(
            (SAMPLES / "analyzed_df_pair_limit2.json").read_bytes()
        )["reply_raw"],
    }


def _value(message: str) -> str:
    return orjson.loads(message)["data"]["df"]["__value__"]


def _assert_parity(messages: dict[str, str], decoded: list[dict[str, Any]]) -> None:
    """``decoded`` is Freqtrade's decode of each message, then of each bare ``__value__``."""
    names = list(messages)
    by_message, by_value = decoded[: len(names)], decoded[len(names) :]
    for name, ft_message, ft_value in zip(names, by_message, by_value, strict=True):
        text = messages[name]
        assert_frame_matches(pc.wire.decode_dataframe(_value(text)), ft_value["frame"], name)
        parsed = pc.wire.parse_message(text)
        assert isinstance(parsed, pc.wire.AnalyzedFrame), name
        assert list(parsed.key) == ft_message["key"], name
        assert parsed.last_analyzed == datetime.fromisoformat(ft_message["la"]), name
        assert_frame_matches(parsed.frame, ft_message["frame"], f"{name} (whole message)")


def _decode_all(
    decode: Callable[..., list[dict[str, Any]]], messages: dict[str, str]
) -> list[dict[str, Any]]:
    items = [("message", text) for text in messages.values()]
    items += [("value", _value(text)) for text in messages.values()]
    return decode(items)


def test_sample_frames_decode_like_freqtrade(ft_decode) -> None:
    messages = _sample_messages()
    _assert_parity(messages, _decode_all(ft_decode, messages))


def hostile_frame(rows: int = 12, seed: int = 7) -> pd.DataFrame:
    """Values that stress Freqtrade's encoding (``to_json`` rounding, null for NaN/inf, int64
    NaT sentinel) and decoding (``read_json`` dtype inference and date-like column names)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2026-03-01", periods=rows, freq="5min", tz="UTC")
    awkward = [99.66555183946488, 1.2345678901e-8, 1e-12, -0.0, 1e20, 123456.78901234568,
               np.nan, np.inf, -np.inf, 5e-324, 0.1 + 0.2, -7.5]  # fmt: skip
    other_dates = pd.Series(dates + pd.Timedelta("1h"))
    other_dates.iloc[2] = pd.NaT
    return pd.DataFrame(
        {
            "date": dates,
            "awkward": (awkward * rows)[:rows],
            "magnitudes": 10.0 ** rng.uniform(-15, 15, rows) * rng.choice([-1, 1], rows),
            "integral": np.arange(rows, dtype="float64"),  # read_json -> int64
            "integral_nan": [np.nan if i % 3 == 0 else float(i) for i in range(rows)],
            "big_int": [2**53 + i for i in range(rows)],
            "flag": [bool(i % 2) for i in range(rows)],
            "flag_none": pd.Series([None if i == 1 else bool(i % 2) for i in range(rows)]),
            "tag": ["", "long", None, "x,y", "ünï", '"q"'] * (rows // 6) + [""] * (rows % 6),
            "open_time": dates,  # a date-like name: read_json turns the ms back into datetimes
            "opened": other_dates,  # other datetime with NaT: int64 ms and the NaT sentinel
            "f32": np.linspace(0, 1, rows, dtype="float32"),
            "all_null": [None] * rows,
        }
    )


def fuzz_frame(seed: int) -> pd.DataFrame:
    """A random frame: random row count and columns drawn from value kinds that hit different
    paths of ``to_json`` / ``read_json`` (including names ``read_json`` treats as dates)."""
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 40))
    dates = pd.date_range("2026-02-01", periods=rows, freq="1h", tz="UTC")

    def floats() -> np.ndarray:
        values = 10.0 ** rng.uniform(-14, 16, rows) * rng.choice([-1.0, 1.0], rows)
        holes = rng.uniform(0, 1, rows)
        values[holes < 0.1] = np.nan
        values[(holes >= 0.1) & (holes < 0.13)] = np.inf
        return values

    kinds = {
        "floats": floats,
        "integral": lambda: np.round(rng.uniform(-1e6, 1e6, rows)),
        "integral_nan": lambda: np.where(rng.uniform(0, 1, rows) < 0.3, np.nan, 1.0),
        "ints": lambda: rng.integers(-(2**62), 2**62, rows),
        "bools": lambda: rng.uniform(0, 1, rows) < 0.5,
        "strings": lambda: rng.choice(["", "a", "long_tag", "1.5", "null"], rows).tolist(),
        "datetimes": lambda: pd.Series(dates - pd.Timedelta("3D")).where(
            rng.uniform(0, 1, rows) > 0.2
        ),
        "epoch_ms": lambda: (dates.asi8 // 1000 // 1000).astype("int64"),
    }
    names = ["close_time", "timestamp_x", "modified", "datetime", "opened_at", "value"]
    columns: dict[str, object] = {"date": dates}
    for i in range(int(rng.integers(1, 8))):
        kind = str(rng.choice(list(kinds)))
        name = str(rng.choice(names)) if rng.uniform() < 0.4 else f"{kind}_{i}"
        columns.setdefault(name, kinds[kind]())
    return pd.DataFrame(columns)


async def _capture(producer: FtProducer, pairs: list[str]) -> dict[str, str]:
    """Raw text of every analyzed_df message Freqtrade's producer sends to a plain client:
    the initial replies, a ``limit: 2`` reply and a one-row broadcast."""
    messages: dict[str, str] = {}
    async with websockets.connect(producer.url(), ping_interval=None) as ws:
        await ws.send(pc.wire.subscribe_request())
        await ws.send(pc.wire.analyzed_df_request(1500, None))
        for _ in pairs:
            text = await asyncio.wait_for(ws.recv(), RECV_TIMEOUT)
            assert isinstance(text, str)
            messages[f"initial {orjson.loads(text)['data']['key'][0]}"] = text
        await ws.send(pc.wire.analyzed_df_request(2, pairs[0]))
        messages["limit 2"] = str(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
        producer.broadcast_candle(pairs[0], next_rows(make_frame(pairs[0], 200)))
        messages["broadcast"] = str(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
    return messages


async def test_real_producer_frames_decode_like_freqtrade(start_ft_producer) -> None:
    producer = start_ft_producer()
    frames = {"BTC/USDT": make_frame("BTC/USDT", 200), "HOSTILE/USDT": hostile_frame()}
    frames |= {f"HOSTILE{i}/USDT": hostile_frame(rows=3 + i, seed=i) for i in range(6)}
    frames |= {f"FUZZ{i}/USDT": fuzz_frame(seed=i) for i in range(40)}
    producer.set_frames(frames)
    # NEVER/USDT is whitelisted but never analysed: Freqtrade sends an empty frame for it.
    pairs = [*frames, "NEVER/USDT"]
    producer.set_whitelist(pairs)

    messages = await _capture(producer, pairs)
    assert orjson.loads(_value(messages["initial NEVER/USDT"])) == {
        "columns": [],
        "index": [],
        "data": [],
    }
    decoded = await asyncio.to_thread(_decode_all, producer.decode, messages)
    _assert_parity(messages, decoded)
