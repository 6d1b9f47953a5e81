"""The trade simulation: Freqtrade 2026.9's backtesting rules for spot long, on prepared arrays.

Reimplemented from Freqtrade's documented and observed behaviour (no Freqtrade code), and
proven trade for trade against Freqtrade's own ``Backtesting`` by the differential tests in
``tests/interop/oracle_tests/test_backtest_parity.py``.

The simulation is separate from the signals: :func:`prepare_pair` turns one analyzed frame into
a :class:`PairData` (numpy arrays, signals already shifted by one candle as Freqtrade does), and
:func:`simulate` runs the trades on a list of them. A parameter sweep prepares once and calls
:func:`simulate` as often as it likes.

How the rules map onto an event simulation: a trade's exit depends only on its own pair's
candles, its stop and the callbacks, never on other trades. So each entry scans forward for its
exit at once (vectorised when no per-candle callback or trailing stop is involved), and the
pairs interact only through ``max_open_trades`` and the wallet, at the candles where entries
happen. Within a candle, Freqtrade handles the pairs with open trades first (their exits free
slots and stake), then the other pairs in pair-list order; an entry may exit on its own candle.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Callbacks",
    "PairData",
    "SimResult",
    "SimSettings",
    "SimTrade",
    "decimal_counts",
    "monthly_ticks",
    "prepare_pair",
    "round_price",
    "simulate",
    "tick_sizes",
    "trades_frame",
]

NS_PER_MINUTE = 60_000_000_000
CUSTOM_TAG_MAX_LENGTH = 255  # Freqtrade trims custom exit reasons to this length
_EXACT = Context(prec=60)  # Freqtrade computes values in exact decimal arithmetic (string math)


def _dec(value: float) -> Decimal:
    return Decimal(str(value))


# --------------------------------------------------------------------------------------------
# prices on the exchange's grid


def round_price(price: float, tick: float | None, mode: str = "round") -> float:
    """``price`` on the grid of ``tick`` (Freqtrade's ``price_to_precision`` in tick-size mode).

    ``mode``: ``"round"`` (half up, for order prices) or ``"up"`` (for long stoplosses).
    ``tick`` None or NaN: unchanged.
    """
    if tick is None or tick != tick or price != price:
        return price
    dec = _dec(price)
    step = _dec(tick)
    missing = abs(dec) % step
    if missing == 0:
        return price if mode == "up" else float(dec)
    if mode == "up":
        return round(float(_EXACT.add(_EXACT.subtract(dec, missing), step)), 14)
    if missing >= step / 2:
        return float(_EXACT.add(_EXACT.subtract(dec, missing), step))
    return float(_EXACT.subtract(dec, missing))


def _decimals(value: float) -> float:
    """Digits after the point of ``value`` at 14 significant digits (NaN: none)."""
    if value != value or value in (math.inf, -math.inf):
        return math.nan
    text = np.format_float_positional(value, precision=14, unique=False, fractional=False, trim="-")
    point = text.find(".")
    if point < 0:
        return math.nan
    digits = text[point + 1 :].rstrip("0")
    return float(len(digits)) if digits else math.nan


_POWERS_OF_TEN = 10 ** np.arange(1, 15, dtype="int64")


def decimal_counts(values: np.ndarray) -> np.ndarray:
    """:func:`_decimals` of every value, vectorised: the 14 significant digits as an integer
    ``m`` (``value * 10**shift``), minus its trailing zeros. Values whose scaled fraction is
    too close to a half to trust the float product are done exactly, one by one."""
    out = np.full(len(values), np.nan)
    finite = np.isfinite(values) & (values != 0)
    v = np.abs(values[finite])
    if len(v) == 0:
        return out
    with np.errstate(all="ignore"):
        shift = 13 - np.floor(np.log10(v)).astype("int64")
        scaled = v * np.power(10.0, shift)
    m = np.rint(scaled)
    doubtful = (np.abs(scaled - np.floor(scaled) - 0.5) < 0.1) | (m >= 1e14) | (m < 1e13)
    digits = m.astype("int64")
    # trailing zeros: divisible by 10**k for k = 1..14 (each implies the ones before)
    zeros = (digits[:, None] % _POWERS_OF_TEN[None, :] == 0).sum(axis=1)
    zeros[digits == 0] = 0
    decimals = (shift - zeros).astype("float64")
    decimals[decimals <= 0] = np.nan
    if doubtful.any():
        exact = v[doubtful]
        decimals[doubtful] = [_decimals(float(x)) for x in exact]
    out[finite] = decimals
    return out


def tick_sizes(candles: pd.DataFrame) -> pd.Series:
    """Price tick per calendar month, from the digits of the prices (as Freqtrade's backtesting
    derives it from the candles): ``1 / 10**n`` for ``n`` the most digits after the point among
    the month's open/high/low/close, at 14 significant digits. Index: month starts (UTC)."""
    if candles.empty:
        return pd.Series(dtype="float64")
    values = candles[["open", "high", "low", "close"]].to_numpy(dtype="float64")
    counts = decimal_counts(values.ravel()).reshape(values.shape)
    per_row = np.fmax.reduce(counts, axis=1)  # NaN only where the whole row is NaN
    months = _utc_ns(candles["date"]).view("datetime64[ns]").astype("datetime64[M]")
    if len(months) > 1 and (np.diff(months.astype("int64")) < 0).any():
        order = np.argsort(months, kind="stable")
        months, per_row = months[order], per_row[order]
    # the monthly maximum, every month from the first to the last (empty months: NaN), as
    # pandas' resample("MS").max() gives it
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    maxima = np.fmax.reduceat(per_row, starts)
    span = np.arange(months[0], months[-1] + np.timedelta64(1, "M"), dtype="datetime64[M]")
    monthly = np.full(len(span), np.nan)
    monthly[(months[starts] - span[0]).astype("int64")] = maxima
    index = pd.DatetimeIndex(span.astype("datetime64[ns]").view("int64"), tz="UTC")
    return pd.Series(1 / 10**monthly, index=index)


def _utc_ns(dates: pd.Series) -> np.ndarray:
    """Dates as int64 nanoseconds since the epoch (naive dates taken as UTC)."""
    dtype = dates.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or np.issubdtype(dtype, np.datetime64):
        index = pd.DatetimeIndex(dates)
        if index.tz is not None:
            index = index.tz_convert("UTC")
        return np.asarray(index.as_unit("ns").asi8)
    return np.asarray(pd.DatetimeIndex(pd.to_datetime(dates, utc=True)).as_unit("ns").asi8)


def monthly_ticks(candles: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`tick_sizes` as arrays, months without candles left out: ``(month starts as int64
    ns, ticks)`` (NaN where the month's prices have no decimals)."""
    if candles.empty:
        return np.empty(0, dtype="int64"), np.empty(0)
    values = np.column_stack(
        [candles[c].to_numpy(dtype="float64") for c in ("open", "high", "low", "close")]
    )
    per_row = np.fmax.reduce(decimal_counts(values.ravel()).reshape(values.shape), axis=1)
    ns = _utc_ns(candles["date"])
    if len(ns) > 1 and (np.diff(ns) < 0).any():
        order = np.argsort(ns, kind="stable")
        ns, per_row = ns[order], per_row[order]
    months = ns.view("datetime64[ns]").astype("datetime64[M]")
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    maxima = np.fmax.reduceat(per_row, starts)
    month_ns = months[starts].astype("datetime64[ns]").view("int64")
    return month_ns, 1 / 10**maxima


def _row_ticks(
    dates: np.ndarray, ticks: pd.Series | tuple[np.ndarray, np.ndarray], fallback: float | None
) -> np.ndarray:
    """The tick in force at each date: the latest month start at or before it with a known
    tick (months without one inherit the previous month's), else ``fallback`` (NaN: none)."""
    result = np.full(len(dates), np.nan if fallback is None else fallback, dtype="float64")
    if isinstance(ticks, pd.Series):
        known_series = ticks.dropna()
        starts = np.asarray(pd.DatetimeIndex(known_series.index).as_unit("ns").asi8)
        values = known_series.to_numpy(dtype="float64")
    else:
        keep = ~np.isnan(ticks[1])
        starts, values = ticks[0][keep], ticks[1][keep]
    if len(starts) == 0 or len(dates) == 0:
        return result
    position = np.searchsorted(starts, dates, side="right") - 1
    found = position >= 0
    result[found] = values[position[found]]
    return result


# --------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class SimSettings:
    """The resolved trading settings the simulation reads (see ``settings.resolve``)."""

    timeframe_minutes: int
    stake_amount: float | str  # a number or "unlimited"
    dry_run_wallet: float
    tradable_balance_ratio: float = 0.99
    available_capital: float | None = None
    amend_last_stake_amount: bool = False
    last_stake_amount_min_ratio: float = 0.5
    max_open_trades: float = math.inf
    minimal_roi: tuple[tuple[int, float], ...] = ((0, 10.0),)
    stoploss: float = -0.1
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False
    use_custom_stoploss: bool = False
    use_exit_signal: bool = True
    exit_profit_only: bool = False
    exit_profit_offset: float = 0.0
    ignore_roi_if_entry_signal: bool = False
    fee: float = 0.001
    entry_order_type: str = "limit"
    exit_order_type: str = "limit"
    entry_time_in_force: str = "GTC"
    exit_time_in_force: str = "GTC"
    price_precision: float | None = None  # the market's tick, used where the candles give none
    exit_timeout_ns: int | None = None  # unfilledtimeout's exit: an open exit order is cancelled


@dataclass(frozen=True)
class Callbacks:
    """The strategy callbacks the simulation calls (None: not overridden, Freqtrade's default).

    Exceptions raised inside a callback are swallowed and the default used, as Freqtrade does.
    """

    custom_exit: Callable[..., Any] | None = None
    custom_stoploss: Callable[..., Any] | None = None
    stoploss_after_fill: bool = False  # custom_stoploss takes ``after_fill``
    confirm_trade_entry: Callable[..., Any] | None = None
    confirm_trade_exit: Callable[..., Any] | None = None
    custom_stake_amount: Callable[..., Any] | None = None


@dataclass
class PairData:
    """One pair ready to simulate: the candles Freqtrade loops over (the first analyzed candle
    dropped) with the entry/exit signals of the candle before (shifted by one)."""

    pair: str
    first_date: int  # ns: the first analyzed candle (the dropped one); -1: no candles
    dates: np.ndarray  # int64 ns
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    enter: np.ndarray  # bool: enter_long == 1 on the previous candle
    exit: np.ndarray  # bool: exit_long == 1 on the previous candle
    enter_tag: np.ndarray  # object: str | None
    exit_tag: np.ndarray  # object: str | None
    tick: np.ndarray  # float64: price tick at each candle (NaN: none)
    _lists: tuple[list[Any], ...] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.dates)

    def lists(self) -> tuple[list[Any], ...]:
        """Python lists of the columns (scalar loops are faster on lists than on arrays)."""
        if self._lists is None:
            self._lists = (
                self.dates.tolist(),
                self.open.tolist(),
                self.high.tolist(),
                self.low.tolist(),
                self.close.tolist(),
                self.enter.tolist(),
                self.exit.tolist(),
                self.enter_tag.tolist(),
                self.exit_tag.tolist(),
            )
        return self._lists


def _tags(column: pd.Series | None, rows: int) -> np.ndarray:
    if column is None:
        return np.full(rows, None, dtype=object)
    values = column.to_numpy(dtype=object)
    out = np.empty(rows, dtype=object)
    out[:] = [v if type(v) is str else None for v in values.tolist()]
    return out


def prepare_pair(
    pair: str,
    frame: pd.DataFrame,
    ticks: pd.Series | tuple[np.ndarray, np.ndarray] | None = None,
    market_tick: float | None = None,
) -> PairData:
    """A trimmed, analyzed frame (``date``, OHLC, ``enter_long``, ``exit_long``, optional
    ``enter_tag`` / ``exit_tag``) as :class:`PairData`. ``ticks``: :func:`tick_sizes` of the
    pair's candles (computed from ``frame`` when None)."""
    if ticks is None:
        ticks = monthly_ticks(frame)
    ns = _utc_ns(frame["date"])
    rows = len(frame) - 1
    if rows < 1:
        empty = np.empty(0)
        return PairData(
            pair,
            int(ns[0]) if len(ns) else -1,
            np.empty(0, dtype="int64"),
            empty,
            empty,
            empty,
            empty,
            np.empty(0, dtype=bool),
            np.empty(0, dtype=bool),
            np.empty(0, dtype=object),
            np.empty(0, dtype=object),
            empty,
        )

    def signal(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.zeros(rows, dtype=bool)
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
        return values[:-1] == 1

    dates = ns[1:].astype("int64")
    return PairData(
        pair=pair,
        first_date=int(ns[0]),
        dates=dates,
        open=frame["open"].to_numpy(dtype="float64")[1:].copy(),
        high=frame["high"].to_numpy(dtype="float64")[1:].copy(),
        low=frame["low"].to_numpy(dtype="float64")[1:].copy(),
        close=frame["close"].to_numpy(dtype="float64")[1:].copy(),
        enter=signal("enter_long"),
        exit=signal("exit_long"),
        enter_tag=_tags(frame.get("enter_tag"), rows + 1)[:-1],
        exit_tag=_tags(frame.get("exit_tag"), rows + 1)[:-1],
        tick=_row_ticks(dates, ticks, market_tick),
    )


# --------------------------------------------------------------------------------------------
# the trade


class SimTrade:
    """A trade as the callbacks see it: the attributes and methods of Freqtrade's ``Trade``
    that a spot strategy's callbacks commonly read (``pair``, ``open_rate``, ``open_date_utc``,
    ``amount``, ``stake_amount``, ``stop_loss``, ``max_rate``, ``calc_profit_ratio`` ...)."""

    is_short = False
    leverage = 1.0
    trading_mode = "spot"
    nr_of_successful_entries = 1
    nr_of_successful_exits = 0
    has_open_orders = False
    funding_fees = 0.0
    realized_profit = 0.0

    def __init__(
        self,
        trade_id: int,
        pair: str,
        open_ns: int,
        open_rate: float,
        amount: float,
        fee: float,
        enter_tag: str | None,
        price_precision: float | None,
        stake_currency: str = "",
    ) -> None:
        self.id = trade_id
        self.pair = pair
        self.open_ns = open_ns
        self.open_date = datetime.fromtimestamp(open_ns / 1e9, tz=UTC)
        self.open_rate = open_rate
        self.open_rate_requested = open_rate
        self.amount = amount
        self.amount_requested = amount
        self.fee_open = fee
        self.fee_close = fee
        self.enter_tag = enter_tag
        self.price_precision = price_precision
        self.stake_currency = stake_currency
        open_value = _EXACT.multiply(_dec(amount), _dec(open_rate))
        self.stake_amount = float(open_value)
        self.max_stake_amount = self.stake_amount
        self.open_trade_value = float(
            _EXACT.add(open_value, _EXACT.multiply(open_value, _dec(fee)))
        )
        self.stop_loss: float = 0.0
        self.initial_stop_loss: float = 0.0
        self.stop_loss_pct: float | None = None
        self.initial_stop_loss_pct: float | None = None
        self.is_stop_loss_trailing = False
        self.max_rate: float | None = None
        self.min_rate: float | None = None
        self.is_open = True
        self.exit_reason: str | None = None
        self.close_rate: float | None = None
        self.close_ns: int | None = None
        self.close_date: datetime | None = None
        self.close_profit: float | None = None
        self.close_profit_abs: float | None = None
        self.orders: list[dict[str, Any]] = []
        self._custom_data: dict[str, Any] = {}
        self.pending_exit: tuple[float, int] | None = None  # an unfilled exit order: price, placed

    # what Freqtrade's Trade offers callbacks
    liquidation_price = None
    interest_rate = 0.0

    @property
    def open_date_utc(self) -> datetime:
        return self.open_date

    @property
    def stoploss_or_liquidation(self) -> float:
        return self.stop_loss

    @property
    def is_stop_loss_trailing_active(self) -> bool:
        return self.is_stop_loss_trailing

    def set_custom_data(self, key: str, value: Any) -> None:
        """Per-trade storage, as Freqtrade's ``trade.set_custom_data`` (kept in memory)."""
        self._custom_data[key] = value

    def get_custom_data(self, key: str, default: Any = None) -> Any:
        return self._custom_data.get(key, default)

    def delete_custom_data(self, key: str | None = None) -> None:
        if key is None:
            self._custom_data.clear()
        else:
            self._custom_data.pop(key, None)

    @property
    def close_date_utc(self) -> datetime | None:
        return self.close_date

    @property
    def trade_direction(self) -> str:
        return "long"

    @property
    def entry_side(self) -> str:
        return "buy"

    @property
    def exit_side(self) -> str:
        return "sell"

    def calc_profit_ratio(
        self, rate: float, amount: float | None = None, open_rate: float | None = None
    ) -> float:
        """Profit ratio (fees included) if the trade closed at ``rate``, rounded to 8 digits."""
        amount_ = self.amount if amount is None else amount
        close_value = amount_ * rate
        close_value = close_value - close_value * self.fee_close
        if amount is None and open_rate is None:
            open_value = self.open_trade_value
        else:
            open_value = amount_ * (open_rate or self.open_rate)
            open_value = open_value + open_value * self.fee_open
        if open_value == 0.0:
            return 0.0
        return round(close_value / open_value - 1, 8)

    def calc_profit(
        self, rate: float, amount: float | None = None, open_rate: float | None = None
    ) -> float:
        """Absolute profit (stake currency, fees included) at ``rate``, rounded to 8 digits."""
        amount_ = self.amount if amount is None else amount
        close = _EXACT.multiply(_dec(amount_), _dec(rate))
        close = _EXACT.subtract(close, _EXACT.multiply(close, _dec(self.fee_close)))
        opened = _EXACT.multiply(_dec(amount_), _dec(open_rate or self.open_rate))
        opened = _EXACT.add(opened, _EXACT.multiply(opened, _dec(self.fee_open)))
        return round(float(close) - float(opened), 8)

    def __repr__(self) -> str:
        state = "open" if self.is_open else f"closed {self.exit_reason}"
        return (
            f"<SimTrade #{self.id} {self.pair} {state} open_rate={self.open_rate} "
            f"amount={self.amount:.8f} opened={self.open_date:%Y-%m-%d %H:%M}>"
        )

    # stoploss bookkeeping (Freqtrade's rules: a long stop only walks up, on the price grid)
    def _adjust_stop(self, price: float, stoploss: float, allow_refresh: bool = False) -> None:
        new = round_price(price * (1 - abs(stoploss)), self.price_precision, "up")
        if allow_refresh or new > self.stop_loss:
            if not allow_refresh:
                self.is_stop_loss_trailing = True
            self.stop_loss = new
            self.stop_loss_pct = -1 * abs(stoploss)


def _safe(function: Callable[..., Any], default: Any, **kwargs: Any) -> Any:
    try:
        return function(**kwargs)
    except Exception:  # Freqtrade's strategy_safe_wrapper: a failing callback means its default
        return default


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC)


@dataclass
class _Exit:
    row: int
    rate: float
    reason: str


class _Scanner:
    """Finds each trade's exit on its pair's candles."""

    def __init__(self, settings: SimSettings, callbacks: Callbacks) -> None:
        self.s = settings
        self.cb = callbacks
        self.roi_keys = [key for key, _ in settings.minimal_roi]
        self.roi_values = [value for _, value in settings.minimal_roi]
        self.tf = settings.timeframe_minutes

    def roi_at(self, minutes: int) -> tuple[int | None, float | None]:
        entry = None
        value = None
        for key, roi in zip(self.roi_keys, self.roi_values, strict=True):
            if key <= minutes:
                entry, value = key, roi
            else:
                break
        return entry, value

    def first_exit(self, data: PairData, start: int, trade: SimTrade) -> _Exit | None:
        s = self.s
        per_candle = (
            s.trailing_stop
            or (s.use_exit_signal and self.cb.custom_exit is not None)
            or (s.use_custom_stoploss and self.cb.custom_stoploss is not None)
            or self.cb.confirm_trade_exit is not None
        )
        if not per_candle:
            return self._first_exit_vectorised(data, start, trade)
        return self._first_exit_loop(data, start, trade, len(data))

    # the per-candle loop: Freqtrade's should_exit for every candle
    def _first_exit_loop(
        self, data: PairData, start: int, trade: SimTrade, stop: int
    ) -> _Exit | None:
        dates, opens, highs, lows, closes, enters, exits, _, exit_tags = data.lists()
        for k in range(start, stop):
            found = self._check_candle(
                trade,
                k,
                dates[k],
                opens[k],
                highs[k],
                lows[k],
                closes[k],
                enters[k],
                exits[k],
                exit_tags[k],
                data.pair,
            )
            if found is not None:
                return found
        return None

    def _check_candle(
        self,
        trade: SimTrade,
        k: int,
        date: int,
        o: float,
        h: float,
        low: float,
        c: float,
        enter: bool,
        exit_signal: bool,
        exit_tag: str | None,
        pair: str,
    ) -> _Exit | None:
        s = self.s
        cb = self.cb
        if (
            trade.pending_exit is not None
            and s.exit_timeout_ns is not None
            and trade.pending_exit[1] <= date - s.exit_timeout_ns
        ):
            trade.pending_exit = None  # unfilledtimeout: the exit order is cancelled
        current_profit = trade.calc_profit_ratio(o)
        best_rate = h or o
        best_profit = trade.calc_profit_ratio(best_rate)
        trade.max_rate = max(best_rate, trade.max_rate or trade.open_rate)
        trade.min_rate = min(low or o, trade.min_rate or trade.open_rate)
        now: datetime | None = None

        # stoploss adjustment (custom, then trailing) while the stop is below the candle
        low_ = low or o
        if trade.stop_loss < low_:
            stop_value = s.stoploss
            if s.use_custom_stoploss and cb.custom_stoploss is not None:
                now = _utc(date)
                custom = _safe(
                    cb.custom_stoploss,
                    None,
                    pair=pair,
                    trade=trade,
                    current_time=now,
                    current_rate=best_rate,
                    current_profit=best_profit,
                    after_fill=False,
                )
                if custom and not (math.isnan(custom) or math.isinf(custom)):
                    stop_value = custom
                    trade._adjust_stop(best_rate, stop_value)
            if s.trailing_stop and not (
                s.trailing_only_offset_is_reached and best_profit < s.trailing_stop_positive_offset
            ):
                if (
                    s.trailing_stop_positive is not None
                    and best_profit > s.trailing_stop_positive_offset
                ):
                    stop_value = s.trailing_stop_positive
                trade._adjust_stop(best_rate, stop_value)
        stop_hit = trade.stop_loss >= low_

        minutes = (date - trade.open_ns) // NS_PER_MINUTE
        roi_entry, roi = self.roi_at(minutes)
        roi_reached = (
            not (enter and s.ignore_roi_if_entry_signal) and roi is not None and best_profit > roi
        )

        candidates: list[tuple[str, str]] = []  # (kind, reason)
        if s.use_exit_signal:
            if exit_signal and not enter:
                if not s.exit_profit_only or current_profit > s.exit_profit_offset:
                    reason = exit_tag if exit_tag else "exit_signal"
                    candidates.append(("exit_signal", reason))
            elif cb.custom_exit is not None:
                now = now or _utc(date)
                answer = _safe(
                    cb.custom_exit,
                    False,
                    pair=pair,
                    trade=trade,
                    current_time=now,
                    current_rate=o,
                    current_profit=current_profit,
                )
                if answer:
                    reason = answer[:CUSTOM_TAG_MAX_LENGTH] if isinstance(answer, str) else ""
                    candidates.append(("custom_exit", reason or "custom_exit"))
        if stop_hit and not trade.is_stop_loss_trailing:
            candidates.append(("stop_loss", "stop_loss"))
        if roi_reached:
            candidates.append(("roi", "roi"))
        if stop_hit and trade.is_stop_loss_trailing:
            candidates.append(("trailing_stop_loss", "trailing_stop_loss"))

        for kind, reason in candidates:
            rate = self._close_rate(kind, trade, minutes, roi_entry, roi, o, h, low, c)
            if rate is None:
                continue
            if kind in ("exit_signal", "custom_exit") and s.exit_order_type == "limit":
                rate = max(rate, low)
            if cb.confirm_trade_exit is not None:
                now = now or _utc(date)
                ok = _safe(
                    cb.confirm_trade_exit,
                    True,
                    pair=pair,
                    trade=trade,
                    order_type=s.exit_order_type,
                    amount=trade.amount,
                    rate=rate,
                    time_in_force=s.exit_time_in_force,
                    sell_reason=reason,
                    exit_reason=reason,
                    current_time=now,
                )
                if not ok:
                    continue
            trade.exit_reason = reason
            rate = round_price(rate, trade.price_precision)
            if trade.pending_exit is not None and trade.pending_exit[0] == rate:
                continue  # Freqtrade keeps the same open exit order and tries the next exit
            trade.pending_exit = (rate, date)
            break
        # the exit order fills if its price is within the candle; rounded to the tick of the
        # entry's month it may not be (a later month with finer prices): it then stays open
        # and fills on a later candle, as in Freqtrade
        if trade.pending_exit is not None:
            price = trade.pending_exit[0]
            if low <= price <= h:
                trade.pending_exit = None
                return _Exit(k, price, trade.exit_reason or "")
        return None

    def _close_rate(
        self,
        kind: str,
        trade: SimTrade,
        minutes: int,
        roi_entry: int | None,
        roi: float | None,
        o: float,
        h: float,
        low: float,
        c: float,
    ) -> float | None:
        s = self.s
        if kind in ("stop_loss", "trailing_stop_loss"):
            if trade.stop_loss > h:
                return o
            if kind == "trailing_stop_loss" and minutes == 0:
                if (
                    not s.use_custom_stoploss
                    and s.trailing_stop
                    and s.trailing_only_offset_is_reached
                    and s.trailing_stop_positive_offset is not None
                    and s.trailing_stop_positive
                ):
                    rate = o * (
                        1 + abs(s.trailing_stop_positive_offset) - abs(s.trailing_stop_positive)
                    )
                else:
                    rate = o * (1 - abs(trade.stop_loss_pct or 0.0))
                return max(low, rate)
            return trade.stop_loss
        if kind == "roi":
            if roi is None or roi_entry is None:
                return o
            if roi == -1 and roi_entry % self.tf == 0:
                return o
            rate = self._roi_rate(trade, roi)
            if minutes > 0 and minutes == roi_entry and roi_entry % self.tf == 0 and o > rate:
                return o
            if minutes == 0 and o > c and trade.open_rate < o and rate > c:
                return None  # Freqtrade: no ROI exit on the opening candle of this shape
            return min(max(rate, low), h)
        return o

    def _roi_rate(self, trade: SimTrade, roi: float) -> float:
        amount = _dec(trade.amount)
        opened = _EXACT.multiply(amount, _dec(trade.open_rate))
        open_value = float(_EXACT.add(opened, _EXACT.multiply(opened, _dec(trade.fee_open))))
        at_one = float(_EXACT.subtract(amount, _EXACT.multiply(amount, _dec(trade.fee_close))))
        alpha = at_one - 0.0
        return ((1.0 + (float(roi) / 1.0) / 1.0) * open_value - 0.0) / alpha

    # the vectorised scan: no per-candle callback, a fixed stop
    def _first_exit_vectorised(self, data: PairData, start: int, trade: SimTrade) -> _Exit | None:
        s = self.s
        n = len(data)
        stop = trade.stop_loss
        amount = trade.amount
        fee = trade.fee_close
        open_value = trade.open_trade_value
        window = 64
        k0 = start
        roi_keys = np.asarray(self.roi_keys, dtype="int64")
        roi_values = np.asarray(self.roi_values, dtype="float64")
        while k0 < n:
            k1 = min(n, k0 + window)
            highs = data.high[k0:k1]
            lows = data.low[k0:k1]
            opens = data.open[k0:k1]
            best = np.where(highs != 0, highs, opens)
            low_ = np.where(lows != 0, lows, opens)
            hit = stop >= low_
            if len(roi_keys):
                minutes = (data.dates[k0:k1] - trade.open_ns) // NS_PER_MINUTE
                position = np.searchsorted(roi_keys, minutes, side="right") - 1
                has_roi = position >= 0
                roi_now = np.where(has_roi, roi_values[np.maximum(position, 0)], np.inf)
                close_value = amount * best
                close_value = close_value - close_value * fee
                best_profit = np.round(close_value / open_value - 1, 8)
                # a margin: the exact check below decides; here only candidates are found
                roi_hit = has_roi & (best_profit > roi_now - 1e-9)
                if s.ignore_roi_if_entry_signal:
                    roi_hit &= ~data.enter[k0:k1]
                hit = hit | roi_hit
            if s.use_exit_signal:
                signal = data.exit[k0:k1] & ~data.enter[k0:k1]
                if s.exit_profit_only:
                    close_value = amount * opens
                    close_value = close_value - close_value * fee
                    profit = np.round(close_value / open_value - 1, 8)
                    signal &= profit > s.exit_profit_offset - 1e-9
                hit = hit | signal
            candidates = np.flatnonzero(hit)
            for offset in candidates.tolist():
                k = k0 + offset
                # bring the trade's running max/min up to candle k, then check it exactly
                self._track_extremes(trade, data, data.high[start:k], data.low[start:k], start, k)
                found = self._check_candle(
                    trade,
                    k,
                    int(data.dates[k]),
                    float(data.open[k]),
                    float(data.high[k]),
                    float(data.low[k]),
                    float(data.close[k]),
                    bool(data.enter[k]),
                    bool(data.exit[k]),
                    data.exit_tag[k],
                    data.pair,
                )
                if found is None and trade.pending_exit is not None:
                    # an exit order left open: candle by candle until it fills
                    return self._first_exit_loop(data, k + 1, trade, n)
                start = k + 1
                if found is not None:
                    return found
            if start < k1:
                self._track_extremes(
                    trade, data, data.high[start:k1], data.low[start:k1], start, k1
                )
                start = k1
            k0 = k1
            window = min(window * 4, 65536)
        return None

    @staticmethod
    def _track_extremes(
        trade: SimTrade,
        data: PairData,
        highs: np.ndarray,
        lows: np.ndarray,
        start: int,
        stop: int,
    ) -> None:
        if stop <= start:
            return
        opens = data.open[start:stop]
        best = np.where(highs != 0, highs, opens)
        worst = np.where(lows != 0, lows, opens)
        trade.max_rate = max(float(best.max()), trade.max_rate or trade.open_rate)
        trade.min_rate = min(float(worst.min()), trade.min_rate or trade.open_rate)


# --------------------------------------------------------------------------------------------
# the simulation


@dataclass
class SimResult:
    """What :func:`simulate` returns."""

    trades: list[SimTrade]  # in the order Freqtrade records them (by close)
    rejected_signals: int
    final_balance: float
    starting_balance: float
    # still open at the end, their forced exit unfilled (left out of Freqtrade's results too)
    left_open: list[SimTrade] = field(default_factory=list)


def _starting_balance(s: SimSettings) -> float:
    if s.available_capital is not None:
        return s.available_capital
    return s.dry_run_wallet * s.tradable_balance_ratio


class _Wallet:
    def __init__(self, s: SimSettings) -> None:
        self.s = s
        self.closed_profit = 0.0
        self.open: list[SimTrade] = []  # open trades, in the order they opened

    def tied_up(self) -> float:
        return sum(t.stake_amount for t in self.open) or 0

    def free(self) -> float:
        tied = self.tied_up()
        profit = self.closed_profit + sum(t.realized_profit for t in self.open)
        return self.s.dry_run_wallet + profit - tied

    def available(self) -> float:
        s = self.s
        free = self.free()
        tied = self.tied_up()
        if s.available_capital is not None:
            total = s.available_capital + self.closed_profit
        else:
            total = (tied + free) * s.tradable_balance_ratio
        return min(total - tied, free)

    def trade_stake(self) -> float | None:
        """Freqtrade's get_trade_stake_amount; None where it raises (not enough balance: no
        entry, and no custom_stake_amount call)."""
        s = self.s
        tied = self.tied_up()
        available = self.available()
        stake = s.stake_amount
        if stake == "unlimited":
            if s.max_open_trades == 0:
                stake = 0
            else:
                stake = min((available + tied) / s.max_open_trades, available)
        assert not isinstance(stake, str)
        if s.amend_last_stake_amount:
            if available > stake * s.last_stake_amount_min_ratio:
                stake = min(stake, available)
            else:
                stake = 0
        if available < stake:
            return None
        return max(stake, 0)

    def validate(self, stake: Any) -> float:
        if not stake or isinstance(stake, str) or stake <= 0:
            return 0.0
        max_allowed = min(math.inf, self.available())
        if max_allowed < 0:
            return 0.0
        if stake > max_allowed:
            stake = max_allowed
        return stake


def simulate(
    pairs: Sequence[PairData],
    settings: SimSettings,
    callbacks: Callbacks | None = None,
    *,
    stake_currency: str = "",
) -> SimResult:
    """Run Freqtrade's backtest loop (spot, long) over ``pairs`` (in pair-list order)."""
    s = settings
    cb = callbacks or Callbacks()
    scanner = _Scanner(s, cb)
    wallet = _Wallet(s)
    live = [p for p in pairs if len(p)]
    if not live:
        return SimResult([], 0, s.dry_run_wallet, _starting_balance(s))
    start = min(p.first_date for p in pairs if p.first_date >= 0)
    end = max(int(p.dates[-1]) if len(p) else p.first_date for p in pairs if p.first_date >= 0)

    # entry candidates, in time order then pair-list order
    order = {p.pair: i for i, p in enumerate(pairs)}
    cand_dates: list[np.ndarray] = []
    cand_pairs: list[np.ndarray] = []
    cand_rows: list[np.ndarray] = []
    for p in live:
        rows = np.flatnonzero(p.enter & ~p.exit & (p.dates < end) & (p.dates > start))
        cand_dates.append(p.dates[rows])
        cand_pairs.append(np.full(len(rows), order[p.pair], dtype="int64"))
        cand_rows.append(rows)
    dates_c = np.concatenate(cand_dates)
    pairs_c = np.concatenate(cand_pairs)
    rows_c = np.concatenate(cand_rows)
    sequence = np.lexsort((pairs_c, dates_c))
    by_index = {order[p.pair]: p for p in live}

    closed: list[SimTrade] = []
    left_open: list[SimTrade] = []
    pending: list[tuple[int, int, SimTrade, _Exit]] = []  # heap: (close date, id, trade, exit)
    open_by_pair: dict[int, SimTrade] = {}
    last_close: dict[int, int] = {}
    rejected = 0
    trade_id = 0

    def close(trade: SimTrade, pair_index: int, when: int, rate: float, reason: str) -> None:
        _close_trade(trade, when, rate, reason)
        wallet.open.remove(trade)
        wallet.closed_profit += trade.close_profit_abs or 0.0
        del open_by_pair[pair_index]
        last_close[pair_index] = when
        closed.append(trade)

    for date, pair_index, row in zip(
        dates_c[sequence].tolist(),
        pairs_c[sequence].tolist(),
        rows_c[sequence].tolist(),
        strict=True,
    ):
        while pending and pending[0][0] <= date:
            when, _, leaving, its_exit = heapq.heappop(pending)
            close(leaving, order[leaving.pair], when, its_exit.rate, its_exit.reason)
        if pair_index in open_by_pair or last_close.get(pair_index) == date:
            continue
        if not (s.max_open_trades <= 0 or len(wallet.open) < s.max_open_trades):
            rejected += 1
            continue
        data = by_index[pair_index]
        trade = _enter(data, row, date, s, cb, wallet, trade_id + 1, stake_currency)
        if trade is None:
            continue
        trade_id += 1
        wallet.open.append(trade)
        open_by_pair[pair_index] = trade
        found = scanner.first_exit(data, row, trade)
        if found is None:
            continue
        when = int(data.dates[found.row])
        if when == date:
            close(trade, pair_index, when, found.rate, found.reason)
        else:
            heapq.heappush(pending, (when, trade.id, trade, found))
    while pending:
        when, _, leaving, its_exit = heapq.heappop(pending)
        close(leaving, order[leaving.pair], when, its_exit.rate, its_exit.reason)

    # still open at the end: closed at the open of the pair's last candle ("force_exit"), in
    # the order the pairs were first seen (first candle, then pair-list order)
    first_seen = sorted(live, key=lambda p: (int(p.dates[0]), order[p.pair]))
    for p in first_seen:
        index = order[p.pair]
        still_open = open_by_pair.get(index)
        if still_open is None:
            continue
        rate = round_price(float(p.open[-1]), still_open.price_precision)
        if not float(p.low[-1]) <= rate <= float(p.high[-1]):
            # rounded to the entry month's tick, the price misses the last candle: Freqtrade's
            # exit order never fills and the trade is missing from its results
            still_open.exit_reason = "force_exit"
            left_open.append(still_open)
            continue
        close(still_open, index, int(p.dates[-1]), rate, "force_exit")

    final = wallet.free()  # Freqtrade's total: a trade left open keeps its stake tied up
    return SimResult(closed, rejected, final, _starting_balance(s), left_open)


def _enter(
    data: PairData,
    row: int,
    date: int,
    s: SimSettings,
    cb: Callbacks,
    wallet: _Wallet,
    trade_id: int,
    stake_currency: str,
) -> SimTrade | None:
    rate = float(data.open[row])
    tag = data.enter_tag[row]
    now: datetime | None = None
    stake: Any = wallet.trade_stake()
    if stake is None:
        return None
    if cb.custom_stake_amount is not None:
        now = _utc(date)
        stake = _safe(
            cb.custom_stake_amount,
            stake,
            pair=data.pair,
            current_time=now,
            current_rate=rate,
            proposed_stake=stake,
            min_stake=0,
            max_stake=min(wallet.available(), math.inf),
            leverage=1.0,
            entry_tag=tag,
            side="long",
        )
    stake = wallet.validate(stake)
    if not stake:
        return None
    amount = (stake / rate) * 1.0
    if not amount:
        return None
    if cb.confirm_trade_entry is not None:
        now = now or _utc(date)
        ok = _safe(
            cb.confirm_trade_entry,
            True,
            pair=data.pair,
            order_type=s.entry_order_type,
            amount=amount,
            rate=rate,
            time_in_force=s.entry_time_in_force,
            current_time=now,
            entry_tag=tag,
            side="long",
        )
        if not ok:
            return None
    tick = float(data.tick[row])
    precision = None if tick != tick else tick
    trade = SimTrade(trade_id, data.pair, date, rate, amount, s.fee, tag, precision, stake_currency)
    trade.stop_loss = round_price(rate * (1 - abs(s.stoploss)), precision, "up")
    trade.initial_stop_loss = trade.stop_loss
    trade.stop_loss_pct = -1 * abs(s.stoploss)
    trade.initial_stop_loss_pct = -1 * abs(s.stoploss)
    trade.orders.append(
        {
            "amount": amount,
            "safe_price": rate,
            "ft_order_side": "buy",
            "order_filled_timestamp": date // 1_000_000,
            "ft_is_entry": True,
            "ft_order_tag": tag,
            "cost": amount * rate * (1 + s.fee),
        }
    )
    if cb.stoploss_after_fill:
        _after_fill(trade, rate, date, s, cb)
    return trade


def _after_fill(trade: SimTrade, rate: float, date: int, s: SimSettings, cb: Callbacks) -> None:
    """Freqtrade calls custom_stoploss(after_fill=True) once the entry order fills."""
    profit = trade.calc_profit_ratio(rate)
    if not trade.stop_loss < rate:
        return
    stop_value = s.stoploss
    if s.use_custom_stoploss and cb.custom_stoploss is not None:
        custom = _safe(
            cb.custom_stoploss,
            None,
            pair=trade.pair,
            trade=trade,
            current_time=_utc(date),
            current_rate=rate,
            current_profit=profit,
            after_fill=True,
        )
        if custom and not (math.isnan(custom) or math.isinf(custom)):
            stop_value = custom
            trade._adjust_stop(rate, stop_value, allow_refresh=True)
    if s.trailing_stop and not (
        s.trailing_only_offset_is_reached and profit < s.trailing_stop_positive_offset
    ):
        if s.trailing_stop_positive is not None and profit > s.trailing_stop_positive_offset:
            stop_value = s.trailing_stop_positive
        trade._adjust_stop(rate, stop_value)


def _close_trade(trade: SimTrade, when: int, rate: float, reason: str) -> None:
    amount = _dec(trade.amount)
    fee = trade.fee_close
    close = _EXACT.multiply(amount, _dec(rate))
    close_value = float(_EXACT.subtract(close, _EXACT.multiply(close, _dec(fee))))
    opened = _EXACT.multiply(amount, _dec(trade.open_rate))
    open_value = float(_EXACT.add(opened, _EXACT.multiply(opened, _dec(trade.fee_open))))
    profit_abs = round(close_value - open_value, 8)
    trade.close_profit_abs = profit_abs
    trade.close_profit = (profit_abs / open_value) * 1.0 if open_value > 0 else 0.0
    trade.close_rate = rate
    trade.close_ns = when
    trade.close_date = _utc(when)
    trade.exit_reason = reason
    trade.is_open = False
    trade.orders.append(
        {
            "amount": trade.amount,
            "safe_price": rate,
            "ft_order_side": "sell",
            "order_filled_timestamp": when // 1_000_000,
            "ft_is_entry": False,
            "ft_order_tag": reason,
            "cost": trade.amount * rate * (1 + fee),
        }
    )


# --------------------------------------------------------------------------------------------
# Freqtrade's backtest result table

TRADE_COLUMNS = [
    "pair",
    "stake_amount",
    "max_stake_amount",
    "amount",
    "open_date",
    "close_date",
    "open_rate",
    "close_rate",
    "fee_open",
    "fee_close",
    "trade_duration",
    "profit_ratio",
    "profit_abs",
    "exit_reason",
    "initial_stop_loss_abs",
    "initial_stop_loss_ratio",
    "stop_loss_abs",
    "stop_loss_ratio",
    "min_rate",
    "max_rate",
    "is_open",
    "enter_tag",
    "leverage",
    "is_short",
    "open_timestamp",
    "close_timestamp",
    "orders",
    "funding_fees",
]


def trades_frame(trades: Sequence[SimTrade]) -> pd.DataFrame:
    """The trades as Freqtrade's backtest result frame (``BT_DATA_COLUMNS``, same dtypes)."""
    records: list[Mapping[str, Any]] = []
    for t in trades:
        duration_s = (t.close_ns - t.open_ns) // 1_000_000_000 if t.close_ns is not None else None
        records.append(
            {
                "pair": t.pair,
                "stake_amount": round(t.stake_amount, 8),
                "max_stake_amount": round(t.max_stake_amount, 8) if t.max_stake_amount else None,
                "amount": round(t.amount, 8),
                "open_date": None,
                "close_date": None,
                "open_rate": t.open_rate,
                "close_rate": t.close_rate,
                "fee_open": t.fee_open,
                "fee_close": t.fee_close,
                "trade_duration": int(duration_s // 60) if duration_s is not None else None,
                "profit_ratio": t.close_profit,
                "profit_abs": t.close_profit_abs,
                "exit_reason": t.exit_reason,
                "initial_stop_loss_abs": t.initial_stop_loss,
                "initial_stop_loss_ratio": t.initial_stop_loss_pct or None,
                "stop_loss_abs": t.stop_loss,
                "stop_loss_ratio": t.stop_loss_pct or None,
                "min_rate": t.min_rate,
                "max_rate": t.max_rate,
                "is_open": t.is_open,
                "enter_tag": t.enter_tag,
                "leverage": 1.0,
                "is_short": False,
                "open_timestamp": t.open_ns // 1_000_000,
                "close_timestamp": t.close_ns // 1_000_000 if t.close_ns is not None else None,
                "orders": list(t.orders),
                "funding_fees": 0.0,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=TRADE_COLUMNS)
    if len(frame) > 0:
        frame["close_date"] = pd.to_datetime(frame["close_timestamp"], unit="ms", utc=True)
        frame["open_date"] = pd.to_datetime(frame["open_timestamp"], unit="ms", utc=True)
        frame["close_rate"] = frame["close_rate"].astype("float64")
    return frame
