"""Dataframe codec: the ``__value__`` string of an ``analyzed_df`` frame.

Freqtrade's producer writes ``DataFrame.to_json(orient="split")`` after turning every datetime
column into int64 milliseconds. Its consumer reads it back with ``pd.read_json(orient="split")``
and converts ``date`` to UTC datetimes. ``reference_decode_dataframe`` is exactly that path;
``decode_dataframe`` returns an equal frame, much faster.

How ``decode_dataframe`` stays identical to the reference:

* It parses with pandas' own JSON parser (the one ``read_json`` uses, ``precise_float=False``).
  That parser is not correctly rounded: about one 10-decimal value in seven comes out one ulp
  away from what ``orjson``/``json`` return, so using any other parser would break exact parity.
* Each column's dtype is then inferred as ``read_json`` would for the shapes producers send:
  numbers and nulls become float64, downcast to int64 when every value is integral and none is
  null; all-bool columns stay bool; string columns become object (pandas 2) or ``str``
  (pandas 3); ``date`` becomes UTC datetimes.
* Everything else is sent to ``reference_decode_dataframe``, so the result is always what a
  Freqtrade consumer would store: empty frames, non-string, duplicate, numeric-looking or
  date-parseable column names, other date-like column names (``*_at``, ``*_time``,
  ``timestamp*``, ``modified``, ``datetime``, ``Date``...), index labels that ``read_json`` would
  turn into dates, strings that could be read as numbers, numbers of magnitude >= 2**53,
  infinities, mixed strings and numbers, nested values, ``date`` values that are not integer
  milliseconds within 1970-04-26 .. 2255-03-14.

Malformed payloads (not JSON, not an object, missing or unexpected keys, ``data`` not a list of
rows of ``len(columns)`` values, ``index`` not matching ``data``) raise ``FrameDecodeError``,
a ``ValueError``. Unlike pandas, rows of the wrong length are an error rather than padded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from io import StringIO
from typing import Any, Final

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

__all__ = [
    "FrameDecodeError",
    "decode_dataframe",
    "encode_dataframe",
    "reference_decode_dataframe",
]

_JsonLoads = Callable[..., Any]
_ObjectArray = Callable[[list[Any]], np.ndarray]
_FromArrays = Callable[..., pd.DataFrame]

# Private pandas helpers, looked up defensively: if a future pandas moves them, the decoder
# degrades to slower public equivalents (or to the reference path) instead of breaking.
try:
    from pandas.io.json._json import ujson_loads as _pandas_json_loads

    _ujson_loads: _JsonLoads | None = _pandas_json_loads
except ImportError:  # pragma: no cover - depends on the pandas version
    _ujson_loads = None

try:
    from pandas._libs.lib import to_object_array as _pandas_to_object_array

    _to_object_array: _ObjectArray = _pandas_to_object_array
except ImportError:  # pragma: no cover - depends on the pandas version

    def _to_object_array(rows: list[Any]) -> np.ndarray:
        out = np.empty((len(rows), len(rows[0])), dtype=object)
        out[:] = rows
        return out


_from_arrays: _FromArrays | None = getattr(pd.DataFrame, "_from_arrays", None)

_SPLIT_KEYS: Final = ("columns", "index", "data")
_INT64_MIN: Final = int(np.iinfo(np.int64).min)
# read_json turns an integer index into dates unless some label is at or below one year of
# seconds (its default minimum stamp) and is not the NaT sentinel.
_MIN_STAMP_SECONDS: Final = 31_536_000
# ``date`` values read_json certainly reads as milliseconds: too big to be seconds within the
# datetime64[ns] range, small enough to be milliseconds within it.
_DATE_MS_LOW: Final = 10**10
_DATE_MS_HIGH: Final = 9 * 10**12
# Beyond this, float64 cannot hold every integer, so the int-vs-float outcome of a numeric column
# could depend on how pandas mixes ints and floats; such frames use the reference path.
_EXACT_INT_LIMIT: Final = float(2**53)
_NUMERIC_KINDS: Final = frozenset({"floating", "integer", "mixed-integer-float", "empty"})
# An ASCII character that cannot occur in anything float() or a pyarrow cast accepts (digits,
# signs, '.', '_', exponents, nan/inf/infinity, whitespace). Non-ASCII is not listed because
# float() accepts Unicode digits and spaces.
_NUMERIC_CHARS: Final = set("0123456789+-._eEnNaAiIfFtTyY")
_NOT_A_NUMBER: Final = re.compile(
    "["
    + re.escape("".join(c for c in map(chr, range(0x21, 0x7F)) if c not in _NUMERIC_CHARS))
    + "]"
)
_DATE_SUFFIXES: Final = ("_at", "_time")
_DATE_NAMES: Final = frozenset({"modified", "date", "datetime"})


class FrameDecodeError(ValueError):
    """A dataframe payload that is not a valid ``orient="split"`` frame."""


class _NeedsReference(Exception):
    """The fast path cannot prove it matches ``read_json`` for this payload."""


def encode_dataframe(df: pd.DataFrame) -> str:
    """Return the ``__value__`` string a Freqtrade producer sends for ``df``.

    Unlike Freqtrade, the caller's frame is not modified.
    """
    dates = df.select_dtypes(include=["datetime", "datetime64", "datetimetz"]).columns
    if len(dates):
        df = df.copy(deep=False)
        for column in dates:
            df[column] = df[column].dt.as_unit("ms").astype("int64")
    return df.to_json(orient="split")


def reference_decode_dataframe(text: str) -> pd.DataFrame:
    """Decode as Freqtrade's consumer does (``pd.read_json`` + UTC ``date``): the parity oracle."""
    df = pd.read_json(StringIO(text), orient="split")
    if "date" in df.columns:
        df["date"] = pd.to_datetime(df["date"], unit="ms", utc=True)
    return df


