"""``producerconsumer inspect``: what a producer sends and how well it arrives.

What Freqtrade's ``scripts/ws_client.py`` shows (message sizes, time between messages, ping
latency, ``last_analyzed`` against the newest candle, the columns), plus freshness (lag,
lagging pairs), explanations for whitelisted pairs without a frame, and ``--json`` for scripts.
"""

from __future__ import annotations

import json
import queue
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import pandas as pd

from .config import load_config
from .consumer import Consumer
from .errors import ProducerError
from .store import FrameUpdate
from .wire.messages import NewCandle, ProducerException, Whitelist
from .wire.rpc import (
    EntryCancelMessage,
    ExitCancelMessage,
    ExitMessage,
    LiquidationWarningMessage,
    RawRpcMessage,
    RpcMessage,
    StatusMessage,
    StrategyMessage,
    TradeMessage,
)

__all__ = ["MessageStats", "describe_message", "inspect_producers", "message_type", "report"]


@dataclass
class _Traffic:
    sizes: list[int] = field(default_factory=list)
    intervals: list[float] = field(default_factory=list)
    last_arrival: float | None = None
    last_size: int = 0
    last_interval: float | None = None


class MessageStats:
    """Sizes of and times between the raw messages of each producer (connect it to a
    consumer's ``raw_received`` event; the connection skips that work when nothing is)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._traffic: dict[str, _Traffic] = {}

    def __call__(self, producer: str, text: str, received: float) -> None:
        size = len(text.encode())
        with self._lock:
            traffic = self._traffic.setdefault(producer, _Traffic())
            interval = None if traffic.last_arrival is None else received - traffic.last_arrival
            if interval is not None:
                traffic.intervals.append(interval)
            traffic.sizes.append(size)
            traffic.last_arrival, traffic.last_size, traffic.last_interval = (
                received,
                size,
                interval,
            )

    def last(self, producer: str) -> tuple[int, float | None]:
        """The newest message's size in bytes and the seconds since the one before it."""
        with self._lock:
            traffic = self._traffic.get(producer, _Traffic())
            return traffic.last_size, traffic.last_interval

    def summary(self, producer: str) -> dict[str, Any]:
        with self._lock:
            traffic = self._traffic.get(producer, _Traffic())
            sizes, intervals = list(traffic.sizes), list(traffic.intervals)
        return {
            "messages": len(sizes),
            "bytes": sum(sizes),
            "size_min": min(sizes, default=None),
            "size_median": statistics.median(sizes) if sizes else None,
            "size_max": max(sizes, default=None),
            "interval_median_seconds": statistics.median(intervals) if intervals else None,
            "interval_max_seconds": max(intervals, default=None),
        }


def _iso(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).isoformat()


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 3)


def report(
    consumer: Consumer, stats: MessageStats | None = None, ping: bool = True
) -> dict[str, Any]:
    """Everything ``inspect`` shows, as plain data (JSON-serialisable)."""
    freshness = consumer.freshness()
    producers: dict[str, Any] = {}
    for name, status in consumer.status().items():
        latency = None
        if ping and status.connected:
            try:
                latency = round(consumer.ping(name, timeout=5.0), 3)
            except (ConnectionError, TimeoutError):
                latency = None
        pairs = consumer.get_producer_pairs(name)
        rows = freshness[freshness["producer"] == name]
        frames, columns = [], []
        for row in rows.itertuples(index=False):
            frame, _ = consumer.get_producer_df(row.pair, row.timeframe, row.candle_type, name)
            for column in frame.columns:
                if column not in columns:
                    columns.append(str(column))
            newest = row.last_candle
            frames.append(
                {
                    "pair": row.pair,
                    "timeframe": row.timeframe,
                    "candle_type": row.candle_type,
                    "rows": int(row.rows),
                    "columns": len(frame.columns),
                    "last_candle": _iso(newest),
                    "last_analyzed": _iso(row.last_analyzed),
                    # how long after the newest candle's open the producer analysed it
                    "analyzed_after_candle_seconds": _number(
                        (row.last_analyzed - newest).total_seconds() if pd.notna(newest) else None
                    ),
                    "lag_seconds": _number(row.lag_seconds),
                    "overdue_seconds": _number(row.overdue_seconds),
                    "messages": int(row.messages),
                    "gap_requests": int(row.gap_requests),
                    "lagging": bool(row.lagging),
                }
            )
        held = {frame["pair"] for frame in frames}
        producers[name] = {
            "url": status.url,
            "state": status.state,
            "ready": status.ready,
            "messages": status.messages,
            "bad_messages": status.bad_messages,
            "reconnects": status.reconnects,
            "last_error": status.last_error,
            "ping_ms": latency,
            "traffic": stats.summary(name) if stats is not None else None,
            "whitelist": pairs,
            "frames": frames,
            "columns": columns,
            "lagging": list(status.lagging),
            "explanations": {
                pair: consumer.explain(pair, producer_name=name)
                for pair in pairs
                if pair not in held
            },
        }
    return {"time": datetime.now(UTC).isoformat(), "producers": producers}


