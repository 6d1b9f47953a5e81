"""Frames per producer and ``(pair, timeframe, candle_type)``, with Freqtrade's storage rules.

Rules (Freqtrade's ``DataProvider._add_external_df``, minus its defects):

* an empty frame is ignored;
* a frame of at least :data:`FULL_FRAME_ROWS` rows replaces what is stored, index labels as sent;
* a shorter frame is appended: stored rows dated before its first row are kept, it is
  concatenated after them (so overlapping rows are replaced), the last :data:`MAX_ROWS` rows are
  kept and the index reset to ``0..n-1``;
* if its first candle is more than one candle after the last stored one, nothing is stored and
  :attr:`FrameUpdate.request_limit` says how many candles to ask for (gap + 1, or 1500 from 100 on).

Deviations, on purpose: a short frame for a key with nothing stored yet is stored (Freqtrade
drops it and re-requests forever when a producer has fewer than 100 candles); gaps of monthly and
yearly timeframes are counted on the calendar (Freqtrade raises on ``1M``). Two kinds of frame are
refused with :class:`ProtocolError` (the connection counts it as a bad message) and leave the
stored frame untouched: one whose ``date`` column is not datetimes strictly increasing without
gaps (NaT), which no Freqtrade producer sends and which would break every later append; and a
short frame that ends before the stored last candle, which Freqtrade would let cut the stored
frame back in time (a gap-fill reply overtaken by a newer broadcast does that there).

Stored frames are never mutated after they are stored: an update builds a new frame and swaps it
in under a lock, so a reader on any thread sees either the old frame or the new one, whole.

Appending one candle is the hot path (every pair, every candle), so each stored frame carries its
``date`` column as int64 values, taken when it is stored: the gap, order and overlap tests of an
append compare integers instead of reading stored columns. Any frame this cache cannot describe
exactly (no ``date`` column, dates that are not numpy-backed datetimes strictly increasing, a
``date`` dtype that differs from the stored one, a calendar or out-of-range timeframe) takes the
general path, which is the rules above written out with pandas.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from .columns import SIGNAL_COLUMNS, TAG_COLUMNS
from .timeframes import _parse, candles_between, timeframe_to_seconds
from .trades import ProducerTrades
from .wire.messages import EPOCH, MAX_CANDLES, AnalyzedFrame, FrameKey, ProtocolError
from .wire.rpc import RpcMessage

if TYPE_CHECKING:
    from .connection import ProducerConnection
    from .diagnostics import EmptyLookups

__all__ = [
    "FULL_FRAME_ROWS",
    "MAX_ROWS",
    "FrameStore",
    "FrameUpdate",
    "ProducerData",
    "StoredFrame",
]

FULL_FRAME_ROWS = 100
MAX_ROWS = 1500

Action = Literal["replace", "append", "gap", "empty"]

_NAT = np.iinfo(np.int64).min  # NaT as int64
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
# Differences up to this many nanoseconds cannot overflow pandas' Timedelta arithmetic in any unit.
_SAFE_NS = 2**62


class _Dates(NamedTuple):
    """A ``date`` column of numpy-backed datetimes as int64: ``unit``s since the epoch (UTC for
    a timezone-aware ``dtype``), read-only. Checked strictly increasing without NaT when stored."""

    dtype: np.dtype[np.datetime64] | pd.DatetimeTZDtype
    ns_per_unit: int
    values: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class StoredFrame:
    """One stored frame. ``received`` is the consumer's clock (``time.time()``) at storage."""

    frame: pd.DataFrame = field(repr=False)
    last_analyzed: datetime
    received: float
    version: int
    # ``frame``'s dates if strictly increasing datetimes (see _Dates), else None: for appends.
    _dates: _Dates | None = field(default=None, repr=False, compare=False)

    def last_date(self) -> float | None:
        """The newest candle's open date in seconds since the epoch (None without dates):
        cheap, for lag checks on every update."""
        dates = self._dates
        if dates is not None:
            if not len(dates.values):
                return None
            return int(dates.values[-1]) * dates.ns_per_unit / 1e9
        if "date" not in self.frame.columns or self.frame.empty:
            return None
        last = pd.Timestamp(self.frame["date"].iloc[-1])
        if pd.isna(last):
            return None
        return (last if last.tzinfo else last.tz_localize("UTC")).timestamp()


