"""Where a consumer strategy's signals agree with the producer's: :func:`compare_signals`.

A consumer frame built with ``merge_informative_pair(..., suffix="default")`` holds both the
consumer's own signal columns (``enter_long``) and the producer's (``enter_long_default``)::

    comparison = compare_signals(runner.run("BTC/USDT"), pair="BTC/USDT")
    comparison.counts      # per signal: both, producer_only, consumer_only, neither
    comparison.divergent   # the candles where they differ
    comparison.agree       # True if they never differ
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from ..columns import SIGNAL_COLUMNS
from .expiry import SignalAge, check_signal_age, frame_timeframe_seconds, max_age_seconds

__all__ = ["DEFAULT_SIGNALS", "SignalComparison", "compare_signals"]

DEFAULT_SIGNALS = SIGNAL_COLUMNS
COUNT_COLUMNS = ("both", "producer_only", "consumer_only", "neither")


@dataclass(frozen=True, slots=True)
class SignalComparison:
    """The result of :func:`compare_signals`.

    ``counts``: one row per compared signal with ``both``, ``producer_only``,
    ``consumer_only``, ``neither`` (candles), ``candles`` and ``agreement`` (share of candles
    where both sides agree). ``divergent``: one row per candle and signal where they differ,
    with ``date``, ``pair`` (when known), ``signal``, ``producer`` and ``consumer`` (0/1).
    ``missing``: per signal, the side(s) lacking the column (counted as never signalling).
    With ``max_signal_age``, ``counts`` also has ``expired``: producer signals not counted
    because the producer candle they came from was too old.
    """

    counts: pd.DataFrame
    divergent: pd.DataFrame
    producer_suffix: str
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        """True when producer and consumer signals are the same on every candle."""
        return self.divergent.empty

    @property
    def confusion(self) -> pd.DataFrame:
        """Confusion tables of all signals: rows ``(signal, producer 0/1)``, columns
        ``consumer 0`` / ``consumer 1``; ``comparison.confusion.loc["enter_long"]`` is one."""
        rows = {}
        for signal, c in self.counts.iterrows():
            rows[(signal, "producer 0")] = [int(c["neither"]), int(c["consumer_only"])]
            rows[(signal, "producer 1")] = [int(c["producer_only"]), int(c["both"])]
        table = pd.DataFrame.from_dict(rows, orient="index", columns=["consumer 0", "consumer 1"])
        table.index = pd.MultiIndex.from_tuples(table.index, names=["signal", "producer"])
        return table

    def __repr__(self) -> str:
        lines = [
            f"SignalComparison(producer suffix {self.producer_suffix!r}: "
            f"{'all agree' if self.agree else f'{len(self.divergent)} divergent'})"
        ]
        lines += ["  " + line for line in self.counts.to_string().splitlines()]
        for signal, sides in self.missing.items():
            lines.append(f"  {signal}: no column on the {' and '.join(sides)} side (counted as 0)")
        if not self.divergent.empty:
            lines.append("  divergent (first 10):")
            shown = self.divergent.head(10).to_string(index=False).splitlines()
            lines += ["    " + line for line in shown]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        title = "all agree" if self.agree else f"{len(self.divergent)} divergent candle signals"
        notes = "".join(
            f"<p>{escape(signal)}: no column on the {escape(' and '.join(sides))} side "
            "(counted as 0)</p>"
            for signal, sides in self.missing.items()
        )
        divergent = (
            "<p>divergent (first 20):</p>" + self.divergent.head(20).to_html(index=False)
            if not self.agree
            else ""
        )
        return (
            f"<p><b>Signals vs producer {escape(self.producer_suffix)!s}</b>: {escape(title)}</p>"
            f"{self.counts.to_html()}{notes}{divergent}"
        )


def _flags(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    values = pd.to_numeric(frame[column], errors="coerce").fillna(0)
    return (values == 1).to_numpy(dtype=bool)


def compare_signals(
    frame: pd.DataFrame | Mapping[str, pd.DataFrame],
    producer_suffix: str = "default",
    signals: Iterable[str] = DEFAULT_SIGNALS,
    pair: str | None = None,
    max_signal_age: SignalAge | None = None,
) -> SignalComparison:
    """Compare the consumer's signal columns with the producer's ``<signal>_<suffix>`` ones.

    ``frame`` is one populated frame (``pair`` names it, or a ``pair`` column does) or a
    mapping ``{pair: frame}`` such as :meth:`StrategyRunner.run_all` returns. A signal is on
    where its value is 1; NaN and 0 are off. Signals with neither column are skipped; a
    column missing on one side counts as never on (and is listed in ``missing``).

    ``max_signal_age`` (as :class:`~.runner.StrategyRunner`'s: seconds, a timedelta or
    ``"N candles"`` of the frame's timeframe): a producer signal whose producer candle
    (``date_<suffix>``, which ``merge_informative_pair`` adds) is older than that on a row
    (the row's ``date`` minus it) is expired: counted in ``expired``, not as a signal, as a
    consumer honouring the expiry would not act on it.

    >>> frame = pd.DataFrame({"enter_long": [1, None], "enter_long_default": [1, 1]})
    >>> compare_signals(frame).counts.loc["enter_long", ["both", "producer_only"]].tolist()
    [1, 1]
    """
    if isinstance(frame, Mapping):
        frames = [f.assign(pair=p) if "pair" not in f.columns else f for p, f in frame.items()]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    elif pair is not None:
        frame = frame.assign(pair=pair)
    signals = tuple(signals)
    check_signal_age(max_signal_age)
    stale = _stale_rows(frame, producer_suffix, max_signal_age)
    counts: dict[str, dict[str, int]] = {}
    divergent: list[pd.DataFrame] = []
    missing: dict[str, list[str]] = {}
    for signal in signals:
        producer_column = f"{signal}_{producer_suffix}" if producer_suffix else signal
        have = [c in frame.columns for c in (signal, producer_column)]
        if not any(have):
            continue
        if not all(have):
            missing[signal] = ["consumer" if not have[0] else "producer"]
        consumer = _flags(frame, signal)
        producer = _flags(frame, producer_column)
        expired = 0
        if stale is not None:
            expired = int((producer & stale).sum())
            producer = producer & ~stale
        counts[signal] = {
            "both": int((producer & consumer).sum()),
            "producer_only": int((producer & ~consumer).sum()),
            "consumer_only": int((~producer & consumer).sum()),
            "neither": int((~producer & ~consumer).sum()),
            **({"expired": expired} if stale is not None else {}),
        }
        differ = producer != consumer
        if differ.any():
            rows = pd.DataFrame(index=frame.index[differ])
            if "date" in frame.columns:
                rows["date"] = frame.loc[differ, "date"]
            else:
                rows["date"] = frame.index[differ]
            if "pair" in frame.columns:
                rows["pair"] = frame.loc[differ, "pair"]
            rows["signal"] = signal
            rows["producer"] = producer[differ].astype(int)
            rows["consumer"] = consumer[differ].astype(int)
            divergent.append(rows)
    if not counts:
        raise ValueError(
            f"none of the signals {list(signals)} has a column (neither e.g. 'enter_long' nor "
            f"'enter_long_{producer_suffix}'); is producer_suffix right?"
        )
    extra = ["expired"] if stale is not None else []
    table = pd.DataFrame.from_dict(counts, orient="index", columns=[*COUNT_COLUMNS, *extra])
    table.index.name = "signal"
    table["candles"] = table[list(COUNT_COLUMNS)].sum(axis=1)
    if extra:
        table = table[[*COUNT_COLUMNS, "candles", "expired"]]
    agreeing = table["both"] + table["neither"]
    table["agreement"] = (agreeing / table["candles"].where(table["candles"] > 0)).fillna(1.0)
    columns = ["date", *(["pair"] if "pair" in frame.columns else []), "signal"]
    columns += ["producer", "consumer"]
    result = (
        pd.concat(divergent).sort_values(["date", "signal"], kind="stable").reset_index(drop=True)
        if divergent
        else pd.DataFrame(columns=columns)
    )
    return SignalComparison(table, result[columns], producer_suffix, missing)


def _stale_rows(
    frame: pd.DataFrame, suffix: str, max_signal_age: SignalAge | None
) -> np.ndarray | None:
    """Per row, True where the producer's candle is older than ``max_signal_age``."""
    if max_signal_age is None:
        return None
    producer_date = f"date_{suffix}"
    if "date" not in frame.columns or producer_date not in frame.columns:
        raise ValueError(
            f"max_signal_age needs the frame's 'date' and the producer's {producer_date!r} "
            "column (merge_informative_pair adds it) to tell how old a producer signal is"
        )
    limit = max_age_seconds(max_signal_age, frame_timeframe_seconds(frame["date"]))
    assert limit is not None
    age = (pd.to_datetime(frame["date"]) - pd.to_datetime(frame[producer_date])).dt.total_seconds()
    return (age > limit).fillna(True).to_numpy(dtype=bool)
