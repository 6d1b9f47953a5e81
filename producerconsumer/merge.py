"""``merge_informative_pair``: Freqtrade's way of joining an informative frame onto a base frame.

The result is the one Freqtrade 2026.9 returns, value for value and dtype for dtype (the
differential test in ``tests/interop/oracle_tests`` checks this against Freqtrade itself):

* an informative candle reaches a base row only once it has closed: its merge key is its date
  plus the informative timeframe minus the base timeframe (``1M`` adds one calendar month);
* ``ffill=True`` is an *ordered* left join: the rows come out sorted by base date (stable,
  ``NaT`` first), a base row without an exact key match takes the whole informative row of the
  row before it, and leading rows without a match take the last earlier informative candle
  (Freqtrade 2025.12+);
* ``ffill=False`` is a plain left join in base order;
* duplicated dates multiply rows like any SQL join, in both modes.

The join itself runs on integer arrays (numpy), which is what makes it faster than the generic
pandas merge. Frames whose join keys are not comparable datetimes (tz-naive against tz-aware,
strings, ...) or whose column names clash with the temporary key go to pandas' own merge
instead, so they fail, or succeed, exactly as in Freqtrade.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from producerconsumer.timeframes import timeframe_to_minutes

__all__ = ["merge_informative_pair"]

# The name of the temporary key column, before renaming (as in Freqtrade, so that a clash with a
# user column behaves the same).
_KEY = "date_merge"
_LEFT_ON = "date"  # the base frame's date column; Freqtrade hard-codes it

_FASTER_MESSAGE = (
    "Tried to merge a faster timeframe to a slower timeframe."
    # Freqtrade's message has no space here; callers may match on it.
    "This would create new rows, and can throw off your regular indicators."
)
_SUFFIX_MESSAGE = "You can not specify `append_timeframe` as True and a `suffix`."

Indexer = npt.NDArray[np.intp]


def merge_informative_pair(
    dataframe: pd.DataFrame,
    informative: pd.DataFrame,
    timeframe: str,
    timeframe_inf: str,
    ffill: bool = True,
    append_timeframe: bool = True,
    date_column: str = "date",
    suffix: str | None = None,
) -> pd.DataFrame:
    """Merge ``informative`` (timeframe ``timeframe_inf``) onto ``dataframe`` (``timeframe``)
    without lookahead, exactly as Freqtrade's function of the same name.

    :param dataframe: the base frame; it must have a ``date`` column.
    :param informative: the informative frame, with its dates in ``date_column``.
    :param timeframe: the base frame's timeframe, e.g. ``"5m"``.
    :param timeframe_inf: the informative timeframe; not faster than ``timeframe``.
    :param ffill: forward-fill whole informative rows onto the base rows between matches
        (an ordered join); ``False`` gives a plain left join with NaN/NaT between matches.
    :param append_timeframe: rename every informative column ``<col>_<timeframe_inf>``.
    :param date_column: the informative frame's date column.
    :param suffix: rename every informative column ``<col>_<suffix>`` instead; needs
        ``append_timeframe=False``.
    :returns: a new frame with a fresh RangeIndex: the base columns, then the informative
        columns. With neither renaming, clashing names get pandas' ``_x`` / ``_y``.
    :raises ValueError: if ``timeframe_inf`` is faster than ``timeframe``, or if both
        ``suffix`` and ``append_timeframe`` are given (checked in this order, as Freqtrade does).
    """
    # Checks and key in Freqtrade's order, so that each bad input raises the same error first.
    minutes_inf = timeframe_to_minutes(timeframe_inf)
    minutes = timeframe_to_minutes(timeframe)
    dates = informative[date_column]
    if minutes == minutes_inf:
        key = dates
    elif minutes < minutes_inf:
        # Shift each candle to the last base candle that opens before it closes, so that no
        # base row sees a candle that is still open (no lookahead).
        if informative.empty:
            key = dates
        elif timeframe_inf == "1M":
            # Calendar months: a 30-day shift would be off by up to 2 days.
            key = (dates + pd.offsets.MonthBegin(1)) - pd.to_timedelta(minutes, "m")
        else:
            key = (dates + pd.to_timedelta(minutes_inf, "m")) - pd.to_timedelta(minutes, "m")
    else:
        raise ValueError(_FASTER_MESSAGE)

    if suffix and append_timeframe:
        raise ValueError(_SUFFIX_MESSAGE)
    tag = timeframe_inf if append_timeframe else suffix
    key_name = f"{_KEY}_{tag}" if tag else _KEY
    inf_names = (
        [f"{col}_{tag}" for col in informative.columns] if tag else list(informative.columns)
    )

    left_names = list(dataframe.columns)
    if not _fast_path_ok(dataframe, key, left_names, inf_names, key_name):
        return _merge_with_pandas(dataframe, informative, key, inf_names, key_name, ffill)

    try:
        left_keys, right_keys = _comparable_keys(dataframe[_LEFT_ON], key)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        # A date that the finer unit cannot hold: pandas knows what that merge means.
        return _merge_with_pandas(dataframe, informative, key, inf_names, key_name, ffill)
    left_idx, right_idx = _join_indexers(left_keys, right_keys, ordered=ffill)
    lead = _Lead.none()
    if ffill:
        right_idx = _ffill_indexer(right_idx)
        lead = _leading_fill(right_idx, right_keys)

    overlap = set(left_names) & set(inf_names)
    left_part = dataframe.take(left_idx)
    left_part.columns = pd.Index([f"{c}_x" if c in overlap else c for c in left_names])
    if lead.rows and lead.all_unmatched:
        right_part = _take_filled_rows(informative, right_idx, lead, inf_names, overlap)
    else:
        right_part = _take_rows(informative, right_idx)
    right_part.columns = pd.Index([f"{c}_y" if c in overlap else c for c in inf_names])
    left_part.index = pd.RangeIndex(len(left_idx))
    result = pd.concat([left_part, right_part], axis=1)
    if lead.rows and not lead.all_unmatched:
        _fill_like_fillna(result, informative, inf_names, lead)
    return result


# --- the fast path: datetime keys as int64


_NAT = np.iinfo(np.int64).min  # numpy's int64 view of NaT; it sorts first, as pandas puts NaT


def _fast_path_ok(
    dataframe: pd.DataFrame,
    key: pd.Series,
    left_names: list[Hashable],
    inf_names: list[Hashable],
    key_name: str,
) -> bool:
    """Whether the numpy join gives pandas' result: datetime keys of the same kind (both naive or
    both tz-aware) and plain, unique string column names that only clash in the ``_x``/``_y``
    way. Anything else is pandas' business (its errors, its renaming rules)."""
    if _LEFT_ON not in left_names:
        return False
    names = [*left_names, *inf_names]
    if not all(isinstance(n, str) for n in names) or len(set(left_names)) != len(left_names):
        return False
    if len(set(inf_names)) != len(inf_names) or key_name in names:
        return False
    overlap = set(left_names) & set(inf_names)
    renamed = {f"{c}_x" for c in overlap} | {f"{c}_y" for c in overlap}
    if renamed & (set(names) - overlap):
        return False  # pandas refuses suffixes that duplicate a column; let it say so
    left_dtype, right_dtype = dataframe[_LEFT_ON].dtype, key.dtype
    kinds = [_datetime_kind(left_dtype), _datetime_kind(right_dtype)]
    return None not in kinds and kinds[0] == kinds[1]


