"""Producer data in, analyzed frames with signals out: the part of a backtest that runs the
strategy (``populate_*``), once per parameter set.

Data modes:

* ``"history"``: each pair's producer frame as it stands (a consumer's frames now, a snapshot,
  or the frames a recording ends with);
* ``"as_seen"`` (recordings): each candle's producer values as the consumer first received
  them: the rows of the first full frame, then every broadcast row as it arrived, so
  repainting indicators and predictions are used as the live consumer saw them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..strategy.interface import DataProvider, analyze

__all__ = [
    "FramesSource",
    "PairFailure",
    "analyze_pair",
    "check_candles",
    "load_frames",
    "recording_frames",
]

OHLCV = ["date", "open", "high", "low", "close", "volume"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PairFailure(Exception):
    """One pair could not be backtested: what failed and where (the pair, the candle)."""

    def __init__(self, pair: str, message: str) -> None:
        super().__init__(f"{pair}: {message}")
        self.pair = pair
        self.message = message


class FramesSource:
    """Producer frames per pair, served with Freqtrade's data provider calls."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self.frames = dict(frames)

    def get_producer_pairs(self, producer_name: str = "default") -> list[str]:
        return list(self.frames)

    def get_producer_df(
        self,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
        producer_name: str = "default",
    ) -> tuple[pd.DataFrame, datetime]:
        frame = self.frames.get(pair)
        if frame is None:
            return pd.DataFrame(), _EPOCH
        last = frame["date"].iloc[-1] if len(frame) and "date" in frame.columns else _EPOCH
        return frame.copy(), pd.Timestamp(last).to_pydatetime()


def recording_frames(path: str | Path, mode: str = "history") -> dict[str, pd.DataFrame]:
    """The producer frames a recording holds: as they end (``"history"``) or as first seen
    (``"as_seen"``). Only the recording's first producer is read."""
    from ..replay import _parse, read_recording
    from ..store import FrameStore
    from ..wire import messages as wire

    header, messages = read_recording(path)
    producers = [p.get("name") for p in header.get("producers", []) if isinstance(p, dict)]
    producer = producers[0] if producers else None
    store = FrameStore()
    seen: dict[str, dict[Any, dict[str, Any]]] = {}
    columns: dict[str, list[str]] = {}
    name = "default"
    for record in messages:
        if producer is not None and record.producer != producer:
            continue
        message = _parse(record)
        if isinstance(message, wire.Whitelist):
            store.set_pairs(name, list(message.pairs))
        elif isinstance(message, wire.AnalyzedFrame):
            store.apply(name, message)
            if mode == "as_seen":
                pair = message.key.pair
                frame = message.frame
                first = seen.setdefault(pair, {})
                columns.setdefault(pair, list(frame.columns))
                for column in frame.columns:
                    if column not in columns[pair]:
                        columns[pair].append(column)
                for row in frame.to_dict("records"):
                    date = row.get("date")
                    if date is not None and date not in first:
                        first[date] = row
    if mode == "as_seen":
        result: dict[str, pd.DataFrame] = {}
        for pair, rows in seen.items():
            frame = pd.DataFrame.from_records(
                [rows[d] for d in sorted(rows)], columns=columns[pair]
            )
            result[pair] = frame.reset_index(drop=True)
        return result
    return {
        pair: store.get(name, pair)[0]
        for pair in store.pairs(name) or [k.pair for k in store.keys(name)]
        if not store.get(name, pair)[0].empty
    }


def load_frames(data: Any, mode: str) -> tuple[dict[str, pd.DataFrame], str]:
    """``(producer frames per pair, a description)`` of whatever ``data`` is."""
    if mode not in ("history", "as_seen"):
        raise ValueError(f"mode must be 'history' or 'as_seen', not {mode!r}")
    if isinstance(data, Mapping):
        return {str(p): f for p, f in data.items()}, f"{len(data)} frames"
    if isinstance(data, str | Path):
        text = str(data)
        if text.startswith("replay:"):
            text = text.removeprefix("replay:")
        elif text.startswith("snapshot:"):
            if mode == "as_seen":
                raise ValueError("mode='as_seen' needs a recording; a snapshot has only history")
            from ..snapshot import load_snapshot

            return _from_provider(load_snapshot(text.removeprefix("snapshot:"))), str(data)
        elif (text == "demo" or text.startswith(("demo:", "config:"))) and not Path(text).exists():
            if mode == "as_seen":
                raise ValueError("mode='as_seen' needs a recording (a path or 'replay:PATH')")
            from ..sources import open_source

            source = open_source(text)
            try:
                return _from_provider(source), text
            finally:
                stop = getattr(source, "stop", None)
                if callable(stop):
                    stop()
        path = Path(text)
        if path.is_dir():
            if mode == "as_seen":
                raise ValueError("mode='as_seen' needs a recording; a snapshot has only history")
            from ..snapshot import load_snapshot

            return _from_provider(load_snapshot(path)), str(path)
        return recording_frames(path, mode), str(path)
    if hasattr(data, "get_producer_df") and hasattr(data, "get_producer_pairs"):
        if mode == "as_seen":
            raise ValueError(
                "mode='as_seen' needs a recording; a consumer or snapshot has only history"
            )
        snapshot = getattr(data, "snapshot", None)
        provider = snapshot() if callable(snapshot) else data
        return _from_provider(provider), type(data).__name__
    raise TypeError(
        "data must be a Consumer, AsyncConsumer, Snapshot, a recording path, a source string "
        "('replay:...', 'snapshot:...') or a {pair: DataFrame} mapping, "
        f"not {type(data).__name__}"
    )


