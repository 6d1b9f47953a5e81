"""The producer bot's own RPC messages on the message websocket: trades, status, protections.

A Freqtrade producer sends every ``RPCMessageType`` to a subscriber that names it in its
``subscribe`` request. Each message is a flat JSON object: ``type`` plus the fields of its
``RPC*Msg`` shape, serialized by orjson. So datetimes arrive as ISO 8601 strings (with
``+00:00`` when the bot held an aware datetime, naive otherwise: both mean UTC), enums as
their values, and ``None`` as ``null``.

:func:`parse_rpc_message` turns one such object into an immutable value. A message type this
module does not model (one a newer Freqtrade adds) becomes a :class:`RawRpcMessage`: it is
kept, never dropped. Pure: no I/O, no state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from .messages import (
    RPC_MESSAGE_TYPES,
    SUBSCRIBE_TOPICS,
    AnalyzedFrame,
    NewCandle,
    OtherMessage,
    ProducerException,
    ProtocolError,
    Whitelist,
    parse_message,
    subscribe_request,
)

__all__ = [
    "ENTRY_TYPES",
    "EXIT_TYPES",
    "STATUS_TYPES",
    "TRADE_TOPICS",
    "EntryCancelMessage",
    "EntryMessage",
    "ExitCancelMessage",
    "ExitMessage",
    "LiquidationWarningMessage",
    "ProtectionMessage",
    "RawRpcMessage",
    "RpcMessage",
    "StatusMessage",
    "StrategyMessage",
    "TradeMessage",
    "encode_rpc_message",
    "normalize_topics",
    "parse_rpc_message",
    "parse_rpc_text",
    "topics_subscribe_request",
]

#: ``entry`` (order placed) and ``entry_fill`` (order filled).
ENTRY_TYPES: tuple[str, ...] = ("entry", "entry_fill")
#: ``exit`` (order placed) and ``exit_fill`` (order filled).
EXIT_TYPES: tuple[str, ...] = ("exit", "exit_fill")
#: Messages that carry one ``status`` text (``exception`` when the bot itself failed).
STATUS_TYPES: tuple[str, ...] = ("status", "warning", "startup", "exception")
#: Every message about the producer's trades, in the order of a trade's life.
TRADE_TOPICS: tuple[str, ...] = (
    "entry",
    "entry_fill",
    "entry_cancel",
    "exit",
    "exit_fill",
    "exit_cancel",
)


# --- values


@dataclass(frozen=True, slots=True)
class TradeMessage:
    """Fields every trade message carries (Freqtrade's ``__RPCEntryExitMsgBase``).

    ``raw`` is the whole message as received (``type`` included), so nothing is lost.
    ``order_rate`` is this order's price; ``open_rate`` is the order's price on entry
    messages and the trade's average entry price on exit messages, as Freqtrade fills them.
    """

    type: str
    trade_id: int
    pair: str
    is_short: bool
    enter_tag: str | None
    exchange: str | None
    base_currency: str | None
    quote_currency: str | None
    leverage: float | None
    order_rate: float | None
    open_rate: float
    order_type: str | None
    stake_amount: float | None
    stake_currency: str | None
    fiat_currency: str | None
    amount: float
    open_date: datetime
    current_rate: float | None
    sub_trade: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def fill(self) -> bool:
        """True for ``entry_fill`` / ``exit_fill``: the order was filled, not just placed."""
        return self.type.endswith("_fill")


@dataclass(frozen=True, slots=True)
class EntryMessage(TradeMessage):
    """``entry`` / ``entry_fill``: an entry order placed, or filled (``amount`` is then the
    filled amount after fees and ``stake_amount`` the trade's stake including it)."""


@dataclass(frozen=True, slots=True)
class EntryCancelMessage(TradeMessage):
    """``entry_cancel``: an entry order was cancelled (``reason`` says why)."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class ExitMessage(TradeMessage):
    """``exit`` / ``exit_fill``: an exit order placed, or filled.

    ``cumulative_profit`` is the trade's realized profit so far; ``final_profit_ratio`` is set
    and ``is_final_exit`` true when this fill closed the trade.
    """

    close_rate: float = 0.0
    close_date: datetime = field(default=datetime(1970, 1, 1, tzinfo=UTC))
    profit_amount: float = 0.0
    profit_ratio: float = 0.0
    gain: str | None = None
    exit_reason: str | None = None
    cumulative_profit: float | None = None
    final_profit_ratio: float | None = None
    is_final_exit: bool = False


@dataclass(frozen=True, slots=True)
class ExitCancelMessage(TradeMessage):
    """``exit_cancel``: an exit order was cancelled; the trade stays open."""

    reason: str = ""
    profit_amount: float | None = None
    profit_ratio: float | None = None
    gain: str | None = None
    exit_reason: str | None = None
    close_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """``status``, ``warning``, ``startup`` and the bot's own ``exception`` notices."""

    type: str
    status: str


@dataclass(frozen=True, slots=True)
class StrategyMessage:
    """``strategy_msg``: text the strategy sent with ``self.dp.send_msg`` (only when the
    producer sets ``api_server.allow_custom_messages``)."""

    msg: str


@dataclass(frozen=True, slots=True)
class ProtectionMessage:
    """``protection_trigger`` (one pair) / ``protection_trigger_global`` (every pair, ``pair``
    is ``"*"``): a protection locked trading until ``lock_end_time``."""

    type: str
    id: int | None
    pair: str
    base_currency: str | None
    lock_time: datetime
    lock_end_time: datetime
    reason: str | None
    side: str
    active: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class LiquidationWarningMessage:
    """``liquidation_warning``: open positions approach liquidation (futures only)."""

    trade_id: int
    pair: str
    current_rate: float
    liquidation_price: float
    remaining_ratio: float
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RawRpcMessage:
    """A message type not modelled here, kept as received (``fields`` is all but ``type``)."""

    type: str
    fields: Mapping[str, Any]


RpcMessage = (
    EntryMessage
    | EntryCancelMessage
    | ExitMessage
    | ExitCancelMessage
    | StatusMessage
    | StrategyMessage
    | ProtectionMessage
    | LiquidationWarningMessage
    | Whitelist
    | AnalyzedFrame
    | NewCandle
    | ProducerException
    | RawRpcMessage
)


# --- topics


def normalize_topics(topics: str | Iterable[str] | None) -> tuple[str, ...]:
    """The topics to subscribe to: Freqtrade's two first, then ``topics`` in order, once each.

    ``topics`` may be a comma-separated string (``"entry_fill,exit_fill"``). A ``subscribe``
    replaces a channel's whole subscription, and a producer ignores one that names an unknown
    type, so the two a consumer lives on are always kept and unknown names raise here.
    """
    if topics is None:
        return SUBSCRIBE_TOPICS
    names = topics.split(",") if isinstance(topics, str) else list(topics)
    out = list(SUBSCRIBE_TOPICS)
    bad: list[Any] = []
    for name in names:
        if isinstance(name, str):
            name = name.strip()
            if not name:
                continue
        if not isinstance(name, str) or name not in RPC_MESSAGE_TYPES:
            bad.append(name)
        elif name not in out:
            out.append(name)
    if bad:
        raise ValueError(
            f"unknown message type(s) in topics: {bad}; a Freqtrade producer ignores a "
            f"subscription naming one. Choose from {list(RPC_MESSAGE_TYPES)}"
        )
    return tuple(out)


def topics_subscribe_request(topics: str | Iterable[str] | None = None) -> str:
    """``{"type":"subscribe","data":[...]}`` for :func:`normalize_topics` ``(topics)``: with
    no extra topics this is byte for byte the request Freqtrade's consumer sends."""
    return subscribe_request(normalize_topics(topics))


def encode_rpc_message(message: Mapping[str, Any]) -> str:
    """One RPC message dict as a Freqtrade producer writes it on the message websocket
    (orjson: aware datetimes as ``...+00:00``, naive ones without an offset, enums as values)."""
    return orjson.dumps(dict(message)).decode()


# --- parsing


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Fields:
    """Typed access to one message's fields; errors name the message type and the field."""

    __slots__ = ("kind", "obj")

    def __init__(self, kind: str, obj: Mapping[str, Any]) -> None:
        self.kind = kind
        self.obj = obj

    def _fail(self, key: str, expected: str) -> ProtocolError:
        if key not in self.obj:
            return ProtocolError(f"{self.kind}: missing field {key!r} ({expected})")
        return ProtocolError(f"{self.kind}: {key} must be {expected}, got {_short(self.obj[key])}")

    def int_(self, key: str) -> int:
        value = self.obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        return value

    def opt_int(self, key: str) -> int | None:
        return None if self.obj.get(key) is None else self.int_(key)

    def float_(self, key: str) -> float:
        value = self.obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        return float(value)

    def opt_float(self, key: str) -> float | None:
        return None if self.obj.get(key) is None else self.float_(key)

    def str_(self, key: str) -> str:
        value = self.obj.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_str(self, key: str) -> str | None:
        return None if self.obj.get(key) is None else self.str_(key)

    def bool_(self, key: str, default: bool | None = None) -> bool:
        value = self.obj.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def date(self, key: str, fmt: str | None = None) -> datetime:
        value = self.obj.get(key)
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)
            except ValueError:
                raise self._fail(key, "an ISO 8601 datetime") from None
        else:
            raise self._fail(key, "a datetime string")
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def opt_date(self, key: str) -> datetime | None:
        return None if self.obj.get(key) is None else self.date(key)


def _trade_fields(f: _Fields, obj: Mapping[str, Any]) -> dict[str, Any]:
    direction = f.obj.get("direction")
    if direction not in ("Long", "Short"):
        raise f._fail("direction", "'Long' or 'Short'")
    amount = f.float_("amount")
    if not math.isfinite(amount):
        raise f._fail("amount", "a finite number")
    return {
        "type": f.kind,
        "trade_id": f.int_("trade_id"),
        "pair": f.str_("pair"),
        "is_short": direction == "Short",
        "enter_tag": f.opt_str("enter_tag"),
        "exchange": f.opt_str("exchange"),
        "base_currency": f.opt_str("base_currency"),
        "quote_currency": f.opt_str("quote_currency"),
        "leverage": f.opt_float("leverage"),
        "order_rate": f.opt_float("order_rate"),
        "open_rate": f.float_("open_rate"),
        "order_type": f.opt_str("order_type"),
        "stake_amount": f.opt_float("stake_amount"),
        "stake_currency": f.opt_str("stake_currency"),
        "fiat_currency": f.opt_str("fiat_currency"),
        "amount": amount,
        "open_date": f.date("open_date"),
        "current_rate": f.opt_float("current_rate"),
        "sub_trade": f.bool_("sub_trade", default=False),
        "raw": obj,
    }


def _frame_message(text: str, received: datetime | None) -> Whitelist | AnalyzedFrame | NewCandle:
    parsed = parse_message(text, received)
    if not isinstance(parsed, Whitelist | AnalyzedFrame | NewCandle):  # pragma: no cover
        raise ProtocolError(f"unexpected {type(parsed).__name__} for {_short(text)}")
    return parsed


#: Freqtrade's ``DATETIME_PRINT_FORMAT``, used by protection locks.
_PRINT_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_rpc_message(obj: Mapping[str, Any], received: datetime | None = None) -> RpcMessage:
    """Parse one decoded producer message (a JSON object) into an :data:`RpcMessage`.

    ``whitelist``, ``analyzed_df`` and ``new_candle`` go through
    :func:`~.messages.parse_message` (``received`` as there). Raises :class:`ProtocolError`
    naming the type and the field that was wrong.
    """
    if not isinstance(obj, Mapping):
        raise ProtocolError(f"message is not a JSON object but {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError(f"message has no type (got {_short(kind)})")
    f = _Fields(kind, obj)
    if kind in ENTRY_TYPES:
        return EntryMessage(**_trade_fields(f, obj))
    if kind == "entry_cancel":
        return EntryCancelMessage(**_trade_fields(f, obj), reason=f.opt_str("reason") or "")
    if kind in EXIT_TYPES:
        profit_ratio = f.float_("profit_ratio")
        final_ratio = f.opt_float("final_profit_ratio")
        is_final = obj.get("is_final_exit")
        return ExitMessage(
            **_trade_fields(f, obj),
            close_rate=f.float_("close_rate"),
            close_date=f.date("close_date"),
            profit_amount=f.float_("profit_amount"),
            profit_ratio=profit_ratio,
            gain=f.opt_str("gain"),
            exit_reason=f.opt_str("exit_reason"),
            cumulative_profit=f.opt_float("cumulative_profit"),
            final_profit_ratio=final_ratio,
            # Freqtrade before is_final_exit: a fill that is not a sub trade closes the trade.
            is_final_exit=(
                f.bool_("is_final_exit")
                if is_final is not None
                else kind == "exit_fill" and not f.bool_("sub_trade", default=False)
            ),
        )
    if kind == "exit_cancel":
        return ExitCancelMessage(
            **_trade_fields(f, obj),
            reason=f.opt_str("reason") or "",
            profit_amount=f.opt_float("profit_amount"),
            profit_ratio=f.opt_float("profit_ratio"),
            gain=f.opt_str("gain"),
            exit_reason=f.opt_str("exit_reason"),
            close_date=f.opt_date("close_date"),
        )
    if kind == "exception" and "status" not in obj:
        # The producer's reply to a request it could not process: {"type","data"}.
        data = obj.get("data")
        return ProducerException(data if isinstance(data, str) else _short(data, 500))
    if kind in STATUS_TYPES:
        return StatusMessage(kind, f.str_("status"))
    if kind == "strategy_msg":
        return StrategyMessage(f.str_("msg"))
    if kind in ("protection_trigger", "protection_trigger_global"):
        return ProtectionMessage(
            type=kind,
            id=f.opt_int("id"),
            pair=f.str_("pair"),
            base_currency=f.opt_str("base_currency"),
            lock_time=f.date("lock_time", _PRINT_FORMAT),
            lock_end_time=f.date("lock_end_time", _PRINT_FORMAT),
            reason=f.opt_str("reason"),
            side=f.str_("side"),
            active=f.bool_("active"),
            raw=obj,
        )
    if kind == "liquidation_warning":
        return LiquidationWarningMessage(
            trade_id=f.int_("trade_id"),
            pair=f.str_("pair"),
            current_rate=f.float_("current_rate"),
            liquidation_price=f.float_("liquidation_price"),
            remaining_ratio=f.float_("remaining_ratio"),
            raw=obj,
        )
    if kind in ("whitelist", "analyzed_df", "new_candle"):
        try:
            text = orjson.dumps({"type": kind, "data": obj.get("data")}).decode()
        except TypeError as exc:  # orjson.JSONEncodeError: e.g. an int beyond 64 bits
            raise ProtocolError(f"{kind}: data cannot be JSON-encoded: {exc}") from None
        return _frame_message(text, received)
    return RawRpcMessage(kind, {k: v for k, v in obj.items() if k != "type"})


def parse_rpc_text(text: str | bytes, received: datetime | None = None) -> RpcMessage:
    """:func:`parse_rpc_message` of one websocket text frame, as a connection receives it.

    The JSON is parsed once, by :func:`~.messages.parse_message`, for every type it knows
    (an ``analyzed_df`` frame is big); only a type it does not know and the bot's own
    ``exception`` notices (``status`` instead of ``data``) are parsed again.
    """
    try:
        message = parse_message(text, received)
    except ProtocolError:
        obj = _loads(text)
        kind = obj.get("type")
        if isinstance(kind, str) and kind and kind not in RPC_MESSAGE_TYPES:
            return RawRpcMessage(kind, {k: v for k, v in obj.items() if k != "type"})
        raise
    if isinstance(message, OtherMessage):
        return parse_rpc_message({"type": message.type, **message.fields}, received)
    if isinstance(message, ProducerException):
        return parse_rpc_message(_loads(text), received)
    return message


def _loads(text: str | bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"message is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"message is not a JSON object but {type(obj).__name__}")
    return obj