@dataclass(frozen=True, slots=True)
class FrameUpdate:
    """What :meth:`FrameStore.apply` did with one ``analyzed_df`` message."""

    producer: str
    key: FrameKey
    action: Action
    rows: int  # rows in the message
    stored_rows: int  # rows stored for the key afterwards
    last_analyzed: datetime
    request_limit: int | None = None  # candles to request from the producer, if any

    @property
    def stored(self) -> bool:
        return self.action in ("replace", "append")


def remove_entry_exit_signals(frame: pd.DataFrame) -> pd.DataFrame:
    """Zero the signal columns and blank the tag columns, creating missing ones (as Freqtrade's
    ``remove_entry_exit_signals`` option does). Modifies and returns ``frame``."""
    for column in SIGNAL_COLUMNS:
        frame[column] = 0
    for column in TAG_COLUMNS:
        frame[column] = None
    return frame


class FrameStore:
    """Thread-safe frames and whitelists of every producer of one consumer."""

    def __init__(self, remove_entry_exit_signals: bool = False) -> None:
        self.remove_entry_exit_signals = remove_entry_exit_signals
        self._lock = threading.Lock()
        self._frames: dict[str, dict[FrameKey, StoredFrame]] = {}
        self._pairs: dict[str, list[str]] = {}
        self._trades: dict[str, ProducerTrades] = {}
        self._version = 0

    # --- whitelist

    def set_pairs(self, producer: str, pairs: list[str] | tuple[str, ...]) -> bool:
        """Replace a producer's whitelist; True if it changed (order included)."""
        new = list(pairs)
        with self._lock:
            changed = self._pairs.get(producer) != new
            self._pairs[producer] = new
            self._version += 1
        return changed

    def pairs(self, producer: str) -> list[str]:
        """A copy of the producer's whitelist, or ``[]``."""
        with self._lock:
            return list(self._pairs.get(producer, ()))

    def has_whitelist(self, producer: str) -> bool:
        with self._lock:
            return producer in self._pairs

    # --- the producer bot's trades

    def apply_trade(self, producer: str, message: RpcMessage) -> bool:
        """Take a producer's trade message into its trades table; True if it was one."""
        with self._lock:
            trades = self._trades.get(producer)
            if trades is None:
                trades = self._trades[producer] = ProducerTrades()
        changed = trades.apply(message)
        if changed:
            with self._lock:
                self._version += 1
        return changed

    def set_trades(self, producer: str, frame: pd.DataFrame) -> None:
        """Replace a producer's trades table (a :meth:`trades` frame, e.g. from a snapshot)."""
        trades = ProducerTrades.from_frame(frame)
        with self._lock:
            self._trades[producer] = trades
            self._version += 1

    def trades(self, producer: str) -> pd.DataFrame:
        """The producer's trades, one row per trade id (empty with the same columns if none)."""
        with self._lock:
            trades = self._trades.get(producer)
        return (trades or ProducerTrades()).frame()

    def has_trades(self, producer: str) -> bool:
        with self._lock:
            trades = self._trades.get(producer)
        return trades is not None and len(trades) > 0

    # --- frames

    def apply(self, producer: str, message: AnalyzedFrame) -> FrameUpdate:
        """Store one ``analyzed_df`` message by the rules in the module docstring."""
        key, frame, last_analyzed = message.key, message.frame, message.last_analyzed
        rows = len(frame)
        if frame.empty:
            return FrameUpdate(producer, key, "empty", 0, self._rows(producer, key), last_analyzed)
        if self.remove_entry_exit_signals:
            frame = remove_entry_exit_signals(frame)
        has_dates = "date" in frame.columns
        if rows < FULL_FRAME_ROWS and not has_dates:
            raise ProtocolError(
                f"analyzed_df {key.pair}: a frame of {rows} rows has no 'date' column, "
                "so it cannot be appended"
            )
        dates = _check_dates(key, frame["date"]) if has_dates else None
        with self._lock:
            return self._apply_locked(producer, key, frame, dates, last_analyzed)

    def _apply_locked(
        self,
        producer: str,
        key: FrameKey,
        frame: pd.DataFrame,
        dates: _Dates | None,
        last_analyzed: datetime,
    ) -> FrameUpdate:
        rows = len(frame)
        current = self._frames.get(producer, {}).get(key)
        request: int | None = None
        if rows >= FULL_FRAME_ROWS or current is None or current.frame.empty:
            action: Action = "replace"
            new, new_dates = frame, dates
            if current is None and rows == 1:
                # Most likely a broadcast that overtook the full reply: keep it meanwhile and
                # ask for the history, which the connection sends unless one is pending.
                request = MAX_CANDLES
        else:
            stored, known = current.frame, current._dates
            if dates is None or known is None or dates.dtype != known.dtype:
                return self._append_general(producer, key, stored, frame, last_analyzed)
            # Both date columns are strictly increasing datetimes of one dtype: compare int64.
            last, first = int(known.values[-1]), int(dates.values[0])
            step = _candle_step(key.timeframe) if isinstance(key.timeframe, str) else None
            if step is None or not -_SAFE_NS <= (first - last) * known.ns_per_unit <= step:
                # Maybe a gap (or a calendar timeframe): counted exactly as the general path.
                gap = candles_between(stored["date"].iloc[-1], frame["date"].iloc[0], key.timeframe)
                if gap > 1:
                    return _gap_update(producer, key, rows, len(stored), last_analyzed, gap)
            # else at most the next candle: candles_between would give <= 1.
            if int(dates.values[-1]) < last:
                raise _out_of_order(key, stored, frame)
            action = "append"
            new, new_dates = _append_known(stored, known, frame, dates)
        return self._store(producer, key, action, rows, new, new_dates, last_analyzed, request)

    def _append_general(
        self,
        producer: str,
        key: FrameKey,
        stored: pd.DataFrame,
        frame: pd.DataFrame,
        last_analyzed: datetime,
    ) -> FrameUpdate:
        """The append rules on the frames themselves, for dates the int64 cache cannot hold."""
        rows = len(frame)
        gap = candles_between(stored["date"].iloc[-1], frame["date"].iloc[0], key.timeframe)
        if gap > 1:
            return _gap_update(producer, key, rows, len(stored), last_analyzed, gap)
        if frame["date"].iloc[-1] < stored["date"].iloc[-1]:
            raise _out_of_order(key, stored, frame)
        new = _append(stored, frame)
        return self._store(producer, key, "append", rows, new, _dates_of(new), last_analyzed)

    def _store(
        self,
        producer: str,
        key: FrameKey,
        action: Action,
        rows: int,
        new: pd.DataFrame,
        new_dates: _Dates | None,
        last_analyzed: datetime,
        request: int | None = None,
    ) -> FrameUpdate:
        self._version += 1
        self._frames.setdefault(producer, {})[key] = StoredFrame(
            new, last_analyzed, time.time(), self._version, new_dates
        )
        return FrameUpdate(producer, key, action, rows, len(new), last_analyzed, request)

    def put(
        self, producer: str, key: FrameKey, frame: pd.DataFrame, last_analyzed: datetime
    ) -> None:
        """Store ``frame`` as it is, without the append rules (for restoring a snapshot)."""
        with self._lock:
            self._version += 1
            self._frames.setdefault(producer, {})[key] = StoredFrame(
                frame, last_analyzed, time.time(), self._version, _dates_of(frame)
            )

    def copy(self) -> FrameStore:
        """An independent store holding the same frames and whitelists, taken atomically.

        Cheap: stored frames are never mutated, so they are shared, not copied.
        """
        other = FrameStore(self.remove_entry_exit_signals)
        with self._lock:
            other._frames = {name: dict(entries) for name, entries in self._frames.items()}
            other._pairs = {name: list(pairs) for name, pairs in self._pairs.items()}
            trades = dict(self._trades)
            other._version = self._version
        other._trades = {name: ProducerTrades(t.rows()) for name, t in trades.items()}
        return other

    def entry(self, producer: str, key: FrameKey) -> StoredFrame | None:
        with self._lock:
            return self._frames.get(producer, {}).get(key)

    def resolve(
        self, producer: str, pair: str, timeframe: str | None = None, candle_type: str | None = None
    ) -> FrameKey | None:
        """The stored key for ``pair``; a missing timeframe or candle type means "whatever this
        producer sends" (the most recently updated match if it sends several)."""
        with self._lock:
            entries = self._frames.get(producer, {})
            if timeframe and candle_type:
                key = FrameKey(pair, timeframe, candle_type)
                return key if key in entries else None
            matches = [
                (stored.version, key)
                for key, stored in entries.items()
                if key.pair == pair
                and (not timeframe or key.timeframe == timeframe)
                and (not candle_type or key.candle_type == candle_type)
            ]
        return max(matches)[1] if matches else None

    def get(
        self,
        producer: str,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
    ) -> tuple[pd.DataFrame, datetime]:
        """``(copy of the frame, last_analyzed)``; ``(empty frame, 1970-01-01 UTC)`` if none."""
        key = self.resolve(producer, pair, timeframe, candle_type)
        stored = self.entry(producer, key) if key else None
        if stored is None:
            return pd.DataFrame(), EPOCH
        return stored.frame.copy(), stored.last_analyzed

    def keys(self, producer: str) -> list[FrameKey]:
        with self._lock:
            return list(self._frames.get(producer, {}))

    def producers(self) -> list[str]:
        with self._lock:
            return sorted(set(self._frames) | set(self._pairs) | set(self._trades))

    @property
    def version(self) -> int:
        """Increases on every stored change; for waiting on updates."""
        return self._version

    def _rows(self, producer: str, key: FrameKey) -> int:
        stored = self.entry(producer, key)
        return 0 if stored is None else len(stored.frame)


