"""ProducerTrades: a producer's trades from its trade messages, and from its REST API."""

from __future__ import annotations

import math
import threading
from typing import Any

import pandas as pd
import pytest
from rpc_samples import entry, exit_

from producerconsumer.trades import TRADE_COLUMNS, ProducerTrades, rest_trades_frame
from producerconsumer.wire.messages import ProtocolError
from producerconsumer.wire.rpc import RpcMessage, StatusMessage, parse_rpc_message


def msg(obj: dict[str, Any]) -> RpcMessage:
    return parse_rpc_message(obj)


def run(*objs: dict[str, Any]) -> pd.DataFrame:
    trades = ProducerTrades()
    trades.extend(msg(o) for o in objs)
    return trades.frame()


def test_columns_dtypes_and_empty_frame() -> None:
    empty = ProducerTrades().frame()
    assert tuple(empty.columns) == TRADE_COLUMNS and empty.index.name == "trade_id"
    full = run(entry(), entry("entry_fill"))
    pd.testing.assert_series_equal(empty.dtypes, full.dtypes)
    assert str(full["open_date"].dtype) == "datetime64[ms, UTC]"
    assert full["is_open"].dtype == bool and full["amount"].dtype == "float64"


def test_round_trip() -> None:
    frame = run(entry(), entry("entry_fill", amount=0.0499), exit_("exit"), exit_())
    row = frame.loc[7]
    assert row["pair"] == "ETH/USDT" and row["enter_tag"] == "dip" and not row["is_short"]
    # Dates floored to milliseconds, as /api/v1/trades' timestamps.
    assert row["open_date"] == pd.Timestamp("2026-01-02T03:04:05.678Z")
    assert row["close_date"] == pd.Timestamp("2026-01-02T04:00:00.123Z")
    assert row["close_rate"] == 2100.0 and row["exit_reason"] == "roi"
    assert row["profit_ratio"] == 0.0479 and row["profit_abs"] == 4.79
    assert not row["is_open"] and row["amount"] == 0.05


def test_open_trade_has_no_close_fields() -> None:
    row = run(entry(), entry("entry_fill")).loc[7]
    assert row["is_open"] and pd.isna(row["close_date"]) and math.isnan(row["close_rate"])
    assert math.isnan(row["profit_ratio"]) and row["profit_abs"] == 0.0
    assert row["exit_reason"] is None


def test_placed_entry_shows_the_requested_order() -> None:
    row = run(entry(amount=0.06, stake_amount=100.0)).loc[7]
    assert row["is_open"] and row["amount"] == 0.06


def test_cancelled_entry_without_fill_removes_the_trade_and_its_id_can_be_reused() -> None:
    frame = run(
        entry(),
        entry("entry_cancel", amount=0.0, reason="timeout, fully cancelled"),
        entry(pair="ADA/USDT", enter_tag=None),
        entry("entry_fill", pair="ADA/USDT", enter_tag=None),
    )
    assert list(frame.index) == [7] and frame.loc[7, "pair"] == "ADA/USDT"
    assert frame.loc[7, "enter_tag"] is None


def test_partly_filled_entry_then_cancelled_keeps_the_filled_part() -> None:
    frame = run(
        entry(amount=0.05),
        entry("entry_fill", amount=0.03, stake_amount=60.0),
        entry("entry_cancel", amount=0.03, stake_amount=60.0, reason="timeout, partially filled"),
    )
    assert frame.loc[7, "amount"] == 0.03 and frame.loc[7, "stake_amount"] == 60.0


def test_partial_exit_and_position_adjustment() -> None:
    frame = run(
        entry("entry_fill", amount=1.0, open_rate=80.0, stake_amount=80.0),
        exit_(
            sub_trade=True,
            is_final_exit=False,
            amount=0.5,
            final_profit_ratio=None,
            cumulative_profit=2.5,
            open_rate=80.0,
            stake_amount=40.0,
            exit_reason="signal",
        ),
    )
    row = frame.loc[7]
    assert row["is_open"] and row["amount"] == 0.5 and row["profit_abs"] == 2.5
    assert row["stake_amount"] == 40.0 and math.isnan(row["profit_ratio"])
    frame = run(
        entry("entry_fill", amount=1.0, open_rate=80.0),
        entry("entry_fill", amount=1.0, open_rate=90.0, sub_trade=True, stake_amount=170.0),
    )
    assert frame.loc[7, "amount"] == 2.0 and frame.loc[7, "open_rate"] == 85.0
    assert frame.loc[7, "stake_amount"] == 170.0


def test_final_exit_takes_the_bots_numbers() -> None:
    frame = run(
        entry("entry_fill", amount=1.0, open_rate=80.0),
        exit_(
            amount=0.6,
            open_rate=81.0877,
            stake_amount=48.6,
            cumulative_profit=13.5,
            final_profit_ratio=0.09,
            profit_ratio=0.05,
        ),
    )
    row = frame.loc[7]
    assert row["amount"] == 0.6 and row["open_rate"] == 81.0877 and row["stake_amount"] == 48.6
    assert row["profit_abs"] == 13.5 and row["profit_ratio"] == 0.09


