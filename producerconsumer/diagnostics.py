"""Why a lookup is empty, and how fresh the data is: :func:`explain` and :func:`freshness`.

Freqtrade answers a lookup it cannot serve with an empty frame dated 1970 and no word. The
consumers and snapshots keep that result (strategy code depends on it) and add
``explain(pair, ...)``, which says what is held and why this lookup is empty, with what to do;
``get_producer_df`` logs that explanation once per lookup as a warning.

``freshness()`` is one row per stored frame: its newest candle, when it arrived, the lag
(arrival minus the candle's close), the age of ``last_analyzed``, and the message and gap
counts the connection keeps. Reads only: nothing here runs on the receive path except
:func:`arrival_lag`, and only for producers with a ``max_lag``.
"""

from __future__ import annotations

import difflib
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from .timeframes import timeframe_to_seconds
from .wire.messages import FrameKey

if TYPE_CHECKING:
    from .connection import ProducerConnection
    from .store import FrameStore, ProducerData, StoredFrame

__all__ = ["FRESHNESS_COLUMNS", "explain", "freshness"]

log = logging.getLogger(__name__)

FRESHNESS_COLUMNS = (
    "producer",
    "pair",
    "timeframe",
    "candle_type",
    "last_candle",
    "received",
    "lag_seconds",
    "overdue_seconds",
    "last_analyzed",
    "analyzed_age_seconds",
    "rows",
    "messages",
    "gap_requests",
    "lagging",
)


def _candle_seconds(timeframe: str) -> float | None:
    try:
        return float(timeframe_to_seconds(timeframe))
    except (ValueError, TypeError):
        return None


def arrival_lag(stored: StoredFrame, timeframe: str) -> float | None:
    """Seconds between the close of the stored frame's newest candle and its arrival."""
    last = stored.last_date()
    step = _candle_seconds(timeframe)
    if last is None or step is None:
        return None
    return stored.received - (last + step)


def _overdue(stored: StoredFrame, timeframe: str, now: float) -> float | None:
    """Seconds past the moment the next candle should have closed (0 if not yet)."""
    last = stored.last_date()
    step = _candle_seconds(timeframe)
    if last is None or step is None:
        return None
    return max(0.0, now - (last + 2 * step))


def overdue_keys(store: FrameStore, producer: str, max_lag: float) -> list[FrameKey]:
    """The producer's keys whose next candle is more than ``max_lag`` seconds overdue."""
    now = time.time()
    keys = []
    for key in store.keys(producer):
        stored = store.entry(producer, key)
        overdue = None if stored is None else _overdue(stored, key.timeframe, now)
        if overdue is not None and overdue > max_lag:
            keys.append(key)
    return keys


def freshness(
    store: FrameStore, connections: Mapping[str, ProducerConnection] | None = None
) -> pd.DataFrame:
    """One row per stored frame: see :data:`FRESHNESS_COLUMNS` and ``Consumer.freshness``."""
    now = time.time()
    now_dt = datetime.fromtimestamp(now, UTC)
    rows: list[dict[str, Any]] = []
    for producer in store.producers():
        connection = connections.get(producer) if connections else None
        messages = dict(connection.key_messages) if connection else {}
        gaps = dict(connection.gap_requests) if connection else {}
        late = dict(connection.lagging) if connection else {}
        max_lag = connection.producer.max_lag if connection else None
        for key in store.keys(producer):
            stored = store.entry(producer, key)
            if stored is None:
                continue
            last = stored.last_date()
            lag = arrival_lag(stored, key.timeframe)
            overdue = _overdue(stored, key.timeframe, now)
            lagging = max_lag is not None and (
                key in late or (overdue is not None and overdue > max_lag)
            )
            rows.append(
                {
                    "producer": producer,
                    "pair": key.pair,
                    "timeframe": key.timeframe,
                    "candle_type": key.candle_type,
                    "last_candle": pd.Timestamp(last, unit="s", tz="UTC") if last else pd.NaT,
                    "received": pd.Timestamp(stored.received, unit="s", tz="UTC"),
                    "lag_seconds": lag,
                    "overdue_seconds": overdue,
                    "last_analyzed": pd.Timestamp(stored.last_analyzed),
                    "analyzed_age_seconds": (now_dt - stored.last_analyzed).total_seconds(),
                    "rows": len(stored.frame),
                    "messages": messages.get(key, 0),
                    "gap_requests": gaps.get(key, 0),
                    "lagging": lagging,
                }
            )
    frame = pd.DataFrame(rows, columns=list(FRESHNESS_COLUMNS))
    for column in ("rows", "messages", "gap_requests"):
        frame[column] = frame[column].astype("int64")
    frame["lagging"] = frame["lagging"].astype(bool)
    for column in ("lag_seconds", "overdue_seconds", "analyzed_age_seconds"):
        frame[column] = frame[column].astype("float64")
    return frame


