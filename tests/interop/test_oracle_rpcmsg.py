"""The producer bot's RPC messages against a real Freqtrade 2026.9 dry-run bot.

``oracle/ft_rpcmsg.py`` builds a ``FreqtradeBot`` over an offline market and makes it trade
(limit entry resting then filling, ROI exit, partial exit, position adjustment, entry cancelled
with no fill (the trade is deleted and its id reused), exit cancelled, stop loss triggering
``StoplossGuard``, entry partly filled then cancelled, a trade left open), recording every RPC
message exactly as its message websocket serializes it, and the bodies of ``/api/v1/trades``,
``/api/v1/status`` and ``/api/v1/plot_config``. Here:

(a) ``parse_rpc_text`` parses every message into its typed value;
(b) ``ProducerTrades`` built from the messages equals what the bot's REST API reports;
(c) the demo bot's messages and REST bodies have exactly Freqtrade's keys and value types.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

from producerconsumer.demo.bot import DemoBot
from producerconsumer.demo.market import SyntheticMarket
from producerconsumer.demo.strategy import ProducerStrategy
from producerconsumer.trades import ProducerTrades, rest_trades_frame
from producerconsumer.wire import rpc
from producerconsumer.wire.rpc import encode_rpc_message, parse_rpc_text

from .conftest import ORACLE_DIR

# One Freqtrade bot run (about 10 s) serves the whole module.
pytestmark = [pytest.mark.oracle, pytest.mark.slow]

RUN_TIMEOUT = 180.0


@pytest.fixture(scope="module")
def ft_run(oracle_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("ft_rpcmsg") / "out.json"
    result = subprocess.run(
        [str(oracle_python), str(ORACLE_DIR / "ft_rpcmsg.py"), str(out)],
        cwd=ORACLE_DIR,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"ft_rpcmsg.py failed ({result.returncode}):\n{result.stderr[-4000:]}")
    data: dict[str, Any] = orjson.loads(out.read_bytes())
    assert data["version"] == "2026.9"
    return data


def _by_type(texts: list[str]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for text in texts:
        obj = orjson.loads(text)
        grouped[obj["type"]].append(obj)
    return grouped


def test_every_message_parses(ft_run: dict[str, Any]) -> None:
    expected = {
        "entry": rpc.EntryMessage,
        "entry_fill": rpc.EntryMessage,
        "entry_cancel": rpc.EntryCancelMessage,
        "exit": rpc.ExitMessage,
        "exit_fill": rpc.ExitMessage,
        "exit_cancel": rpc.ExitCancelMessage,
        "status": rpc.StatusMessage,
        "warning": rpc.StatusMessage,
        "startup": rpc.StatusMessage,
        "exception": rpc.StatusMessage,
        "strategy_msg": rpc.StrategyMessage,
        "protection_trigger": rpc.ProtectionMessage,
        "protection_trigger_global": rpc.ProtectionMessage,
    }
    seen = set()
    for text in ft_run["messages"]:
        obj = orjson.loads(text)
        parsed = parse_rpc_text(text)
        assert isinstance(parsed, expected[obj["type"]]), (obj["type"], parsed)
        seen.add(obj["type"])
        if isinstance(parsed, rpc.TradeMessage):
            assert parsed.trade_id == obj["trade_id"]
            assert parsed.amount == obj["amount"]
            assert parsed.open_date == datetime.fromisoformat(obj["open_date"]).replace(
                tzinfo=parsed.open_date.tzinfo
            )
            assert parsed.raw == obj
        if isinstance(parsed, rpc.ProtectionMessage):
            assert parsed.lock_end_time > parsed.lock_time
    # The scenario covers every type this module models, so none went untested.
    assert seen == set(expected)


def test_naive_dates_of_cancel_messages_are_utc(ft_run: dict[str, Any]) -> None:
    """Freqtrade sends entry_cancel's open_date without an offset (the DB's naive value)."""
    cancels = _by_type(ft_run["messages"])["entry_cancel"]
    assert cancels and all("+" not in c["open_date"] for c in cancels)
    for cancel in cancels:
        parsed = parse_rpc_text(orjson.dumps(cancel).decode())
        assert parsed.open_date.utcoffset() is not None  # type: ignore[union-attr]


def test_producer_trades_equal_rest_trades(ft_run: dict[str, Any]) -> None:
    trades = ProducerTrades()
    trades.extend(parse_rpc_text(text) for text in ft_run["messages"])
    frame = trades.frame()
    rest_closed = rest_trades_frame(ft_run["trades"])
    rest_open = rest_trades_frame(ft_run["status"])
    assert len(rest_closed) == 4 and len(rest_open) == 1
    pd.testing.assert_frame_equal(frame[~frame["is_open"]], rest_closed, check_exact=True)
    pd.testing.assert_frame_equal(frame[frame["is_open"]], rest_open, check_exact=True)
    # The deleted trade's id was reused by the next trade (SQLite), and is not left behind.
    assert list(frame.index) == [1, 2, 3, 4, 5]
    assert frame.loc[3, "pair"] == "ADA/USDT"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
            return "date-" + ("aware" if ("+" in value or value.endswith("Z")) else "naive")
        except ValueError:
            return "str"
    return type(value).__name__


def _type_table(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for obj in objects:
        for key, value in obj.items():
            table[key].add(_json_type(value))
    return table


def _assert_same_shape(
    what: str, ours: list[dict[str, Any]], theirs: list[dict[str, Any]], ignore: tuple = ()
) -> None:
    assert ours and theirs, what
    their_keys = list(theirs[0])
    for obj in ours:
        assert list(obj) == their_keys, f"{what}: keys differ from Freqtrade's"
    our_types, their_types = _type_table(ours), _type_table(theirs)
    for key in their_keys:
        if key in ignore:
            continue
        ours_nonnull = our_types[key] - {"null"}
        theirs_nonnull = their_types[key] - {"null"}
        assert ours_nonnull <= theirs_nonnull or not theirs_nonnull, (
            f"{what}.{key}: ours {our_types[key]}, Freqtrade's {their_types[key]}"
        )
        if "null" not in their_types[key]:
            assert "null" not in our_types[key], (
                f"{what}.{key} is null in ours, never in Freqtrade's"
            )


@pytest.fixture(scope="module")
def demo_run() -> tuple[DemoBot, list[str]]:
    market, strategy = SyntheticMarket(0, "5m"), ProducerStrategy()
    pairs = ["BTC/USDT", "ETH/USDT", "XRP/USDT", "ADA/USDT"]
    frames = {pair: strategy.analyze(market.history(pair, 1500)) for pair in pairs}
    bot = DemoBot(max_open_trades=4)
    messages = bot.startup_messages() + bot.run(frames)
    return bot, [encode_rpc_message(m) for m in messages]


def test_demo_bot_messages_have_freqtrades_shapes(
    ft_run: dict[str, Any], demo_run: tuple[DemoBot, list[str]]
) -> None:
    ours, theirs = _by_type(demo_run[1]), _by_type(ft_run["messages"])
    assert {"entry", "entry_fill", "exit", "exit_fill", "startup", "warning"} <= set(ours)
    for kind, objects in ours.items():
        _assert_same_shape(kind, objects, theirs[kind])


def test_demo_bot_rest_bodies_have_freqtrades_shapes(
    ft_run: dict[str, Any], demo_run: tuple[DemoBot, list[str]]
) -> None:
    bot = demo_run[0]
    body = bot.trades_json()
    assert list(body) == list(ft_run["trades"])
    _assert_same_shape("trades", body["trades"], ft_run["trades"]["trades"], ignore=("orders",))
    _assert_same_shape(
        "trades.orders",
        [o for t in body["trades"] for o in t["orders"]],
        [o for t in ft_run["trades"]["trades"] for o in t["orders"]],
    )
    # Status needs open trades: a demo bot whose ROI and stoploss never exit.
    status = _open_demo_status()
    their_status = ft_run["status"]
    _assert_same_shape("status", status, their_status, ignore=("orders",))
    _assert_same_shape(
        "status.orders",
        [o for t in status for o in t["orders"]],
        [o for t in their_status for o in t["orders"]],
    )
    plot = bot.plot_config()
    assert set(plot) == set(ft_run["plot_config"]) == {"main_plot", "subplots"}


def _open_demo_status() -> list[dict[str, Any]]:
    market, strategy = SyntheticMarket(0, "5m"), ProducerStrategy()
    bot = DemoBot(minimal_roi={"0": 10.0}, stoploss=-0.99, max_open_trades=2)
    for pair in ("BTC/USDT", "SOL/USDT", "XRP/USDT"):
        bot.run({pair: strategy.analyze(market.history(pair, 1500))})
    status = bot.status_json()
    assert status, "the demo bot should hold an open trade with an unreachable ROI"
    return status


def test_freqtrades_own_code_accepts_the_demo_bots_output(
    oracle_python: Path, tmp_path: Path, demo_run: tuple[DemoBot, list[str]]
) -> None:
    """Freqtrade's Telegram formatter composes every demo message; its API schemas validate
    the demo's /trades, /status and /plot_config bodies, and /status comes back unchanged."""
    bot, texts = demo_run
    status = _open_demo_status()
    source, out = tmp_path / "in.json", tmp_path / "out.json"
    source.write_bytes(
        orjson.dumps(
            {
                "messages": texts,
                "trades": bot.trades_json(),
                "status": status,
                "plot_config": bot.plot_config(),
            }
        )
    )
    result = subprocess.run(
        [str(oracle_python), str(ORACLE_DIR / "ft_rpcmsg.py"), "--validate", str(source), str(out)],
        cwd=ORACLE_DIR,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    checked = orjson.loads(out.read_bytes())
    assert checked["errors"] == []
    assert all(checked["composed"]) and len(checked["composed"]) == len(texts)
    exits = [c for c in checked["composed"] if "Exited" in c]
    assert exits and all("*Exit Reason:*" in c and "*Duration:*" in c for c in exits)
    assert checked["status"] == orjson.loads(orjson.dumps(status))