def test_exit_cancel_clears_the_exit_reason_and_keeps_the_trade_open() -> None:
    placed = exit_("exit", is_final_exit=False, exit_reason="exit_signal")
    cancel = exit_("exit_cancel", reason="timeout", exit_reason=None)
    frame = run(entry("entry_fill"), placed)
    assert frame.loc[7, "exit_reason"] == "exit_signal" and frame.loc[7, "is_open"]
    frame = run(entry("entry_fill"), placed, cancel)
    assert frame.loc[7, "exit_reason"] is None and frame.loc[7, "is_open"]


def test_trade_first_seen_mid_life() -> None:
    frame = run(exit_(trade_id=3))
    assert list(frame.index) == [3] and not frame.loc[3, "is_open"]
    # An entry_cancel for a trade never seen (and not filled) leaves nothing behind.
    assert run(entry("entry_cancel", trade_id=4)).empty


def test_other_messages_are_ignored() -> None:
    trades = ProducerTrades()
    assert trades.apply(StatusMessage("status", "running")) is False
    assert trades.apply(msg(entry())) is True
    assert len(trades) == 1 and repr(trades) == "ProducerTrades(1 trades, 1 open)"


def rest_trade(**changes: Any) -> dict[str, Any]:
    """The columns' source fields of one /api/v1/trades entry (others are ignored)."""
    trade = {
        "trade_id": 7,
        "pair": "ETH/USDT",
        "is_open": False,
        "is_short": False,
        "enter_tag": "dip",
        "amount": 0.05,
        "stake_amount": 100.0,
        "open_date": "2026-01-02 03:04:05",
        "open_timestamp": 1767323045678,
        "open_rate": 2000.0,
        "close_date": "2026-01-02 04:00:00",
        "close_timestamp": 1767326400123,
        "close_rate": 2100.0,
        "realized_profit": 4.79,
        "profit_ratio": 0.0479,
        "profit_abs": 4.79,
        "exit_reason": "roi",
    }
    trade.update(changes)
    return trade


def test_rest_equals_messages() -> None:
    from_messages = run(entry(), entry("entry_fill"), exit_("exit"), exit_())
    body = {"trades": [rest_trade()], "trades_count": 1, "offset": 0, "total_trades": 1}
    pd.testing.assert_frame_equal(rest_trades_frame(body), from_messages, check_exact=True)


def test_rest_open_trade_and_list_form() -> None:
    frame = rest_trades_frame(
        [
            rest_trade(
                is_open=True,
                close_timestamp=None,
                close_date=None,
                close_rate=None,
                profit_ratio=-0.01,
                profit_abs=-1.0,
                realized_profit=0.0,
                exit_reason=None,
            )
        ]
    )
    row = frame.loc[7]
    # An open trade's profit columns are realized profit only, as from messages.
    assert row["is_open"] and math.isnan(row["profit_ratio"]) and row["profit_abs"] == 0.0
    pd.testing.assert_frame_equal(frame, run(entry(), entry("entry_fill")), check_exact=True)


def test_rest_falls_back_to_the_date_text() -> None:
    frame = rest_trades_frame([rest_trade(open_timestamp=None)])
    assert frame.loc[7, "open_date"] == pd.Timestamp("2026-01-02T03:04:05Z")


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("trades", ["'trades' list"]),
        ({"nope": []}, ["'trades' list"]),
        ([3], ["trade must be an object"]),
        ([rest_trade(pair=None) | {"open_rate": None}], ["trade 7"]),
        ([{k: v for k, v in rest_trade().items() if k != "is_open"}], ["missing", "is_open"]),
        ([rest_trade(open_timestamp=None, open_date="soon")], ["open_date", "soon"]),
    ],
)
def test_rest_errors(payload: Any, words: list[str]) -> None:
    with pytest.raises(ProtocolError) as info:
        rest_trades_frame(payload)
    for word in words:
        assert word in str(info.value)


def test_reading_while_applying_sees_whole_messages() -> None:
    messages = []
    for trade_id in range(1, 300):
        messages += [msg(entry(trade_id=trade_id)), msg(entry("entry_fill", trade_id=trade_id))]
        messages += [msg(exit_(trade_id=trade_id))]
    trades = ProducerTrades()
    done = threading.Event()
    frames: list[pd.DataFrame] = []

    def writer() -> None:
        trades.extend(messages)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        frames.append(trades.frame())
    thread.join(timeout=30)
    assert not thread.is_alive()
    final = trades.frame()
    assert len(final) == 299 and not final["is_open"].any()
    for frame in frames:
        # Every snapshot is a prefix of the history: closed trades, then at most one open.
        assert frame["is_open"].sum() <= 1
        assert list(frame.index) == list(range(1, len(frame) + 1))


def test_frame_round_trips_through_from_frame() -> None:
    trades = ProducerTrades()
    trades.extend(
        msg(m)
        for m in (
            entry("entry_fill"),
            exit_(),
            entry("entry_fill", trade_id=8, enter_tag=None, pair="ADA/USDT"),
        )
    )
    frame = trades.frame()
    again = ProducerTrades.from_frame(frame)
    pd.testing.assert_frame_equal(again.frame(), frame, check_exact=True)
    # Later messages apply on top: the open trade closes.
    again.apply(msg(exit_(trade_id=8, pair="ADA/USDT", enter_tag=None)))
    assert not again.frame().loc[8, "is_open"]
    with pytest.raises(ProtocolError, match="lacks column"):
        ProducerTrades.from_frame(frame.drop(columns="pair"))
