"""A simulated dry-run bot for the demo producer: it trades on its own analyzed frames.

:class:`DemoBot` is fed the producer's analyzed frames as candles close and trades like a
Freqtrade dry-run bot would, by these rules (simple on purpose, and deterministic: the same
frames give the same trades, ids, dates and messages):

* **Entries.** A closed candle with ``enter_long == 1`` on a pair without an open trade makes a
  pending entry; it is filled at the **next candle's open**, if fewer than
  ``max_open_trades`` trades are open then. The amount is ``stake_amount / rate`` rounded down
  to ``amount_step``; the stake is that amount times the rate. ``enter_tag`` is the candle's
  tag (``None`` when empty, as Freqtrade).
* **Exits**, checked on every candle from the entry candle on, in this order:
  1. an ``exit_long == 1`` signal on the previous candle exits at this candle's open
     (``exit_signal``);
  2. stoploss: if the candle's low reaches ``open_rate * (1 + stoploss)``, exit there (or at
     the open if it gapped below) (``stop_loss``);
  3. ROI: with ``minimal_roi`` (minutes -> ratio, as Freqtrade's), if the candle's high reaches
     the rate at which the trade earns that ratio net of fees, exit there (or at the open if
     it gapped above) (``roi``).
* **Fees**: ``fee`` on both sides, in the quote currency. Profit is Freqtrade's: close value
  ``amount * close_rate * (1 - fee)`` minus open value ``amount * open_rate * (1 + fee)``;
  the ratio is the profit over the open value.
* Every fill happens at a candle's open date (the date of the candle it happened in), so a
  bot fed live acts one candle after the signal, like Freqtrade's ``process_only_new_candles``.

Messages come out as Freqtrade's ``RPC*Msg`` dicts (same keys in the same order, same value
types; datetimes as aware ``datetime`` objects), to be sent with
:func:`~producerconsumer.wire.rpc.encode_rpc_message`: ``entry`` then ``entry_fill``,
``exit`` then ``exit_fill``, and :meth:`DemoBot.startup_messages`. The bot never cancels
orders (every order fills in its candle), so it sends no ``entry_cancel`` / ``exit_cancel``.

:meth:`DemoBot.trades_json` and :meth:`DemoBot.status_json` are the bodies of
``/api/v1/trades`` and ``/api/v1/status`` (Freqtrade's trade JSON and ``OpenTradeSchema``);
:data:`PLOT_CONFIG` is the demo strategy's ``plot_config``.

Pure: no sockets, no threads, no clock. Not thread-safe: call it from one thread (the
producer's loop) and hand out copies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ..timeframes import timeframe_to_seconds

__all__ = ["DEFAULT_ROI", "PLOT_CONFIG", "DemoBot"]

#: The demo strategy's ``plot_config`` (FreqUI / ``plot-dataframe`` format).
PLOT_CONFIG: dict[str, Any] = {
    "main_plot": {
        "tema": {"color": "orange"},
        "bb_middleband": {"color": "grey"},
        "bb_upperband": {
            "color": "lightgrey",
            "fill_to": "bb_lowerband",
            "fill_label": "Bollinger Band",
            "fill_color": "rgba(128,128,128,0.1)",
        },
        "bb_lowerband": {"color": "lightgrey"},
    },
    "subplots": {"RSI": {"rsi": {"color": "purple", "type": "line"}}},
}

#: ``minimal_roi`` when none is given: minutes since entry -> profit ratio that exits.
DEFAULT_ROI: dict[str, float] = {"0": 0.03, "120": 0.015, "360": 0.005}

_PRINT_FORMAT = "%Y-%m-%d %H:%M:%S"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: ``/api/v1/status`` is validated by Freqtrade's ``OpenTradeSchema`` / ``OrderSchema``: these
#: fields, in this order.
_STATUS_KEYS: tuple[str, ...] = (
    "trade_id",
    "pair",
    "base_currency",
    "quote_currency",
    "is_open",
    "is_short",
    "exchange",
    "amount",
    "amount_requested",
    "stake_amount",
    "max_stake_amount",
    "strategy",
    "enter_tag",
    "timeframe",
    "fee_open",
    "fee_open_cost",
    "fee_open_currency",
    "fee_close",
    "fee_close_cost",
    "fee_close_currency",
    "open_date",
    "open_timestamp",
    "open_fill_date",
    "open_fill_timestamp",
    "open_rate",
    "open_rate_requested",
    "open_trade_value",
    "close_date",
    "close_timestamp",
    "close_rate",
    "close_rate_requested",
    "close_profit",
    "close_profit_pct",
    "close_profit_abs",
    "profit_ratio",
    "profit_pct",
    "profit_abs",
    "profit_fiat",
    "realized_profit",
    "realized_profit_ratio",
    "exit_reason",
    "exit_order_status",
    "stop_loss_abs",
    "stop_loss_ratio",
    "stop_loss_pct",
    "stoploss_last_update",
    "stoploss_last_update_timestamp",
    "initial_stop_loss_abs",
    "initial_stop_loss_ratio",
    "initial_stop_loss_pct",
    "min_rate",
    "max_rate",
    "nr_of_successful_entries",
    "nr_of_successful_exits",
    "has_open_orders",
    "orders",
    "leverage",
    "interest_rate",
    "liquidation_price",
    "funding_fees",
    "trading_mode",
    "amount_precision",
    "price_precision",
    "precision_mode",
    "stoploss_current_dist",
    "stoploss_current_dist_pct",
    "stoploss_current_dist_ratio",
    "stoploss_entry_dist",
    "stoploss_entry_dist_ratio",
    "current_rate",
    "total_profit_abs",
    "total_profit_fiat",
    "total_profit_ratio",
)
_STATUS_ORDER_KEYS: tuple[str, ...] = (
    "pair",
    "order_id",
    "status",
    "remaining",
    "amount",
    "safe_price",
    "cost",
    "filled",
    "ft_order_side",
    "order_type",
    "is_open",
    "order_timestamp",
    "order_filled_timestamp",
    "ft_fee_base",
    "ft_order_tag",
)


def _datetime(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _print(value: datetime | None) -> str | None:
    return None if value is None else value.strftime(_PRINT_FORMAT)


@dataclass(slots=True)
class _Order:
    order_id: str
    side: str
    tag: str | None
    amount: float
    price: float
    date: datetime


@dataclass(slots=True)
class _Trade:
    trade_id: int
    pair: str
    enter_tag: str | None
    open_date: datetime
    open_ns: int
    open_rate: float
    amount: float
    amount_requested: float
    stake_amount: float
    stake_requested: float
    fee: float
    stop_loss: float
    min_rate: float
    max_rate: float
    orders: list[_Order] = field(default_factory=list)
    is_open: bool = True
    close_date: datetime | None = None
    close_rate: float | None = None
    exit_reason: str | None = None
    close_profit: float | None = None
    close_profit_abs: float | None = None

    @property
    def open_value(self) -> float:
        return self.amount * self.open_rate * (1 + self.fee)

    def profit(self, rate: float) -> tuple[float, float]:
        """``(profit_abs, profit_ratio)`` if the whole trade exited at ``rate`` (8 decimals,
        as Freqtrade's ``calculate_profit`` rounds them)."""
        close_value = self.amount * rate * (1 - self.fee)
        return round(close_value - self.open_value, 8), round(close_value / self.open_value - 1, 8)


class DemoBot:
    """A dry-run bot on the demo producer's own signals (rules in the module docstring).

    >>> bot = DemoBot(timeframe="5m")
    >>> messages = bot.run({"BTC/USDT": analyzed_frame})   # every candle not yet seen
    >>> bot.trades_json()                                    # /api/v1/trades body
    """

    def __init__(
        self,
        *,
        timeframe: str = "5m",
        stake_currency: str = "USDT",
        stake_amount: float = 100.0,
        max_open_trades: int = 3,
        fee: float = 0.001,
        minimal_roi: Mapping[str, float] | None = None,
        stoploss: float = -0.05,
        exchange: str = "binance",
        strategy: str = "ProducerStrategy",
        amount_step: float = 1e-8,
    ) -> None:
        if stake_amount <= 0 or max_open_trades < 0 or not -1 < stoploss < 0:
            raise ValueError(
                "stake_amount must be > 0, max_open_trades >= 0 and stoploss in (-1, 0); got "
                f"{stake_amount}, {max_open_trades}, {stoploss}"
            )
        self.timeframe = timeframe
        self.stake_currency = stake_currency
        self.stake_amount = float(stake_amount)
        self.max_open_trades = max_open_trades
        self.fee = float(fee)
        roi = dict(minimal_roi) if minimal_roi is not None else DEFAULT_ROI
        self.minimal_roi: dict[int, float] = {int(k): float(v) for k, v in roi.items()}
        self.stoploss = float(stoploss)
        self.exchange = exchange
        self.strategy = strategy
        self.amount_step = amount_step
        self._tf_seconds = timeframe_to_seconds(timeframe)
        self._trades: dict[int, _Trade] = {}
        self._open: dict[str, _Trade] = {}
        self._pending_entry: dict[str, str | None] = {}
        self._pending_exit: set[str] = set()
        self._seen: dict[str, int] = {}  # newest candle date seen, ns
        self._last_close: dict[str, float] = {}
        self._next_id = 1

    def __repr__(self) -> str:
        return (
            f"DemoBot({len(self._trades)} trades, {len(self._open)} open, "
            f"max_open_trades={self.max_open_trades})"
        )

    # --- feeding candles

    def run(self, frames: Mapping[str, pd.DataFrame]) -> list[dict[str, Any]]:
        """Trade on every candle of ``frames`` (pair -> analyzed frame) not seen before, in date
        order (pairs in ``frames`` order within a date); the messages sent, in order."""
        pairs: list[str] = []
        candles: list[list[tuple[Any, ...]]] = []
        stamps: list[np.ndarray] = []
        for pair, frame in frames.items():
            if frame.empty:
                continue
            ns = pd.DatetimeIndex(pd.to_datetime(frame["date"], utc=True)).as_unit("ns").asi8
            seen = self._seen.get(pair)
            mask = np.ones(len(ns), dtype=bool) if seen is None else ns > seen
            if not mask.any():
                continue
            new = frame.loc[mask]
            columns = [
                new[name].to_numpy(dtype=float).tolist() if name in new else [math.nan] * len(new)
                for name in ("open", "high", "low", "close", "enter_long", "exit_long")
            ]
            tags = new["enter_tag"].tolist() if "enter_tag" in new else [None] * len(new)
            pairs.append(pair)
            candles.append(list(zip(*columns, tags, strict=True)))
            stamps.append(ns[mask])
            self._seen[pair] = int(ns[mask].max())
        if not pairs:
            return []
        # Date order, then pair order within a date (lexsort: last key sorts first).
        all_ns = np.concatenate(stamps)
        which = np.concatenate([np.full(len(s), i) for i, s in enumerate(stamps)])
        row = np.concatenate([np.arange(len(s)) for s in stamps])
        order = np.lexsort((which, all_ns))
        messages: list[dict[str, Any]] = []
        for ns_value, i, j in zip(
            all_ns[order].tolist(), which[order].tolist(), row[order].tolist(), strict=True
        ):
            messages.extend(self._candle(pairs[i], ns_value, candles[i][j]))
        return messages

    def on_candle(self, pair: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """:meth:`run` for one pair's frame (its new candles)."""
        return self.run({pair: frame})

    def _candle(self, pair: str, ns: int, candle: tuple[Any, ...]) -> list[dict[str, Any]]:
        open_, high, low, close, enter_long, exit_long, tag = candle
        enter, exit_ = enter_long == 1, exit_long == 1
        out: list[dict[str, Any]] = []
        if pair in self._pending_entry:
            tag_value = self._pending_entry.pop(pair)
            if pair not in self._open and len(self._open) < self.max_open_trades:
                out.extend(self._enter(pair, ns, open_, tag_value))
        trade = self._open.get(pair)
        if trade is not None:
            trade.min_rate = min(trade.min_rate, low)
            trade.max_rate = max(trade.max_rate, high)
            stop = trade.stop_loss
            roi = self._roi(trade, ns)
            if pair in self._pending_exit:
                out.extend(self._exit(trade, ns, open_, "exit_signal"))
            elif low <= stop:
                out.extend(self._exit(trade, ns, min(open_, stop), "stop_loss"))
            elif roi is not None:
                # The rate at which the trade earns ``roi`` net of both fees.
                target = trade.open_rate * (1 + self.fee) * (1 + roi) / (1 - self.fee)
                if high >= target:
                    out.extend(self._exit(trade, ns, max(open_, target), "roi"))
        self._pending_exit.discard(pair)
        if pair in self._open and exit_:
            self._pending_exit.add(pair)
        elif pair not in self._open and enter:
            self._pending_entry[pair] = tag if isinstance(tag, str) and tag else None
        self._last_close[pair] = close
        return out

    def _roi(self, trade: _Trade, ns: int) -> float | None:
        minutes = (ns - trade.open_ns) / 60e9
        reached = [k for k in self.minimal_roi if k <= minutes]
        return self.minimal_roi[max(reached)] if reached else None

    # --- orders

    def _enter(self, pair: str, ns: int, rate: float, tag: str | None) -> list[dict[str, Any]]:
        date = _datetime(ns)
        amount = math.floor(self.stake_amount / rate / self.amount_step) * self.amount_step
        amount = round(amount, 12)
        if amount <= 0:
            return []
        trade = _Trade(
            trade_id=self._next_id,
            pair=pair,
            enter_tag=tag,
            open_date=date,
            open_ns=ns,
            open_rate=rate,
            amount=amount,
            amount_requested=self.stake_amount / rate,
            stake_amount=amount * rate,
            stake_requested=self.stake_amount,
            fee=self.fee,
            stop_loss=rate * (1 + self.stoploss),
            min_rate=rate,
            max_rate=rate,
        )
        trade.orders.append(
            _Order(f"dry_run_buy_{pair}_{trade.trade_id}", "buy", tag, amount, rate, date)
        )
        self._next_id += 1
        self._trades[trade.trade_id] = trade
        self._open[pair] = trade
        placed = self._entry_message(trade, "entry", trade.stake_requested, rate)
        filled = self._entry_message(trade, "entry_fill", trade.stake_amount, rate)
        return [placed, filled]

    def _exit(self, trade: _Trade, ns: int, rate: float, reason: str) -> list[dict[str, Any]]:
        date = _datetime(ns)
        trade.exit_reason = reason
        trade.orders.append(
            _Order(
                f"dry_run_sell_{trade.pair}_{trade.trade_id}",
                "sell",
                reason,
                trade.amount,
                rate,
                date,
            )
        )
        placed = self._exit_message(trade, "exit", rate, date)
        profit_abs, _ = trade.profit(rate)
        trade.is_open = False
        trade.close_date = date
        trade.close_rate = rate
        trade.close_profit_abs = profit_abs
        trade.close_profit = profit_abs / trade.open_value
        del self._open[trade.pair]
        filled = self._exit_message(trade, "exit_fill", rate, date)
        return [placed, filled]

    # --- messages (Freqtrade's RPCEntryMsg / RPCExitMsg, keys in its order)

    def _base_quote(self, pair: str) -> tuple[str, str]:
        base, _, quote = pair.partition("/")
        return base, quote.split(":")[0] or self.stake_currency

    def _entry_message(self, trade: _Trade, kind: str, stake: float, rate: float) -> dict[str, Any]:
        base, quote = self._base_quote(trade.pair)
        return {
            "trade_id": trade.trade_id,
            "type": kind,
            "buy_tag": trade.enter_tag,
            "enter_tag": trade.enter_tag,
            "exchange": self.exchange.capitalize(),
            "pair": trade.pair,
            "leverage": 1.0,
            "direction": "Long",
            "limit": rate,
            "order_rate": rate,
            "open_rate": rate,
            "order_type": "limit",
            "stake_amount": stake,
            "stake_currency": self.stake_currency,
            "base_currency": base,
            "quote_currency": quote,
            "fiat_currency": None,
            "amount": trade.amount,
            "open_date": trade.open_date,
            "current_rate": rate,
            "sub_trade": False,
        }

    def _exit_message(
        self, trade: _Trade, kind: str, rate: float, date: datetime
    ) -> dict[str, Any]:
        base, quote = self._base_quote(trade.pair)
        profit_abs, profit_ratio = trade.profit(rate)
        final = kind == "exit_fill"
        return {
            "type": kind,
            "trade_id": trade.trade_id,
            "exchange": self.exchange.capitalize(),
            "pair": trade.pair,
            "leverage": 1.0,
            "direction": "Long",
            "gain": "profit" if profit_ratio > 0 else "loss",
            "limit": rate,
            "order_rate": rate,
            "order_type": "limit",
            "amount": trade.amount,
            "open_rate": trade.open_rate,
            "close_rate": rate,
            "current_rate": None if final else rate,
            "profit_amount": profit_abs,
            "profit_ratio": profit_ratio,
            "buy_tag": trade.enter_tag,
            "enter_tag": trade.enter_tag,
            "exit_reason": trade.exit_reason,
            "open_date": trade.open_date,
            "close_date": date,
            "stake_amount": trade.stake_amount,
            "stake_currency": self.stake_currency,
            "base_currency": base,
            "quote_currency": quote,
            "fiat_currency": None,
            "sub_trade": False,
            "cumulative_profit": trade.close_profit_abs if final else 0.0,
            "final_profit_ratio": trade.close_profit if final else None,
            "is_final_exit": final,
        }

    def startup_messages(self) -> list[dict[str, Any]]:
        """What a dry-run bot sends when it starts (``warning``, then ``startup``)."""
        roi = {str(k): v for k, v in self.minimal_roi.items()}
        return [
            {"type": "warning", "status": "Dry run is enabled. All trades are simulated."},
            {
                "type": "startup",
                "status": f"*Exchange:* `{self.exchange}`\n"
                f"*Stake per trade:* `{self.stake_amount} {self.stake_currency}`\n"
                f"*Minimum ROI:* `{roi}`\n"
                f"*Stoploss:* `{self.stoploss}`\n"
                f"*Position adjustment:* `Off`\n"
                f"*Timeframe:* `{self.timeframe}`\n"
                f"*Strategy:* `{self.strategy}`",
            },
            {
                "type": "startup",
                "status": f"Searching for {self.stake_currency} pairs to buy and sell "
                "based on [{'StaticPairList': 'StaticPairList'}]",
            },
        ]

    # --- REST shapes

    def _order_json(self, trade: _Trade, order: _Order) -> dict[str, Any]:
        stamp = _ms(order.date)
        return {
            "amount": order.amount,
            "safe_price": order.price,
            "ft_order_side": order.side,
            "order_filled_timestamp": stamp,
            "ft_is_entry": order.side == "buy",
            "ft_order_tag": order.tag,
            "cost": order.amount * order.price,
            "pair": trade.pair,
            "order_id": order.order_id,
            "status": "closed",
            "average": round(order.price, 8),
            "filled": order.amount,
            "is_open": False,
            "order_date": _print(order.date),
            "order_timestamp": stamp,
            "order_filled_date": _print(order.date),
            "order_type": "limit",
            "price": order.price,
            "remaining": 0.0,
            "ft_fee_base": None,
            "funding_fee": 0.0,
        }

    def _trade_json(self, trade: _Trade) -> dict[str, Any]:
        """Freqtrade's ``LocalTrade.to_json()`` keys, in its order."""
        base, quote = self._base_quote(trade.pair)
        duration = (
            int((trade.close_date - trade.open_date).total_seconds())
            if trade.close_date is not None
            else None
        )
        closed = not trade.is_open
        ratio = trade.close_profit
        return {
            "trade_id": trade.trade_id,
            "pair": trade.pair,
            "base_currency": base,
            "quote_currency": quote,
            "is_open": trade.is_open,
            "exchange": self.exchange,
            "amount": round(trade.amount, 8),
            "amount_requested": round(trade.amount_requested, 8),
            "stake_amount": round(trade.stake_amount, 8),
            "max_stake_amount": round(trade.stake_amount, 8),
            "strategy": self.strategy,
            "enter_tag": trade.enter_tag,
            "timeframe": self._tf_seconds // 60,
            "fee_open": trade.fee,
            "fee_open_cost": trade.stake_amount * trade.fee,
            "fee_open_currency": quote,
            "fee_close": trade.fee,
            "fee_close_cost": (
                trade.amount * trade.close_rate * trade.fee
                if trade.close_rate is not None
                else None
            ),
            "fee_close_currency": quote if closed else None,
            "open_date": _print(trade.open_date),
            "open_timestamp": _ms(trade.open_date),
            "open_fill_date": _print(trade.open_date),
            "open_fill_timestamp": _ms(trade.open_date),
            "open_rate": trade.open_rate,
            "open_rate_requested": trade.open_rate,
            "open_trade_value": round(trade.open_value, 8),
            "close_date": _print(trade.close_date),
            "close_timestamp": None if trade.close_date is None else _ms(trade.close_date),
            "realized_profit": trade.close_profit_abs or 0.0,
            "realized_profit_ratio": ratio or None,
            "close_rate": trade.close_rate,
            "close_rate_requested": trade.close_rate,
            "close_profit": ratio,
            "close_profit_pct": round(ratio * 100, 2) if ratio else None,
            "close_profit_abs": trade.close_profit_abs,
            "trade_duration_s": duration,
            "trade_duration": duration // 60 if duration is not None else None,
            "profit_ratio": ratio,
            "profit_pct": round(ratio * 100, 2) if ratio else None,
            "profit_abs": trade.close_profit_abs,
            "exit_reason": trade.exit_reason,
            "exit_order_status": "closed" if closed else None,
            "stop_loss_abs": trade.stop_loss,
            "stop_loss_ratio": self.stoploss,
            "stop_loss_pct": self.stoploss * 100,
            "stoploss_last_update": None,
            "stoploss_last_update_timestamp": None,
            "initial_stop_loss_abs": trade.stop_loss,
            "initial_stop_loss_ratio": self.stoploss,
            "initial_stop_loss_pct": self.stoploss * 100,
            "min_rate": trade.min_rate,
            "max_rate": trade.max_rate,
            "leverage": 1.0,
            "interest_rate": 0.0,
            "liquidation_price": None,
            "is_short": False,
            "trading_mode": "spot",
            "funding_fees": 0.0,
            "amount_precision": self.amount_step,
            "price_precision": 1e-08,
            "precision_mode": 4,
            "precision_mode_price": 4,
            "contract_size": 1.0,
            "nr_of_successful_entries": 1,
            "nr_of_successful_exits": 0 if trade.is_open else 1,
            "has_open_orders": False,
            "orders": [self._order_json(trade, order) for order in trade.orders],
        }

    def trades_json(self, limit: int = 500, offset: int = 0) -> dict[str, Any]:
        """``/api/v1/trades``: closed trades by id, ``limit`` from ``offset``."""
        closed = [t for t in self._trades.values() if not t.is_open]
        page = [self._trade_json(t) for t in closed[offset : offset + limit]]
        return {
            "trades": page,
            "trades_count": len(page),
            "offset": offset,
            "total_trades": len(closed),
        }

    def status_json(self) -> list[dict[str, Any]]:
        """``/api/v1/status``: the open trades as ``OpenTradeSchema`` (profits at the last
        close of their pair)."""
        out = []
        for trade in self._open.values():
            data = self._trade_json(trade)
            data["orders"] = [{k: o[k] for k in _STATUS_ORDER_KEYS} for o in data["orders"]]
            rate = self._last_close.get(trade.pair, trade.open_rate)
            profit_abs, profit_ratio = trade.profit(rate)
            stop_abs, stop_ratio = trade.profit(trade.stop_loss)
            dist = trade.stop_loss - rate
            data.update(
                {
                    "close_profit": None,
                    "current_rate": rate,
                    "profit_ratio": profit_ratio,
                    "profit_pct": round(profit_ratio * 100, 2),
                    "profit_abs": profit_abs,
                    "profit_fiat": None,
                    "total_profit_abs": profit_abs,
                    "total_profit_fiat": None,
                    "total_profit_ratio": profit_ratio,
                    "stoploss_current_dist": dist,
                    "stoploss_current_dist_ratio": round(dist / rate, 8),
                    "stoploss_current_dist_pct": round(dist / rate * 100, 2),
                    "stoploss_entry_dist": stop_abs,
                    "stoploss_entry_dist_ratio": round(stop_ratio, 8),
                }
            )
            out.append({key: data[key] for key in _STATUS_KEYS})
        return out

    def plot_config(self) -> dict[str, Any]:
        """``/api/v1/plot_config``: :data:`PLOT_CONFIG` (a copy)."""
        return {
            "main_plot": {k: dict(v) for k, v in PLOT_CONFIG["main_plot"].items()},
            "subplots": {
                name: {k: dict(v) for k, v in plots.items()}
                for name, plots in PLOT_CONFIG["subplots"].items()
            },
        }

    @property
    def open_pairs(self) -> Sequence[str]:
        """Pairs with an open trade."""
        return list(self._open)