def _datetime_kind(dtype: object) -> str | None:
    """``"naive"`` or ``"aware"`` for datetime64 dtypes, ``None`` for anything else."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "aware"
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return "naive"
    return None


def _comparable_keys(
    left: pd.Series, right: pd.Series
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Both key columns as int64 in their finer unit (tz-aware values are UTC instants, so
    different zones compare correctly; NaT becomes int64 min, which sorts first)."""
    units = ["s", "ms", "us", "ns"]
    unit = max(left.dt.unit, right.dt.unit, key=units.index)
    return (
        np.asarray(left.dt.as_unit(unit).array.asi8),
        np.asarray(right.dt.as_unit(unit).array.asi8),
    )


def _join_indexers(
    left: npt.NDArray[np.int64], right: npt.NDArray[np.int64], *, ordered: bool
) -> tuple[Indexer, Indexer]:
    """Row positions of a left join on equal keys: one output row per (left row, matching right
    row), right rows in their original order, ``-1`` for a left row without a match. Output rows
    follow the left order, or, when ``ordered``, the left keys sorted stably (NaT first)."""
    left_order: Indexer = (
        np.argsort(left, kind="stable") if ordered else np.arange(len(left), dtype=np.intp)
    )
    right_order: Indexer = np.argsort(right, kind="stable")
    sorted_right = right[right_order]
    keys = left[left_order]
    lo = np.searchsorted(sorted_right, keys, side="left")
    hi = np.searchsorted(sorted_right, keys, side="right")
    matches = hi - lo
    if len(right) and (matches == 1).all():
        # The usual case (unique informative dates): one row per base row.
        return left_order, right_order[lo]
    per_row = np.maximum(matches, 1)
    left_idx = np.repeat(left_order, per_row)
    first_of_row = np.repeat(np.cumsum(per_row) - per_row, per_row)
    position = np.repeat(lo, per_row) + (np.arange(len(left_idx)) - first_of_row)
    has_match = np.repeat(matches > 0, per_row)
    if len(right) == 0:
        return left_idx, np.full(len(left_idx), -1, dtype=np.intp)
    right_idx = np.where(has_match, right_order[np.minimum(position, len(right) - 1)], -1)
    return left_idx, right_idx.astype(np.intp)


