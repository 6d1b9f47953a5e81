"""A real Freqtrade dry-run bot trades, and we record the RPC messages it sends.

Runs INSIDE the Freqtrade oracle venv. Usage: ``ft_rpcmsg.py OUT``. One shot, no sockets.

What is real and what is fake:

* real: ``FreqtradeBot`` (built by its own ``__init__`` from a dry-run config: the ``binance``
  exchange class, ``StrategyResolver`` loading a small strategy written to a temp dir,
  ``Wallets``, ``PairListManager``, ``ProtectionManager`` with a ``StoplossGuard``,
  ``RPCManager``), an in-memory SQLite database, and the bot's own trade paths:
  ``execute_entry``, ``update_trade_state``, ``execute_trade_exit``, ``handle_cancel_enter``,
  ``handle_cancel_exit``, ``handle_protections`` via ``order_close_notify``, the dry-run order
  simulation of ``Exchange`` (``create_dry_run_order``, ``check_dry_limit_order_filled``,
  fees), ``RPCManager.startup_messages`` / ``process_msg_queue``, ``notify_status``. Every
  message is serialized by ``HybridJSONWebSocketSerializer._serialize``, the function the
  message websocket sends with. ``/api/v1/trades`` and ``/api/v1/status`` are
  ``RPC._rpc_trade_history`` / ``RPC._rpc_trade_status`` encoded as the API server encodes those
  routes (``jsonable_encoder``, or the route's ``response_model``, then ``FTJSONResponse``'s
  orjson rendering, which writes NaN as null).
* fake: the market. No network: ``Exchange`` gets static markets, and tickers / order books
  come from a price table the script moves between steps. The dry-run ``cancel_order`` keeps
  an order's partial fill (a live exchange reports it; Freqtrade's dry run zeroes it), so the
  partial-fill-then-cancel path runs. The bot's main loop (``process``) is not run: the script
  calls the methods ``process`` would call, in the order a bot would.

OUT receives ``{"version", "messages": [text...], "trades": /api/v1/trades JSON,
"status": /api/v1/status JSON, "plot_config": /api/v1/plot_config JSON}``.

``ft_rpcmsg.py --validate IN OUT`` checks another producer's output (our demo bot's) with
Freqtrade's own consumers of these shapes: each message, decoded as JSON with its dates
restored, goes through ``Telegram.compose_message`` (the Telegram handler's formatter; the
instance is not started, so nothing is sent); ``trades`` is validated by ``TradeResponse``
(the model ``/api/v1/trades`` documents), ``status`` by ``list[OpenTradeSchema]`` (and dumped
back, as the API serves it), ``plot_config`` by ``PlotConfig``. IN is ``{"messages",
"trades", "status", "plot_config"}``; OUT receives ``{"composed": [text | null], "errors":
[str], "status": dumped status}``.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

import orjson
from fastapi.encoders import jsonable_encoder
from freqtrade import __version__ as freqtrade_version
from freqtrade.enums import ExitCheckTuple, ExitType, RPCMessageType
from freqtrade.exchange.exchange import Exchange
from freqtrade.freqtradebot import FreqtradeBot
from freqtrade.persistence import Trade
from freqtrade.rpc.api_server.api_schemas import OpenTradeSchema, PlotConfig
from freqtrade.rpc.api_server.ws.serializer import HybridJSONWebSocketSerializer
from freqtrade.rpc.rpc import RPC
from freqtrade.util.datetime_helpers import dt_ts
from pydantic import TypeAdapter

log = logging.getLogger("ft_rpcmsg")

PAIRS = ["ETH/USDT", "LTC/USDT", "XRP/USDT", "ADA/USDT", "DOT/USDT", "SOL/USDT"]
PRICES: dict[str, float] = {
    "ETH/USDT": 2000.0,
    "LTC/USDT": 80.0,
    "XRP/USDT": 0.5,
    "ADA/USDT": 0.4,
    "DOT/USDT": 6.0,
    "SOL/USDT": 150.0,
}
SPREAD = 0.0005

STRATEGY = """
from pandas import DataFrame
from freqtrade.strategy import IStrategy


