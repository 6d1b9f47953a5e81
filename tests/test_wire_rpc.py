"""wire.rpc: the producer bot's RPC messages (trades, status, protections) and topics."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rpc_samples import entry, exit_

from producerconsumer.wire import messages as wm
from producerconsumer.wire import rpc
from producerconsumer.wire.rpc import (
    encode_rpc_message,
    normalize_topics,
    parse_rpc_message,
    parse_rpc_text,
    topics_subscribe_request,
)

# --- parsing


def test_entry_and_fill() -> None:
    placed = parse_rpc_message(entry())
    assert isinstance(placed, rpc.EntryMessage)
    assert not placed.fill and not placed.is_short
    assert placed.trade_id == 7 and placed.pair == "ETH/USDT" and placed.enter_tag == "dip"
    assert placed.open_date == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert placed.raw["limit"] == 2000.0
    filled = parse_rpc_message(entry("entry_fill", amount=0.0499, direction="Short"))
    assert isinstance(filled, rpc.EntryMessage) and filled.fill and filled.is_short
    assert filled.amount == 0.0499


def test_integers_become_floats_and_optional_fields_may_be_missing() -> None:
    msg = entry(open_rate=2000, amount=1)
    for key in ("leverage", "fiat_currency", "current_rate", "order_type", "sub_trade"):
        del msg[key]
    parsed = parse_rpc_message(msg)
    assert isinstance(parsed, rpc.EntryMessage)
    assert isinstance(parsed.open_rate, float) and isinstance(parsed.amount, float)
    assert parsed.leverage is None and parsed.sub_trade is False


def test_entry_cancel_with_naive_date_is_utc() -> None:
    # Freqtrade's _notify_enter_cancel sends trade.open_date as read back from its database.
    parsed = parse_rpc_message(
        entry("entry_cancel", open_date="2026-01-02T03:04:05.678901", reason="timeout")
    )
    assert isinstance(parsed, rpc.EntryCancelMessage)
    assert parsed.reason == "timeout"
    assert parsed.open_date == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def test_exit_fill_final_and_partial() -> None:
    final = parse_rpc_message(exit_())
    assert isinstance(final, rpc.ExitMessage) and final.fill and final.is_final_exit
    assert final.final_profit_ratio == 0.0479 and final.cumulative_profit == 4.79
    assert final.close_date == datetime(2026, 1, 2, 4, 0, 0, 123000, tzinfo=UTC)
    partial = parse_rpc_message(
        exit_(sub_trade=True, is_final_exit=False, final_profit_ratio=None, amount=0.02)
    )
    assert isinstance(partial, rpc.ExitMessage)
    assert not partial.is_final_exit and partial.final_profit_ratio is None
    placed = parse_rpc_message(exit_("exit", is_final_exit=False, current_rate=2100.0))
    assert isinstance(placed, rpc.ExitMessage) and not placed.fill


def test_exit_fill_without_is_final_exit_uses_sub_trade() -> None:
    msg = exit_()
    del msg["is_final_exit"]
    parsed = parse_rpc_message(msg)
    assert isinstance(parsed, rpc.ExitMessage) and parsed.is_final_exit
    parsed = parse_rpc_message({**msg, "sub_trade": True})
    assert isinstance(parsed, rpc.ExitMessage) and not parsed.is_final_exit


def test_exit_cancel() -> None:
    msg = exit_("exit_cancel", reason="timeout", exit_reason=None, close_date="2026-01-02T04:00:00")
    for key in ("close_rate", "cumulative_profit", "final_profit_ratio", "is_final_exit"):
        del msg[key]
    parsed = parse_rpc_message(msg)
    assert isinstance(parsed, rpc.ExitCancelMessage)
    assert parsed.reason == "timeout" and parsed.exit_reason is None
    assert parsed.close_date == datetime(2026, 1, 2, 4, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["status", "warning", "startup", "exception"])
def test_status_like(kind: str) -> None:
    assert parse_rpc_message({"type": kind, "status": "text"}) == rpc.StatusMessage(kind, "text")


def test_exception_reply_to_a_request_keeps_its_shape() -> None:
    parsed = parse_rpc_message({"type": "exception", "data": "Invalid request type: x"})
    assert parsed == wm.ProducerException("Invalid request type: x")


def test_strategy_msg_and_protections() -> None:
    assert parse_rpc_message({"type": "strategy_msg", "msg": "hi"}) == rpc.StrategyMessage("hi")
    lock = {
        "type": "protection_trigger_global",
        "base_currency": None,
        "id": 2,
        "pair": "*",
        "lock_time": "2026-01-02 03:04:05",
        "lock_timestamp": 1767323045000,
        "lock_end_time": "2026-01-02 03:14:05",
        "lock_end_timestamp": 1767323645000,
        "reason": "1 stoplosses",
        "side": "*",
        "active": True,
    }
    parsed = parse_rpc_message(lock)
    assert isinstance(parsed, rpc.ProtectionMessage)
    assert parsed.pair == "*" and parsed.active
    assert parsed.lock_time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parsed.lock_end_time.timestamp() * 1000 == lock["lock_end_timestamp"]


def test_liquidation_warning() -> None:
    parsed = parse_rpc_message(
        {
            "type": "liquidation_warning",
            "trade_id": 3,
            "pair": "BTC/USDT:USDT",
            "current_rate": 100.0,
            "liquidation_price": 90.0,
            "remaining_ratio": 0.1,
            "warn_ratio": 0.2,
        }
    )
    assert isinstance(parsed, rpc.LiquidationWarningMessage)
    assert parsed.raw["warn_ratio"] == 0.2


def test_websocket_types_go_through_parse_message() -> None:
    assert parse_rpc_text(wm.whitelist_message(["A/B"])) == wm.Whitelist(("A/B",))
    candle = parse_rpc_message({"type": "new_candle", "data": ["A/B", "5m", "spot"]})
    assert candle == wm.NewCandle(wm.FrameKey("A/B", "5m", "spot"))
    frame = pd.DataFrame({"date": pd.to_datetime([0], unit="ms", utc=True), "close": [1.0]})
    la = datetime(2026, 1, 1, tzinfo=UTC)
    text = wm.analyzed_df_message(("A/B", "5m", "spot"), frame, la)
    parsed = parse_rpc_text(text)
    assert isinstance(parsed, wm.AnalyzedFrame) and parsed.last_analyzed == la
    via_obj = parse_rpc_message(orjson.loads(text))
    assert isinstance(via_obj, wm.AnalyzedFrame) and via_obj.key == parsed.key


def test_unknown_type_is_kept_raw() -> None:
    parsed = parse_rpc_message({"type": "future_thing", "x": [1, 2]})
    assert parsed == rpc.RawRpcMessage("future_thing", {"x": [1, 2]})


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        (
            {k: v for k, v in entry("entry_fill").items() if k != "trade_id"},
            ["entry_fill", "missing", "trade_id"],
        ),
        (entry(trade_id="7"), ["entry", "trade_id", "integer", "'7'"]),
        (entry(trade_id=True), ["trade_id", "integer"]),
        (entry(amount="0.1"), ["amount", "number"]),
        (entry(amount=float("nan")), ["amount", "finite"]),
        (entry(direction="Up"), ["direction", "'Long' or 'Short'"]),
        (entry(open_date="yesterday"), ["open_date", "ISO 8601"]),
        (entry(open_date=12), ["open_date", "datetime"]),
        (entry(pair=None), ["pair", "string"]),
        (exit_(profit_ratio=None), ["exit_fill", "profit_ratio"]),
        (exit_(is_final_exit="yes"), ["is_final_exit", "true or false"]),
        ({"type": "status"}, ["status", "missing"]),
        (
            {"type": "protection_trigger", "pair": "A/B", "lock_time": "2026-01-01T00:00:00"},
            ["lock_time"],
        ),
        ({"type": "new_candle", "data": ["A/B", "5m"]}, ["new_candle", "key must be"]),
        ({"status": "no type"}, ["no type"]),
    ],
)
def test_errors_name_the_type_and_field(obj: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(wm.ProtocolError) as info:
        parse_rpc_message(obj)
    for word in words:
        assert word in str(info.value)


def test_text_errors() -> None:
    with pytest.raises(wm.ProtocolError, match="not JSON"):
        parse_rpc_text("{")
    with pytest.raises(wm.ProtocolError, match="not a JSON object"):
        parse_rpc_text("[1]")
    with pytest.raises(wm.ProtocolError, match="not a JSON object"):
        parse_rpc_message([1])  # type: ignore[arg-type]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=5,
)
_keys = sorted({*entry(), *exit_(), "reason", "status", "msg", "data", "lock_time", "id"})


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([*wm.RPC_MESSAGE_TYPES, "other"]),
    base=st.sampled_from(["entry", "exit", "none"]),
    changes=st.dictionaries(st.sampled_from(_keys), _json, max_size=4),
)
def test_any_object_parses_or_raises_protocol_error(
    kind: str, base: str, changes: dict[str, Any]
) -> None:
    obj = {"entry": entry(), "exit": exit_(), "none": {}}[base]
    obj.update(changes)
    obj["type"] = kind
    with contextlib.suppress(wm.ProtocolError):
        parse_rpc_message(obj)


# --- encoding


def test_encode_is_freqtrades_orjson_shape() -> None:
    aware = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    naive = datetime(2026, 1, 2, 3, 4, 5)
    text = encode_rpc_message({**entry(), "open_date": aware})
    assert '"open_date":"2026-01-02T03:04:05.678901+00:00"' in text
    assert text.startswith('{"trade_id":7,"type":"entry",')
    assert parse_rpc_text(text) == parse_rpc_message(entry())
    assert '"open_date":"2026-01-02T03:04:05"' in encode_rpc_message(
        {**entry(), "open_date": naive}
    )


# --- topics


def test_default_topics_are_freqtrades_request_byte_for_byte() -> None:
    assert normalize_topics(None) == wm.SUBSCRIBE_TOPICS
    assert topics_subscribe_request() == wm.subscribe_request()
    assert topics_subscribe_request() == '{"type":"subscribe","data":["whitelist","analyzed_df"]}'


def test_topics_keep_the_consumers_two_first_once_each() -> None:
    assert normalize_topics("entry_fill, exit_fill,,entry_fill") == (
        "whitelist",
        "analyzed_df",
        "entry_fill",
        "exit_fill",
    )
    assert normalize_topics(["analyzed_df", "status"]) == ("whitelist", "analyzed_df", "status")
    assert topics_subscribe_request(rpc.TRADE_TOPICS) == (
        '{"type":"subscribe","data":["whitelist","analyzed_df","entry","entry_fill",'
        '"entry_cancel","exit","exit_fill","exit_cancel"]}'
    )


def test_unknown_topic_raises_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'fills'.*ignores a subscription"):
        normalize_topics("entry_fill,fills")
    with pytest.raises(ValueError, match="unknown"):
        normalize_topics([3])  # type: ignore[list-item]


def test_text_parsing_agrees_with_object_parsing() -> None:
    samples = [
        entry(),
        exit_(),
        {"type": "exception", "status": "boom"},
        {"type": "exception", "data": "Invalid request type: x"},
        {"type": "strategy_msg", "msg": "hi"},
        {"type": "new_candle", "data": ["A/B", "5m", "spot"]},
        {"type": "future_thing", "x": 1},
    ]
    for obj in samples:
        assert parse_rpc_text(orjson.dumps(obj).decode()) == parse_rpc_message(obj), obj
    # A binary frame of an unknown type is kept too; a known type in a binary frame is not.
    assert parse_rpc_text(b'{"type":"future_thing"}') == rpc.RawRpcMessage("future_thing", {})
    with pytest.raises(wm.ProtocolError, match="binary frame"):
        parse_rpc_text(orjson.dumps(entry()))
    with pytest.raises(wm.ProtocolError, match="unknown message type"):
        parse_rpc_text('{"type": 3}')
