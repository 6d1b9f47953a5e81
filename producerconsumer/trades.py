"""The producer bot's trades, rebuilt from its trade messages or read from its REST API.

:class:`ProducerTrades` follows a Freqtrade bot's trades the way its database does, one row
per trade id, from the ``entry`` / ``entry_fill`` / ``entry_cancel`` / ``exit`` /
``exit_fill`` / ``exit_cancel`` messages of its message websocket:

* ``entry`` opens a row for a new trade id (``is_open``, the requested amount and rate);
* ``entry_fill`` sets the amount and rate of a first full fill; a ``sub_trade`` fill
  (partial, or another entry of a position adjustment) is added to the position, the rate
  becoming the amount-weighted average;
* ``entry_cancel`` removes a trade none of whose entries filled (Freqtrade deletes it), and
  otherwise keeps it with the amount the message reports;
* ``exit`` records the exit reason of the order placed; ``exit_cancel`` resets it to the
  message's (Freqtrade clears it);
* a partial ``exit_fill`` reduces the amount and adds to the realized profit; the final one
  (``is_final_exit``) closes the trade with the bot's own numbers: close rate and date,
  ``final_profit_ratio`` and ``cumulative_profit`` (the bot's ``close_profit`` and
  ``close_profit_abs``), and the trade's average open rate, amount and stake.

A row for a trade first seen mid-life (the subscription started after its entry) is made from
the first message about it. :meth:`ProducerTrades.load_rest` reads ``/api/v1/trades`` (or
``/api/v1/status``) JSON into the same columns.

To compare equal across both sources, dates are floored to milliseconds (the REST API's
``*_timestamp`` resolution) and ``amount`` / ``stake_amount`` are rounded to 8 decimals, as
the REST API rounds them. For an open trade ``profit_abs`` is the realized profit of partial
exits (0 before any) and ``profit_ratio`` is NaN: neither source says more without a price.

Pure and thread-safe: :meth:`ProducerTrades.apply` may run on one thread while others call
:meth:`ProducerTrades.frame`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from .wire.messages import ProtocolError
from .wire.rpc import (
    EntryCancelMessage,
    EntryMessage,
    ExitCancelMessage,
    ExitMessage,
    RpcMessage,
    TradeMessage,
)

__all__ = ["TRADE_COLUMNS", "ProducerTrades", "TradeRow", "rest_trades_frame"]

#: The columns of :meth:`ProducerTrades.frame`, indexed by ``trade_id``.
TRADE_COLUMNS: tuple[str, ...] = (
    "pair",
    "is_short",
    "enter_tag",
    "open_date",
    "open_rate",
    "amount",
    "stake_amount",
    "close_date",
    "close_rate",
    "exit_reason",
    "profit_ratio",
    "profit_abs",
    "is_open",
)


def _ms(value: datetime) -> datetime:
    """Floor to the millisecond (what ``/api/v1/trades`` timestamps keep)."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One producer trade as :class:`ProducerTrades` holds it."""

    trade_id: int
    pair: str
    is_short: bool
    enter_tag: str | None
    open_date: datetime
    open_rate: float
    amount: float
    stake_amount: float | None
    close_date: datetime | None = None
    close_rate: float | None = None
    exit_reason: str | None = None
    profit_ratio: float | None = None
    profit_abs: float = 0.0
    is_open: bool = True
    #: Whether any entry filled (an unfilled trade disappears when its entry is cancelled).
    filled: bool = False


def _new_row(msg: TradeMessage) -> TradeRow:
    return TradeRow(
        trade_id=msg.trade_id,
        pair=msg.pair,
        is_short=msg.is_short,
        enter_tag=msg.enter_tag,
        open_date=_ms(msg.open_date),
        open_rate=msg.open_rate,
        amount=msg.amount,
        stake_amount=msg.stake_amount,
    )