class ProducerData:
    """The read interface with Freqtrade's data provider names, over a :class:`FrameStore`:
    shared by the live consumers and snapshots (and what strategy code reads)."""

    store: FrameStore
    _empty_lookups: EmptyLookups | None = None

    def get_producer_pairs(self, producer_name: str = "default") -> list[str]:
        """A copy of the producer's whitelist (``[]`` if none yet), as in Freqtrade."""
        return self.store.pairs(producer_name)

    def get_producer_df(
        self,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
        producer_name: str = "default",
    ) -> tuple[pd.DataFrame, datetime]:
        """``(copy of the analyzed frame, last_analyzed)`` as Freqtrade's ``get_producer_df``.

        No data gives ``(DataFrame(), 1970-01-01 UTC)``, as in Freqtrade, and logs why (a
        warning, once per lookup; :meth:`explain` says it again). ``timeframe`` /
        ``candle_type`` default to what that producer sends.
        """
        frame, last_analyzed = self.store.get(producer_name, pair, timeframe, candle_type)
        if frame.empty:
            lookups = self._empty_lookups
            if lookups is None:
                from .diagnostics import EmptyLookups

                lookups = self._empty_lookups = EmptyLookups()
            lookups.warn(self, pair, timeframe, candle_type, producer_name)
        return frame, last_analyzed

    def explain(
        self,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
        producer_name: str = "default",
    ) -> str:
        """What is held for this lookup and, if :meth:`get_producer_df` gives nothing, why and
        what to do: unknown producer, pair not in the whitelist (close matches, spot and
        futures spellings), timeframe or candle type not sent, frame not received yet,
        producer down or refusing the token."""
        from .diagnostics import explain

        return explain(
            self, pair, timeframe, candle_type, producer_name, self._producer_connections()
        )

    def freshness(self) -> pd.DataFrame:
        """One row per (producer, pair, timeframe, candle_type): the newest candle
        (``last_candle``, its open date), when it arrived (``received``), ``lag_seconds``
        (arrival minus the candle's close), ``overdue_seconds`` (how late the next candle
        is), ``last_analyzed`` and its age, ``rows``, ``messages`` received, ``gap_requests``
        and ``lagging`` (beyond the producer's ``max_lag``)."""
        from .diagnostics import freshness

        return freshness(self.store, self._producer_connections())

    def _producer_connections(self) -> Mapping[str, ProducerConnection] | None:
        """The live connections by producer name (None for data without any: snapshots)."""
        return None

    def producer_trades(self, producer_name: str = "default") -> pd.DataFrame:
        """The producer bot's own trades, one row per trade id (index ``trade_id``), rebuilt
        from its trade messages (subscribe with the producer's ``topics``, e.g. ``entry_fill``,
        ``exit_fill``): columns :data:`~producerconsumer.trades.TRADE_COLUMNS`. Empty (same
        columns) before any trade message."""
        return self.store.trades(producer_name)


