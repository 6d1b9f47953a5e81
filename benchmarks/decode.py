"""Time ``decode_dataframe`` against Freqtrade's decode path and the ``orjson.loads`` floor.

Run ``python benchmarks/decode.py`` (any dev venv), or with the Freqtrade oracle venv to also time
``freqtrade.misc.json_to_dataframe`` and check equality against it::

    PYTHONPATH=. .oracle-venv/bin/python benchmarks/decode.py

Prints markdown tables of median times over repeats (the timed calls alternate, see
``_common.median_ms``) and their ratios.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
import orjson
import pandas as pd
from _common import median_ms, ratio
from pandas.testing import assert_frame_equal

from producerconsumer.wire import analyzed_df_message, parse_message
from producerconsumer.wire.frames import (
    _fast_path_refusal,
    decode_dataframe,
    encode_dataframe,
    reference_decode_dataframe,
)

try:
    from freqtrade.misc import json_to_dataframe
    from freqtrade.rpc.api_server.ws.serializer import HybridJSONWebSocketSerializer
    from freqtrade.rpc.api_server.ws_schemas import WSAnalyzedDFMessage, WSMessageSchema
except ImportError:
    json_to_dataframe = None


def freqtrade_message_decode(text: str) -> pd.DataFrame:
    """What Freqtrade's consumer does with one received ``analyzed_df`` text before storing it:
    ``WebSocketChannel.recv`` -> ``HybridJSONWebSocketSerializer._deserialize`` (rapidjson with
    the dataframe object hook), then ``handle_producer_message`` -> ``WSMessageSchema`` and
    ``_consume_analyzed_df_message`` -> ``WSAnalyzedDFMessage`` validation."""
    message = HybridJSONWebSocketSerializer(None)._deserialize(text)  # type: ignore[arg-type]
    validated = WSMessageSchema.model_validate(message)
    return WSAnalyzedDFMessage.model_validate(validated.model_dump()).data.df


def message_floor(text: str) -> object:
    """The JSON parsing alone: the message, then the frame string inside it (both orjson)."""
    return orjson.loads(orjson.loads(text)["data"]["df"]["__value__"])


def producer_frame(rows: int, columns: int, seed: int = 7) -> pd.DataFrame:
    """A realistic analyzed dataframe: OHLCV, indicators with warm-up nulls, signals, tags."""
    rng = np.random.default_rng(seed)
    close = 65_000 + np.cumsum(rng.normal(0, 60, rows))
    data: dict[str, Any] = {
        "date": pd.date_range("2026-01-01", periods=rows, freq="5min", tz="UTC"),
        "open": np.round(close + rng.normal(0, 10, rows), 2),
        "high": np.round(close + np.abs(rng.normal(0, 30, rows)), 2),
        "low": np.round(close - np.abs(rng.normal(0, 30, rows)), 2),
        "close": np.round(close, 2),
        "volume": np.round(rng.gamma(2.0, 20.0, rows), 5),
    }
    for number in range(columns - 10):
        scale = (1.0, 100.0, 0.001, close)[number % 4]
        values = rng.random(rows) * scale
        values[: int(rng.integers(10, 200))] = np.nan  # indicator warm-up period
        data[f"ind_{number}"] = values
    data["enter_long"] = np.where(rng.random(rows) < 0.05, 1.0, np.nan)
    data["enter_tag"] = np.where(np.isnan(data["enter_long"]), "", "buy_signal_x")
    data["exit_long"] = np.where(rng.random(rows) < 0.05, 1.0, np.nan)
    data["exit_tag"] = ""
    frame = pd.DataFrame(data)
    assert frame.shape == (rows, columns)
    return frame


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--rows", type=int, default=1500)
    args = parser.parse_args()

    print(
        f"pandas {pd.__version__}, numpy {np.__version__}, orjson {orjson.__version__}, "
        f"python {sys.version.split()[0]}, freqtrade "
        + ("not importable" if json_to_dataframe is None else "importable")
    )
    print()
    header = (
        "| frame | bytes | orjson.loads (floor) | ours | reference "
        "| ours vs reference | ours / floor |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if json_to_dataframe is not None:
        header += " freqtrade json_to_dataframe | ours vs freqtrade |"
        rule += "---:|---:|"
    print(header)
    print(rule)
    for columns in (15, 100):
        text = encode_dataframe(producer_frame(args.rows, columns))
        refusal = _fast_path_refusal(text)
        if refusal is not None:
            raise SystemExit(f"the benchmark frame did not take the fast path: {refusal}")
        ours = decode_dataframe(text)
        assert_frame_equal(ours, reference_decode_dataframe(text), check_exact=True)
        timed: list[Callable[[], object]] = [
            partial(orjson.loads, text),
            partial(decode_dataframe, text),
            partial(reference_decode_dataframe, text),
        ]
        if json_to_dataframe is not None:
            assert_frame_equal(ours, json_to_dataframe(text), check_exact=True)
            timed.append(partial(json_to_dataframe, text))
        floor, fast, reference, *freqtrade = median_ms(timed, args.repeats)
        row = (
            f"| {args.rows}x{columns} | {len(text):,} | {floor:.2f} ms | {fast:.2f} ms "
            f"| {reference:.2f} ms | {ratio(fast, reference, faster=True)} "
            f"| {ratio(floor, fast, digits=2)} |"
        )
        if freqtrade:
            row += f" {freqtrade[0]:.2f} ms | {ratio(fast, freqtrade[0], faster=True)} |"
        print(row)
    print()
    print(
        "Whole message: one `analyzed_df` message text (as a producer sends it) to a DataFrame. "
        "Ours: `wire.parse_message`. Floor: `orjson.loads` of the message and of the frame string "
        "in it."
    )
    print()
    header = "| message | bytes | floor | ours | ours / floor |"
    rule = "|---|---:|---:|---:|---:|"
    if json_to_dataframe is not None:
        header += " freqtrade consumer | ours vs freqtrade |"
        rule += "---:|---:|"
    print(header)
    print(rule)
    last_analyzed = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    for columns in (15, 100):
        frame = producer_frame(args.rows, columns)
        text = analyzed_df_message(("BTC/USDT", "5m", "spot"), frame, last_analyzed)
        ours = parse_message(text).frame
        timed = [partial(message_floor, text), partial(parse_message, text)]
        if json_to_dataframe is not None:
            assert_frame_equal(ours, freqtrade_message_decode(text), check_exact=True)
            timed.append(partial(freqtrade_message_decode, text))
        floor, fast, *freqtrade = median_ms(timed, args.repeats)
        row = (
            f"| {args.rows}x{columns} | {len(text):,} | {floor:.2f} ms | {fast:.2f} ms "
            f"| {ratio(floor, fast, digits=2)} |"
        )
        if freqtrade:
            row += f" {freqtrade[0]:.2f} ms | {ratio(fast, freqtrade[0], faster=True)} |"
        print(row)
    print()
    print(
        "Equality: ours == reference"
        + ("" if json_to_dataframe is None else " == freqtrade.misc.json_to_dataframe")
        + " (assert_frame_equal, check_exact=True) for both frames."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