def decode_dataframe(text: str) -> pd.DataFrame:
    """Decode a ``__value__`` string into the frame Freqtrade's consumer would store.

    Raises ``FrameDecodeError`` (a ``ValueError``) for a malformed payload.
    """
    if not isinstance(text, str):
        raise FrameDecodeError(f"dataframe payload must be a str, got {type(text).__name__}")
    if _ujson_loads is None:  # pragma: no cover - depends on the pandas version
        return _decode_reference(text)
    try:
        decoded = _ujson_loads(text, precise_float=False)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise FrameDecodeError(f"dataframe payload is not valid JSON: {exc}") from exc
    columns, index, rows = _validate_split(decoded)
    try:
        frame = _decode_fast(text, columns, index, rows)
    except _NeedsReference:
        return _decode_reference(text)
    return frame


def _decode_reference(text: str) -> pd.DataFrame:
    try:
        return reference_decode_dataframe(text)
    except Exception as exc:
        raise FrameDecodeError(f"pandas could not decode the dataframe payload: {exc}") from exc


def _fast_path_refusal(text: str) -> str | None:
    """Why ``decode_dataframe`` would use the reference path for ``text``; None if it would not.

    For tests and diagnostics; raises ``FrameDecodeError`` like ``decode_dataframe``.
    """
    if _ujson_loads is None:  # pragma: no cover - depends on the pandas version
        return "pandas JSON parser unavailable"
    try:
        decoded = _ujson_loads(text, precise_float=False)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise FrameDecodeError(f"dataframe payload is not valid JSON: {exc}") from exc
    try:
        _decode_fast(text, *_validate_split(decoded))
    except _NeedsReference as reason:
        return str(reason)
    return None


def _validate_split(decoded: object) -> tuple[list[Any], list[Any], list[list[Any]]]:
    """Check the ``split`` layout; return ``(columns, index, rows)``."""
    if not isinstance(decoded, dict):
        raise FrameDecodeError(
            "dataframe payload must be a JSON object with keys 'columns', 'index' and 'data', "
            f"got {_json_type(decoded)}"
        )
    missing = [key for key in _SPLIT_KEYS if key not in decoded]
    if missing:
        raise FrameDecodeError(f"dataframe payload is missing key(s): {_quoted(missing)}")
    extra = [str(key) for key in decoded if key not in _SPLIT_KEYS]
    if extra:
        raise FrameDecodeError(f"dataframe payload has unexpected key(s): {_quoted(extra)}")
    for key in _SPLIT_KEYS:
        if not isinstance(decoded[key], list):
            raise FrameDecodeError(
                f"dataframe payload '{key}' must be a JSON array, got {_json_type(decoded[key])}"
            )
    columns: list[Any] = decoded["columns"]
    index: list[Any] = decoded["index"]
    rows: list[Any] = decoded["data"]
    width = len(columns)
    if set(map(type, rows)) - {list} or set(map(len, rows)) - {width}:
        for number, row in enumerate(rows):
            if not isinstance(row, list):
                raise FrameDecodeError(
                    f"dataframe payload row {number} must be a JSON array, got {_json_type(row)}"
                )
            if len(row) != width:
                raise FrameDecodeError(
                    f"dataframe payload row {number} has {len(row)} values, "
                    f"expected {width} (one per column)"
                )
    # pandas writes a frame with rows but no columns as ``"data":[]``, so that is not an error.
    if len(index) != len(rows) and (width or rows):
        raise FrameDecodeError(
            f"dataframe payload 'index' has {len(index)} labels but 'data' has {len(rows)} rows"
        )
    return columns, index, rows


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "value")