# --- explain


def _quoted(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _close(word: str, candidates: list[str]) -> list[str]:
    """Close matches, case-insensitively, in the candidates' own spelling."""
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered:
        return [lowered[word.lower()]]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.7)
    return [lowered[f] for f in found]


def _settle_forms(pair: str, pairs: list[str]) -> list[str]:
    """The other market's spelling of ``pair`` that the producer sends: spot ``BTC/USDT``
    against futures ``BTC/USDT:USDT``."""
    if ":" in pair:
        spot = pair.split(":", 1)[0]
        return [p for p in pairs if p.lower() == spot.lower()]
    return [p for p in pairs if ":" in p and p.split(":", 1)[0].lower() == pair.lower()]


def _sends(keys: list[FrameKey]) -> str:
    """What a producer sends, e.g. ``5m spot (3 pairs)``."""
    kinds: dict[tuple[str, str], int] = {}
    for key in keys:
        kinds[(key.timeframe, key.candle_type)] = kinds.get((key.timeframe, key.candle_type), 0) + 1
    return ", ".join(
        f"{tf} {ct or '(no candle type)'} ({n} pair{'s' if n != 1 else ''})"
        for (tf, ct), n in sorted(kinds.items())
    )


def _lookup(pair: str, timeframe: str | None, candle_type: str | None) -> str:
    parts = [repr(pair)]
    if timeframe:
        parts.append(timeframe)
    if candle_type:
        parts.append(candle_type)
    return " ".join(parts)


def _connection_problem(name: str, connection: ProducerConnection | None) -> str | None:
    """Why nothing comes from this producer now, or None if it is connected."""
    if connection is None or connection.state == "connected":
        return None
    failure = connection.failure
    if failure is not None and failure.kind == "auth":
        return f"producer {name!r} refuses the token: {failure.message}"
    if connection.state == "idle":
        return f"the consumer is not started (producer {name!r} is idle): call start() first"
    if failure is not None:
        return f"producer {name!r} is {connection.state}: {failure.message}"
    if connection.state == "connecting":
        return f"producer {name!r} is still connecting"
    return f"producer {name!r} is {connection.state}"


