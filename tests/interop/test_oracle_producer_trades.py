"""A real Freqtrade 2026.9 producer sends its bot's RPC messages to our consumer over its real
message websocket, to our ``topics`` subscription (issue 12).

The messages are a real dry-run bot's (``oracle/ft_rpcmsg.py``: entries resting then filling,
partial exits, a position adjustment, cancels, a stop loss, protections, a trade left open);
``oracle/ft_producer.py`` sends them through ``RPCManager.send_msg`` (the bot's own path), and
Freqtrade's ``MessageStream`` / ``WebSocketChannel`` deliver the ones our subscription names.
Our ``producer_trades()`` must equal what the bot's ``/api/v1/trades`` and ``/api/v1/status``
report for the same trades."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pandas as pd
import pytest

import producerconsumer as pc
from producerconsumer.trades import rest_trades_frame
from producerconsumer.wire import rpc

from .conftest import FtProducer, make_frame
from .test_oracle_rpcmsg import ft_run  # noqa: F401  (the module's bot run)

pytestmark = [pytest.mark.oracle, pytest.mark.slow]

TOKEN = "interop-trades-token"
PAIRS = ["BTC/USDT", "ETH/USDT"]
TRADE_TOPICS = ["entry", "entry_fill", "entry_cancel", "exit", "exit_fill", "exit_cancel"]
TIMEOUT = 30.0


@pytest.fixture(scope="module")
def producer(start_module_ft_producer) -> FtProducer:
    producer = start_module_ft_producer(token=TOKEN)
    producer.set_frames({pair: make_frame(pair, 200) for pair in PAIRS})
    producer.set_whitelist(PAIRS)
    return producer


def run_consumer(
    producer: FtProducer, topics: list[str], messages: list[str]
) -> tuple[pd.DataFrame, list[rpc.RpcMessage], list[str], pc.ProducerStatus]:
    """Connect with ``topics``, have the bot send ``messages``; what our consumer got."""
    producer.received(clear=True)
    entry = producer.producer_config(name="default") | {"topics": topics}
    got: list[rpc.RpcMessage] = []
    wanted = sum(orjson.loads(text)["type"] in topics for text in messages)
    with pc.Consumer({"producers": [entry], "sleep_time": 1}) as consumer:
        consumer.producer_message += lambda name, message: got.append(message)
        consumer.wait_ready(timeout=TIMEOUT)
        before = len(got)
        producer.send_rpc(messages)
        consumer.wait_until(lambda: len(got) - before >= wanted, timeout=TIMEOUT)
        trades = consumer.producer_trades()
        status = consumer.status()["default"]
        received = got[before:]
    return trades, received, producer.received(), status


def test_producer_trades_equal_the_bots_rest_api(
    producer: FtProducer,
    ft_run: dict[str, Any],  # noqa: F811
) -> None:
    trades, received, requests, status = run_consumer(producer, TRADE_TOPICS, ft_run["messages"])
    # Our subscription, as the producer received it: Freqtrade's two first, then the topics.
    assert (
        requests[0]
        == orjson.dumps(
            {"type": "subscribe", "data": ["whitelist", "analyzed_df", *TRADE_TOPICS]}
        ).decode()
    )
    # Only the subscribed types arrived, each typed, none dropped or bad.
    sent = Counter(orjson.loads(t)["type"] for t in ft_run["messages"])
    assert Counter(m.type for m in received if isinstance(m, rpc.TradeMessage)) == {
        kind: count for kind, count in sent.items() if kind in TRADE_TOPICS
    }
    assert all(isinstance(m, rpc.TradeMessage) for m in received)
    assert status.bad_messages == 0
    # The table equals the bot's own REST answers for the same trades.
    closed = rest_trades_frame(ft_run["trades"])
    opened = rest_trades_frame(ft_run["status"])
    assert len(closed) == 4 and len(opened) == 1
    pd.testing.assert_frame_equal(trades[~trades["is_open"]], closed, check_exact=True)
    pd.testing.assert_frame_equal(trades[trades["is_open"]], opened, check_exact=True)


def test_every_message_type_arrives_typed(
    producer: FtProducer,
    ft_run: dict[str, Any],  # noqa: F811
) -> None:
    kinds = sorted({orjson.loads(t)["type"] for t in ft_run["messages"]})
    _trades, received, requests, status = run_consumer(producer, kinds, ft_run["messages"])
    assert orjson.loads(requests[0])["data"] == ["whitelist", "analyzed_df", *kinds]
    assert len(received) == len(ft_run["messages"]) and status.bad_messages == 0
    # Every type Freqtrade sends is one we model: nothing arrives raw from a 2026.9 producer
    # (a type we do not know is kept as RawRpcMessage: tests/test_producer_trades.py).
    assert not [m for m in received if isinstance(m, rpc.RawRpcMessage)]
    for text, message in zip(ft_run["messages"], received, strict=True):
        obj = orjson.loads(text)
        assert message == rpc.parse_rpc_message(obj), obj["type"]


def test_freqtrades_config_schema_accepts_the_topics_key(oracle_python) -> None:
    """``topics`` is an extension: Freqtrade's own config schema lets it through."""
    import subprocess

    section = {
        "enabled": True,
        "producers": [{"name": "a", "host": "h", "ws_token": "t", "topics": ["entry_fill"]}],
    }
    script = (
        "import json, sys\n"
        "from jsonschema import Draft4Validator\n"
        "from freqtrade.config_schema.config_schema import CONF_SCHEMA\n"
        "schema = {**CONF_SCHEMA, 'required': []}\n"
        "config = {'external_message_consumer': json.loads(sys.argv[1])}\n"
        "print(json.dumps([e.message for e in Draft4Validator(schema).iter_errors(config)]))\n"
    )
    result = subprocess.run(
        [str(oracle_python), "-c", script, orjson.dumps(section).decode()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert orjson.loads(result.stdout) == []
    assert pc.load_config(section).producers[0].topics[-1] == "entry_fill"