def _size(value: float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "-"  # unreachable


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def print_report(data: dict[str, Any], out: TextIO) -> None:
    """The report as text."""
    for name, producer in data["producers"].items():
        ping = f"{producer['ping_ms']:.1f} ms" if producer["ping_ms"] is not None else "-"
        print(f"\n{name}: {producer['state']} {producer['url']}, ping {ping}", file=out)
        if producer["last_error"]:
            print(f"  last error: {producer['last_error']}", file=out)
        traffic = producer["traffic"]
        if traffic:
            print(
                f"  messages: {traffic['messages']} ({_size(traffic['bytes'])}), size "
                f"min/median/max {_size(traffic['size_min'])} / {_size(traffic['size_median'])}"
                f" / {_size(traffic['size_max'])}, time between messages median "
                f"{_seconds(traffic['interval_median_seconds'])}, max "
                f"{_seconds(traffic['interval_max_seconds'])}",
                file=out,
            )
        pairs = producer["whitelist"]
        print(f"  whitelist of {len(pairs)} pairs: {', '.join(pairs)}", file=out)
        if producer["frames"]:
            table = pd.DataFrame(producer["frames"]).drop(columns=["candle_type"])
            table["last_candle"] = table["last_candle"].str.slice(0, 16)
            table["last_analyzed"] = table["last_analyzed"].str.slice(0, 19)
            lines = table.to_string(index=False).splitlines()
            print("\n".join("  " + line for line in lines), file=out)
            print(f"  columns: {', '.join(producer['columns'])}", file=out)
        if producer["lagging"]:
            print(f"  LAGGING (beyond max_lag): {', '.join(producer['lagging'])}", file=out)
        for pair, text in producer["explanations"].items():
            print(f"  {pair}: {text}", file=out)


def _update_line(consumer: Consumer, stats: MessageStats, update: FrameUpdate) -> dict[str, Any]:
    frame, last_analyzed = consumer.get_producer_df(
        update.key.pair, update.key.timeframe, update.key.candle_type, update.producer
    )
    size, interval = stats.last(update.producer)
    entry = consumer.store.entry(update.producer, update.key)
    from .diagnostics import arrival_lag

    lag = arrival_lag(entry, update.key.timeframe) if entry is not None else None
    last = frame.iloc[-1] if len(frame) else None
    return {
        "producer": update.producer,
        "pair": update.key.pair,
        "timeframe": update.key.timeframe,
        "candle_type": update.key.candle_type,
        "action": update.action,
        "candle": _iso(last["date"]) if last is not None and "date" in frame.columns else None,
        "close": _number(last["close"]) if last is not None and "close" in frame.columns else None,
        "last_analyzed": _iso(last_analyzed),
        "rows": len(frame),
        "size_bytes": size,
        "since_previous_seconds": _number(interval),
        "lag_seconds": _number(lag),
    }


def inspect_producers(
    config: Any,
    updates: int,
    timeout: float,
    as_json: bool,
    out: TextIO,
    stop: threading.Event,
    topics: Sequence[str] = (),
) -> int:
    """Connect, sync, report, then show ``updates`` live updates (0: until ``stop``).

    ``topics``: more message types to subscribe to; each such message is shown as it comes
    (one line, or a JSON line with ``--json``) and counts as an update.
    """
    stats = MessageStats()
    loaded = load_config(config)
    consumer = Consumer(loaded.with_topics(topics) if topics else loaded)
    consumer.raw_received += stats
    queued: queue.Queue[FrameUpdate | tuple[str, RpcMessage]] = queue.Queue()
    if topics:
        wanted = set(topics)

        def on_message(producer: str, message: RpcMessage) -> None:
            # Queued from the start: messages on the extra topics may come with the sync.
            if message_type(message) in wanted:
                queued.put((producer, message))

        consumer.producer_message += on_message
    with consumer:
        if not as_json:
            for status in consumer.status().values():
                print(f"connecting to {status.name}: {status.url}", file=out, flush=True)
        failed: ProducerError | None = None
        try:
            consumer.wait_ready(timeout=timeout, progress=None if as_json else True)
        except ProducerError as exc:  # a timeout or a refusal: report what there is, and why
            failed = exc
        data = report(consumer, stats)
        if failed is not None:
            data["error"] = str(failed)
        if as_json:
            print(json.dumps(data), file=out, flush=True)
        else:
            print_report(data, out)
            if failed is not None:
                print(f"\nerror: {failed}", file=out, flush=True)
        if failed is not None:
            return 1
        if not as_json:
            what = "live updates" + (f" and {', '.join(topics)} messages" if topics else "")
            print(f"\n{what} (Ctrl-C to stop):" if not updates else f"\n{what}:", file=out)
        # From now on: the sync's replies are in the report already.
        consumer.updated += lambda update: queued.put(update) if update.stored else None
        shown = 0
        while not stop.is_set() and (not updates or shown < updates):
            try:
                item = queued.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(item, FrameUpdate):
                line = _update_line(consumer, stats, item)
                text = _update_text(line)
            else:
                producer, message = item
                line = {
                    "producer": producer,
                    "type": message_type(message),
                    "message": repr(message),
                }
                text = f"  {producer}: {describe_message(message)}"
            print(json.dumps(line) if as_json else text, file=out, flush=True)
            shown += 1
    return 0


def _update_text(line: dict[str, Any]) -> str:
    candle = (line["candle"] or "-")[:16].replace("T", " ")
    lag = f" lag {line['lag_seconds']:.1f} s" if line["lag_seconds"] is not None else ""
    since = (
        f", {line['since_previous_seconds']:.2f} s after the previous message"
        if line["since_previous_seconds"] is not None
        else ""
    )
    return (
        f"  {line['producer']}: {line['pair']:<10} {line['action']:<7} candle {candle} "
        f"close={line['close']} rows={line['rows']}{lag} ({_size(line['size_bytes'])}{since})"
    )


def message_type(message: RpcMessage) -> str:
    """The wire ``type`` of a parsed producer message."""
    kind = getattr(message, "type", None)
    if isinstance(kind, str):
        return kind
    if isinstance(message, ProducerException):
        return "exception"
    if isinstance(message, StrategyMessage):
        return "strategy_msg"
    if isinstance(message, LiquidationWarningMessage):
        return "liquidation_warning"
    return {Whitelist: "whitelist", NewCandle: "new_candle"}.get(type(message), "analyzed_df")


def describe_message(message: RpcMessage) -> str:
    """One line for a producer message, as ``inspect`` prints it."""
    if isinstance(message, TradeMessage):
        side = "short" if message.is_short else "long"
        head = f"{message.type:<12} trade {message.trade_id} {message.pair} {side}"
        if isinstance(message, ExitMessage):
            final = " (closed)" if message.is_final_exit else ""
            return (
                f"{head} close_rate={message.close_rate:.8g} amount={message.amount:.8g} "
                f"profit={message.profit_amount:.8g} ({message.profit_ratio:.2%}) "
                f"exit_reason={message.exit_reason}{final}"
            )
        if isinstance(message, EntryCancelMessage | ExitCancelMessage):
            return f"{head} reason={message.reason!r}"
        tag = f" enter_tag={message.enter_tag}" if message.enter_tag else ""
        return (
            f"{head} open_rate={message.open_rate:.8g} amount={message.amount:.8g} "
            f"stake={message.stake_amount}{tag}"
        )
    if isinstance(message, StatusMessage):
        return f"{message.type:<12} {message.status}"
    if isinstance(message, StrategyMessage):
        return f"strategy_msg {message.msg}"
    if isinstance(message, ProducerException):
        return f"exception    {message.text}"
    if isinstance(message, RawRpcMessage):
        return f"{message.type:<12} {dict(message.fields)}"
    return f"{message_type(message):<12} {message}"