def _ffill_indexer(indexer: Indexer) -> Indexer:
    """Replace each ``-1`` by the last matched position before it (leading ``-1`` stay)."""
    seen = indexer >= 0
    if seen.all():
        return indexer
    last = np.maximum.accumulate(np.where(seen, np.arange(len(indexer)), -1))
    return np.where(last >= 0, indexer[np.maximum(last, 0)], -1)


def _take_rows(frame: pd.DataFrame, indexer: Indexer) -> pd.DataFrame:
    """``frame``'s rows at ``indexer``, with all-NA rows at ``-1``, promoting dtypes as pandas'
    merge does (int to float64, bool to object; nothing changes without a ``-1``): both are
    pandas' reindexing with a fill, done block by block."""
    by_position = frame.set_axis(pd.RangeIndex(len(frame)), axis=0)
    # A new frame, never a view of ``frame`` (pandas 2.2 without copy-on-write included).
    return by_position.reindex(indexer).set_axis(pd.RangeIndex(len(indexer)), axis=0)


@dataclass(frozen=True)
class _Lead:
    """Freqtrade's (2025.12+) fill of the rows before the first match: ``rows`` leading rows
    take informative row ``source``; ``all_unmatched`` when none of them matched anything."""

    rows: int
    source: int
    all_unmatched: bool

    @staticmethod
    def none() -> _Lead:
        return _Lead(0, -1, True)