def _gap_update(
    producer: str, key: FrameKey, rows: int, stored_rows: int, last_analyzed: datetime, gap: float
) -> FrameUpdate:
    missing = int(gap) + 1
    request = missing if missing < FULL_FRAME_ROWS else MAX_CANDLES
    return FrameUpdate(producer, key, "gap", rows, stored_rows, last_analyzed, request)


def _out_of_order(key: FrameKey, stored: pd.DataFrame, frame: pd.DataFrame) -> ProtocolError:
    return ProtocolError(
        f"analyzed_df {key.pair}: {len(frame)} row(s) ending at {frame['date'].iloc[-1]}, "
        f"before the stored last candle {stored['date'].iloc[-1]}: out of order, ignored"
    )


def _int64_dates(dates: pd.Series) -> _Dates | None:
    """``dates`` as int64 if they are numpy-backed datetimes (not checked further), else None."""
    dtype = dates.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        unit = dtype.unit
    elif isinstance(dtype, np.dtype) and dtype.kind == "M":
        unit, count = np.datetime_data(dtype)
        if count != 1:
            return None
    else:
        return None
    ns_per_unit = _NS_PER_UNIT.get(unit)
    values = getattr(dates.array, "asi8", None)
    if ns_per_unit is None or not isinstance(values, np.ndarray) or values.dtype != np.int64:
        return None
    values = values.view()
    values.flags.writeable = False
    return _Dates(dtype, ns_per_unit, values)


