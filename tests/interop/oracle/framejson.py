"""A pandas-version-neutral, exact JSON form of a DataFrame, for crossing process boundaries.

Used on both sides: inside the Freqtrade oracle venv (pandas 3.x) to dump what Freqtrade holds,
and in the test process (pandas 2.2 or 3.x) to rebuild it. No pickles: the two sides may run
different pandas versions. Stdlib ``json`` is used because it writes floats with ``repr`` (the
shortest text that round-trips exactly) and keeps NaN / +-inf (as ``NaN`` / ``Infinity``).

Layout::

    {"format": 1, "pandas": "3.1.1",
     "columns": [name, ...],
     "dtypes": ["datetime64[us, UTC]", "float64", "int64", "str", ...],
     "data": [[column values...], ...],             # one list per column
     "index": {"dtype": "int64", "range": false, "values": [...]},
     "columns_index": {"dtype": "str", "range": false}}

Datetime columns hold integers in the dtype's unit (``None`` for NaT); everything else holds
plain JSON scalars. Only dtypes a Freqtrade analyzed dataframe can have are supported; anything
else raises instead of being silently approximated.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FORMAT = 1
_NAT = np.iinfo(np.int64).min
_DATETIME = re.compile(r"^datetime64\[(?P<unit>[a-z]+)(?:, (?P<tz>.+))?\]$")

__all__ = ["dump_frame", "dumps", "load_frame", "loads", "read", "write"]


def _column_values(series: pd.Series) -> list[Any]:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        ints = pd.DatetimeIndex(series).asi8
        return [None if v == _NAT else int(v) for v in ints.tolist()]
    if dtype.kind == "m":
        ints = pd.TimedeltaIndex(series).asi8
        return [None if v == _NAT else int(v) for v in ints.tolist()]
    if dtype.kind in "fiub":
        return series.to_numpy().tolist()
    values: list[Any] = []
    for value in series.to_numpy(dtype=object).tolist():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            values.append(None)
        elif isinstance(value, str | bool | int | float):
            values.append(value)
        else:
            raise TypeError(
                f"column {series.name!r}: cannot dump {type(value).__name__} value {value!r}"
            )
    return values


def dump_frame(df: pd.DataFrame) -> dict[str, Any]:
    """The JSON-able form of ``df`` (exact values, dtypes as strings, index labels)."""
    if df.columns.has_duplicates:
        raise ValueError(f"duplicate column labels: {list(df.columns)}")
    index = df.index
    if isinstance(index, pd.MultiIndex) or index.dtype.kind not in "iufO":
        raise TypeError(f"unsupported index {type(index).__name__} of dtype {index.dtype}")
    return {
        "format": FORMAT,
        "pandas": pd.__version__,
        "columns": [str(c) for c in df.columns],
        "dtypes": [str(df[c].dtype) for c in df.columns],
        "data": [_column_values(df[c]) for c in df.columns],
        "index": {
            "dtype": str(index.dtype),
            "range": isinstance(index, pd.RangeIndex),
            "values": index.tolist(),
        },
        "columns_index": {
            "dtype": str(df.columns.dtype),
            "range": isinstance(df.columns, pd.RangeIndex),
        },
    }


def _rebuild_column(values: list[Any], dtype: str) -> Any:
    match = _DATETIME.match(dtype)
    if match:
        ints = np.array([_NAT if v is None else v for v in values], dtype="int64")
        naive = pd.DatetimeIndex(ints.view(f"M8[{match['unit']}]"))
        return naive.tz_localize(match["tz"]) if match["tz"] else naive
    if dtype.startswith("timedelta64["):
        ints = np.array([_NAT if v is None else v for v in values], dtype="int64")
        return pd.TimedeltaIndex(ints.view(dtype.replace("timedelta64", "m8")))
    if dtype in ("float64", "float32"):
        return np.array([math.nan if v is None else v for v in values], dtype=dtype)
    if re.fullmatch(r"u?int(8|16|32|64)|bool", dtype):
        return np.array(values, dtype=dtype)
    if dtype in ("object", "str", "string"):
        # "str" is pandas 3's default string dtype; pandas 2 reads it as object.
        return (
            pd.array(values, dtype=object) if dtype == "object" else pd.Series(values, dtype=dtype)
        )
    raise TypeError(f"unsupported dtype {dtype!r} in dumped frame")


def load_frame(dumped: dict[str, Any]) -> pd.DataFrame:
    """Rebuild the frame written by :func:`dump_frame` with the dumped dtypes."""
    if dumped.get("format") != FORMAT:
        raise ValueError(f"unknown dumped frame format {dumped.get('format')!r}")
    index_info = dumped["index"]
    values = index_info["values"]
    if index_info["range"]:
        start = values[0] if values else 0
        step = values[1] - values[0] if len(values) > 1 else 1
        index: pd.Index = pd.RangeIndex(start, start + len(values) * step, step)
    else:
        index = pd.Index(values, dtype=index_info["dtype"])
    columns = {}
    for name, dtype, values in zip(
        dumped["columns"], dumped["dtypes"], dumped["data"], strict=True
    ):
        column = _rebuild_column(values, dtype)
        columns[name] = pd.Series(
            column.to_numpy() if isinstance(column, pd.Series) else column,
            index=index,
            dtype=column.dtype,
            name=name,
        )
    frame = pd.DataFrame(columns, index=index) if columns else pd.DataFrame(index=index)
    columns_info = dumped["columns_index"]
    if columns_info["range"]:
        frame.columns = pd.RangeIndex(len(frame.columns))
    else:
        frame.columns = pd.Index(list(frame.columns), dtype=columns_info["dtype"])
    return frame


def dumps(obj: Any) -> str:
    """One JSON line (NaN and +-inf allowed, floats exact)."""
    return json.dumps(obj, allow_nan=True, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text)


def write(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (the reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps(obj), encoding="utf-8")
    tmp.replace(path)


def read(path: str | Path) -> Any:
    return loads(Path(path).read_text(encoding="utf-8"))
