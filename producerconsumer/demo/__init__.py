"""The embedded demo producer: a Freqtrade wire-compatible producer over a synthetic market.

:class:`DemoProducer` wires three parts together: :mod:`.market` (deterministic OHLCV),
:mod:`.strategy` (the producer strategy of Freqtrade's producer/consumer docs) and
:mod:`producerconsumer.server` (Freqtrade's message websocket, shared with the replay
producer). A Freqtrade consumer, or this package's own consumer, can connect to it exactly as
to a real dry-run producer::

    with DemoProducer(pairs=["BTC/USDT", "ETH/USDT"], ws_token="secret") as producer:
        config = producer.producer_config()   # an entry for external_message_consumer.producers
        producer.advance()                    # one new candle per pair, broadcast now

It also plays a whole dry-run bot (:class:`~.bot.DemoBot`) on its own signals: its trade
history is built over the initial candles (nothing is sent for those), then every new candle's
trade messages (``entry``, ``entry_fill``, ``exit``, ``exit_fill``) are broadcast to the
clients subscribed to their type, after that candle's ``analyzed_df`` / ``new_candle``. And it
serves Freqtrade's REST subset on the websocket's port (:mod:`producerconsumer.server.rest`):
``ProducerAPI(producer.producer_config())`` logs in with the credentials that entry carries.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..server import FrameSource, ProducerServer, ServedProducer
from ..server.rest import API_VERSION, FREQTRADE_VERSION, Credentials
from ..timeframes import timeframe_to_msecs
from ..wire.messages import CANDLE_TYPES
from ..wire.rpc import encode_rpc_message
from .bot import DemoBot
from .market import SyntheticMarket
from .strategy import ProducerStrategy

__all__ = [
    "DEFAULT_API_USERNAME",
    "DemoBot",
    "DemoProducer",
    "FrameSource",
    "ProducerServer",
    "ProducerStrategy",
    "SyntheticMarket",
]

#: The REST API's username when none is given (the password is random unless given).
DEFAULT_API_USERNAME = "freqtrader"

log = logging.getLogger(__name__)


class DemoProducer(ServedProducer):
    """A Freqtrade-compatible producer serving analyzed frames of a synthetic market.

    ``pairs``/``timeframe``/``candle_type`` make the keys; ``candles`` closed candles per pair
    exist at start (the last one closed before ``end``, default now); ``seed`` picks the market.
    ``ws_token`` is one accepted token or several (a random one if omitted). Every ``tick``
    seconds each pair gets a new candle, broadcast to subscribed consumers; ``tick=None`` or 0
    means only :meth:`advance` adds candles. At most ``max(keep_candles, candles)`` rows are kept
    per pair.

    ``bot`` is the simulated dry-run bot trading on the frames (a default :class:`DemoBot` on
    this timeframe if omitted); ``trading=False`` runs none (no trade messages, no trades).
    The REST API on the same port logs in ``api_username`` (default
    :data:`DEFAULT_API_USERNAME`) with ``api_password`` (random if omitted) and signs its JWTs
    with ``jwt_secret`` (random if omitted); :meth:`producer_config` carries the username and
    password as ``api_username`` / ``api_password``. ``api=False`` serves no REST API.

    ``with producer:`` serves on the package's background loop (the calling thread may block);
    ``async with producer:`` serves on the running loop.
    """

    def __init__(
        self,
        pairs: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        timeframe: str = "5m",
        candles: int = 1500,
        ws_token: str | Sequence[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tick: float | None = 1.0,
        *,
        seed: int = 0,
        candle_type: str = "spot",
        end: datetime | None = None,
        keep_candles: int = 3000,
        strategy: ProducerStrategy | None = None,
        bot: DemoBot | None = None,
        trading: bool = True,
        api: bool = True,
        api_username: str = DEFAULT_API_USERNAME,
        api_password: str | None = None,
        jwt_secret: str | None = None,
    ) -> None:
        if candle_type not in CANDLE_TYPES:
            raise ValueError(
                f"candle_type must be one of {list(CANDLE_TYPES)}, got {candle_type!r}"
            )
        if candles < 1:
            raise ValueError(f"candles must be >= 1, got {candles}")
        if tick is not None and tick < 0:
            raise ValueError(f"tick must be >= 0 seconds or None, got {tick}")
        super().__init__(ws_token, host, port)
        self.tick = tick or None
        self.seed = seed
        self._timeframe = timeframe
        self._candle_type = candle_type
        self.candles = candles
        self.keep = max(keep_candles, candles)
        self.market = SyntheticMarket(seed, timeframe)
        self.strategy = strategy or ProducerStrategy()
        self._lock = threading.RLock()
        self._whitelist: list[str] = []
        self._ohlcv: dict[str, pd.DataFrame] = {}
        self._analyzed: dict[str, tuple[pd.DataFrame, datetime]] = {}
        self._last = self.market.last_closed(end)
        self.bot: DemoBot | None = (bot or DemoBot(timeframe=timeframe)) if trading else None
        if api:
            self._credentials = Credentials(
                api_username,
                api_password if api_password is not None else secrets.token_urlsafe(18),
                jwt_secret if jwt_secret is not None else secrets.token_hex(32),
            )
        if self.bot is not None:
            self.strategy_name = self.bot.strategy
        self._apply_whitelist(_check_pairs(pairs))
        if self.bot is not None:
            # The bot's history over the initial candles: nothing is sent for it.
            self.bot.run({pair: self._analyzed[pair][0] for pair in self._whitelist})

    # --- FrameSource

    @property
    def timeframe(self) -> str:
        return self._timeframe

    @property
    def candle_type(self) -> str:
        return self._candle_type

    def current_whitelist(self) -> list[str]:
        with self._lock:
            return list(self._whitelist)

    def analyzed(self, pair: str) -> tuple[pd.DataFrame, datetime] | None:
        return self._analyzed.get(pair)

    # --- public API

    @property
    def pairs(self) -> list[str]:
        """The current whitelist."""
        return self.current_whitelist()

    @property
    def last_candle(self) -> pd.Timestamp:
        """Open date of the newest candle."""
        return self._last

    def frame(self, pair: str) -> pd.DataFrame:
        """A copy of the current analyzed frame of ``pair`` (KeyError if not whitelisted)."""
        cached = self._analyzed.get(pair)
        if cached is None:
            raise KeyError(f"{pair!r} is not in the whitelist {self.pairs}")
        return cached[0].copy()

    def advance(self, n: int = 1) -> None:
        """Add ``n`` candles to every pair now and broadcast each, in order. Thread-safe."""
        _check_count(n)
        self._dispatch(self._advance_now, n)

    async def advance_async(self, n: int = 1) -> None:
        """:meth:`advance` for coroutines (does not block the event loop's thread)."""
        _check_count(n)
        await self._dispatch_async(self._advance_now, n)

    def set_whitelist(self, pairs: Sequence[str]) -> None:
        """Replace the whitelist; if it changed, broadcast ``whitelist`` (and a first candle of
        each new pair, as Freqtrade's next analysis would)."""
        self._dispatch(self._set_whitelist_now, _check_pairs(pairs))

    async def set_whitelist_async(self, pairs: Sequence[str]) -> None:
        """:meth:`set_whitelist` for coroutines."""
        await self._dispatch_async(self._set_whitelist_now, _check_pairs(pairs))

    def __repr__(self) -> str:
        # Never the token.
        with self._lock:
            pairs = list(self._whitelist)
            rows = len(self._ohlcv[pairs[0]]) if pairs else 0
        where = f"{self.host}:{self.port}" if self.running else f"{self.host} (stopped)"
        clients = self._server.client_count if self._server is not None else 0
        return (
            f"DemoProducer({where}, pairs={pairs}, timeframe={self._timeframe!r}, "
            f"candles={rows}, clients={clients})"
        )

    # --- the REST API's bot endpoints (BotSource; on the server's loop)

    def rest_show_config(self) -> dict[str, Any]:
        bot = self.bot or DemoBot(timeframe=self._timeframe, max_open_trades=0)
        ms = timeframe_to_msecs(self._timeframe)
        return {
            "version": FREQTRADE_VERSION,
            "strategy_version": None,
            "api_version": API_VERSION,
            "dry_run": True,
            "trading_mode": "spot",
            "margin_mode": "",
            "short_allowed": False,
            "stake_currency": bot.stake_currency,
            "stake_amount": str(bot.stake_amount),
            "available_capital": None,
            "stake_currency_decimals": 3,
            "max_open_trades": bot.max_open_trades,
            "minimal_roi": {str(k): v for k, v in bot.minimal_roi.items()},
            "stoploss": bot.stoploss,
            "stoploss_on_exchange": False,
            "trailing_stop": False,
            "trailing_stop_positive": None,
            "trailing_stop_positive_offset": 0.0,
            "trailing_only_offset_is_reached": False,
            "unfilledtimeout": {"entry": 10, "exit": 10, "unit": "minutes"},
            "order_types": {
                "entry": "limit",
                "exit": "limit",
                "stoploss": "limit",
                "stoploss_on_exchange": False,
            },
            "use_custom_stoploss": False,
            "timeframe": self._timeframe,
            "timeframe_ms": ms,
            "timeframe_min": ms // 60_000,
            "exchange": bot.exchange,
            "demo_trading": False,
            "strategy": bot.strategy,
            "force_entry_enable": False,
            "exit_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1},
            "entry_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1},
            "bot_name": "producerconsumer-demo",
            "state": "running",
            "runmode": "dry_run",
            "position_adjustment_enable": False,
            "max_entry_position_adjustment": -1,
        }

    def rest_trades(self, limit: int, offset: int) -> dict[str, Any]:
        if self.bot is None:
            return {"trades": [], "trades_count": 0, "offset": offset, "total_trades": 0}
        return self.bot.trades_json(limit, offset)

    def rest_status(self) -> list[dict[str, Any]]:
        return [] if self.bot is None else self.bot.status_json()

    def rest_plot_config(self) -> dict[str, Any]:
        return (self.bot or DemoBot(timeframe=self._timeframe)).plot_config()

    # --- running on the server's loop

    def _started(self, server: ProducerServer) -> None:
        if self.bot is not None:
            for message in self.bot.startup_messages():
                server.broadcast(message["type"], encode_rpc_message(message))

    def _background(self) -> Coroutine[Any, Any, None] | None:
        return self._tick(self.tick) if self.tick else None

    async def _tick(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                self._advance_now(1)
            except Exception:
                log.exception("demo producer: could not produce a new candle")

    # --- state changes (on the server's loop when serving)

    def _advance_now(self, n: int) -> None:
        broadcasts: list[list[tuple[str, pd.DataFrame]]] = [[] for _ in range(n)]
        with self._lock:
            first_new = self._last + pd.Timedelta(seconds=self.market.seconds)
            now = datetime.now(UTC)
            for pair in self._whitelist:
                ohlcv = pd.concat(
                    [self._ohlcv[pair], self.market.candles(pair, first_new, n)],
                    ignore_index=True,
                )
                # Indicators are causal, so analysing once gives every new row the value it
                # would have had if the candles had come one at a time.
                analyzed = self.strategy.analyze(ohlcv)
                before = len(ohlcv) - n
                for i in range(n):
                    row = analyzed.iloc[[before + i]]
                    # The label the row has in the stored frame right after its own candle
                    # (Freqtrade keeps a capped frame with a fresh RangeIndex).
                    row.index = [min(before + i + 1, self.keep) - 1]
                    broadcasts[i].append((pair, row))
                self._ohlcv[pair] = ohlcv.tail(self.keep).reset_index(drop=True)
                self._analyzed[pair] = (analyzed.tail(self.keep).reset_index(drop=True), now)
            self._last = first_new + pd.Timedelta(seconds=self.market.seconds * (n - 1))
        server = self._server
        for step in broadcasts:
            # As a bot's loop: analyse every pair (each analysis is broadcast), then trade.
            trades = self.bot.run(dict(step)) if self.bot is not None else []
            if server is None:
                continue
            for pair, row in step:
                server.broadcast_candle(pair, row)
            for message in trades:
                server.broadcast(message["type"], encode_rpc_message(message))

    def _set_whitelist_now(self, pairs: list[str]) -> None:
        with self._lock:
            if pairs == self._whitelist:
                return
            added = self._apply_whitelist(pairs)
            if self.bot is not None:
                # A new pair trades from its newest candle on, not over its history.
                self.bot.run({pair: self._analyzed[pair][0].tail(1) for pair in added})
        server = self._server
        if server is not None:
            server.broadcast_whitelist(pairs)
            for pair in added:
                server.broadcast_candle(pair)

    def _apply_whitelist(self, pairs: list[str]) -> list[str]:
        """Set the whitelist; history for new pairs, dropped data for removed ones."""
        added = [p for p in pairs if p not in self._ohlcv]
        now = datetime.now(UTC)
        first = self._last - pd.Timedelta(seconds=self.market.seconds * (self.candles - 1))
        for pair in added:
            ohlcv = self.market.candles(pair, first, self.candles)
            self._ohlcv[pair] = ohlcv
            self._analyzed[pair] = (self.strategy.analyze(ohlcv), now)
        for pair in set(self._ohlcv) - set(pairs):
            del self._ohlcv[pair]
            self._analyzed.pop(pair, None)
        self._whitelist = list(pairs)
        return added


def _check_pairs(pairs: Sequence[str]) -> list[str]:
    if isinstance(pairs, str):
        raise TypeError("pairs must be a list of pair strings, not one string")
    result = list(pairs)
    if not all(isinstance(p, str) and p for p in result):
        raise ValueError(f"pairs must be non-empty strings, got {result!r}")
    if len(set(result)) != len(result):
        raise ValueError(f"duplicate pairs in {result!r}")
    return result


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
