"""Signal expiry: how old a signal's data may be before it no longer counts.

``max_signal_age`` (of :class:`~.runner.StrategyRunner` and :func:`~.compare.compare_signals`)
is one of:

* a number of seconds (``int`` or ``float``), or a :class:`datetime.timedelta`;
* a string ``"N candles"`` (``"1 candle"``, ``"3 candles"``): N candles of the data's timeframe.

The age of a signal is the time since its candle closed (the candle's open date plus one
timeframe): a signal raised on a 5m candle that closed 20 minutes ago is 20 minutes old.
"""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd

__all__ = ["SignalAge", "max_age_seconds"]

#: Seconds, a timedelta, or ``"N candles"``.
SignalAge = float | int | timedelta | str

_CANDLES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*candles?\s*$")


def check_signal_age(value: SignalAge | None) -> None:
    """Raise a ValueError naming the accepted forms if ``value`` is none of them."""
    max_age_seconds(value, 60.0)


def max_age_seconds(value: SignalAge | None, timeframe_seconds: float | None) -> float | None:
    """``value`` in seconds (None: no limit); candles need ``timeframe_seconds``."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        match = _CANDLES.match(value)
        if match is None:
            raise ValueError(
                f"max_signal_age={value!r}: give seconds (a number), a timedelta or "
                "'N candles' such as '3 candles'"
            )
        if timeframe_seconds is None:
            raise ValueError(
                f"max_signal_age={value!r} counts candles, but the data's timeframe is unknown: "
                "give seconds instead"
            )
        seconds = float(match.group(1)) * timeframe_seconds
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(
            f"max_signal_age must be seconds, a timedelta or 'N candles', got "
            f"{type(value).__name__}"
        )
    if not seconds > 0:
        raise ValueError(f"max_signal_age must be > 0, got {value!r}")
    return seconds


def frame_timeframe_seconds(dates: pd.Series) -> float | None:
    """The candle length of a frame's ``date`` column: the smallest step between its candles
    (None for fewer than two)."""
    if len(dates) < 2:
        return None
    steps = pd.to_datetime(dates, utc=True).diff().dt.total_seconds().to_numpy()
    steps = steps[steps > 0]
    return float(np.min(steps)) if len(steps) else None