def explain(
    data: ProducerData,
    pair: str,
    timeframe: str | None = None,
    candle_type: str | None = None,
    producer_name: str = "default",
    connections: Mapping[str, ProducerConnection] | None = None,
) -> str:
    """What ``data`` holds for this lookup and, if ``get_producer_df`` would be empty, why and
    what to do. ``connections`` (a live consumer's) adds the connection state."""
    store = data.store
    known = list(connections) if connections is not None else store.producers()
    if producer_name not in known:
        close = _close(producer_name, known)
        hint = f"; did you mean {_quoted(close)}?" if close else ""
        holder = "the config has" if connections is not None else "this snapshot holds"
        return (
            f"no producer named {producer_name!r}: {holder} {_quoted(known) or 'none'}{hint} "
            "(producer_name= is a producers[].name of the consumer's config)"
        )
    name = producer_name
    connection = connections.get(name) if connections else None
    problem = _connection_problem(name, connection)
    key = store.resolve(name, pair, timeframe, candle_type)
    if key is not None:
        stored = store.entry(name, key)
        if stored is not None:
            last = stored.last_date()
            last_text = (
                f"{pd.Timestamp(last, unit='s', tz='UTC'):%Y-%m-%d %H:%M}" if last else "unknown"
            )
            stale = f"; {problem}: the data may be out of date" if problem else ""
            return (
                f"found: {key.pair} {key.timeframe} {key.candle_type} from {name!r}, "
                f"{len(stored.frame)} rows, newest candle {last_text} UTC, last_analyzed "
                f"{stored.last_analyzed:%Y-%m-%d %H:%M:%S} UTC{stale}"
            )
    keys = store.keys(name)
    if not store.has_whitelist(name) and not keys:
        if problem:
            return f"nothing received from {name!r} yet: {problem}"
        if connection is not None:
            return (
                f"connected to {name!r}, but its whitelist has not arrived yet: "
                "consumer.wait_ready() waits for it and every pair's frame"
            )
        return f"this snapshot holds nothing from {name!r}"
    pairs = store.pairs(name)
    for_pair = [k for k in keys if k.pair == pair]
    if pair not in pairs and not for_pair:
        forms = _settle_forms(pair, pairs + [k.pair for k in keys])
        if forms:
            market = "futures" if ":" in forms[0] else "spot"
            return (
                f"{pair!r} is not in the whitelist of {name!r}, which sends {market} pairs: use "
                f"{forms[0]!r} (spot pairs are BASE/QUOTE, futures pairs BASE/QUOTE:SETTLE; the "
                f"producer sends {_sends(keys) or 'no frames yet'})"
            )
        close = _close(pair, pairs)
        hint = f"; did you mean {_quoted(close)}?" if close else ""
        listed = f"{len(pairs)} pairs: {_quoted(pairs)}" if pairs else "empty"
        return f"{pair!r} is not in the whitelist of {name!r} ({listed}){hint}"
    # The pair is known: is the timeframe or candle type one this producer sends?
    sent = for_pair or keys
    for asked, field, values in (
        (timeframe, "timeframe", sorted({k.timeframe for k in sent})),
        (candle_type, "candle_type", sorted({k.candle_type for k in sent})),
    ):
        if asked and values and asked not in values:
            about = f"{pair!r}" if for_pair else "its pairs"
            note = (
                " (in a Freqtrade strategy, timeframe=None means the strategy's own timeframe, "
                "not the producer's: pass the producer's timeframe explicitly)"
                if field == "timeframe"
                else ""
            )
            return (
                f"{name!r} does not send {field} {asked!r} for {about}: it sends "
                f"{_sends(sent)}; ask for {field}={values[0]!r}{note}"
            )
    if connection is not None and pair in connection.answered:
        return (
            f"{pair!r} is in the whitelist of {name!r}, but the producer answered with an empty "
            "frame: it has not analyzed the pair yet (Freqtrade sends an empty dataframe until "
            "its strategy has run on the pair); wait for its next candle"
        )
    received = len({k.pair for k in keys} & set(pairs))
    progress = f" ({received} of {len(pairs)} whitelisted pairs received so far)"
    if problem:
        return f"{pair!r} is in the whitelist of {name!r}, but no frame has arrived: {problem}"
    if connection is not None:
        return (
            f"{pair!r} is in the whitelist of {name!r}, but its frame has not arrived yet"
            f"{progress}: consumer.wait_ready() waits for every pair"
        )
    return (
        f"{pair!r} is in the whitelist of {name!r}, but the snapshot was taken before its frame "
        f"arrived{progress}"
    )


class EmptyLookups:
    """Logs why a lookup is empty, once per lookup (a strategy asks on every candle, in a loop
    over pairs: one warning per distinct lookup, never one per call)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str, str | None, str | None]] = set()

    def warn(
        self,
        data: ProducerData,
        pair: str,
        timeframe: str | None,
        candle_type: str | None,
        producer_name: str,
    ) -> None:
        lookup = (producer_name, pair, timeframe, candle_type)
        with self._lock:
            if lookup in self._seen:
                return
            self._seen.add(lookup)
        log.warning(
            "get_producer_df(%s) is empty: %s (logged once per lookup; data.explain(...) tells "
            "it again)",
            _lookup(pair, timeframe, candle_type) + f", producer_name={producer_name!r}",
            data.explain(pair, timeframe, candle_type, producer_name),
        )
