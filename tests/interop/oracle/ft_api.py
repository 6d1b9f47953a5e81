"""Freqtrade's real REST API (and message websocket) over a bot with trades, driven over stdin.

Runs INSIDE the Freqtrade oracle venv; a sibling of ``ft_producer.py``, whose commands it keeps
(``set_frames``, ``set_whitelist``, ``expected``, ...). What is real and what is fake:

* real: everything ``ft_producer.py`` runs (``RPCManager`` -> ``ApiServer``, the whole FastAPI
  app with its login, JWT and HTTP-basic auth, ``RPC``, ``DataProvider``), plus ``Trade`` and
  ``Order`` persisted in the in-memory database through the same calls a dry-run bot makes
  (``Order.parse_from_ccxt_object`` from ccxt-shaped orders, ``Trade.update_trade`` on each
  fill, which closes a trade and computes its profit), a real ``IStrategy`` subclass (its
  ``plot_config``, ``version()`` and plot annotations), Freqtrade's log buffer (``/logs``).
* fake: the exchange (a fixed ticker per pair for open trades' current rate), the wallets (a
  fixed starting balance) and the pairlist names: what a bot would get from the network.

``--mode webserver`` runs the API server alone as ``freqtrade webserver`` does (no bot, no
RPC), for the webserver-only endpoints and for "not in this mode" errors: ``pair_history`` loads
``<datadir>/<PAIR>-<timeframe>.json`` (Freqtrade's json OHLCV format, written by the test) and
runs ``WebStrategy`` (written to ``<datadir>/strategies/``) over it with Freqtrade's own loader.

Extra commands:

* ``add_trades {}``: persist the oracle's trades (closed and open) once;
  returns ``{"closed": [trade.to_json()...], "open": [...]}`` as Freqtrade serialises them.
* ``log {"message": M}``: log ``M`` at INFO from logger ``ft_api`` (shows up in ``/logs``).
* ``ft_client {"calls": [[method, kwargs], ...]}``: call this server with Freqtrade's own REST
  client (``freqtrade_client.FtRestClient``, HTTP basic auth); returns ``{"results": [...]}``.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import ft_producer
import lineproto
import pandas as pd
from freqtrade import __version__ as freqtrade_version
from freqtrade.enums import RunMode, State
from freqtrade.loggers import bufferHandler
from freqtrade.persistence import Order, Trade, init_db
from freqtrade.rpc.api_server import ApiServer
from freqtrade.strategy import IStrategy
from freqtrade_client import FtRestClient

log = logging.getLogger("ft_api")

START = datetime(2026, 1, 1, tzinfo=UTC)
TICKER = {"BTC/USDT": 101.5, "ETH/USDT": 49.0, "XRP/USDT": 0.52}

PLOT_CONFIG: dict[str, Any] = {
    "main_plot": {"tema": {}, "sar": {"color": "white"}},
    "subplots": {
        "MACD": {"macd": {"color": "blue"}, "macdsignal": {"color": "orange"}},
        "RSI": {"rsi": {"color": "red", "type": "line"}},
    },
}


class OracleStrategy(IStrategy):
    """A real strategy object; its analysis never runs here (frames come from the test)."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi: ClassVar[dict[str, float]] = {"0": 0.1}
    stoploss = -0.1
    can_short = False
    plot_config = PLOT_CONFIG

    def version(self) -> str:
        return "oracle-1.2"

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return dataframe


class FakeExchange:
    """What ``RPC._rpc_trade_status`` asks the exchange: the current rate."""

    def get_rate(self, pair: str, side: str, is_short: bool, refresh: bool = True) -> float:
        return TICKER[pair]


class FakeWallets:
    def get_starting_balance(self) -> float:
        return 1000.0

    def get_total_stake_amount(self) -> float:
        return 1000.0


class FakePairlists:
    name_list: ClassVar[list[str]] = ["StaticPairList"]