def _quoted(keys: Sequence[str]) -> str:
    return ", ".join(repr(key) for key in keys)


@lru_cache(maxsize=1)
def _calibration() -> tuple[Any, Any]:
    """Dtypes this pandas gives a decoded ``date`` column and a string column.

    Measured through the reference path once, rather than assumed from the pandas version.
    """
    probe = reference_decode_dataframe(
        '{"columns":["date","tag"],"index":[0],"data":[[1795381200000,"x"]]}'
    )
    return probe["date"].dtype, probe["tag"].dtype


@lru_cache(maxsize=128)
def _column_axis(names: tuple[str, ...]) -> pd.Index | None:
    """The column index ``read_json`` builds for ``names``, or None if it is not ``names``.

    ``read_json`` tries to turn column labels into numbers and dates (and renames duplicates); it
    does so from the labels alone, so an empty frame with the same labels shows the outcome. A
    producer sends the same labels in every frame, so this costs one small ``read_json`` per
    strategy.
    """
    if len(set(names)) != len(names):
        return None
    # json.dumps escapes everything (even lone surrogates), so pandas' parser reads back the same
    # labels it read from the payload.
    text = json.dumps({"columns": list(names), "index": [], "data": []})
    try:
        axis = pd.read_json(StringIO(text), orient="split").columns
    except Exception:
        return None
    if len(axis) != len(names) or any(
        type(label) is not str or label != name for label, name in zip(axis, names, strict=True)
    ):
        return None
    return axis


