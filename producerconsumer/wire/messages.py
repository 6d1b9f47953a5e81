"""Message envelopes of Freqtrade's message websocket, both directions. Pure: no I/O, no state
(the websocket's URL and logging are :mod:`producerconsumer.endpoint`).

Consumer -> producer requests are produced byte for byte as Freqtrade's consumer sends them;
producer -> consumer messages are parsed into small immutable objects, and anything malformed
raises :class:`ProtocolError` with a message that names what was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import pandas as pd

from .frames import decode_dataframe, encode_dataframe

__all__ = [
    "CANDLE_TYPES",
    "EPOCH",
    "MAX_CANDLES",
    "REQUEST_TYPES",
    "RPC_MESSAGE_TYPES",
    "SUBSCRIBE_TOPICS",
    "AnalyzedFrame",
    "FrameKey",
    "Message",
    "NewCandle",
    "OtherMessage",
    "ProducerException",
    "ProtocolError",
    "Request",
    "Whitelist",
    "analyzed_df_message",
    "analyzed_df_request",
    "exception_message",
    "initial_requests",
    "new_candle_message",
    "parse_message",
    "parse_request",
    "subscribe_request",
    "whitelist_message",
    "whitelist_request",
]

#: Message types a Freqtrade 2026.9 producer knows (``RPCMessageType``). A ``subscribe`` that
#: names any other type is silently ignored by the producer.
RPC_MESSAGE_TYPES: tuple[str, ...] = (
    "status",
    "warning",
    "exception",
    "startup",
    "entry",
    "entry_fill",
    "entry_cancel",
    "exit",
    "exit_fill",
    "exit_cancel",
    "protection_trigger",
    "protection_trigger_global",
    "liquidation_warning",
    "strategy_msg",
    "whitelist",
    "analyzed_df",
    "new_candle",
)
#: Request types a consumer may send (``RPCRequestType``).
REQUEST_TYPES: tuple[str, ...] = ("subscribe", "whitelist", "analyzed_df")
#: ``CandleType`` values: the third element of every frame key.
CANDLE_TYPES: tuple[str, ...] = (
    "spot",
    "futures",
    "mark",
    "index",
    "premiumIndex",
    "funding_rate",
    "open_interest",
)
#: Topics Freqtrade's consumer subscribes to (hard-coded there, and known to every producer).
SUBSCRIBE_TOPICS: tuple[str, ...] = ("whitelist", "analyzed_df")
#: The producer caps every ``analyzed_df`` request at this many candles.
MAX_CANDLES = 1500

#: What Freqtrade returns as last_analyzed when there is no data.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ProtocolError(ValueError):
    """A message that does not follow the protocol. The text says what was wrong."""


class FrameKey(NamedTuple):
    """``(pair, timeframe, candle_type)``: how a producer names one analyzed dataframe."""

    pair: str
    timeframe: str
    candle_type: str


# --- requests (consumer)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def subscribe_request(topics: Iterable[str] = SUBSCRIBE_TOPICS) -> str:
    """``{"type":"subscribe","data":[...]}``; every topic must be a known message type."""
    topics = list(topics)
    unknown = [t for t in topics if t not in RPC_MESSAGE_TYPES]
    if unknown:
        raise ValueError(
            f"cannot subscribe to unknown message type(s) {unknown}: a producer ignores the whole "
            f"subscription then; known types are {list(RPC_MESSAGE_TYPES)}"
        )
    return _dumps({"type": "subscribe", "data": topics})


def whitelist_request() -> str:
    """``{"type":"whitelist"}`` (no ``data`` key, as Freqtrade sends it)."""
    return _dumps({"type": "whitelist"})


def analyzed_df_request(limit: int | None = MAX_CANDLES, pair: str | None = None) -> str:
    """``{"type":"analyzed_df","data":{"limit":N,"pair":P}}``; ``pair=None`` means every pair."""
    return _dumps({"type": "analyzed_df", "data": {"limit": limit, "pair": pair}})


def initial_requests(
    initial_candle_limit: int = MAX_CANDLES, topics: Iterable[str] = SUBSCRIBE_TOPICS
) -> list[str]:
    """The three requests sent after every connect, in Freqtrade's order.

    Unlike Freqtrade (which always asks for 1500), ``initial_candle_limit`` is honoured.
    ``topics`` are the message types subscribed to (Freqtrade's two by default).
    """
    return [
        subscribe_request(topics),
        whitelist_request(),
        analyzed_df_request(initial_candle_limit, None),
    ]


@dataclass(frozen=True, slots=True)
class Request:
    """A consumer request as a producer understands it (used by the demo producer)."""

    type: str
    data: Any = None


def parse_request(text: str | bytes) -> Request:
    """Parse a consumer request; :class:`ProtocolError` if it is not a JSON object with a
    known ``type`` (a Freqtrade producer answers that with an ``exception`` message)."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"request is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"request is not a JSON object but {type(obj).__name__}")
    kind = obj.get("type")
    if kind not in REQUEST_TYPES:
        raise ProtocolError(f"Invalid request type: {kind}")
    return Request(kind, obj.get("data"))


# --- messages (producer)


@dataclass(frozen=True, slots=True)
class Whitelist:
    """``whitelist``: the producer's active pair whitelist."""

    pairs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AnalyzedFrame:
    """``analyzed_df``: one analyzed dataframe (all of it, the last ``limit`` rows or one row)."""

    key: FrameKey
    frame: pd.DataFrame = field(repr=False)
    last_analyzed: datetime