class OracleRpcStrategy(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.5}
    stoploss = -0.2
    position_adjustment_enable = True
    order_types = {
        "entry": "limit",
        "exit": "limit",
        "stoploss": "limit",
        "stoploss_on_exchange": False,
    }
    plot_config = {
        "main_plot": {"ema": {"color": "red"}},
        "subplots": {"RSI": {"rsi": {"color": "blue", "type": "line"}}},
    }

    @property
    def protections(self):
        return [{"method": "StoplossGuard", "lookback_period_candles": 100,
                 "trade_limit": 1, "stop_duration_candles": 2, "only_per_pair": False}]

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 0
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe
"""


def _market(pair: str) -> dict[str, Any]:
    base, quote = pair.split("/")
    return {
        "id": base + quote,
        "symbol": pair,
        "base": base,
        "quote": quote,
        "baseId": base,
        "quoteId": quote,
        "active": True,
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "contract": False,
        "linear": None,
        "inverse": None,
        "contractSize": None,
        "precision": {"amount": 0.0001, "price": 0.0001},
        "limits": {
            "amount": {"min": 0.0001, "max": None},
            "cost": {"min": 5.0, "max": None},
            "price": {"min": None, "max": None},
            "leverage": {"min": None, "max": None},
        },
        "info": {},
    }


MARKETS = {pair: _market(pair) for pair in PAIRS}


def _reload_markets(
    self: Exchange, force: bool = False, *, load_leverage_tiers: bool = True
) -> None:
    self._markets = MARKETS
    self._api.set_markets(MARKETS)
    self._last_markets_refresh = dt_ts()


def _order_book(self: Exchange, pair: str, limit: int = 100) -> dict[str, Any]:
    price = PRICES[pair]
    return {
        "symbol": pair,
        "bids": [[price * (1 - SPREAD), 1e9]],
        "asks": [[price * (1 + SPREAD), 1e9]],
    }


def _ticker(self: Exchange, pair: str) -> dict[str, Any]:
    price = PRICES[pair]
    return {
        "symbol": pair,
        "bid": price * (1 - SPREAD),
        "ask": price * (1 + SPREAD),
        "last": price,
    }


def _cancel_order(
    self: Exchange, order_id: str, pair: str, params: dict | None = None
) -> dict[str, Any]:
    """Dry-run cancel that keeps a partial fill, as a live exchange reports it."""
    order = self._dry_run_open_orders[order_id]
    if order["status"] != "closed":
        order.update({"status": "canceled", "remaining": order["amount"] - order["filled"]})
    return order


Exchange.reload_markets = _reload_markets  # type: ignore[method-assign]
Exchange.check_time_offset = lambda self: None  # type: ignore[method-assign]
Exchange.fetch_l2_order_book = _order_book  # type: ignore[method-assign]
Exchange.fetch_ticker = _ticker  # type: ignore[method-assign]
Exchange.get_fee = lambda self, *a, **k: 0.001  # type: ignore[method-assign]
Exchange.cancel_order = _cancel_order  # type: ignore[method-assign]


class Capture:
    """An RPC module that serializes each message as the message websocket does."""

    name = "api_server"

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**config, "api_server": {"allow_custom_messages": True}}
        self._serializer = HybridJSONWebSocketSerializer(None)  # type: ignore[arg-type]
        self.texts: list[str] = []

    def send_msg(self, msg: dict[str, Any]) -> None:
        self.texts.append(self._serializer._serialize(msg))

    def cleanup(self) -> None:
        pass


def _config(workdir: Path) -> dict[str, Any]:
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    raw = {
        "dry_run": True,
        "dry_run_wallet": 10000,
        "stake_currency": "USDT",
        "stake_amount": 100,
        "max_open_trades": 10,
        "timeframe": "5m",
        "fiat_display_currency": "",
        "db_url": "sqlite://",
        "user_data_dir": str(workdir),
        "strategy": "OracleRpcStrategy",
        "strategy_path": str(workdir),
        "exchange": {
            "name": "binance",
            "key": "",
            "secret": "",
            "pair_whitelist": PAIRS,
            "enable_ws": False,
        },
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "pairlists": [{"method": "StaticPairList"}],
        "unfilledtimeout": {"entry": 10, "exit": 10},
        "internals": {},
        "runmode": RunMode.DRY_RUN,
    }
    config_file = workdir / "config.json"
    config_file.write_text(json.dumps({k: v for k, v in raw.items() if k != "runmode"}))
    config = Configuration.from_files([str(config_file)])
    config["runmode"] = RunMode.DRY_RUN
    config.pop("fiat_display_currency", None)
    return config


def _trade(pair: str) -> Trade:
    return Trade.session.scalars(
        Trade.get_trades_query([Trade.pair == pair]).order_by(Trade.id.desc())
    ).first()


def _fill_open_orders(bot: FreqtradeBot, trade: Trade) -> None:
    """What ``process`` -> ``manage_open_orders`` does for filled orders."""
    for order in list(trade.open_orders):
        bot.update_trade_state(trade, order.order_id)


def _served(content: Any) -> Any:
    """What the client receives: ``FTJSONResponse.render`` (orjson; NaN becomes null)."""
    return orjson.loads(orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY))


def run(bot: FreqtradeBot) -> None:
    bot.rpc.startup_messages(bot.config, bot.pairlists, bot.protections)
    bot.notify_status("running")

    # A: limit entry rests, then fills when the price comes down; exit on ROI fills at once.
    bot.execute_entry("ETH/USDT", 100.0, price=1990.0, enter_tag="dip")
    eth = _trade("ETH/USDT")
    PRICES["ETH/USDT"] = 1980.0
    _fill_open_orders(bot, eth)
    PRICES["ETH/USDT"] = 2100.0
    bot.execute_trade_exit(eth, 2098.0, ExitCheckTuple(exit_type=ExitType.ROI))

    # B: entry fills at once; half exits; a position adjustment adds; the rest exits.
    bot.execute_entry("LTC/USDT", 100.0, price=80.1, enter_tag="trend")
    ltc = _trade("LTC/USDT")
    PRICES["LTC/USDT"] = 85.0
    bot.execute_trade_exit(
        ltc, 84.9, ExitCheckTuple(exit_type=ExitType.EXIT_SIGNAL), sub_trade_amt=ltc.amount / 2
    )
    PRICES["LTC/USDT"] = 82.0
    bot.execute_entry("LTC/USDT", 50.0, price=82.1, trade=ltc, mode="pos_adjust")
    PRICES["LTC/USDT"] = 90.0
    bot.execute_trade_exit(ltc, 89.9, ExitCheckTuple(exit_type=ExitType.EXIT_SIGNAL))

    # C: entry never fills and is cancelled: the trade is deleted.
    bot.execute_entry("XRP/USDT", 100.0, price=0.49)
    xrp = _trade("XRP/USDT")
    order = xrp.open_orders[0]
    bot.handle_cancel_enter(
        xrp, bot.exchange.fetch_order(order.order_id, "XRP/USDT"), order, "timeout"
    )

    # D: exit order rests and is cancelled; then a stop loss at a loss (StoplossGuard locks).
    bot.execute_entry("ADA/USDT", 100.0, price=0.4002)
    ada = _trade("ADA/USDT")
    bot.execute_trade_exit(ada, 0.45, ExitCheckTuple(exit_type=ExitType.EXIT_SIGNAL))
    order = ada.open_orders[0]
    bot.handle_cancel_exit(
        ada, bot.exchange.fetch_order(order.order_id, "ADA/USDT"), order, "timeout"
    )
    PRICES["ADA/USDT"] = 0.3
    bot.execute_trade_exit(ada, 0.2998, ExitCheckTuple(exit_type=ExitType.STOP_LOSS))

    # E: entry partly fills and is cancelled: the trade keeps the filled part; exits later.
    bot.execute_entry("DOT/USDT", 100.0, price=5.99, enter_tag="partial")
    dot = _trade("DOT/USDT")
    order = dot.open_orders[0]
    dry = bot.exchange._dry_run_open_orders[order.order_id]
    dry["filled"] = round(dry["amount"] * 0.6, 4)
    bot.handle_cancel_enter(
        dot, bot.exchange.fetch_order(order.order_id, "DOT/USDT"), order, "timeout"
    )
    PRICES["DOT/USDT"] = 6.5
    bot.execute_trade_exit(dot, 6.49, ExitCheckTuple(exit_type=ExitType.ROI))

    # F: stays open.
    bot.execute_entry("SOL/USDT", 100.0, price=150.1)

    bot.rpc.process_msg_queue(deque(["strategy says hi"]))
    bot.notify_status("something broke", msg_type=RPCMessageType.EXCEPTION)
    bot.rpc.send_msg({"type": RPCMessageType.WARNING, "status": "a warning"})


def validate(data: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime
    from types import SimpleNamespace

    from freqtrade.rpc.api_server.api_schemas import TradeResponse
    from freqtrade.rpc.telegram import Telegram

    telegram = Telegram.__new__(Telegram)
    telegram._config = {
        "dry_run": True,
        "timeframe": "5m",
        "stake_currency": "USDT",
        "telegram": {"notification_settings": {}},
    }
    telegram._rpc = SimpleNamespace(_fiat_converter=None)  # type: ignore[assignment]
    composed: list[str | None] = []
    errors: list[str] = []
    for text in data["messages"]:
        msg = json.loads(text)
        msg["type"] = RPCMessageType(msg["type"])
        for key in ("open_date", "close_date"):
            if isinstance(msg.get(key), str):
                msg[key] = datetime.fromisoformat(msg[key])
        try:
            composed.append(telegram.compose_message(msg))
        except Exception as exc:
            composed.append(None)
            errors.append(f"{msg['type']}: {type(exc).__name__}: {exc}")
    status: Any = None
    for name, check in (
        ("trades", lambda: TradeResponse.model_validate(data["trades"])),
        ("plot_config", lambda: PlotConfig.model_validate(data["plot_config"])),
    ):
        try:
            check()
        except Exception as exc:
            errors.append(f"{name}: {exc}")
    try:
        model = TypeAdapter(list[OpenTradeSchema])
        status = _served(model.dump_python(model.validate_python(data["status"]), mode="json"))
    except Exception as exc:
        errors.append(f"status: {exc}")
    return {"composed": composed, "errors": errors, "status": status}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--validate":
        result = validate(json.loads(Path(sys.argv[2]).read_text()))
        Path(sys.argv[3]).write_text(json.dumps(result, indent=1))
        return
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT | --validate IN OUT")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "oracle_rpc_strategy.py").write_text(STRATEGY)
        bot = FreqtradeBot(_config(workdir))
        capture = Capture(bot.config)
        bot.rpc.registered_modules = [capture]  # type: ignore[list-item]
        try:
            run(bot)
            rpc = RPC(bot)
            # /trades has no response_model: jsonable_encoder, then FTJSONResponse.
            trades = _served(
                jsonable_encoder(rpc._rpc_trade_history(500, offset=0, order_by_id=True))
            )
            # /status and /plot_config: validated by their response_model, dumped as JSON.
            status_model = TypeAdapter(list[OpenTradeSchema])
            status = _served(
                status_model.dump_python(
                    status_model.validate_python(rpc._rpc_trade_status()), mode="json"
                )
            )
            plot_config = _served(
                PlotConfig.model_validate(rpc._rpc_plot_config()).model_dump(mode="json")
            )
        finally:
            bot.cleanup()
    Path(sys.argv[1]).write_text(
        json.dumps(
            {
                "version": freqtrade_version,
                "messages": capture.texts,
                "trades": trades,
                "status": status,
                "plot_config": plot_config,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