def _is_date_like(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(_DATE_SUFFIXES) or lower in _DATE_NAMES or lower.startswith("timestamp")


def _decode_fast(
    text: str, columns: list[Any], index: list[Any], rows: list[list[Any]]
) -> pd.DataFrame:
    """Build the frame without ``read_json``; raise ``_NeedsReference`` when unsure."""
    if not rows or not columns:
        raise _NeedsReference("empty frame")
    if any(type(name) is not str for name in columns):
        raise _NeedsReference("non-string column name")
    date_position = -1
    for position, name in enumerate(columns):
        if _is_date_like(name):
            if name != "date":
                raise _NeedsReference(f"date-like column name {name!r}")
            date_position = position
    axis = _column_axis(tuple(columns))
    if axis is None:
        raise _NeedsReference("read_json would rename or convert the column labels")
    row_index = _row_index(index)
    date_dtype, string_dtype = _calibration()

    table = _to_object_array(rows)
    kinds = _classify_from_first_row(text, table, columns, date_position)
    if kinds is None:
        kinds = _classify_every_value(table, date_position)

    arrays: list[Any] = [None] * len(columns)
    others = [position for position, kind in enumerate(kinds) if kind != "numeric"]
    for position in others:
        column = table[:, position]
        kind = kinds[position]
        if kind == "string":
            arrays[position] = (
                column.copy()
                if string_dtype == np.dtype(object)
                else pd.array(column, dtype=string_dtype)
            )
        elif kind == "bool":
            arrays[position] = column.astype(np.bool_)
        else:
            arrays[position] = _convert_date(column, date_dtype)
    if len(others) < len(columns):
        # One cast of the whole (row-major) table is much faster than casting strided columns,
        # so the columns already converted are blanked out rather than skipped (with 0.0: numpy
        # casts None to NaN through a slow path, doubling the cost of a few blanked columns).
        table[:, others] = 0.0
        _convert_numeric(table, kinds, arrays)
    if _from_arrays is not None:
        return _from_arrays(arrays, axis, row_index, verify_integrity=False)
    frame = pd.DataFrame(dict(enumerate(arrays)), index=row_index)  # pragma: no cover
    frame.columns = axis  # pragma: no cover
    return frame  # pragma: no cover


def _row_index(index: list[Any]) -> pd.Index:
    """The row index read_json keeps: the integer labels as sent."""
    if set(map(type, index)) != {int}:
        raise _NeedsReference("index labels are not all integers")
    counting, axis = _counting_labels(len(index))
    if index == counting:  # what producers send
        return axis.view()
    try:
        labels = np.array(index, dtype=np.int64)
    except OverflowError:
        raise _NeedsReference("index label outside int64") from None
    if not ((labels <= _MIN_STAMP_SECONDS) & (labels != _INT64_MIN)).any():
        raise _NeedsReference("read_json would read the index labels as timestamps")
    return pd.Index(labels)


@lru_cache(maxsize=16)
def _counting_labels(rows: int) -> tuple[list[int], pd.Index]:
    """0 .. rows-1 as a list and as read_json's index (callers get views of it)."""
    return list(range(rows)), pd.Index(np.arange(rows, dtype=np.int64))


def _classify_from_first_row(
    text: str, table: np.ndarray, columns: list[Any], date_position: int
) -> list[str] | None:
    """Column kinds guessed from row 0 and checked cheaply; None if the check is inconclusive.

    A numeric guess is only wrong if the column holds strings somewhere (all-bool columns have a
    bool in row 0, and bools among numbers convert exactly as pandas does). Every string value
    puts two quote characters into the payload, so when there are no escapes, counting quotes
    proves that the string columns found here are the only strings.
    """
    if "\\" in text:
        return None
    kinds: list[str] = []
    quotes = 6 + 2 * len(columns)  # the three keys and the column names
    for position, first in enumerate(table[0]):
        if position == date_position:
            kinds.append("date")
        elif type(first) is str:
            column = table[:, position]
            if infer_dtype(column, skipna=True) != "string":
                return None
            if infer_dtype(column, skipna=False) == "string":
                quotes += 2 * len(column)
            else:
                quotes += 2 * int((~pd.isna(column)).sum())
            kinds.append(_string_kind(column))
        elif type(first) is bool and infer_dtype(table[:, position], skipna=False) == "boolean":
            kinds.append("bool")
        else:
            kinds.append("numeric")
    if text.count('"') != quotes:
        return None
    return kinds


def _classify_every_value(table: np.ndarray, date_position: int) -> list[str]:
    """Column kinds from the type of every value."""
    kinds: list[str] = []
    for position in range(table.shape[1]):
        column = table[:, position]
        if position == date_position:
            kinds.append("date")
            continue
        kind = infer_dtype(column, skipna=True)
        if kind in _NUMERIC_KINDS:
            kinds.append("numeric")
        elif kind == "boolean":
            # With nulls, read_json makes it float64 1.0/0.0/NaN, as the numeric route does.
            all_bool = infer_dtype(column, skipna=False) == "boolean"
            kinds.append("bool" if all_bool else "numeric")
        elif kind == "string":
            kinds.append(_string_kind(column))
        else:
            raise _NeedsReference(f"column {position} holds {kind} values")
    return kinds


def _string_kind(column: np.ndarray) -> str:
    """``"string"`` if read_json keeps the column as text (some value is not a number)."""
    for value in column:
        if value is not None and (value == "" or _NOT_A_NUMBER.search(value)):
            return "string"
    raise _NeedsReference("string column whose values could all be numbers")


def _convert_numeric(table: np.ndarray, kinds: list[str], arrays: list[Any]) -> None:
    """Numbers/nulls -> float64 (null -> NaN), downcast to int64 when read_json would."""
    try:
        block = table.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise _NeedsReference(f"non-numeric value in a numeric column: {exc}") from None
    if (np.abs(block) >= _EXACT_INT_LIMIT).any():
        raise _NeedsReference("number of magnitude >= 2**53 or infinite")
    # NaN != NaN, so a column with a null is never "integral" and stays float64.
    integral = (block == np.trunc(block)).all(axis=0)
    for position, kind in enumerate(kinds):
        if kind == "numeric":
            values = block[:, position]
            arrays[position] = values.astype(np.int64) if integral[position] else values


def _convert_date(column: np.ndarray, dtype: Any) -> Any:
    if infer_dtype(column, skipna=False) != "integer":
        raise _NeedsReference("'date' values are not all integers")
    try:
        millis = column.astype(np.int64)
    except OverflowError:
        raise _NeedsReference("'date' value outside int64") from None
    if not ((millis > _DATE_MS_LOW) & (millis < _DATE_MS_HIGH)).all():
        raise _NeedsReference("'date' values outside the unambiguous millisecond range")
    # Same instants as pd.to_datetime(millis, unit="ms", utc=True), several times cheaper.
    naive = millis.astype("datetime64[ms]").astype(f"datetime64[{dtype.unit}]")
    return pd.DatetimeIndex(naive).tz_localize("UTC").array
