"""Dataframe codec: the ``__value__`` string of an ``analyzed_df`` frame.

Freqtrade's producer writes ``DataFrame.to_json(orient="split")`` after turning every datetime
column into int64 milliseconds. Its consumer reads it back with ``pd.read_json(orient="split")``
and converts ``date`` to UTC datetimes. ``reference_decode_dataframe`` is exactly that path;
``decode_dataframe`` returns an equal frame.
"""

from __future__ import annotations

from io import StringIO

import pandas as pd

__all__ = ["decode_dataframe", "encode_dataframe", "reference_decode_dataframe"]


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
    """Decode a ``__value__`` string into the frame Freqtrade's consumer would store."""
    return reference_decode_dataframe(text)