def _apply(row: TradeRow | None, msg: TradeMessage) -> TradeRow | None:
    """The trade after ``msg`` (``None``: it does not exist)."""
    if isinstance(msg, EntryCancelMessage):
        if row is None or not row.filled:
            return None
        return replace(row, amount=msg.amount, stake_amount=msg.stake_amount)
    if isinstance(msg, EntryMessage):
        if row is None:
            row = _new_row(msg)
        if not msg.fill:
            return row
        if not msg.sub_trade or not row.filled:
            amount, rate = msg.amount, msg.open_rate
        else:
            amount = row.amount + msg.amount
            rate = (row.open_rate * row.amount + msg.open_rate * msg.amount) / amount
        return replace(
            row,
            amount=amount,
            open_rate=rate,
            stake_amount=msg.stake_amount,
            open_date=_ms(msg.open_date),
            filled=True,
        )
    if row is None:
        row = replace(_new_row(msg), filled=True)
    if isinstance(msg, ExitCancelMessage):
        return replace(row, exit_reason=msg.exit_reason)
    if not isinstance(msg, ExitMessage):
        return row
    if not msg.fill:
        return replace(row, exit_reason=msg.exit_reason)
    realized = (
        msg.cumulative_profit
        if msg.cumulative_profit is not None
        else row.profit_abs + msg.profit_amount
    )
    if msg.is_final_exit:
        return replace(
            row,
            amount=msg.amount,
            open_rate=msg.open_rate,
            stake_amount=msg.stake_amount,
            close_date=_ms(msg.close_date),
            close_rate=msg.close_rate,
            exit_reason=msg.exit_reason,
            profit_ratio=(
                msg.final_profit_ratio if msg.final_profit_ratio is not None else msg.profit_ratio
            ),
            profit_abs=realized,
            is_open=False,
        )
    return replace(
        row,
        amount=row.amount - msg.amount,
        open_rate=msg.open_rate,
        stake_amount=msg.stake_amount,
        exit_reason=msg.exit_reason,
        profit_abs=realized,
    )