class ApiBot(ft_producer.FakeBot):
    """``ft_producer``'s bot plus what the trading REST endpoints read."""

    credentials: ClassVar[tuple[str, str]] = ("", "")

    def __init__(self, config: dict[str, Any]) -> None:
        config["api_server"]["username"], config["api_server"]["password"] = self.credentials
        config.update(
            {
                "strategy": "OracleStrategy",
                "stake_amount": 100,
                "max_open_trades": 3,
                "minimal_roi": {"0": 0.1},
                "stoploss": -0.1,
                "bot_name": "oracle-bot",
                "trading_mode": "spot",
            }
        )
        self.state = State.RUNNING
        self.strategy = OracleStrategy(config)
        self.exchange = FakeExchange()
        self.wallets = FakeWallets()
        self.pairlists = FakePairlists()
        super().__init__(config)


def _order(
    order_id: str, pair: str, side: str, price: float, amount: float, when: datetime, status: str
) -> dict[str, Any]:
    """A ccxt-shaped order, as an exchange returns it from ``fetch_order``."""
    filled = amount if status == "closed" else 0.0
    return {
        "id": order_id,
        "symbol": pair,
        "type": "limit",
        "side": side,
        "price": price,
        "average": price if filled else None,
        "amount": amount,
        "filled": filled,
        "remaining": amount - filled,
        "cost": price * filled,
        "status": status,
        "timestamp": int(when.timestamp() * 1000),
        "lastTradeTimestamp": int(when.timestamp() * 1000),
    }


# (pair, is_short, enter_tag, open rate, exit rate or None (still open), exit_reason, minutes)
TRADES = [
    ("BTC/USDT", False, "rsi_cross", 100.0, 103.0, "roi", 0),
    ("ETH/USDT", False, "", 50.0, 47.5, "stop_loss", 60),
    ("BTC/USDT", False, "", 104.0, 102.0, "exit_signal", 120),
    ("XRP/USDT", False, "rsi_cross", 0.5, 0.55, "roi", 180),
    ("ETH/USDT", False, "tema", 48.0, None, None, 240),
]


def add_trades() -> None:
    """Persist ``TRADES`` through the calls a dry-run bot makes on fills."""
    for number, (pair, is_short, tag, open_rate, exit_rate, reason, minutes) in enumerate(TRADES):
        opened = START + timedelta(minutes=minutes)
        amount = round(100.0 / open_rate, 8)
        trade = Trade(
            pair=pair,
            base_currency=pair.split("/")[0],
            stake_currency="USDT",
            stake_amount=100.0,
            amount=amount,
            amount_requested=amount,
            open_rate=open_rate,
            open_rate_requested=open_rate,
            fee_open=0.001,
            fee_close=0.001,
            open_date=opened,
            exchange="binance",
            strategy="OracleStrategy",
            timeframe=5,
            enter_tag=tag or None,
            is_short=is_short,
            leverage=1.0,
            trading_mode="spot",
            price_precision=0.0001,
            precision_mode_price=4,
            amount_precision=0.00000001,
            precision_mode=4,
            stop_loss=open_rate * (1.1 if is_short else 0.9),
            initial_stop_loss=open_rate * (1.1 if is_short else 0.9),
        )
        Trade.session.add(trade)
        entry_side = "sell" if is_short else "buy"
        entry = Order.parse_from_ccxt_object(
            _order(f"e{number}", pair, entry_side, open_rate, amount, opened, "closed"),
            pair,
            entry_side,
        )
        trade.orders.append(entry)
        trade.update_trade(entry)
        if exit_rate is not None:
            closed = opened + timedelta(minutes=45)
            exit_side = "buy" if is_short else "sell"
            trade.exit_reason = reason
            trade.close_date = closed
            order = Order.parse_from_ccxt_object(
                _order(f"x{number}", pair, exit_side, exit_rate, trade.amount, closed, "closed"),
                pair,
                exit_side,
            )
            trade.orders.append(order)
            trade.update_trade(order)
        Trade.commit()


class ApiProducer(ft_producer.Producer):
    bot_class = ApiBot

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self._trades_added = False

    def add_trades(self, request: dict[str, Any]) -> dict[str, Any]:
        def apply() -> dict[str, Any]:
            if not self._trades_added:
                add_trades()
                self._trades_added = True
            trades = Trade.session.scalars(Trade.get_trades_query([])).all()
            return {
                "closed": [t.to_json() for t in trades if not t.is_open],
                "open": [t.to_json() for t in trades if t.is_open],
            }

        return self.on_loop(apply)

    def log(self, request: dict[str, Any]) -> dict[str, Any]:
        log.info("%s", request["message"])
        return {}

    def ft_client(self, request: dict[str, Any]) -> dict[str, Any]:
        # On this (the command) thread, not the server's loop: the client blocks on the server.
        client = FtRestClient(f"http://127.0.0.1:{self.port}", *ApiBot.credentials)
        return {"results": [getattr(client, name)(**kwargs) for name, kwargs in request["calls"]]}