def _leading_fill(right_idx: Indexer, right_keys: npt.NDArray[np.int64]) -> _Lead:
    """Which leading rows Freqtrade fills, and from which informative row.

    Freqtrade looks at the merged key column: if the first row's key is NaT (more than one row,
    a non-empty informative frame), the rows before the first non-NaT key take the **last row in
    informative order** whose key is earlier than that key. Only the past is used, so there is
    no lookahead; nothing is filled when no row matched or nothing is earlier.
    """
    if len(right_idx) <= 1 or len(right_keys) == 0:
        return _Lead.none()
    matched = np.where(right_idx >= 0, right_keys[np.maximum(right_idx, 0)], _NAT)
    if matched[0] != _NAT:
        return _Lead.none()
    valid = np.flatnonzero(matched != _NAT)
    if len(valid) == 0:
        return _Lead.none()
    first = int(valid[0])
    earlier = np.flatnonzero((right_keys < matched[first]) & (right_keys != _NAT))
    if len(earlier) == 0:
        return _Lead.none()
    # Rows matched to a NaT key count as "before the first match" too; then only their NaN
    # cells are filled, which the fast route cannot express.
    return _Lead(first, int(earlier[-1]), bool((right_idx[:first] < 0).all()))


def _take_filled_rows(
    informative: pd.DataFrame,
    right_idx: Indexer,
    lead: _Lead,
    inf_names: Sequence[Hashable],
    overlap: set[Hashable],
) -> pd.DataFrame:
    """:func:`_take_rows` with the leading rows taken from row ``lead.source``, in the dtypes
    their NaN made before Freqtrade filled them (int columns stay float64, bool ones object).
    Clashing columns are not filled: Freqtrade fills by name, and those were renamed ``_y``."""
    filled_idx = right_idx.copy()
    filled_idx[: lead.rows] = lead.source
    result = _take_rows(informative, filled_idx)
    # The dtypes a missing row gives each column, from a one-row take.
    with_nan = _take_rows(informative.iloc[:1], np.array([-1], dtype=np.intp)).dtypes
    have = result.dtypes
    for position, name in enumerate(inf_names):
        if name in overlap:
            unfilled = _take_rows(informative.iloc[:, [position]], right_idx)
            result.isetitem(position, unfilled.iloc[:, 0].array)
        elif have.iloc[position] != with_nan.iloc[position]:
            column = result.iloc[:, position].astype(with_nan.iloc[position])
            result.isetitem(position, column.array)
    return result


def _fill_like_fillna(
    result: pd.DataFrame, informative: pd.DataFrame, inf_names: Sequence[Hashable], lead: _Lead
) -> None:
    """The leading fill cell by cell, like ``fillna`` with the source row by column name, for
    the rare frames where some leading rows matched a NaT key."""
    row = informative.iloc[lead.source].copy()
    row.index = pd.Index(list(inf_names))
    head = slice(None, lead.rows - 1)
    with warnings.catch_warnings():
        # pandas 2.2 announces that fillna will stop downcasting object columns (a bool column
        # that got NaN); the result is the one Freqtrade gets, the warning is only noise.
        warnings.filterwarnings("ignore", "Downcasting object dtype", FutureWarning)
        result.loc[head] = result.loc[head].fillna(row)


# --- the general path: pandas' own merge


def _merge_with_pandas(
    dataframe: pd.DataFrame,
    informative: pd.DataFrame,
    key: pd.Series,
    inf_names: list[Hashable],
    key_name: str,
    ffill: bool,
) -> pd.DataFrame:
    """The same join done by pandas (``merge_ordered`` / ``merge``), for inputs the fast path does
    not take: pandas decides what such keys and names mean, and which errors they raise."""
    right = informative.copy()
    right[_KEY] = key
    right.columns = pd.Index([*inf_names, key_name])
    if ffill:
        result = pd.merge_ordered(
            dataframe, right, fill_method="ffill", left_on=_LEFT_ON, right_on=key_name, how="left"
        )
        if len(result) > 1 and len(right) > 0 and pd.isnull(result.at[0, key_name]):
            first = result[key_name].first_valid_index()
            if first:
                earlier = right[right[key_name] < result.at[first, key_name]]
                if not earlier.empty:
                    result.loc[: first - 1] = result.loc[: first - 1].fillna(earlier.iloc[-1])
    else:
        result = pd.merge(dataframe, right, left_on=_LEFT_ON, right_on=key_name, how="left")
    return result.drop(key_name, axis=1)