def _increasing(values: npt.NDArray[np.int64]) -> bool:
    """True if strictly increasing (NaT, the int64 minimum, is not looked for)."""
    return len(values) < 2 or bool((values[1:] > values[:-1]).all())


def _dates_of(frame: pd.DataFrame) -> _Dates | None:
    """The int64 dates of a frame about to be stored, if it has strictly increasing ones."""
    if "date" not in frame.columns:
        return None
    column = frame["date"]
    dates = _int64_dates(column) if isinstance(column, pd.Series) else None
    if dates is None or (dates.values == _NAT).any() or not _increasing(dates.values):
        return None
    return dates


def _check_dates(key: FrameKey, dates: pd.Series) -> _Dates | None:
    """Refuse what cannot be appended; the dates as int64 if numpy-backed, else None."""
    if isinstance(dates, pd.DataFrame):  # duplicate 'date' column labels
        raise ProtocolError(f"analyzed_df {key.pair}: more than one 'date' column")
    known = _int64_dates(dates)
    if known is None:
        if not pd.api.types.is_datetime64_any_dtype(dates.dtype):
            raise ProtocolError(
                f"analyzed_df {key.pair}: 'date' column holds {dates.dtype} values, not datetimes"
            )
        missing = bool(dates.isna().any())
        increasing = dates.is_monotonic_increasing and dates.is_unique
    else:
        missing = bool((known.values == _NAT).any())
        increasing = _increasing(known.values)
    if missing:
        raise ProtocolError(f"analyzed_df {key.pair}: 'date' column has missing values")
    if not increasing:
        raise ProtocolError(
            f"analyzed_df {key.pair}: dates are not strictly increasing (unsorted or duplicated)"
        )
    return known


@lru_cache(maxsize=256)
def _candle_step(timeframe: str) -> int | None:
    """One candle in nanoseconds, or None for calendar months and years, invalid timeframes and
    absurdly long ones (``candles_between`` counts or refuses those)."""
    try:
        unit = _parse(timeframe)[1]
    except ValueError:
        return None
    step = timeframe_to_seconds(timeframe) * _NS_PER_UNIT["s"]
    return None if unit in ("M", "y") or step > _SAFE_NS else step


def _append_known(
    stored: pd.DataFrame, known: _Dates, incoming: pd.DataFrame, dates: _Dates
) -> tuple[pd.DataFrame, _Dates]:
    """:func:`_append` for date columns of one dtype, both strictly increasing without NaT, and
    the appended frame's dates."""
    # ``stored["date"] < first`` holds exactly for the rows before ``pos``.
    pos = int(np.searchsorted(known.values, dates.values[0], side="left"))
    if pos == 0:
        return incoming, dates
    # The kept rows end before the first incoming date, so before the last: always concatenated.
    # All kept rows go into the concat, as in _append (pandas 2 picks a column's dtype by
    # whether its part is all-NA), and the cap is taken after it.
    kept = stored if pos == len(stored) else stored.iloc[:pos]
    new = pd.concat([kept, incoming], ignore_index=True)
    values = np.concatenate([known.values[:pos], dates.values])
    if len(new) > MAX_ROWS:
        new = new.iloc[-MAX_ROWS:]
        new.index = pd.RangeIndex(MAX_ROWS)
        values = values[-MAX_ROWS:]
    values.flags.writeable = False
    return new, _Dates(known.dtype, known.ns_per_unit, values)


def _append(stored: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    kept = stored[stored["date"] < incoming["date"].iloc[0]]
    if kept.empty:
        # Freqtrade stores the incoming frame as sent here: no cap, index labels kept.
        return incoming
    if kept["date"].iloc[-1] != incoming["date"].iloc[-1]:
        kept = pd.concat([kept, incoming])
    if len(kept) > MAX_ROWS:
        kept = kept.iloc[-MAX_ROWS:]
    return kept.reset_index(drop=True)