WEB_STRATEGY = """
from pandas import DataFrame
from freqtrade.strategy import IStrategy


class WebStrategy(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.1}
    stoploss = -0.1

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["sma3"] = dataframe["close"].rolling(3).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] > dataframe["sma3"], "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] < dataframe["sma3"], "exit_long"] = 1
        return dataframe
"""


class Webserver:
    """``freqtrade webserver``: the API server with no bot (``RunMode.WEBSERVER``)."""

    def __init__(self, args: argparse.Namespace) -> None:
        strategies = os.path.join(args.datadir, "strategies")
        os.makedirs(strategies, exist_ok=True)
        with open(os.path.join(strategies, "web_strategy.py"), "w", encoding="utf-8") as file:
            file.write(WEB_STRATEGY)
        if args.port == 0:
            # Freqtrade validates the whole config (listen_port >= 1024 included) on each
            # pair_history call, so take a free port now instead of letting uvicorn pick one.
            with socket.socket() as probe:
                probe.bind((args.host, 0))
                args.port = probe.getsockname()[1]
        config = ft_producer.build_config(args)
        config["api_server"]["username"], config["api_server"]["password"] = ApiBot.credentials
        config.update(
            {
                "runmode": RunMode.WEBSERVER,
                "datadir": Path(args.datadir),
                "user_data_dir": Path(args.datadir),
                "dataformat_ohlcv": "json",
                "strategy_path": strategies,
                "trading_mode": "spot",
                "margin_mode": "",
                "stake_amount": 100,
                "pairlists": [{"method": "StaticPairList"}],
                "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"]},
            }
        )
        init_db("sqlite://")
        self.api = ApiServer(config, standalone=False)

    @property
    def port(self) -> int:
        server = self.api._server
        return int(server.servers[0].sockets[0].getsockname()[1])

    def quit(self, request: dict[str, Any]) -> dict[str, Any]:
        return {}

    def shutdown(self) -> None:
        done = threading.Event()

        def cleanup() -> None:
            try:
                self.api.cleanup()
            finally:
                done.set()

        threading.Thread(target=cleanup, name="cleanup", daemon=True).start()
        if not done.wait(10):
            log.error("ApiServer cleanup did not finish within 10 s; exiting anyway")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", required=True, help="ws_token (repeatable)")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--jwt-secret", default="oracle-jwt-secret-key-0123456789abcdef")
    parser.add_argument("--timeframe", default="5m")
    parser.add_argument("--candle-type", default="spot")
    parser.add_argument("--mode", choices=["trade", "webserver"], default="trade")
    parser.add_argument("--datadir", default=".")
    args = parser.parse_args()
    lineproto.setup_logging()
    logging.getLogger().addHandler(bufferHandler)  # what Freqtrade's setup_logging does
    ApiBot.credentials = (args.username, args.password)

    server: ApiProducer | Webserver
    if args.mode == "trade":
        server = ApiProducer(args)
        handlers = {
            "set_frames": server.set_frames,
            "set_whitelist": server.set_whitelist,
            "broadcast_candle": server.broadcast_candle,
            "expected": server.expected,
            "frame": server.frame,
            "add_trades": server.add_trades,
            "log": server.log,
            "ft_client": server.ft_client,
            "quit": server.quit,
        }
    else:
        server = Webserver(args)
        handlers = {"quit": server.quit}
    lineproto.emit(
        {
            "event": "listening",
            "host": args.host,
            "port": server.port,
            "mode": args.mode,
            "freqtrade": freqtrade_version,
            "pid": os.getpid(),
        }
    )
    try:
        lineproto.serve(handlers)
    finally:
        server.shutdown()
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)  # uvicorn's thread is not a daemon


if __name__ == "__main__":
    main()