@dataclass(frozen=True, slots=True)
class NewCandle:
    """``new_candle``: the producer analyzed a new candle for ``key``."""

    key: FrameKey


@dataclass(frozen=True, slots=True)
class ProducerException:
    """``exception``: the producer's reply to a request it could not process."""

    text: str


@dataclass(frozen=True, slots=True)
class OtherMessage:
    """Any other known message type (trade events, status, ...): a flat dict beside ``type``."""

    type: str
    fields: Mapping[str, Any]


Message = Whitelist | AnalyzedFrame | NewCandle | ProducerException | OtherMessage


def _parse_key(raw: Any, what: str) -> FrameKey:
    if not isinstance(raw, list | tuple) or len(raw) != 3:
        raise ProtocolError(
            f"{what}: key must be [pair, timeframe, candle_type], got {_short(raw)}"
        )
    pair, timeframe, candle_type = raw
    if not all(isinstance(v, str) and v for v in (pair, timeframe)):
        raise ProtocolError(f"{what}: pair and timeframe must be non-empty strings, got {raw!r}")
    if candle_type not in CANDLE_TYPES:
        raise ProtocolError(
            f"{what}: unknown candle_type {_short(candle_type)} in key; "
            f"expected one of {list(CANDLE_TYPES)}"
        )
    return FrameKey(pair, timeframe, candle_type)


def _parse_last_analyzed(raw: Any, received: datetime | None) -> datetime:
    if raw is None or raw == "" or raw == 0:
        return received or datetime.now(UTC)
    if isinstance(raw, bool):
        raise ProtocolError(f"analyzed_df: la must be a datetime, got {raw!r}")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ProtocolError(f"analyzed_df: la must be a finite timestamp, got {raw!r}")
        try:
            return datetime.fromtimestamp(raw, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ProtocolError(f"analyzed_df: la timestamp {raw!r} out of range: {exc}") from None
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ProtocolError(
                f"analyzed_df: la is not an ISO 8601 datetime: {_short(raw)}"
            ) from None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise ProtocolError(f"analyzed_df: la must be a datetime string, got {type(raw).__name__}")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_message(text: str | bytes, received: datetime | None = None) -> Message:
    """Parse one producer frame.

    ``received`` stands in for a missing ``la`` (Freqtrade uses its own clock then).
    Raises :class:`ProtocolError` naming what was wrong.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        raise ProtocolError("binary frame: a Freqtrade producer only sends text frames")
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"message is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"message is not a JSON object but {type(obj).__name__}")
    kind = obj.get("type")
    if kind not in RPC_MESSAGE_TYPES:
        raise ProtocolError(f"unknown message type {_short(kind)}")
    if kind not in ("whitelist", "analyzed_df", "new_candle", "exception"):
        return OtherMessage(kind, {k: v for k, v in obj.items() if k != "type"})
    data = obj.get("data")
    if kind == "whitelist":
        if not isinstance(data, list) or not all(isinstance(p, str) and p for p in data):
            raise ProtocolError(
                f"whitelist: data must be a list of pair strings, got {_short(data)}"
            )
        return Whitelist(tuple(data))
    if kind == "new_candle":
        return NewCandle(_parse_key(data, "new_candle"))
    if kind == "exception":
        return ProducerException(data if isinstance(data, str) else _short(data, 500))
    # analyzed_df
    if not isinstance(data, dict):
        raise ProtocolError(f"analyzed_df: data must be an object, got {_short(data)}")
    key = _parse_key(data.get("key"), "analyzed_df")
    tagged = data.get("df")
    if (
        not isinstance(tagged, dict)
        or tagged.get("__type__") != "dataframe"
        or not isinstance(tagged.get("__value__"), str)
    ):
        raise ProtocolError(
            f"analyzed_df {key.pair}: df must be {{'__type__': 'dataframe', '__value__': str}}, "
            f"got {_short(tagged)}"
        )
    last_analyzed = _parse_last_analyzed(data.get("la"), received)
    try:
        frame = decode_dataframe(tagged["__value__"])
    except ProtocolError as exc:
        raise ProtocolError(f"analyzed_df {key.pair}: {exc}") from None
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ProtocolError(f"analyzed_df {key.pair}: cannot decode dataframe: {exc}") from None
    return AnalyzedFrame(key, frame, last_analyzed)


# --- messages (built by a producer)


def whitelist_message(pairs: Sequence[str]) -> str:
    """``{"type":"whitelist","data":[...]}``."""
    return _dumps({"type": "whitelist", "data": list(pairs)})


def analyzed_df_message(key: Sequence[str], frame: pd.DataFrame, last_analyzed: datetime) -> str:
    """An ``analyzed_df`` message byte for byte as a Freqtrade 2026.9 producer writes it."""
    if last_analyzed.tzinfo is None:
        raise ValueError("last_analyzed must be timezone-aware (UTC)")
    return _dumps(
        {
            "type": "analyzed_df",
            "data": {
                "key": list(key),
                "df": {"__type__": "dataframe", "__value__": encode_dataframe(frame)},
                "la": last_analyzed.astimezone(UTC),
            },
        }
    )


def new_candle_message(key: Sequence[str]) -> str:
    """``{"type":"new_candle","data":[pair, timeframe, candle_type]}``."""
    return _dumps({"type": "new_candle", "data": list(key)})


def exception_message(text: str) -> str:
    """``{"type":"exception","data":"..."}``."""
    return _dumps({"type": "exception", "data": text})