class ProducerTrades:
    """Accumulates one producer's trade messages into a table of its trades.

    >>> trades = ProducerTrades()
    >>> trades.apply(message)          # any RpcMessage; non-trade messages are ignored
    >>> trades.frame()                 # DataFrame indexed by trade_id, columns TRADE_COLUMNS
    """

    def __init__(self, rows: Iterable[TradeRow] = ()) -> None:
        self._lock = threading.Lock()
        self._rows: dict[int, TradeRow] = {row.trade_id: row for row in rows}

    def apply(self, message: RpcMessage) -> bool:
        """Take one message into account; True if it was a trade message."""
        if not isinstance(message, TradeMessage):
            return False
        with self._lock:
            row = _apply(self._rows.get(message.trade_id), message)
            if row is None:
                self._rows.pop(message.trade_id, None)
            else:
                self._rows[message.trade_id] = row
        return True

    def extend(self, messages: Iterable[RpcMessage]) -> None:
        """:meth:`apply` each message in order."""
        for message in messages:
            self.apply(message)

    def rows(self) -> list[TradeRow]:
        """The trades, by trade id."""
        with self._lock:
            return [self._rows[key] for key in sorted(self._rows)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    def __repr__(self) -> str:
        rows = self.rows()
        open_count = sum(row.is_open for row in rows)
        return f"ProducerTrades({len(rows)} trades, {open_count} open)"

    def frame(self) -> pd.DataFrame:
        """One row per trade id (index ``trade_id``), columns :data:`TRADE_COLUMNS`."""
        return _frame(self.rows())

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ProducerTrades:
        """Back from :meth:`frame` (e.g. a snapshot's trades table); later messages apply on
        top (a restored trade counts as filled). :class:`ProtocolError` if a column is missing."""
        missing = [c for c in TRADE_COLUMNS if c not in frame.columns]
        if missing:
            raise ProtocolError(f"trades table lacks column(s) {missing}")

        def value(v: Any) -> Any:
            return (
                None if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v
            )

        def date(v: Any) -> datetime | None:
            v = value(v)
            return None if v is None else pd.Timestamp(v).tz_convert(UTC).to_pydatetime()

        rows = []
        for trade_id, rec in zip(frame.index, frame.to_dict("records"), strict=True):
            open_date = date(rec["open_date"])
            if open_date is None:
                raise ProtocolError(f"trade {trade_id}: open_date is missing")
            rows.append(
                TradeRow(
                    trade_id=int(trade_id),
                    pair=str(rec["pair"]),
                    is_short=bool(rec["is_short"]),
                    enter_tag=value(rec["enter_tag"]),
                    open_date=open_date,
                    open_rate=float(rec["open_rate"]),
                    amount=float(rec["amount"]),
                    stake_amount=value(rec["stake_amount"]),
                    close_date=date(rec["close_date"]),
                    close_rate=value(rec["close_rate"]),
                    exit_reason=value(rec["exit_reason"]),
                    profit_ratio=value(rec["profit_ratio"]),
                    profit_abs=float(rec["profit_abs"]),
                    is_open=bool(rec["is_open"]),
                    filled=True,
                )
            )
        return cls(rows)

    @classmethod
    def load_rest(cls, payload: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> ProducerTrades:
        """From ``/api/v1/trades`` JSON (``{"trades": [...], ...}``) or a list of trade
        objects (``/api/v1/status``). :class:`ProtocolError` names a malformed trade."""
        items = payload.get("trades") if isinstance(payload, Mapping) else payload
        if items is None or isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise ProtocolError(
                "trades JSON must be /api/v1/trades' object with a 'trades' list, or a list of "
                f"trade objects; got {type(payload).__name__}"
            )
        return cls(_rest_row(item) for item in items)


def rest_trades_frame(payload: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """:meth:`ProducerTrades.load_rest` ``(payload).frame()``."""
    return ProducerTrades.load_rest(payload).frame()


def _rest_date(item: Mapping[str, Any], name: str) -> datetime | None:
    """``{name}_timestamp`` (ms), else the ``{name}_date`` text (whole seconds)."""
    stamp = item.get(f"{name}_timestamp")
    if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp > 0:
        return datetime.fromtimestamp(stamp // 1000, tz=UTC).replace(
            microsecond=stamp % 1000 * 1000
        )
    text = item.get(f"{name}_date")
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        raise ProtocolError(f"trade: {name}_date is not a date: {text!r}") from None
    return _ms(value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC))


def _rest_row(item: Mapping[str, Any]) -> TradeRow:
    if not isinstance(item, Mapping):
        raise ProtocolError(f"trade must be an object, got {type(item).__name__}")
    try:
        open_date = _rest_date(item, "open")
        if open_date is None:
            raise KeyError("open_date")
        is_open = bool(item["is_open"])
        return TradeRow(
            trade_id=int(item["trade_id"]),
            pair=str(item["pair"]),
            is_short=bool(item.get("is_short", False)),
            enter_tag=item.get("enter_tag"),
            open_date=open_date,
            open_rate=float(item["open_rate"]),
            amount=float(item["amount"]),
            stake_amount=None if item.get("stake_amount") is None else float(item["stake_amount"]),
            close_date=None if is_open else _rest_date(item, "close"),
            close_rate=None if is_open or item.get("close_rate") is None else item["close_rate"],
            exit_reason=item.get("exit_reason"),
            profit_ratio=None if is_open else item.get("profit_ratio"),
            profit_abs=float(
                (item.get("realized_profit") if is_open else item.get("profit_abs")) or 0.0
            ),
            is_open=is_open,
            filled=True,
        )
    except KeyError as exc:
        raise ProtocolError(
            f"trade {item.get('trade_id')!r}: missing field {exc.args[0]!r}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"trade {item.get('trade_id')!r}: {exc}") from None


def _round8(value: float | None) -> float:
    return math.nan if value is None else round(value, 8)


def _frame(rows: list[TradeRow]) -> pd.DataFrame:
    def dates(values: list[datetime | None]) -> pd.Series:
        stamps = [pd.NaT if v is None else pd.Timestamp(v) for v in values]
        return pd.Series(stamps, dtype="datetime64[ms, UTC]")

    def floats(values: list[float | None]) -> pd.Series:
        return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")

    data = {
        "pair": pd.Series([r.pair for r in rows], dtype=object),
        "is_short": pd.Series([r.is_short for r in rows], dtype=bool),
        "enter_tag": pd.Series([r.enter_tag for r in rows], dtype=object),
        "open_date": dates([r.open_date for r in rows]),
        "open_rate": floats([r.open_rate for r in rows]),
        "amount": floats([_round8(r.amount) for r in rows]),
        "stake_amount": floats([_round8(r.stake_amount) for r in rows]),
        "close_date": dates([r.close_date for r in rows]),
        "close_rate": floats([r.close_rate for r in rows]),
        "exit_reason": pd.Series([r.exit_reason for r in rows], dtype=object),
        "profit_ratio": floats([r.profit_ratio for r in rows]),
        "profit_abs": floats([r.profit_abs for r in rows]),
        "is_open": pd.Series([r.is_open for r in rows], dtype=bool),
    }
    index = pd.Index([r.trade_id for r in rows], dtype="int64", name="trade_id")
    frame = pd.DataFrame(data)
    frame.index = index
    return frame