def _from_provider(provider: Any) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for pair in provider.get_producer_pairs():
        frame, _ = provider.get_producer_df(pair)
        if not frame.empty:
            frames[pair] = frame
    return frames


def check_candles(pair: str, frame: pd.DataFrame, what: str = "candles") -> pd.DataFrame:
    """``frame`` with a UTC ``date`` column, or :class:`PairFailure` naming the problem and the
    candle: missing columns, NaN prices, unsorted or duplicated dates, impossible candles."""
    missing = [c for c in OHLCV[:5] if c not in frame.columns]
    if missing:
        raise PairFailure(pair, f"the {what} lack the column(s) {missing}")
    if frame.empty:
        raise PairFailure(pair, f"no {what}")
    frame = frame.reset_index(drop=True)
    dates = frame["date"]
    if not (isinstance(dates.dtype, pd.DatetimeTZDtype) and str(dates.dtype.tz) == "UTC"):
        dates = pd.to_datetime(dates, utc=True)
    if dates.isna().any():
        raise PairFailure(pair, f"{what} row {int(dates.isna().to_numpy().argmax())} has no date")
    order = np.diff(pd.DatetimeIndex(dates).as_unit("ns").asi8)
    if (order == 0).any():
        at = int(np.flatnonzero(order == 0)[0]) + 1
        raise PairFailure(pair, f"duplicated candle date {dates.iloc[at]} in the {what}")
    if (order < 0).any():
        at = int(np.flatnonzero(order < 0)[0]) + 1
        raise PairFailure(
            pair,
            f"the {what} are not sorted by date: {dates.iloc[at]} follows {dates.iloc[at - 1]}",
        )
    names = ("open", "high", "low", "close")
    columns = []
    for name in names:
        try:
            columns.append(frame[name].to_numpy(dtype="float64", na_value=np.nan))
        except (TypeError, ValueError):
            columns.append(pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64"))
    o, h, low, c = columns
    bad = np.isnan(o) | np.isnan(h) | np.isnan(low) | np.isnan(c)
    if bad.any():
        at = int(bad.argmax())
        column = next(n for n, v in zip(names, columns, strict=True) if np.isnan(v[at]))
        raise PairFailure(pair, f"NaN {column} price on the candle of {dates.iloc[at]}")
    impossible = (low > np.minimum(o, c)) | (h < np.maximum(o, c)) | (low <= 0)
    if impossible.any():
        at = int(impossible.argmax())
        raise PairFailure(
            pair,
            f"impossible candle on {dates.iloc[at]}: open {o[at]}, high {h[at]}, low {low[at]}, "
            f"close {c[at]} (needs 0 < low <= open, close <= high)",
        )
    if frame["date"].dtype != dates.dtype:
        frame = frame.assign(date=dates)
    return frame


@dataclass
class AnalyzedPair:
    pair: str
    candles: pd.DataFrame  # the strategy's input candles (validated)
    frame: pd.DataFrame  # the analyzed frame (before trimming)


def _where(exc: BaseException) -> str:
    """The innermost line of the strategy's code (not ours, not a library's) that raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    package = str(Path(__file__).resolve().parents[1])
    mine = [
        f
        for f in frames
        if not f.filename.startswith(package) and "site-packages" not in f.filename
    ]
    frame = (mine or frames)[-1] if frames else None
    if frame is None:
        return "in its populate_* methods"
    return f"in {frame.name}, {Path(frame.filename).name} line {frame.lineno}"


def analyze_pair(
    strategy: Any,
    pair: str,
    candles: pd.DataFrame,
    source: Any,
    whitelist: Callable[[], list[str]] | None = None,
) -> AnalyzedPair:
    """Run the strategy on one pair's candles (``dp`` reads ``source``)."""
    candles = check_candles(pair, candles)
    strategy.dp = DataProvider(source, "default", whitelist)
    try:
        frame = analyze(strategy, candles.copy(), pair)
    except Exception as exc:
        raise PairFailure(
            pair,
            f"the strategy raised {type(exc).__name__}: {exc} ({_where(exc)}, analyzing the "
            f"{len(candles)} candles {candles['date'].iloc[0]} .. {candles['date'].iloc[-1]})",
        ) from exc
    missing = [c for c in ("enter_long", "exit_long") if c not in frame.columns]
    if "enter_long" in missing:
        raise PairFailure(pair, "the strategy set no enter_long column (populate_entry_trend)")
    if missing:
        frame = frame.assign(exit_long=0)
    return AnalyzedPair(pair, candles, frame)
